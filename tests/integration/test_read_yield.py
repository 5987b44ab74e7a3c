"""test_read_yield.py - a busy frontend lets libzmq's I/O thread hand over
the rest of a burst before reading it again (frontend/read_yield.h,
RILL_READ_YIELD_PER_S in docs/CONFIG.md).

RILL_READ_YIELD_PER_S=1 makes the frontend yield from its first window of
250 ms with an event in it, so the path runs without loading the machine;
the default (30,000 events a second) is what a test system never reaches.
What the tests hold: yielding changes when the loop reads, never what the
clients get (every event, in order), and the counter says whether it ran.

Real broker, frontend and worker; HTTP/1.1 clients.
"""
import harness
from harness import check, check_job_events, publish, topic_parts

JOBS = [{"kind": "demo", "args": {"parts": 40, "interval_ms": 10}} for _ in range(4)]


def run_jobs(system):
    """Four demo jobs of 40 parts in one request: each job's parts then done,
    in order, on the one stream."""
    stream = system.stream("POST", "/v1/jobs", JOBS)
    check(stream.status == 200, stream.status)
    events = [e for e in stream.read_all() if "job" in e and "seq" in e]
    by_job = {}
    for event in events:
        by_job.setdefault(event["job"], []).append(event)
    check(len(by_job) == len(JOBS), "events of %d jobs: %r" % (len(by_job), list(by_job)))
    for job_id, job_events in by_job.items():
        check_job_events(job_events, 40, job_id)


def test_a_busy_frontend_yields_and_delivers_every_event_in_order(ctx):
    system = ctx.system(environment={"RILL_READ_YIELD_PER_S": "1"}, workers=2)
    system.wait_healthy(workers=2)
    subscriber = system.stream("GET", "/v1/topics/yield.a")
    check(subscriber.status == 200, subscriber.status)
    run_jobs(system)
    yields = harness.metric(system, "rill_frontend_read_yields_total")
    check(yields > 0, "160 events over ~0.4 s at a threshold of 1 a second: %r yields" % yields)
    # A topic's messages after it, on a stream opened before: all, in order.
    check([publish(system, "yield.a", {"n": n}) for n in range(1, 21)] == list(range(1, 21)))
    parts = topic_parts(subscriber, 20)
    check([(p["seq"], p["data"]) for p in parts] == [(n, {"n": n}) for n in range(1, 21)], parts)
    check(harness.metric(system, "rill_frontend_read_yields_total") >= yields, "a counter")
    subscriber.close()


def test_a_quiet_frontend_never_yields_and_zero_turns_it_off(ctx):
    for value in (None, "0"):
        environment = {} if value is None else {"RILL_READ_YIELD_PER_S": value}
        system = ctx.system(environment=environment, workers=2)
        system.wait_healthy(workers=2)
        run_jobs(system)
        check(harness.metric(system, "rill_frontend_read_yields_total") == 0,
              "RILL_READ_YIELD_PER_S=%s: the frontend yielded at ~400 events a second" % value)
        system.stop()

    system.env = dict(system.env, RILL_READ_YIELD_PER_S="soon")
    bad = system.spawn("bad-read-yield", [system.binary("frontend", "rill-frontend"), "--listen",
                                          "127.0.0.1:%d" % harness.free_port(), "--run-dir", system.run_dir])
    bad.expected_exit = 2
    check(bad.popen.wait(10) == 2, "rill-frontend with RILL_READ_YIELD_PER_S=soon exited %s" % bad.popen.returncode)
    with open(bad.log_path) as f:
        text = f.read()
    check("RILL_READ_YIELD_PER_S" in text and '"soon"' in text, "rill-frontend said: %r" % text)
