"""test_standby_clients.py - a broker and its standby (docs/PROTOCOL.md "Standby
broker", docs/CONFIG.md): frontends and workers are given both endpoints
and switch to the standby when the primary is killed.

With a broker that has --pair-bind / --standby-of (harness: system.paired)
the standby mirrors the primary and takes over: streams go on without
broker_restarted, every part once and in order (or inside a reported gap),
no job failed nor run twice. A broker without them is two independent
brokers: the clients still switch (what these tests can check then), and the
second broker is a restart.
"""
import signal
import threading
import time

from harness import (BackgroundSubmit, check, check_job_events, demo, detach, events_by_job, metric, publish,
                     topic_parts)

# heartbeat_ms as the defaults: the takeover target (2 s) is for them.
CONFIG = {"heartbeat_ms": 1000, "retry_backoff_ms": 100}


class Reader(threading.Thread):
    """Reads one stream to its end in the background, stamping arrivals."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.error = None

    def run(self):
        try:
            while True:
                event = self.stream.next_event()
                if event is None:
                    return
                event["mono"] = time.monotonic()
                if event.get("event") in ("done", "error") and "topic" not in event:
                    return
        except Exception as error:  # reported by the test
            self.error = error


def covered_seqs(events):
    """The seqs the events cover: a part (or done) its own, a gap from..to."""
    covered = []
    for e in events:
        if "seq" not in e:
            continue  # a notice
        if e["event"] == "gap":
            covered += list(range(e["data"]["from"], e["data"]["to"] + 1))
        else:
            covered.append(e["seq"])
    return covered




def switched(process):
    return "switching to" in process.log_text()


def test_standby_takeover_keeps_streams(ctx):
    system = ctx.system(workers=2, config=CONFIG, standby=True)
    system.wait_healthy(workers=2)
    # Streams of demo jobs (one submit each, followed directly), one job
    # streamed by GET, and a topic.
    streams = [system.stream("POST", "/v1/jobs", demo(40, 100)) for _ in range(4)]
    (detached,) = detach(system, demo(40, 100))
    streams.append(system.stream("GET", "/v1/stream?job=%s" % detached))
    topic = system.stream("GET", "/v1/topics/news")
    check(all(s.status == 200 for s in streams + [topic]), [s.status for s in streams])
    readers = [Reader(s) for s in streams]
    for reader in readers:
        reader.start()
    publish(system, "news", {"n": 1})
    first = topic.next_event()
    check(first is not None and first["seq"] == 1, first)
    system.wait_for(lambda: all(len([e for e in s.events if e["event"] == "part"]) >= 5 for s in streams),
                    timeout=20, what="every stream under way")

    killed = time.monotonic()
    system.broker.kill()

    for reader in readers:
        reader.join(60)
        check(not reader.is_alive(), "a stream did not end within 60 s:\n%s" % system.logs_tail())
        check(reader.error is None, "a stream failed: %r" % reader.error)
    after = sorted(e["mono"] for s in streams for e in s.events
                   if e["event"] == "part" and e["mono"] > killed)
    recovered = after[0] - killed if after else None
    print("standby takeover: first live part %s s after the kill (target <= 2 s)"
          % ("%.2f" % recovered if recovered is not None else "never"))

    # Every client switched to the standby, at once: the killed broker's
    # connections closed (not 2 heartbeats of silence).
    for process in [system.frontend] + system.workers:
        check(switched(process), "%s did not switch:\n%s" % (process.name, system.logs_tail()))
        check("closed the connection: switching to" in process.log_text(),
              "%s switched late:\n%s" % (process.name, process.log_text()[-2000:]))
    # A job submitted after the takeover runs (workers joined the standby).
    system.wait_healthy(workers=2)
    check(metric(system, "rill_frontend_broker_switches_total") == 1, "switches counted")
    late = system.stream("POST", "/v1/jobs", demo(5, 20))
    late_events = late.read_all()
    check([e["event"] for e in late_events] == ["part"] * 5 + ["done"], late_events)

    if not system.paired:
        # Two independent brokers: the second one is a restart; what it
        # cannot know ends jobs. The switch itself is all there is to check.
        print("standby: this broker has no --standby-of: checked the switch only")
        for s in streams:
            s.close()
        topic.close()
        return

    check(recovered is not None and recovered <= 2.0,
          "takeover took %r s (target 2 s)\n%s" % (recovered, system.logs_tail()))
    in_gaps = 0
    for s in streams:
        events = s.events
        kinds = [e["event"] for e in events]
        check(kinds and kinds[-1] == "done", "stream ended with %r" % events[-3:])
        check("error" not in kinds and "retry" not in kinds, "failed or ran twice: %r" % kinds)
        check(not any(e["event"] == "gap" and e["data"].get("reason") == "broker_restarted" for e in events),
              "a broker_restarted gap: %r" % events)
        check(not any(e["event"] == "broker_restarted" for e in events), kinds)
        # Told of the switch with notices: away, then back (the pair's id).
        check("broker_unavailable" in kinds and "broker_available" in kinds and
              kinds.index("broker_unavailable") < kinds.index("broker_available"), kinds)
        covered = covered_seqs(events)
        check(covered == list(range(1, len(covered) + 1)), "seqs: %r" % covered)
        parts = [e["data"]["i"] for e in events if e["event"] == "part"]
        check(parts == sorted(set(parts)), "parts twice or out of order: %r" % parts)
        gaps = [e for e in events if e["event"] == "gap"]
        in_gaps += 40 - len(parts)
        check(len(parts) == 40 or gaps, "parts missing outside a gap: %r" % parts)
        job_id = events[-1]["job"]
        status = system.job_status(job_id)
        check(status["state"] == "done" and status["attempt"] == 1, status)
        s.close()
    print("standby takeover: %d jobs done, 0 failed, 0 run twice, 0 parts missing, %d inside gaps"
          % (len(streams), in_gaps))
    # The topic's subscription reached the standby: a message after the
    # takeover arrives, in the mirrored numbering (not reset). The topic was
    # busy moments before, so it numbers on 1,024 further (the old active
    # may have published seqs it never mirrored: broker/takeover.c), and
    # the subscriber is told the seqs between are a gap.
    check(publish(system, "news", {"n": 2}) == 1 + 1024 + 1)
    event = topic.next_event()
    while event is not None and event["event"] != "part":
        check(event["event"] != "gap" or event["data"] == {"from": 2, "to": 1025}, event)
        event = topic.next_event()
    check(event is not None and event["seq"] == 1026 and event["data"] == {"n": 2}, event)
    check(any(e.get("event") == "gap" for e in topic.events), "no gap before seq 1026: %r" % topic.events)
    topic.close()


def test_requests_in_flight_when_the_primary_stops_are_asked_again(ctx):
    # The primary stops (SIGSTOP: its connections stay open, it reads
    # nothing): a submit and a job's status sent then sit in its socket.
    # The frontend switches after 2 silent heartbeats and asks both again
    # of the standby once it answers (docs/PROTOCOL.md "Calls asked
    # again"): the client gets its stream and its status, not a 504 at the
    # call's 5 s; the jobs run once. Without a pair (a broker without
    # --standby-of) the second broker is independent: the submit is asked
    # again all the same, the status of a job it never knew is a 404.
    system = ctx.system(workers=1, config=CONFIG, standby=True)
    system.wait_healthy(workers=1)
    (earlier,) = detach(system, demo(2, 10))
    system.wait_for(lambda: system.job_status(earlier)["state"] == "done", what="the earlier job to end")
    system.broker.signal(signal.SIGSTOP)
    stopped = time.monotonic()
    results = {}

    def submit():
        stream = system.stream("POST", "/v1/jobs", [demo(3, 10), demo(2, 10)], timeout=30)
        results["submit"] = (stream.status, stream.read_all(), stream.accepted, time.monotonic() - stopped)

    def status():
        code, body = system.json_request("GET", "/v1/jobs/" + earlier)
        results["status"] = (code, body, time.monotonic() - stopped)

    threads = [threading.Thread(target=target, daemon=True) for target in (submit, status)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    system.broker.kill()  # stopped: only SIGKILL ends it
    check(set(results) == {"submit", "status"}, "a request did not end within 30 s: %r\n%s"
          % (results, system.logs_tail()))

    code, events, accepted, took = results["submit"]
    print("a submit sent to a stopped primary: %s after %.2f s" % (code, took))
    check(code == 200, "the submit answered %s: %r\n%s" % (code, events, system.logs_tail()))
    check(accepted is not None and len(accepted["jobs"]) == 2, accepted)
    jobs = events_by_job(events)
    check(sorted(jobs) == sorted(accepted["jobs"]), "streamed jobs %r, accepted %r" % (sorted(jobs), accepted))
    for job_id, parts in zip(accepted["jobs"], (3, 2)):
        check_job_events(jobs[job_id], parts, job_id)
        check(system.job_status(job_id)["attempt"] == 1, system.job_status(job_id))
    code, body, took = results["status"]
    print("a status asked of a stopped primary: %s after %.2f s" % (code, took))
    if system.paired:
        check(code == 200 and body["id"] == earlier and body["state"] == "done", (code, body))
    else:
        check(code == 404, (code, body))
    check("asked again of broker" in system.frontend.log_text(), system.frontend.log_text()[-3000:])
    check(metric(system, "rill_frontend_calls_resent_total") >= 2, "resent calls counted")


def test_a_submit_during_the_switch_waits_for_the_standby(ctx):
    # The primary is killed while the standby is stopped (SIGSTOP): the
    # frontend switches to the standby, which does not answer yet. A submit
    # then is held for it (rill_broker_link_takes_calls), not refused with
    # 503, and streams its job once the standby (SIGCONT) takes over.
    system = ctx.system(workers=1, config=CONFIG, standby=True, log_level="debug")
    system.wait_healthy(workers=1)
    system.backup.signal(signal.SIGSTOP)
    system.broker.kill()
    system.wait_for(lambda: "switching to" in system.frontend.log_text(), timeout=20,
                    what="the frontend to switch to the standby")
    submit = BackgroundSubmit(system, 3)
    system.wait_for(lambda: "SUBMIT of 1 job(s) sent" in system.frontend.log_text(), timeout=20,
                    what="the submit to be held by the frontend")
    system.backup.signal(signal.SIGCONT)
    submit.check_asked_again()


def test_dedup_joins_across_a_takeover(ctx):
    # A dedup pipeline's running job, mirrored: after the primary is killed
    # an identical submission to the standby joins it (the answer names the
    # job that runs) instead of running a second one.
    config = dict(CONFIG, pipelines=[{"name": "once", "match": {"kind": "demo"}, "dedup": True,
                                      "mode": "parallel", "concurrency": 8}])
    system = ctx.system(workers=1, config=config, standby=True)
    system.wait_healthy(workers=1)
    job = dict(demo(40, 100), key="nightly-report")
    (first,) = detach(system, job)
    system.wait_for(lambda: system.job_status(first)["parts"] >= 2, timeout=20, what="the job under way")
    system.broker.kill()
    system.wait_healthy(workers=1, timeout=20)
    (again,) = detach(system, job)
    if not system.paired:
        print("standby: this broker has no --standby-of: no mirror to join across")
        return
    check(again == first, "after the takeover the same job ran again: %s, not %s\n%s"
          % (again, first, system.logs_tail()))
    check(metric(system, "rill_dedup_joins_total") == 1, "the join counted on the new active")
    check(system.job_status(first)["attempt"] == 1, system.job_status(first))


def test_a_publish_in_flight_when_the_primary_stops_is_asked_again(ctx):
    # A publish sent to a stopped primary (SIGSTOP) carries a key the
    # frontend drew (rill/10), so it is asked again of the standby and
    # answered 202, where it waited for the call's deadline (504) before;
    # the topic's subscriber gets it once. Then a client's own key: a
    # message the primary took, published again with that key after the
    # primary is killed, is answered by the standby with its first seq and
    # not published twice (the key went with the mirror).
    system = ctx.system(workers=1, config=CONFIG, standby=True)
    system.wait_healthy(workers=1)
    stream = system.stream("GET", "/v1/topics/alerts")
    check(stream.status == 200, stream.status)
    check(publish(system, "alerts", {"n": 1}, {"Idempotency-Key": "alert-1"}) == 1, "the first message")
    check(topic_parts(stream, 1)[0]["data"] == {"n": 1}, stream.events)
    system.broker.signal(signal.SIGSTOP)
    stopped = time.monotonic()
    result = {}

    def send():
        result["publish"] = system.json_request("POST", "/v1/topics/alerts", {"n": 2}) + (time.monotonic() - stopped,)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    thread.join(30)
    system.broker.kill()  # stopped: only SIGKILL ends it
    check("publish" in result, "the publish did not end within 30 s\n%s" % system.logs_tail())
    code, body, took = result["publish"]
    print("a publish sent to a stopped primary: %s after %.2f s" % (code, took))
    check(code == 202 and body["topic"] == "alerts" and "repeated" not in body,
          "the publish answered %s %r\n%s" % (code, body, system.logs_tail()))
    check("asked again of broker" in system.frontend.log_text(), system.frontend.log_text()[-3000:])
    if not system.paired:
        print("standby: this broker has no --standby-of: no mirror to carry the client's key")
        return
    status, again = system.json_request("POST", "/v1/topics/alerts", {"n": 1}, {"Idempotency-Key": "alert-1"})
    check(status == 202 and again == {"topic": "alerts", "seq": 1, "repeated": True},
          "after the takeover the keyed message answered %s %r" % (status, again))
    after = publish(system, "alerts", {"n": 3})
    seen = []
    while not seen or seen[-1]["data"] != {"n": 3}:
        event = stream.next_event()
        check(event is not None, "the topic stream ended: %r" % stream.events[-5:])
        if "topic" in event:
            seen.append(event)
    messages = [e["data"] for e in seen if e["event"] == "part"]
    check(messages == [{"n": 2}, {"n": 3}], "after the first: %r" % seen)
    check(seen[-1]["seq"] == after, (seen[-1], after))


def test_an_ordered_pipeline_keeps_its_order_across_a_takeover(ctx):
    # An ordered pipeline (batches of two, one group): the primary sent the
    # first batch to a worker and holds the next two jobs in its buffer when
    # it is killed. The standby counts that batch in flight again (its
    # worker re-joins with it), so the next jobs start only after it ended;
    # before, they went straight to a worker at the takeover.
    config = dict(CONFIG, pipelines=[{"name": "inorder", "match": {"kind": "demo"}, "mode": "ordered",
                                      "group_by": "none", "buffer_max": 2, "buffer_ms": 50}])
    system = ctx.system(workers=2, config=config, standby=True)
    system.wait_healthy(workers=2)
    ids = detach(system, *[demo(15, 100) for _ in range(4)])
    system.wait_for(lambda: system.job_status(ids[0])["parts"] >= 2, timeout=20, what="the first batch under way")
    check(system.job_status(ids[2])["state"] == "queued", system.job_status(ids[2]))
    system.broker.kill()
    system.wait_healthy(workers=2, timeout=20)
    if not system.paired:
        print("standby: this broker has no --standby-of: no mirror of the pipeline's jobs")
        return
    system.wait_for(lambda: all(system.job_status(i)["state"] == "done" for i in ids), timeout=40,
                    what="the four jobs to end")
    timings = [system.job_status(i)["timings"] for i in ids]
    first_batch_end = max(timings[0]["ended_ms"], timings[1]["ended_ms"])
    check(timings[2]["started_ms"] >= first_batch_end and timings[3]["started_ms"] >= first_batch_end,
          "the second batch started while the first ran: %r\n%s" % (timings, system.logs_tail()))
    check([system.job_status(i)["attempt"] for i in ids] == [1, 1, 1, 1], [system.job_status(i) for i in ids])
    check(system.job_status(ids[2])["batch"] == system.job_status(ids[3])["batch"], "3 and 4 go together")


def test_a_debounce_quiet_period_goes_on_across_a_takeover(ctx):
    # A debounce pipeline of 8 s: the job is submitted, the primary is killed
    # 4 s into its quiet period, and the standby runs it when the period the
    # primary started ends (rill/12: its time left is mirrored), not 8 s
    # after the takeover as before (~14 s after the submit).
    config = dict(CONFIG, pipelines=[{"name": "quiet", "match": {"kind": "demo"}, "debounce_ms": 8000}])
    system = ctx.system(workers=1, config=config, standby=True)
    system.wait_healthy(workers=1)
    (job,) = detach(system, dict(demo(2, 10), key="settle"))
    time.sleep(4)
    check(system.job_status(job)["state"] == "queued", system.job_status(job))
    system.broker.kill()
    system.wait_healthy(workers=1, timeout=20)
    if not system.paired:
        print("standby: this broker has no --standby-of: no mirror of the quiet period")
        return
    system.wait_for(lambda: system.job_status(job)["state"] == "done", timeout=30, what="the job to end")
    timings = system.job_status(job)["timings"]
    waited = timings["started_ms"] - timings["submitted_ms"]
    print("debounced 8 s, the primary killed 4 s in: started %d ms after the submit" % waited)
    check(7500 <= waited <= 11500, "the job started %d ms after its submit\n%s" % (waited, system.logs_tail()))


def test_clients_find_the_standby_when_the_first_broker_is_down(ctx):
    # The first endpoint has no broker at all (nothing to close a
    # connection): silence for 2 heartbeats moves the clients on.
    system = ctx.system(workers=0, config={"heartbeat_ms": 300}, standby=True, frontend=False)
    system.broker.kill()
    started = time.monotonic()
    system.frontend = system.start_frontend()
    system.start_worker()
    system.wait_healthy(workers=1)
    took = time.monotonic() - started
    print("clients on the standby %.2f s after they started" % took)
    check(took < 10, took)
    events = system.stream("POST", "/v1/jobs", demo(3, 10)).read_all()
    check([e["event"] for e in events] == ["part"] * 3 + ["done"], events)
    check(switched(system.frontend) and switched(system.workers[0]), system.logs_tail())
    check("was silent" in system.frontend.log_text(), system.frontend.log_text()[-2000:])


def test_endpoint_lists_are_checked(ctx):
    # A broker binds one endpoint: a list is refused with the reason; a
    # frontend's control and events lists must be as long as each other.
    system = ctx.system(workers=0, frontend=False)
    broker = system.spawn("listed-broker", [system.binary("broker", "rill-broker"), "--run-dir",
                                            system.run_dir + "x", "--control",
                                            "ipc:///tmp/rill-a.sock,ipc:///tmp/rill-b.sock"])
    check(broker.popen.wait(10) == 2, "a broker given a list did not refuse it")
    broker.expected_exit = 2
    check("binds exactly one" in broker.log_text(), broker.log_text())
    frontend = system.spawn("listed-frontend", [system.binary("frontend", "rill-frontend"), "--listen",
                                                "127.0.0.1:%d" % system.port, "--run-dir", system.run_dir,
                                                "--control", "ipc:///tmp/rill-a.sock,ipc:///tmp/rill-b.sock"])
    check(frontend.popen.wait(10) == 2, "a frontend with lists of two lengths started")
    frontend.expected_exit = 2
    check("as many" in frontend.log_text(), frontend.log_text())
    worker = system.spawn("listed-worker", [system.binary("workers", "rill-worker"), "--run-dir",
                                            system.run_dir, "--workers", "ipc:///a,ipc:///b,ipc:///c"])
    check(worker.popen.wait(10) == 2, "a worker given three endpoints started")
    worker.expected_exit = 2
    check("at most 2" in worker.log_text(), worker.log_text())


def test_returning_primary_is_passive_and_takes_over_again(ctx):
    # After a takeover the primary comes back (passive: the clients stay on
    # the standby, which is active); then the standby dies and the clients
    # switch back to it. A streamed job lives through both switches.
    system = ctx.system(workers=1, config={"heartbeat_ms": 300, "retry_backoff_ms": 100}, standby=True)
    if not system.paired:
        print("standby: this broker has no --standby-of: nothing to fail back to")
        return
    system.wait_healthy()
    stream = system.stream("POST", "/v1/jobs", demo(80, 100))
    reader = Reader(stream)
    reader.start()
    system.wait_for(lambda: len(stream.events) >= 5, what="the job under way")
    system.broker.kill()
    system.wait_for(lambda: "passive -> active" in system.backup.log_text(), what="the standby active")
    system.broker = system.start_broker(name="broker-again")
    system.wait_for(lambda: "-> passive" in system.broker.log_text(), timeout=10, what="the primary passive")
    # The returned primary mirrors the active one before that one dies.
    system.wait_for(lambda: "is complete" in system.broker.log_text(), timeout=15,
                    what="the returned primary's mirror complete")
    check(system.frontend.log_text().count("switching to") == 1, system.frontend.log_text()[-2000:])
    system.backup.kill()
    reader.join(60)
    check(not reader.is_alive(), "the stream did not end:\n%s" % system.logs_tail())
    events = stream.events
    kinds = [e["event"] for e in events]
    check(kinds[-1] == "done" and "error" not in kinds and "retry" not in kinds, kinds)
    covered = covered_seqs(events)
    check(covered == list(range(1, len(covered) + 1)), "seqs: %r" % covered)
    parts = [e["data"]["i"] for e in events if e["event"] == "part"]
    check(parts == sorted(set(parts)), "parts twice or out of order: %r" % parts)
    check(system.frontend.log_text().count("switching to") == 2, system.frontend.log_text()[-2000:])
    check(not any(e["event"] == "gap" and e["data"].get("reason") == "broker_restarted" for e in events), events)
    print("fail-back: %d parts, %d inside gaps" % (len(parts), 80 - len(parts)))
    stream.close()


def switch_times_ms(process):
    """When process logged each switch (ms on the run's clock)."""
    return [int(line.split("ms", 1)[0]) for line in process.log_text().splitlines()
            if "switching to" in line]


def test_clients_alternate_between_two_dead_brokers(ctx):
    # Both brokers down: the clients try one, then the other, staying 2
    # heartbeats on each; a broker that comes back is found.
    system = ctx.system(workers=0, config={"heartbeat_ms": 300}, standby=True, frontend=False)
    for broker in (system.broker, system.backup):
        broker.kill()
    system.frontend = system.start_frontend()
    worker = system.start_worker()
    # Three switches each, counted from the log (a process started late on
    # a loaded machine has not had 3 s of its own after 3 s of ours); the
    # times between them are the process's own, from its log.
    for process in (system.frontend, worker):
        system.wait_for(lambda: len(switch_times_ms(process)) >= 3, timeout=20,
                        what="%s to switch 3 times" % process.name)
    for process in (system.frontend, worker):
        times = switch_times_ms(process)
        gaps = [b - a for a, b in zip(times, times[1:])]
        check(all(gap >= 590 for gap in gaps), "%s switched faster than 2 heartbeats: %r" % (process.name, gaps))
        check(all(gap <= 3000 for gap in gaps), "%s stayed on a dead broker: %r" % (process.name, gaps))
        endpoints = [line.split("switching to ", 1)[1].split(" ")[0]
                     for line in process.log_text().splitlines() if "switching to" in line]
        check(all(a != b for a, b in zip(endpoints, endpoints[1:])), endpoints)
    system.broker = system.start_broker(name="broker-again")
    system.wait_healthy(timeout=15)
    events = system.stream("POST", "/v1/jobs", demo(3, 10)).read_all()
    check([e["event"] for e in events] == ["part"] * 3 + ["done"], events)
