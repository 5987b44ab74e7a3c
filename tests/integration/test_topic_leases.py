"""test_topic_leases.py - topic leases (rill/8, docs/PROTOCOL.md "Topic leases").

A frontend that alone publishes to a topic numbers its messages itself and
delivers them to its own streams before the broker hears of them; the
broker takes the numbering back when anyone else would number the topic.
Whatever the lease does, every subscriber on every frontend must see one
numbering: each seq once, in order, no gap, the same message under the same
seq everywhere, and each publisher's 202 naming that seq.

Real broker, two frontends, HTTP/1.1 clients (and a WebSocket one).
"""
import json
import signal
import threading
import time

import harness
from harness import check, publish


FENCE = 1 << 20  # seqs skipped when a silent holder's lease is taken (broker/topic_lease.c)




def topic_events(stream, count):
    """The next count topic events as (seq, data); notices skipped."""
    return [(event["seq"], event["data"]) for event in harness.topic_parts(stream, count)]


def lease_metrics(system):
    return {name: harness.metric(system, "rill_broker_topic_" + name)
            for name in ("leases", "leases_granted_total", "leases_revoked_total", "leases_cleared_total",
                         "lease_refusals_total")}


def two_frontends(ctx, config=None):
    system = ctx.system(workers=1, config=config)
    system.wait_healthy()
    port2 = system.start_frontend_on_free_port()
    return system, port2


def test_no_lease_for_a_topic_nobody_follows(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    check([publish(system, "lease.z", {"n": n}) for n in range(5)] == [1, 2, 3, 4, 5])
    check(lease_metrics(system)["leases_granted_total"] == 0, lease_metrics(system))


def test_a_lone_publisher_numbers_its_topic_and_every_frontend_agrees(ctx):
    system, port2 = two_frontends(ctx)
    here = system.stream("GET", "/v1/topics/lease.a")
    there = system.stream_on(port2, "GET", "/v1/topics/lease.a")
    check(here.status == 200 and there.status == 200, (here.status, there.status))
    seqs = [publish(system, "lease.a", {"n": n}) for n in range(1, 31)]
    check(seqs == list(range(1, 31)), "the 202s named %r" % seqs)
    expected = [(n, {"n": n}) for n in range(1, 31)]
    check(topic_events(here, 30) == expected, "the publisher's frontend: %r" % here.events[-5:])
    check(topic_events(there, 30) == expected, "the other frontend: %r" % there.events[-5:])
    leases = lease_metrics(system)
    check(leases["leases"] == 1 and leases["leases_granted_total"] == 1, "the lease: %r" % leases)
    # A resume through the other frontend replays what the lease numbered.
    resumed = system.stream_on(port2, "GET", "/v1/topics/lease.a?since=lease.a:25")
    check(topic_events(resumed, 5) == expected[25:], "a resume: %r" % resumed.events)
    for stream in (here, there, resumed):
        stream.close()


def test_publishers_on_two_frontends_share_one_numbering(ctx):
    """One after the other, then both at once: the lease moves or is
    revoked, and no seq is given twice or skipped."""
    system, port2 = two_frontends(ctx)
    here = system.stream("GET", "/v1/topics/lease.b")
    there = system.stream_on(port2, "GET", "/v1/topics/lease.b")
    answered = {}
    order = [None] * 8 + [port2] * 6 + [None] * 5 + [port2, None] * 4
    for i, port in enumerate(order):
        answered[publish(system, "lease.b", {"i": i}, port=port)] = {"i": i}

    def publisher(port, name, count):
        for n in range(count):
            seq = publish(system, "lease.b", {"from": name, "n": n}, port=port)
            answered[seq] = {"from": name, "n": n}

    threads = [threading.Thread(target=publisher, args=(port, name, 60))
               for port, name in ((None, "one"), (port2, "two"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    total = len(order) + 120
    check(sorted(answered) == list(range(1, total + 1)), "the 202s: %d seqs, %r" % (len(answered), sorted(answered)[-5:]))
    expected = [(seq, answered[seq]) for seq in range(1, total + 1)]
    for name, stream in (("the first frontend", here), ("the second frontend", there)):
        got = topic_events(stream, total)
        check(got == expected, "%s saw another numbering: first difference %r" % (
            name, next(((g, e) for g, e in zip(got, expected) if g != e), None)))
    for name in ("one", "two"):
        mine = [data["n"] for _, data in expected if data.get("from") == name]
        check(mine == list(range(60)), "publisher %s's messages out of its order: %r" % (name, mine))
    leases = lease_metrics(system)
    check(leases["leases_revoked_total"] >= 1 and leases["lease_refusals_total"] == 0, "leases: %r" % leases)
    here.close()
    there.close()


def test_a_delete_through_another_frontend_waits_for_the_lease(ctx):
    system, port2 = two_frontends(ctx)
    stream = system.stream("GET", "/v1/topics/lease.c")
    for n in range(1, 5):
        publish(system, "lease.c", {"n": n})
    check(lease_metrics(system)["leases"] == 1, "no lease before the delete")
    status, body = system.json_request("DELETE", "/v1/topics/lease.c", port=port2)
    check(status == 200 and body == {"topic": "lease.c", "last": 4}, "the delete: %s %r" % (status, body))
    check(topic_events(stream, 4) == [(n, {"n": n}) for n in range(1, 5)], stream.events)
    notice = stream.next_event()
    check(notice is not None and notice["event"] == "topic_deleted", "after the messages: %r" % notice)
    check(publish(system, "lease.c", {"again": 1}) == 1, "a message after the delete starts anew")
    check(lease_metrics(system)["leases_revoked_total"] >= 1, "the delete took the lease back")
    stream.close()


def test_an_idle_lease_is_given_back_and_leases_can_be_turned_off(ctx):
    system = ctx.system(workers=1, config={"topic_lease_ms": 300})
    system.wait_healthy()
    listener = system.stream("GET", "/v1/topics/lease.d")
    for n in range(3):
        publish(system, "lease.d", {"n": n})
    check(lease_metrics(system)["leases"] == 1, "no lease")
    system.wait_for(lambda: lease_metrics(system)["leases"] == 0, timeout=10, what="the idle lease to end")
    check(lease_metrics(system)["leases_revoked_total"] == 1, lease_metrics(system))
    check(publish(system, "lease.d", {"n": 3}) == 4, "the numbering goes on")
    check(topic_events(listener, 4) == [(n + 1, {"n": n}) for n in range(4)], listener.events)
    listener.close()

    off = ctx.system(workers=1, config={"topic_lease_ms": 0})
    off.wait_healthy()
    stream = off.stream("GET", "/v1/topics/lease.e")
    check([publish(off, "lease.e", {"n": n}) for n in range(5)] == [1, 2, 3, 4, 5])
    check(topic_events(stream, 5) == [(n + 1, {"n": n}) for n in range(5)], stream.events)
    check(lease_metrics(off)["leases_granted_total"] == 0, "topic_lease_ms 0 granted a lease")
    stream.close()


def test_a_dead_holder_loses_its_lease_and_others_publish_again(ctx):
    """The holder is killed: the broker hears nothing for 4 heartbeats,
    takes the lease, and another frontend's message (waiting meanwhile)
    is numbered 2^20 seqs further (none the holder may have given is given
    again); the streams are told the gap."""
    system = ctx.system(workers=1, config={"heartbeat_ms": 200})
    system.wait_healthy()
    port2 = harness.free_port()
    holder = system.start_frontend(port=port2, name="frontend2")
    system.wait_healthy(port=port2)
    stream = system.stream("GET", "/v1/topics/lease.f")
    for n in range(1, 4):
        publish(system, "lease.f", {"n": n}, port=port2)
    check(lease_metrics(system)["leases"] == 1, "no lease")
    holder.popen.kill()
    holder.popen.wait(10)
    holder.expected_exit = -signal.SIGKILL
    started = time.monotonic()
    fenced = 3 + FENCE + 1
    check(publish(system, "lease.f", {"n": 4}) == fenced, "the next seq after the holder died")
    waited = time.monotonic() - started
    check(waited < 5, "the publish waited %.1f s" % waited)
    check(topic_events(stream, 3) == [(n, {"n": n}) for n in range(1, 4)], stream.events)
    gap = stream.next_event()
    check(gap is not None and gap["event"] == "gap" and gap["data"]["from"] == 4 and gap["data"]["to"] == fenced - 1,
          "the fence as a gap: %r" % gap)
    check(topic_events(stream, 1) == [(fenced, {"n": 4})], stream.events[-3:])
    check(lease_metrics(system)["leases_cleared_total"] == 1, lease_metrics(system))
    stream.close()


def test_a_websocket_publisher_gets_its_own_messages_under_the_lease(ctx):
    """A WebSocket publishes from inside its own read: the lease delivers
    to the same socket then, in order, once each."""
    import asyncio
    import websockets
    system = ctx.system(workers=1)
    system.wait_healthy()
    url = "ws://127.0.0.1:%d/v1/topics/lease.g" % system.port

    async def scenario():
        frames = []
        async with websockets.connect(url) as ws:
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 15))
                if frame.get("event") == "subscribed":
                    break
            for n in range(20):
                await ws.send(json.dumps({"op": "publish", "topic": "lease.g", "data": {"n": n}, "id": n}))
            while sum(1 for f in frames if f.get("topic") == "lease.g") < 20 or \
                    sum(1 for f in frames if f.get("event") == "published") < 20:
                frames.append(json.loads(await asyncio.wait_for(ws.recv(), 15)))
        return frames

    frames = asyncio.run(asyncio.wait_for(scenario(), 60))
    messages = [(f["seq"], f["data"]) for f in frames if f.get("topic") == "lease.g"]
    check(messages == [(n + 1, {"n": n}) for n in range(20)], "the socket's messages: %r" % messages)
    answers = sorted((f["data"]["id"], f["data"]["seq"]) for f in frames if f.get("event") == "published")
    check(answers == [(n, n + 1) for n in range(20)], "the answers: %r" % answers)
    check(lease_metrics(system)["leases_granted_total"] == 1, lease_metrics(system))


def test_keyed_messages_of_the_lease_holder_keep_one_numbering(ctx):
    # rill/10: a message with an Idempotency-Key is never numbered by the
    # lease holder (the broker decides whether it is new), and the answer
    # to one sent again names a seq long past: the holder must neither
    # rewind its numbering nor drop its lease for it. Every subscriber
    # sees each seq once, in order.
    system = ctx.system(workers=1, log_level="debug")
    system.wait_healthy()
    port2 = system.start_frontend_on_free_port()
    here = system.stream("GET", "/v1/topics/lease.k")
    there = system.stream_on(port2, "GET", "/v1/topics/lease.k")
    check(here.status == 200 and there.status == 200, (here.status, there.status))
    key = {"Idempotency-Key": "k-1"}
    seqs = [publish(system, "lease.k", {"n": n}) for n in range(1, 4)]
    seqs.append(publish(system, "lease.k", {"n": 4}, key))
    seqs += [publish(system, "lease.k", {"n": n}) for n in range(5, 8)]
    status, again = system.json_request("POST", "/v1/topics/lease.k", {"n": 4}, key)
    check(status == 202 and again == {"topic": "lease.k", "seq": 4, "repeated": True}, (status, again))
    seqs += [publish(system, "lease.k", {"n": n}) for n in range(8, 11)]
    check(seqs == list(range(1, 11)), "the 202s named %r" % seqs)
    expected = [(n, {"n": n}) for n in range(1, 11)]
    check(topic_events(here, 10) == expected, "the publisher's frontend: %r" % here.events[-5:])
    check(topic_events(there, 10) == expected, "the other frontend: %r" % there.events[-5:])
    metrics = lease_metrics(system)
    check(metrics["leases"] == 1 and metrics["lease_refusals_total"] == 0, metrics)
    log = system.frontend.log_text()
    check("lease.k: numbered here (lease)" in log, "the publisher's frontend held the lease")
    check("lease.k: lease given up" not in log, "the repeated answer took the lease away: %s" % log[-2000:])
