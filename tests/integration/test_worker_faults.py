"""test_worker_faults.py - workers and broker under faults (docs/PROTOCOL.md,
"Worker sessions", "The worker holds parts", "Broker restart").

Real processes: a worker paused past the dead window (SIGSTOP, SIGCONT), a
worker of credit 1 that joins again, a broker killed with SIGKILL and
started again by hand while a job runs. Short heartbeats keep them quick.
"""
import re
import signal
import time

from harness import check, demo, detach, metric

FAST = {"heartbeat_ms": 200, "retry_backoff_ms": 100}


def worker_named(system, name):
    return next(w for w in system.workers if w.name == name)


def check_seqs(events):
    """Seqs 1..N, each once, in order; a gap event covers what is missing.
    Notices (broker_unavailable, ...) take no seq and are skipped."""
    seqs = [e["seq"] for e in events if "seq" in e]
    check(seqs == list(range(1, len(seqs) + 1)), "seqs not contiguous: %r" % seqs)


def parts_of_last_attempt(events):
    """data.i of the parts after the last retry event."""
    kinds = [e["event"] for e in events]
    start = len(kinds) - kinds[::-1].index("retry") if "retry" in kinds else 0
    return [e["data"]["i"] for e in events[start:] if e["event"] == "part"]


def test_paused_worker_is_replaced_and_its_attempt_cancelled(ctx):
    system = ctx.system(workers=2, config=FAST)
    system.wait_healthy(workers=2)
    stream = system.stream("POST", "/v1/jobs", demo(40, 100))
    first = stream.next_event()
    check(first["event"] == "part", first)
    job_id = first["job"]
    runner = worker_named(system, system.job_status(job_id)["worker"]["name"])
    other = next(w for w in system.workers if w is not runner)
    # Paused well past the dead window (3 x 200 ms): the job goes to the
    # other worker while this one still believes it runs it.
    runner.signal(signal.SIGSTOP)
    try:
        system.wait_for(lambda: (system.job_status(job_id)["worker"] or {}).get("name") == other.name,
                        timeout=10, what="the job retried on the other worker")
        time.sleep(0.5)
    finally:
        runner.signal(signal.SIGCONT)
    events = stream.read_all()
    check(events[-1]["event"] == "done", "job did not end done: %r" % events[-3:])
    check_seqs(events)
    kinds = [e["event"] for e in events]
    check(kinds.count("retry") == 1, "one retry expected: %r" % kinds)
    # The new attempt starts over and no part of the paused one comes after.
    check(parts_of_last_attempt(events) == list(range(1, 41)), parts_of_last_attempt(events))
    status = system.job_status(job_id)
    check(status["attempt"] == 2 and status["worker"]["name"] == other.name, status)
    # Settled: the paused worker stopped its attempt (told by the WELCOME of
    # its re-join, or by a CANCEL answering its stale parts), without a FAIL.
    system.wait_for(lambda: re.search(r"job %s (stopped|cancelled by the broker)" % job_id, runner.log_text()),
                    timeout=3, what="the paused worker to stop its attempt")
    check("job %s failed" % job_id not in runner.log_text(), runner.log_text()[-2000:])
    # It is a worker again: a new job may go to either.
    (later,) = detach(system, demo(2, 10))
    system.wait_for(lambda: system.job_status(later)["state"] == "done", what="a job after the pause")


def test_one_credit_worker_that_rejoins_takes_jobs_again(ctx):
    system = ctx.system(workers=1, config=FAST, worker_args=["--credit", "1"])
    system.wait_healthy()
    stream = system.stream("POST", "/v1/jobs", demo(20, 100))
    first = stream.next_event()
    job_id = first["job"]
    worker = system.workers[0]
    worker.signal(signal.SIGSTOP)
    # Declared dead after 600 ms (later on a loaded machine): its job waits
    # in the queue, there being no other worker.
    system.wait_for(lambda: system.job_status(job_id)["state"] in ("queued", "waiting"), timeout=15,
                    what="the paused worker's job back in the queue")
    worker.signal(signal.SIGCONT)
    events = stream.read_all()
    # Adopted: the same attempt goes on, its seqs continuous, no retry event,
    # and the pause used up none of its retries.
    check(events[-1]["event"] == "done", events[-3:])
    check_seqs(events)
    check([e["event"] for e in events].count("retry") == 0, [e["event"] for e in events])
    check([e["data"]["i"] for e in events if e["event"] == "part"] == list(range(1, 21)), events)
    check(system.job_status(job_id)["attempt"] == 1, system.job_status(job_id))
    # Its one credit is free again: the next jobs run on it.
    jobs = detach(system, demo(2, 10), demo(2, 10))
    for job in jobs:
        system.wait_for(lambda: system.job_status(job)["state"] == "done", what="job after the re-join")
    # One HELLO for the re-join, not one per message it had queued.
    check(metric(system, "rill_workers_rejoined_total") <= 2, "rejoins: %s" % metric(system, "rill_workers_rejoined_total"))
    check(metric(system, "rill_jobs_adopted_total") == 1, "adopted: %s" % metric(system, "rill_jobs_adopted_total"))


def fetch_events(system, job_id):
    """A fresh GET /v1/stream of an ended job: its events, read to the end."""
    stream = system.stream("GET", "/v1/stream?job=%s" % job_id, timeout=20)
    check(stream.status == 200, "GET /v1/stream answered %s" % stream.status)
    events = []
    while True:
        event = stream.next_event()
        if event is None:
            break
        events.append(event)
        if event["event"] in ("done", "error"):
            break
    stream.close()
    return events


def test_jobs_outlive_a_broker_restart(ctx):
    system = ctx.system(workers=2, config=FAST)
    system.wait_healthy(workers=2)
    jobs = detach(system, demo(40, 100), demo(40, 100))
    system.wait_for(lambda: all(system.job_status(j)["parts"] >= 5 for j in jobs), what="jobs under way")
    system.broker.kill()
    time.sleep(0.5)  # the workers go on alone, holding their parts
    system.broker = system.start_broker()

    def ended():
        for job_id in jobs:
            status, body = system.json_request("GET", "/v1/jobs/" + job_id)
            # 503 while the broker is away or recovering; never 404.
            check(status in (200, 503), "GET /v1/jobs/%s answered %s %r" % (job_id, status, body))
            if status != 200 or body["state"] != "done":
                return False
        return True

    system.wait_for(ended, timeout=20, what="both jobs done after the restart")
    for job_id in jobs:
        status = system.job_status(job_id)
        check(status["attempt"] == 1 and status["state"] == "done", status)
        events = fetch_events(system, job_id)
        check(events and events[-1]["event"] == "done", "events of %s: %r" % (job_id, events[-3:]))
        check(not any(e["event"] == "error" for e in events), events)
        # Every seq once, in order; the parts the workers held came again,
        # so nothing (or only what a gap names) is missing.
        check_seqs(events)
        parts = [e["data"]["i"] for e in events if e["event"] == "part"]
        check(parts == sorted(parts) and len(set(parts)) == len(parts), parts)
        check(parts[-1] == 40, "last part %r" % parts[-1:])
    log = system.broker.log_text()
    check("recovering the jobs workers still run" in log, log[-2000:])
    check(log.count("adopted: it goes on") == 2, log[-3000:])


def test_a_paused_broker_loses_no_part(ctx):
    # The broker stops for 2 s (10 heartbeats): its workers hear nothing,
    # hold their parts and say HELLO once; the broker, back, does not take
    # its own pause for their death, and they send what it lacks.
    system = ctx.system(workers=1, config=FAST)
    system.wait_healthy()
    stream = system.stream("POST", "/v1/jobs", demo(30, 100))
    first = stream.next_event()
    job_id = first["job"]
    system.broker.signal(signal.SIGSTOP)
    time.sleep(2)
    system.broker.signal(signal.SIGCONT)
    events = stream.read_all()
    check(events[-1]["event"] == "done", events[-3:])
    check_seqs(events)
    kinds = [e["event"] for e in events]
    check(kinds.count("retry") == 0, kinds)
    # The stream was told, with notices (no seq), that the broker was away and back.
    check("broker_unavailable" in kinds and "broker_available" in kinds and
          kinds.index("broker_unavailable") < kinds.index("broker_available"), kinds)
    check([e["data"]["i"] for e in events if e["event"] == "part"] == list(range(1, 31)), events)
    status = system.job_status(job_id)
    check(status["attempt"] == 1, status)
    check("stalled" in system.broker.log_text(), system.broker.log_text()[-2000:])
    check(system.workers[0].log_text().count("joined broker") == 2, system.workers[0].log_text()[-2000:])
