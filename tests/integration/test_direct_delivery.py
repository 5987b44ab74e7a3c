"""test_direct_delivery.py - rill/4: a streamed submit's jobs reach their
frontend through its follow subject, not a subscription each
(docs/PROTOCOL.md, "Direct delivery").

What must hold: no subscribe/unsubscribe per job at the broker's XPUB; the
follower counts as a listener (status subscribers, cancel when the client
leaves, orphan grace when the frontend goes); another frontend following
the same job by GET gets the same events; a joined job (dedup) reaches its
second submitter too; a follower's events of one broker pass travel as one
message (a batch), complete and in order.
"""
import signal

from harness import check, check_job_events, events_by_job, metric
from test_streams import broker_gave_up_holding, dropping_system

SUBSCRIPTIONS = "rill_broker_subscription_messages_total"
EVENTS = "rill_broker_events_published_total"
MESSAGES = "rill_broker_event_messages_total"


def stream_demo_jobs(system, count, parts):
    """POSTs count demo jobs of parts parts in one request and checks that
    each arrives whole and in order; returns the events by job."""
    jobs = [{"kind": "demo", "args": {"parts": parts, "interval_ms": 0}} for _ in range(count)]
    stream = system.stream("POST", "/v1/jobs", jobs)
    check(stream.status == 200, "status %s" % stream.status)
    by_job = events_by_job(stream.read_all())
    check(len(by_job) == count, "events of %d jobs" % len(by_job))
    for job_id, events in by_job.items():
        check_job_events(events, parts, job_id)
    return by_job


def test_streamed_jobs_cost_the_xpub_no_subscription(ctx):
    system = ctx.system(workers=2)
    system.wait_healthy()
    before = metric(system, SUBSCRIPTIONS)
    for _ in range(10):
        by_job = stream_demo_jobs(system, 4, 3)
    after = metric(system, SUBSCRIPTIONS)
    # Before rill/4: 4 per job (its subject and the barrier, each on and off), 160 here.
    check(after - before == 0, "40 streamed jobs cost %d subscription messages" % (after - before))
    # A GET stream still subscribes (its subject and its barrier token).
    job_id = next(iter(by_job))
    status, _, _ = system.request("GET", "/v1/stream?job=%s" % job_id)
    check(status == 200, "GET answered %s" % status)
    system.wait_for(lambda: metric(system, SUBSCRIPTIONS) - after >= 2, what="the GET's subscriptions")


def test_follower_is_a_subscriber_and_its_leaving_cancels(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 100, "interval_ms": 100}})
    first = stream.next_event()
    job_id = first["job"]
    status = system.job_status(job_id)
    check(status["state"] == "running" and status["subscribers"] == 1, "status %r" % status)
    stream.close()  # the client leaves: UNFOLLOW with the release, cancelled at once
    system.wait_for(lambda: system.job_status(job_id)["state"] == "cancelled", timeout=5,
                    what="the job cancelled when its only client left")


def test_a_second_frontend_follows_a_followed_job(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    other_port = system.start_frontend_on_free_port("frontend2")
    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 8, "interval_ms": 100}})
    job_id = stream.next_event()["job"]
    watcher = system.stream_on(other_port, "GET", "/v1/stream?job=%s" % job_id)
    check(watcher.status == 200, "GET on the second frontend answered %s" % watcher.status)
    mine = [e for e in stream.read_all()]
    theirs = watcher.read_all()
    check_job_events(mine, 8, job_id)
    check_job_events(theirs, 8, job_id)


def test_frontend_killed_leaves_followed_job_to_its_orphan_grace(ctx):
    system = ctx.system(workers=1, config={"orphan_grace_ms": 3000})
    system.wait_healthy()
    # The frontend the client resumes on is up (it answers /healthz, its
    # broker connected) before the job starts: its start, slow under load
    # and ASan, is no part of the grace (3 s) nor of the job's 5 s.
    port = system.start_frontend_on_free_port("frontend2")
    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 100, "interval_ms": 50}})
    event = stream.next_event()
    job_id = event["job"]
    cursor = "%s:%d" % (job_id, event["seq"])
    system.frontend.popen.send_signal(signal.SIGKILL)
    system.frontend.popen.wait()
    system.frontend.expected_exit = -9
    stream.close()
    # The follow subject went with the frontend: nobody listens, the grace runs...
    system.wait_for(lambda: system.json_request("GET", "/v1/jobs/%s" % job_id, port=port)[1]["subscribers"] == 0,
                    timeout=5, what="the killed frontend's follower no longer counted")
    status = system.json_request("GET", "/v1/jobs/%s" % job_id, port=port)[1]
    check(status["state"] == "running", "status %r" % status)
    # ...and a resume by cursor on the new frontend ends it: nothing lost, nothing twice.
    resumed = system.stream_on(port, "GET", "/v1/stream?job=%s&since=%s" % (job_id, cursor))
    events = resumed.read_all()
    check(events[0].get("seq") == event["seq"] + 1, "resumed at %r" % events[:2])
    check(events[-1]["event"] == "done" and events[-1]["seq"] == 101, "ended with %r" % events[-1:])


def test_a_joined_job_reaches_both_submitters(ctx):
    config = {"pipelines": [{"name": "once", "match": {"kind": "demo"}, "dedup": True, "mode": "parallel"}]}
    system = ctx.system(workers=1, config=config)
    system.wait_healthy()
    job = {"kind": "demo", "key": "same", "args": {"parts": 6, "interval_ms": 100}}
    first = system.stream("POST", "/v1/jobs", job)
    job_id = first.next_event()["job"]
    second = system.stream("POST", "/v1/jobs", job)
    check(second.status == 200)
    theirs = second.read_all()
    check(second.accepted == {"jobs": [job_id]}, "accepted %r" % second.accepted)
    check_job_events(theirs, 6, job_id)
    check_job_events(first.read_all(), 6, job_id)


def test_a_followed_job_whose_end_was_dropped_still_ends(ctx):
    """The XPUB dropped a followed job's last events (its frontend stalled
    past a heartbeat): the broker's syncs, sent while such a loss is
    possible, make the frontend FETCH them, so the stream ends complete."""
    system, port2 = dropping_system(ctx, {})
    pad = 20000
    stream = system.stream("POST", "/v1/jobs",
                           {"kind": "demo", "args": {"parts": 40, "interval_ms": 20, "size": pad}})
    first = stream.next_event()
    job_id = first["job"]
    system.frontend.signal(signal.SIGSTOP)
    try:
        broker_gave_up_holding(system)
        system.wait_for(lambda: system.json_request("GET", "/v1/jobs/%s" % job_id, port=port2)[1]["state"] == "done",
                        timeout=15, what="the job's end while its frontend is stopped")
    finally:
        system.frontend.signal(signal.SIGCONT)
    events = [first] + [e for e in stream.read_all() if e is not first]
    check_job_events(events, 40, job_id)
    check(metric(system, "rill_broker_syncs_published_total") > 0, "no sync was sent")


def test_a_streamed_submit_of_small_jobs_comes_in_batches(ctx):
    """rill/5 batches: 100 jobs x 10 parts, the worker sending each turn's
    parts as one PARTS: every job complete and in seq order on the stream,
    while the broker's XPUB sent far fewer messages than events (before
    batches: one message per event)."""
    system = ctx.system(workers=1)
    system.wait_healthy()
    events_before = metric(system, EVENTS)
    messages_before = metric(system, MESSAGES)
    stream_demo_jobs(system, 100, 10)
    events = metric(system, EVENTS) - events_before
    messages = metric(system, MESSAGES) - messages_before
    check(events >= 1100, "%d events published" % events)
    check(messages > 0, "no event messages counted")
    check(messages * 4 <= events, "%d messages for %d events: not batched" % (messages, events))
    print("%d events in %d messages" % (events, messages))


def test_malformed_batches_are_counted_and_dropped(ctx):
    """A frontend given bad batches (rill/4) counts each as malformed and
    goes on: a batch whose framing is wrong is dropped whole, a bad entry
    alone; nothing crashes (the ASan build checks the reads too); a good
    batch is not malformed (before batches it was: 7 counted, not 6)."""
    import os
    import time
    import zmq
    system = ctx.system(workers=0)
    system.wait_listening()
    # The broker is replaced by this test's XPUB. A SIGTERM that comes
    # before the broker installed its handler (a slow start, ASan) ends it
    # with -15 rather than 0: either is a clean stop here.
    system.broker.expected_exit = -signal.SIGTERM
    system.broker.stop()
    context = zmq.Context()
    xpub = context.socket(zmq.XPUB)
    xpub.setsockopt(zmq.LINGER, 0)
    try:
        path = os.path.join(system.run_dir, "events.sock")
        if os.path.exists(path):
            os.unlink(path)
        xpub.bind("ipc://" + path)
        follow = None
        deadline = time.time() + 15
        while follow is None and time.time() < deadline:
            if xpub.poll(200):
                message = xpub.recv()
                if message[:2] == b"\x01d":
                    follow = message[1:]
        check(follow is not None, "the frontend never subscribed its follow subject")
        job = b"j" + b"0123456789abcdef" * 2
        good = job + b" rill/12 part 1 5\n{}"

        def batch(count, entries):
            return follow + b" rill/12 batch %d\n" % count + b"".join(b"%d %s" % (len(e), e) for e in entries)

        before = metric(system, "rill_frontend_malformed_frames_total")
        bad = [
            batch(2, [good]),                             # fewer entries than said
            batch(1, [good]) + b"x",                      # bytes after the last entry
            follow + b" rill/12 batch 1\n999 " + good,     # an entry past the end
            follow + b" rill/12 batch 0\n",                # empty
            follow + b" rill/12 batch 65\n" + b"".join(b"%d %s" % (len(good), good) for _ in range(65)),
            batch(2, [b"tnews/ rill/12 part 1 5\n{}", good]),  # framing good, one entry bad
        ]
        for message in bad:
            xpub.send(message)
        xpub.send(batch(2, [good, job + b" rill/12 done 2 6\n{\"parts\":1}"]))  # good: no stream wants it
        # A last bad one after the good: once it is counted, the frontend
        # (which reads them in order) has read the good one too.
        xpub.send(follow + b" rill/12 batch 0\n")
        system.wait_for(lambda: metric(system, "rill_frontend_malformed_frames_total") - before >= len(bad) + 1,
                        timeout=10, what="the bad batches counted")
        counted = metric(system, "rill_frontend_malformed_frames_total") - before
        check(counted == len(bad) + 1, "%d counted for %d bad batches" % (counted, len(bad) + 1))
        check(system.frontend.popen.poll() is None, "the frontend died")
    finally:
        xpub.close()
        context.term()
