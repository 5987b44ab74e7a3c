"""test_retry_order.py - what a retry keeps: done.parts counts the parts of
the attempt that finished (docs/API.md, "Events"), and an ordered batch
whose worker died goes again as one ordered batch, its jobs still one after
another (docs/CONFIG.md, "Pipelines").

A worker is killed with SIGKILL mid-job while a second one waits to take
over; short heartbeats make the broker see it soon.
"""
from harness import check, events_by_job

FAST = {"heartbeat_ms": 200, "retry_backoff_ms": 100}


def test_done_parts_counts_the_attempt_that_finished(ctx):
    system = ctx.system(workers=1, config=FAST)
    system.wait_healthy()
    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 6, "interval_ms": 150}})
    first = [stream.next_event() for _ in range(3)]
    check([e["event"] for e in first] == ["part"] * 3, first)
    system.start_worker("survivor")
    system.wait_healthy(workers=2)
    system.workers[0].kill()
    events = [e for e in stream.read_all() if "job" in e]
    kinds = [e["event"] for e in events]
    check(kinds.count("retry") == 1 and kinds[-1] == "done", kinds)
    after = kinds[kinds.index("retry") + 1:].count("part")
    check(after == 6, "the new attempt sends its 6 parts: %r" % kinds)
    check(kinds.count("part") > after, "parts of the lost attempt came first: %r" % kinds)
    check(events[-1]["data"] == {"parts": after}, "done says %r, %d parts came after the retry"
          % (events[-1]["data"], after))
    status = system.job_status(first[0]["job"])
    check(status["parts"] == after and status["attempt"] == 2, status)


def test_an_ordered_batch_is_retried_in_order(ctx):
    config = dict(FAST, pipelines=[{"name": "ord", "match": {"kind": "demo"}, "buffer_ms": 500,
                                    "buffer_max": 10, "mode": "ordered"}])
    system = ctx.system(workers=1, config=config)
    system.wait_healthy()
    jobs = [{"kind": "demo", "args": {"parts": 10, "interval_ms": 100, "size": i}} for i in range(3)]
    stream = system.stream("POST", "/v1/jobs", jobs)
    first = stream.next_event()
    while "job" not in first:
        first = stream.next_event()
    check(first["event"] == "part" and first["data"]["pad"] == "", first)
    batch = system.job_status(first["job"])["batch"]
    system.start_worker("survivor")
    system.wait_healthy(workers=2)
    system.workers[0].kill()
    events = [e for e in stream.read_all() if "job" in e]
    order = []
    for e in events:
        if not order or order[-1] != e["job"]:
            check(e["job"] not in order, "interleaved: %r" % [(e.get("job"), e["event"]) for e in events])
            order.append(e["job"])
    by_job = events_by_job(events)
    check(len(order) == 3, order)
    check([len(by_job[j][-2]["data"]["pad"]) for j in order] == [0, 1, 2], "not in submission order")
    for job_id in order:
        kinds = [e["event"] for e in by_job[job_id]]
        check(kinds.count("retry") == 1 and kinds[-1] == "done", kinds)
        check([e["seq"] for e in by_job[job_id]] == list(range(1, len(kinds) + 1)), by_job[job_id])
        status = system.job_status(job_id)
        check(status["worker"]["name"] == "survivor" and status["attempt"] == 2, status)
    # The three went again together, as one new batch.
    batches = {system.job_status(j)["batch"] for j in order}
    check(len(batches) == 1 and batch not in batches, "batches %r (first %s)" % (batches, batch))
