"""test_topics.py - DELETE /v1/topics/{name}, wildcard topics, ?last=N (issue 10, part 5).

Every test runs the real broker, frontend and a worker, and talks HTTP/1.1
with Python's http.client (NDJSON and SSE streams read line by line).
"""
import json
import re

import harness
from harness import check, publish

TOKEN = "topics-token-0123456789abcdef"




def delete(system, topic, headers=None):
    return system.json_request("DELETE", "/v1/topics/" + topic, headers=headers)


def topic_events(stream, count):
    """The next count topic events (notices and heartbeats skipped) as (topic, seq, data)."""
    out = []
    while len(out) < count:
        event = stream.next_event()
        check(event is not None, "the stream ended after %r" % stream.events)
        if "topic" in event:
            out.append((event["topic"], event["seq"], event["data"]))
    return out


def until(stream, topic, data):
    """Topic events up to and including (topic, data): a sentinel published last."""
    out = []
    while True:
        event = stream.next_event()
        check(event is not None, "the stream ended after %r" % stream.events)
        if "topic" not in event:
            continue
        out.append((event["topic"], event["seq"], event["data"]))
        if event["topic"] == topic and event["data"] == data:
            return out


def next_notice(stream):
    while True:
        event = stream.next_event()
        check(event is not None, "the stream ended before a notice: %r" % stream.events)
        if "topic" not in event and "job" not in event:
            return event
        check(False, "an event where a notice was expected: %r" % event)


def sse_events(conn_response, count):
    """count SSE events (comments skipped) as dicts with event, id and data."""
    events, current = [], {}
    while len(events) < count:
        line = conn_response.readline()
        check(line, "the SSE stream ended after %r" % events)
        line = line.decode("utf-8").rstrip("\n")
        if line == "":
            if "data" in current:  # a block of its own (retry:) is no event
                events.append(current)
            current = {}
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(": ")
            current[name] = value
    return events


# ---- DELETE ------------------------------------------------------------------------

def test_delete_topic_notifies_and_ends_topic_only_streams(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    for n in (1, 2):
        publish(system, "gone", {"n": n})
    alone = system.stream("GET", "/v1/topics/gone")
    mixed = system.stream("GET", "/v1/stream?topic=gone&topic=stay")
    check(alone.status == 200 and mixed.status == 200, (alone.status, mixed.status))
    publish(system, "gone", {"n": 3})
    check(topic_events(alone, 1) == [("gone", 3, {"n": 3})], alone.events)
    check(topic_events(mixed, 1) == [("gone", 3, {"n": 3})], mixed.events)

    status, body = delete(system, "gone")
    check(status == 200 and body == {"topic": "gone", "last": 3}, "DELETE answered %s %r" % (status, body))
    for stream in (alone, mixed):
        notice = next_notice(stream)
        check(notice["event"] == "topic_deleted" and notice["data"] == {"topic": "gone"}, notice)
        check("seq" not in notice, notice)
    # The topic was all the first stream named: it ends after the notice.
    check(alone.next_event() is None, "the topic-only stream went on: %r" % alone.events)
    alone.close()
    # The multiplexed one goes on with its other topic, without the deleted one.
    check(publish(system, "gone", {"again": 1}) == 1, "a deleted topic starts again from seq 1")
    publish(system, "stay", {"s": 1})
    check(topic_events(mixed, 1) == [("stay", 1, {"s": 1})], mixed.events)
    mixed.close()

    # A topic the broker does not know: 404, and the deleted one is known again.
    status, body = delete(system, "never-published")
    check(status == 404 and body["error"] == "not_found", "%s %r" % (status, body))
    status, body = delete(system, "gone")
    check(status == 200 and body["last"] == 1, "%s %r" % (status, body))
    status, body = delete(system, "gone")
    check(status == 404, "a second DELETE answered %s %r" % (status, body))
    check(delete(system, "bad%20name")[0] == 400)
    check(delete(system, "alerts.*")[0] == 400, "DELETE takes no wildcard")


def test_publish_after_delete_starts_anew_and_an_old_cursor_sees_the_reset(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    for n in range(1, 6):
        publish(system, "reset", {"old": n})
    check(delete(system, "reset")[0] == 200)
    check([publish(system, "reset", {"new": n}) for n in (1, 2)] == [1, 2])
    # A client resuming from before the delete (reset:5): told that the
    # topic was reset, then the new topic from its seq 1, no message lost.
    stream = system.stream("GET", "/v1/topics/reset?since=reset:5")
    check(stream.status == 200, stream.status)
    gap = stream.next_event()
    check(gap["event"] == "gap" and gap["seq"] == 0 and gap["topic"] == "reset", gap)
    check(gap["data"] == {"from": 6, "to": None, "reason": "topic_reset"}, gap)
    check(topic_events(stream, 2) == [("reset", 1, {"new": 1}), ("reset", 2, {"new": 2})], stream.events)
    publish(system, "reset", {"new": 3})
    check(topic_events(stream, 1) == [("reset", 3, {"new": 3})], stream.events)
    stream.close()


def test_bearer_token_guards_topic_delete(ctx):
    system = ctx.system(workers=1, config={"auth_token": TOKEN})
    system.wait_healthy()
    good = {"Authorization": "Bearer " + TOKEN}
    publish(system, "guarded", {"a": 1}, good)
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}):
        status, answer_headers, data = system.request("DELETE", "/v1/topics/guarded", None, headers)
        check(status == 401 and json.loads(data)["error"] == "unauthorized", "%s %r" % (status, data))
        check(answer_headers.get("www-authenticate", "").startswith("Bearer"), answer_headers)
    status, body = delete(system, "guarded", good)
    check(status == 200 and body["topic"] == "guarded", "%s %r" % (status, body))


# ---- wildcards ---------------------------------------------------------------------

def test_wildcard_matches_existing_and_later_topics_only(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    publish(system, "alerts.cpu", {"c": 1})
    publish(system, "alerts.cpu", {"c": 2})
    publish(system, "alertsX", {"x": 1})
    publish(system, "alert.x", {"x": 1})
    stream = system.stream("GET", "/v1/stream?topic=alerts.*")
    check(stream.status == 200, stream.status)
    publish(system, "alerts.cpu", {"c": 3})         # existed before: live from here
    publish(system, "alertsX", {"x": 2})            # no dot after the prefix
    publish(system, "alert.x", {"x": 2})            # another prefix
    publish(system, "alerts.mem", {"m": 1})         # created after the stream opened
    publish(system, "alerts.", {"bare": 1})         # nothing after the dot
    publish(system, "alerts.cpu.high", {"h": 1})    # deeper names match too
    publish(system, "alerts.mem", {"m": 2})
    publish(system, "alerts.end", {"end": 1})
    got = until(stream, "alerts.end", {"end": 1})
    check(got == [("alerts.cpu", 3, {"c": 3}), ("alerts.mem", 1, {"m": 1}), ("alerts.cpu.high", 1, {"h": 1}),
                  ("alerts.mem", 2, {"m": 2}), ("alerts.end", 1, {"end": 1})], "wildcard events %r" % got)
    # A deleted matched topic leaves the stream, the wildcard stays; created
    # again, it is matched again from seq 1.
    check(delete(system, "alerts.mem")[0] == 200)
    notice = next_notice(stream)
    check(notice["event"] == "topic_deleted" and notice["data"] == {"topic": "alerts.mem"}, notice)
    publish(system, "alerts.mem", {"m": "again"})
    check(topic_events(stream, 1) == [("alerts.mem", 1, {"m": "again"})], stream.events)
    stream.close()


def test_wildcard_path_with_sse_cursor_and_resume(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    publish(system, "w.a", {"a": 1})
    conn = system.connection(30)
    conn.request("GET", "/v1/topics/w.*", headers={"Accept": "text/event-stream"})
    response = conn.getresponse()
    check(response.status == 200, response.status)
    publish(system, "w.a", {"a": 2})
    publish(system, "w.b", {"b": 1})
    events = sse_events(response, 2)
    check([json.loads(e["data"])["seq"] for e in events] == [2, 1], events)
    # Each matched topic has its own seq in the cursor; one listed when the
    # stream opened names its epoch (rill/6), one first seen live does not.
    entries = sorted(events[-1]["id"].split(","))
    check(len(entries) == 2 and re.fullmatch(r"w\.a:2@[0-9a-f]{8}", entries[0]) and entries[1] == "w.b:1", events)
    cursor = events[-1]["id"]
    conn.close()
    # While the client is away: more of both, and a new matched topic.
    publish(system, "w.a", {"a": 3})
    publish(system, "w.b", {"b": 2})
    publish(system, "w.c", {"c": 1})
    stream = system.stream("GET", "/v1/stream?topic=w.*&since=" + cursor)
    check(stream.status == 200, stream.status)
    got = topic_events(stream, 3)
    check(sorted(got) == [("w.a", 3, {"a": 3}), ("w.b", 2, {"b": 2}), ("w.c", 1, {"c": 1})],
          "resumed %r" % got)
    publish(system, "w.a", {"a": 4})
    publish(system, "w.end", {"end": 1})
    got = until(stream, "w.end", {"end": 1})
    check(got == [("w.a", 4, {"a": 4}), ("w.end", 1, {"end": 1})], "live after the resume %r" % got)
    stream.close()


def test_wildcard_bad_patterns(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    for path in ("/v1/stream?topic=alerts*", "/v1/stream?topic=al*rts.*", "/v1/stream?topic=alerts.**",
                 "/v1/stream?topic=*", "/v1/stream?topic=.*", "/v1/topics/alerts*"):
        status, _, data = system.request("GET", path)
        check(status == 400 and json.loads(data)["error"] == "bad_topic", "%s answered %s %r" % (path, status, data))
    status, _, data = system.request("POST", "/v1/topics/alerts.*", {"a": 1})
    check(status == 400, "publish to a wildcard answered %s" % status)


# ---- last N on connect -------------------------------------------------------------

def test_last_n_on_connect(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    for n in range(1, 11):
        publish(system, "hist", {"n": n})
    stream = system.stream("GET", "/v1/topics/hist?last=3")
    check(stream.status == 200, stream.status)
    check(topic_events(stream, 3) == [("hist", n, {"n": n}) for n in (8, 9, 10)], stream.events)
    publish(system, "hist", {"n": 11})
    check(topic_events(stream, 1) == [("hist", 11, {"n": 11})], stream.events)
    stream.close()
    # since wins over last for the same topic.
    stream = system.stream("GET", "/v1/stream?topic=hist&last=3&since=hist:5")
    check(topic_events(stream, 6) == [("hist", n, {"n": n}) for n in range(6, 12)], stream.events)
    stream.close()
    # More than retained: what is retained, no gap.
    publish(system, "short", {"s": 1})
    stream = system.stream("GET", "/v1/stream?topic=short&last=50")
    check(topic_events(stream, 1) == [("short", 1, {"s": 1})], stream.events)
    publish(system, "short", {"s": 2})
    check(topic_events(stream, 1) == [("short", 2, {"s": 2})], stream.events)
    stream.close()
    # With a wildcard: the last N of each matched topic.
    for n in range(1, 5):
        publish(system, "h.a", {"a": n})
    publish(system, "h.b", {"b": 1})
    stream = system.stream("GET", "/v1/stream?topic=h.*&last=2")
    got = topic_events(stream, 3)
    check(sorted(got) == [("h.a", 3, {"a": 3}), ("h.a", 4, {"a": 4}), ("h.b", 1, {"b": 1})], got)
    stream.close()
    for query in ("last=abc", "last=-1", "last=", "last=101", "last=1e2"):
        status, _, data = system.request("GET", "/v1/topics/hist?" + query)
        check(status == 400 and json.loads(data)["error"] == "bad_request", "%s answered %s %r" % (query, status, data))


def test_wildcard_opened_while_publishing_has_no_duplicate_nor_gap(ctx):
    """Streams open on a wildcard while its topics are being published to,
    some of them created meanwhile: each stream sees each topic's seqs
    contiguous, each once (the list, the held events and the live ones
    meet without a duplicate or a gap)."""
    import threading
    system = ctx.system(workers=1)
    system.wait_healthy()
    publish(system, "race.a", {"n": 0})
    stop = threading.Event()

    def publisher():
        conn = system.connection(10)
        n = 0
        while not stop.is_set() and n < 3000:
            n += 1
            topic = "race.a" if n % 3 else "race.t%d" % (n // 300)  # a new topic every 300
            conn.request("POST", "/v1/topics/" + topic, body=json.dumps({"n": n}))
            response = conn.getresponse()
            response.read()
            check(response.status == 202, response.status)
        conn.close()

    thread = threading.Thread(target=publisher)
    thread.start()
    try:
        for round_ in range(6):
            query = "/v1/stream?topic=race.*" + ("&last=5" if round_ % 2 else "")
            stream = system.stream("GET", query)
            check(stream.status == 200, stream.status)
            seen = {}
            for _ in range(60):
                event = stream.next_event()
                check(event is not None, "the stream ended")
                if "topic" not in event:
                    continue
                check(event["event"] == "part", "unexpected event %r" % event)
                previous = seen.get(event["topic"])
                check(previous is None or event["seq"] == previous + 1,
                      "%s: seq %d after %r (%r)" % (event["topic"], event["seq"], previous, query))
                seen[event["topic"]] = event["seq"]
            stream.close()
    finally:
        stop.set()
        thread.join()


def test_delete_and_wildcards_across_two_frontends(ctx):
    """A DELETE through one frontend reaches the subscribers of another; a
    wildcard on one sees the topics created through the other."""
    system = ctx.system(workers=1)
    system.wait_healthy()
    port2 = harness.free_port()
    system.start_frontend(port=port2, name="frontend2")

    system.wait_healthy(port=port2)
    on_two = lambda path: harness.Stream(harness.OnPort(system, port2), "GET", path, None, None, 30)
    publish(system, "x.one", {"o": 1})
    named = on_two("/v1/topics/x.one")
    wildcard = on_two("/v1/topics/x.*")
    check(named.status == 200 and wildcard.status == 200, (named.status, wildcard.status))
    publish(system, "x.two", {"t": 1})           # created through frontend 1
    publish(system, "x.one", {"o": 2})
    check(topic_events(named, 1) == [("x.one", 2, {"o": 2})], named.events)
    check(until(wildcard, "x.one", {"o": 2}) == [("x.two", 1, {"t": 1}), ("x.one", 2, {"o": 2})], wildcard.events)
    check(delete(system, "x.one")[0] == 200)     # through frontend 1
    for stream in (named, wildcard):
        notice = next_notice(stream)
        check(notice["event"] == "topic_deleted" and notice["data"] == {"topic": "x.one"}, notice)
    check(named.next_event() is None, "the named stream went on after its topic was deleted")
    publish(system, "x.two", {"t": 2})
    check(topic_events(wildcard, 1) == [("x.two", 2, {"t": 2})], wildcard.events)
    named.close()
    wildcard.close()


def test_wildcard_live_start_is_the_list_not_a_later_fetch(ctx):
    """A message published right after a wildcard stream answers reaches it:
    a matched topic that starts live starts after the seq the broker listed,
    whatever reaches the broker first afterwards."""
    system = ctx.system(workers=1)
    system.wait_healthy()
    for i in range(25):
        publish(system, "quick%d.a" % i, {"n": 1})
        stream = system.stream("GET", "/v1/stream?topic=quick%d.*" % i)
        check(stream.status == 200, stream.status)
        publish(system, "quick%d.a" % i, {"n": 2})
        check(topic_events(stream, 1) == [("quick%d.a" % i, 2, {"n": 2})], stream.events)
        stream.close()


# ---- max_topics --------------------------------------------------------------------

def test_max_topics_evicts_idle_topics_and_refuses_when_all_are_in_use(ctx):
    # Topic records are bounded: a client publishing to ever new names does
    # not grow the broker. Nothing retained here, so a topic nobody streams
    # is idle and gives its place to a new one; one with a listener never.
    system = ctx.system(workers=1, config={"max_topics": 2, "topic_retain_messages": 0})
    system.wait_healthy()
    listened = system.stream("GET", "/v1/topics/kept")
    check(listened.status == 200, listened.status)
    check(publish(system, "kept", {"n": 1}) == 1)
    check(topic_events(listened, 1) == [("kept", 1, {"n": 1})], listened.events)
    check(publish(system, "x1", {"n": 1}) == 1)
    check(publish(system, "x1", {"n": 2}) == 2)
    check(publish(system, "x2", {"n": 1}) == 1)  # x1 (idle) made room
    check(harness.metric(system, "rill_broker_topics_evicted_total") == 1,
          harness.metric(system, "rill_broker_topics_evicted_total"))
    status, body = system.json_request("GET", "/v1/topics")
    names = sorted(topic["name"] for topic in body["topics"])
    check(status == 200 and names == ["kept", "x2"], (status, body))
    # x1 is new again: from seq 1, as a deleted topic (a resume is told topic_reset).
    check(publish(system, "x1", {"n": 3}) == 1)
    check(publish(system, "kept", {"n": 2}) == 2)  # the listened one never went
    check(topic_events(listened, 1) == [("kept", 2, {"n": 2})], listened.events)
    # Every topic in use (both listened): a new one is refused, 503, and nothing changes.
    other = system.stream("GET", "/v1/topics/x1")
    check(other.status == 200, other.status)
    system.wait_for(lambda: next((t["subscribers"] for t in system.json_request("GET", "/v1/topics")[1]["topics"]
                                  if t["name"] == "x1"), 0) >= 1, what="x1 listened")
    status, body = system.json_request("POST", "/v1/topics/x3", {"n": 1})
    check(status == 503 and body["error"] == "unavailable" and "max_topics" in body["message"], (status, body))
    check(publish(system, "x1", {"n": 4}) == 2)
    check(topic_events(other, 1) == [("x1", 2, {"n": 4})], other.events)
    listened.close()
    other.close()


# ---- epochs (rill/6) ---------------------------------------------------------------

def sse_cursor_after(system, path, count):
    """The SSE id after count events of path (a cursor)."""
    conn = system.connection(30)
    conn.request("GET", path, headers={"Accept": "text/event-stream"})
    response = conn.getresponse()
    check(response.status == 200, response.status)
    events = sse_events(response, count)
    conn.close()
    return events[-1]["id"]


def resumed_after_a_reset(system, topic, cursor, gap_from, new_count):
    """A resume from cursor: the topic_reset gap from gap_from, then the new
    numbering's messages {"new": 1..new_count} from seq 1."""
    stream = system.stream("GET", "/v1/topics/%s?since=%s" % (topic, cursor))
    check(stream.status == 200, stream.status)
    gap = stream.next_event()
    check(gap["event"] == "gap" and gap["data"] == {"from": gap_from, "to": None, "reason": "topic_reset"}, gap)
    expected = [(topic, n, {"new": n}) for n in range(1, new_count + 1)]
    check(topic_events(stream, new_count) == expected, stream.events)
    stream.close()


def test_a_cursor_of_a_topic_made_again_is_not_read_against_its_new_seqs(ctx):
    # The topic is deleted and made again, and its new numbering has passed
    # the old cursor's seq: a resume must not take new 6, 7 for the old 5's
    # successors (silently losing new 1..5), but say topic_reset and give
    # the new topic from 1.
    system = ctx.system(workers=1)
    system.wait_healthy()
    for n in range(1, 6):
        publish(system, "again", {"old": n})
    cursor = sse_cursor_after(system, "/v1/topics/again?since=again:0", 5)
    check(re.fullmatch(r"again:5@[0-9a-f]{8}", cursor), cursor)
    check(delete(system, "again")[0] == 200)
    check([publish(system, "again", {"new": n}) for n in range(1, 8)] == list(range(1, 8)))
    resumed_after_a_reset(system, "again", cursor, 6, 7)
    # The cursor of the new numbering resumes it as usual.
    cursor = sse_cursor_after(system, "/v1/topics/again?since=again:5", 2)
    check(re.fullmatch(r"again:7@[0-9a-f]{8}", cursor), cursor)
    publish(system, "again", {"new": 8})
    stream = system.stream("GET", "/v1/topics/again?since=" + cursor)
    check(topic_events(stream, 1) == [("again", 8, {"new": 8})], stream.events)
    stream.close()
    # A malformed epoch is a 400.
    status, body = system.json_request("GET", "/v1/topics/again?since=again:5@XYZ")
    check(status == 400, (status, body))


def test_a_cursor_from_before_a_broker_restart_is_not_read_against_its_new_seqs(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    for n in range(1, 4):
        publish(system, "boot", {"old": n})
    cursor = sse_cursor_after(system, "/v1/topics/boot?since=boot:0", 3)
    system.broker.stop()
    system.broker = system.start_broker()
    system.wait_healthy()
    # The frontend's link comes back first (a publish meanwhile is 503, and changes nothing).
    system.wait_for(lambda: system.json_request("POST", "/v1/topics/boot", {"new": 1})[0] == 202,
                    what="a publish after the restart")
    check([publish(system, "boot", {"new": n}) for n in range(2, 6)] == list(range(2, 6)))
    resumed_after_a_reset(system, "boot", cursor, 4, 5)


def test_a_topic_a_wildcard_met_live_gets_its_epoch_from_the_sync(ctx):
    # A topic created after a wildcard stream opened is followed from its
    # first message, live, with no REPLAY header to name its epoch: the
    # broker's sync (each heartbeat) names it, and the cursor then does.
    system = ctx.system(workers=1, config={"heartbeat_ms": 200})
    system.wait_healthy()
    conn = system.connection(30)
    conn.request("GET", "/v1/topics/live.*", headers={"Accept": "text/event-stream"})
    response = conn.getresponse()
    check(response.status == 200, response.status)
    publish(system, "live.new", {"n": 1})
    first = sse_events(response, 1)[0]
    check(first["id"] == "live.new:1", first)  # not known yet
    # A sync or two of the topic published since (each heartbeat; the
    # broker publishes them after n 1, on the same way to the frontend,
    # so it has read one before n 2).
    synced = harness.metric(system, "rill_broker_syncs_published_total")
    system.wait_for(lambda: harness.metric(system, "rill_broker_syncs_published_total") >= synced + 2, timeout=15,
                    what="two syncs of live.new")
    publish(system, "live.new", {"n": 2})
    second = sse_events(response, 1)[0]
    conn.close()
    check(re.fullmatch(r"live\.new:2@[0-9a-f]{8}", second["id"]), second)


def test_idempotency_key_publishes_a_message_once(ctx):
    # rill/10 (docs/API.md "Idempotency-Key"): the same key and body again
    # are answered with the first one's seq and "repeated":true, and the
    # subscribers get the message once; another body with the key is a 409;
    # a key is the topic's own; a bad key is a 400 and publishes nothing.
    system = ctx.system(workers=1)
    system.wait_healthy(workers=1)
    stream = system.stream("GET", "/v1/topics/orders")
    check(stream.status == 200, stream.status)
    key = {"Idempotency-Key": "order-17:v1"}
    status, first = system.json_request("POST", "/v1/topics/orders", {"id": 17}, key)
    check(status == 202 and first == {"topic": "orders", "seq": 1}, (status, first))
    status, again = system.json_request("POST", "/v1/topics/orders", {"id": 17}, key)
    check(status == 202 and again == {"topic": "orders", "seq": 1, "repeated": True}, (status, again))
    status, other = system.json_request("POST", "/v1/topics/orders", {"id": 18}, key)
    check(status == 409 and other["error"] == "conflict", (status, other))
    for bad in ("two words", "x" * 129, "~drawn", "tab\tkey"):
        status, body = system.json_request("POST", "/v1/topics/orders", {"id": 19}, {"Idempotency-Key": bad})
        check(status == 400 and body["error"] == "bad_request", (bad, status, body))
    check(publish(system, "invoices", {"id": 17}, key) == 1, "the key is the topic's own")
    check(publish(system, "orders", {"id": 20}) == 2, "the next message takes the next seq")
    events = topic_events(stream, 2)
    check(events == [("orders", 1, {"id": 17}), ("orders", 2, {"id": 20})], events)
    check(harness.metric(system, "rill_broker_publish_repeats_total") == 1, "the repeat counted")
