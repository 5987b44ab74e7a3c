"""test_pipelines.py - the declared reactive pipelines of docs/CONFIG.md "Pipelines".

Each test declares pipelines in the config, runs the real broker, frontend
and workers, and checks the operators' semantics through HTTP: job status
(pipeline, batch, worker, timings) and the streamed events. Timing bounds
are generous: they test what happens, not how fast.
"""
import os
import subprocess
import threading
import time

from harness import check, check_job_events, events_by_job, free_port


def pipeline(**fields):
    entry = {"name": "p", "match": {"kind": "demo"}}
    entry.update(fields)
    return entry


def system_with(ctx, pipelines, workers=2, **config):
    config = dict(config)
    config["pipelines"] = pipelines
    system = ctx.system(workers=workers, config=config)
    system.wait_healthy(workers=workers)
    return system


def statuses(system, ids):
    return [system.job_status(i) for i in ids]


def test_buffer_max_makes_batches_of_three(ctx):
    system = system_with(ctx, [pipeline(buffer_max=3, buffer_ms=2000, mode="parallel", concurrency=4)])
    jobs = [{"kind": "demo", "args": {"parts": 2, "interval_ms": 20, "size": i}} for i in range(6)]
    stream = system.stream("POST", "/v1/jobs", jobs)
    check(stream.status == 200, "status %s" % stream.status)
    by_job = events_by_job(stream.read_all())
    check(len(by_job) == 6, "events of %d jobs" % len(by_job))
    batches = {}
    for job_id, events in by_job.items():
        check_job_events(events, 2, job_id)
        status = system.job_status(job_id)
        check(status["pipeline"] == "p", status)
        batches.setdefault(status["batch"], []).append(status["worker"]["name"])
    check(len(batches) == 2, "batches %r" % batches)
    for batch, workers in batches.items():
        check(len(workers) == 3 and len(set(workers)) == 1, "batch %s ran on %r" % (batch, workers))


def test_buffer_ms_collects_jobs_within_the_window(ctx):
    window = 3.0
    system = system_with(ctx, [pipeline(buffer_ms=int(window * 1000), buffer_max=100)])
    ids = []
    # Before the first POST: the broker's window (buffer_ms from the first
    # job's entry, in whole milliseconds) cannot close before started + window.
    started = time.monotonic()
    for i in range(3):
        status, body = system.json_request("POST", "/v1/jobs?detach=1",
                                           {"kind": "demo", "args": {"parts": 1, "size": i}})
        check(status == 202, body)
        ids += body["jobs"]
        time.sleep(0.1)
    # Nothing dispatched before the window closes: the statuses count only if
    # they were all read while it was certainly open (a millisecond kept for
    # the broker's whole milliseconds).
    queued = statuses(system, ids)
    check(time.monotonic() - started < window - 0.002,
          "submissions and status reads took longer than the %.0f s window" % window)
    check(all(s["state"] == "queued" for s in queued), queued)
    system.wait_for(lambda: all(s["state"] == "done" for s in statuses(system, ids)), what="jobs done")
    done = statuses(system, ids)
    check(len({s["batch"] for s in done}) == 1, "batches %r" % [s["batch"] for s in done])
    check(len({s["worker"]["name"] for s in done}) == 1, done)


def test_group_by_source_separates_batches(ctx):
    system = system_with(ctx, [pipeline(group_by="source", buffer_ms=500, buffer_max=10,
                                        mode="parallel")])
    jobs = [{"kind": "demo", "source": src, "args": {"parts": 1, "size": i}}
            for i, src in enumerate(["a", "b", "a", "b", "a"])]
    stream = system.stream("POST", "/v1/jobs", jobs)
    by_job = events_by_job(stream.read_all())
    check(len(by_job) == 5, "events of %d jobs" % len(by_job))
    batch_sources = {}
    for job_id in by_job:
        status = system.job_status(job_id)
        batch_sources.setdefault(status["batch"], set()).add(status["source"])
    check(len(batch_sources) == 2, "batches %r" % batch_sources)
    check(sorted(len(v) for v in batch_sources.values()) == [1, 1], batch_sources)


def test_ordered_runs_a_group_one_job_after_the_other(ctx):
    system = system_with(ctx, [pipeline(mode="ordered")])
    jobs = [{"kind": "demo", "args": {"parts": 3, "interval_ms": 50, "size": i}} for i in range(3)]
    stream = system.stream("POST", "/v1/jobs", jobs)
    events = stream.read_all()
    order = []
    for e in events:
        if not order or order[-1] != e["job"]:
            order.append(e["job"])
    check(len(order) == 3, "events interleaved: %r" % [(e["job"][:6], e["event"]) for e in events])
    for job_id in order:
        check_job_events([e for e in events if e["job"] == job_id], 3, job_id)
    # Submission order: job i pads its parts with i bytes.
    pads = [len([e for e in events if e["job"] == j][0]["data"]["pad"]) for j in order]
    check(pads == [0, 1, 2], "jobs ran in the order %r" % pads)
    done = statuses(system, order)
    for previous, following in zip(done, done[1:]):
        check(following["timings"]["started_ms"] >= previous["timings"]["ended_ms"],
              "job started before the previous ended: %r %r" % (previous["timings"], following["timings"]))


def test_parallel_concurrency_two(ctx):
    system = system_with(ctx, [pipeline(mode="parallel", concurrency=2)])
    jobs = [{"kind": "demo", "args": {"parts": 3, "interval_ms": 60, "size": i}} for i in range(6)]
    stream = system.stream("POST", "/v1/jobs", jobs)
    by_job = events_by_job(stream.read_all())
    check(len(by_job) == 6)
    spans = []
    for job_id in by_job:
        t = system.job_status(job_id)["timings"]
        spans.append((t["started_ms"], t["ended_ms"]))
    most = 0
    for start, _ in spans:
        running = sum(1 for s, e in spans if s <= start < e)
        most = max(most, running)
    check(most <= 2, "%d ran at once: %r" % (most, spans))
    check(most == 2, "never 2 at once: %r" % spans)


def test_debounce_runs_identical_jobs_once(ctx):
    system = system_with(ctx, [pipeline(debounce_ms=600)])
    job = {"kind": "demo", "args": {"parts": 2, "interval_ms": 20}}
    results = [None] * 3
    started = time.monotonic()

    def submit(index):
        stream = system.stream("POST", "/v1/jobs", job)
        results[index] = (stream.status, stream.read_all())

    threads = []
    for i in range(3):
        thread = threading.Thread(target=submit, args=(i,))
        thread.start()
        threads.append(thread)
        time.sleep(0.15)
    for thread in threads:
        thread.join(30)
    ids = set()
    for status, events in results:
        check(status == 200, status)
        check_job_events(events, 2)
        ids.add(events[0]["job"])
    check(len(ids) == 1, "job ids %r" % ids)
    (job_id,) = ids
    status = system.job_status(job_id)
    # Dispatched only after 600 ms of quiet following the last submission (~0.3 s).
    started_wall_ms = status["timings"]["started_ms"] - status["timings"]["submitted_ms"]
    check(started_wall_ms >= 800, "dispatched %d ms after the first submission" % started_wall_ms)
    check(status["attempt"] == 1, status)
    _, metrics = system.request("GET", "/metrics")[0:3:2]
    check(b'rill_debounced_jobs_total{process="broker"} 2' in metrics, "metric missing")
    check(time.monotonic() - started < 20)


def test_dedup_joins_running_and_retained_jobs(ctx):
    system = system_with(ctx, [pipeline(dedup=True, mode="parallel")])
    job = {"kind": "demo", "key": "k1", "args": {"parts": 4, "interval_ms": 100}}
    first = system.stream("POST", "/v1/jobs", job)
    e1 = first.next_event()
    check(e1["event"] == "part", e1)
    # While it runs: joined, same id, every event from the first.
    second = system.stream("POST", "/v1/jobs", job)
    events2 = second.read_all()
    events1 = first.read_all()
    check_job_events(events1, 4)
    check_job_events(events2, 4)
    check(events1[0]["job"] == events2[0]["job"], "not joined")
    # Ended but retained: joined, replayed, done.
    third = system.stream("POST", "/v1/jobs", job)
    events3 = third.read_all()
    check_job_events(events3, 4, events1[0]["job"])
    status, body = system.json_request("POST", "/v1/jobs?detach=1", job)
    check(status == 202 and body["jobs"] == [events1[0]["job"]], body)
    st = system.job_status(events1[0]["job"])
    check(st["attempt"] == 1 and st["state"] == "done", st)
    metrics = system.request("GET", "/metrics")[2]
    check(b'rill_dedup_joins_total{process="broker"} 3' in metrics, "dedup metric")


def test_pipeline_retain_parts_and_timeout_override(ctx):
    system = system_with(ctx, [
        pipeline(name="short", match={"kind": "demo", "source": "slow"}, timeout_ms=500),
        pipeline(name="few", retain_parts=2, mode="parallel"),
    ], retain_parts=1000, timeout_ms=600000)
    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "source": "slow",
                                                "args": {"parts": 50, "interval_ms": 100}})
    events = stream.read_all()
    check(events[-1]["event"] == "error" and events[-1]["data"]["code"] == "timeout", events[-1])
    st = system.job_status(events[-1]["job"])
    check(st["pipeline"] == "short" and st["state"] == "failed", st)
    status, body = system.json_request("POST", "/v1/jobs?detach=1",
                                       {"kind": "demo", "args": {"parts": 5, "interval_ms": 10}})
    job_id = body["jobs"][0]
    system.wait_for(lambda: system.job_status(job_id)["state"] == "done", what="job done")
    check(system.job_status(job_id)["pipeline"] == "few")
    replay = system.stream("GET", "/v1/stream?job=" + job_id).read_all()
    kinds = [e["event"] for e in replay]
    check(kinds[0] == "gap" and kinds[-1] == "done" and len(kinds) == 3, kinds)


def test_flush_ms_writes_parts_in_bursts(ctx):
    system = system_with(ctx, [pipeline(flush_ms=300)])
    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 40, "interval_ms": 20}})
    events = stream.read_all()
    check_job_events(events, 40)
    times = [e["at"] for e in events]
    bursts = 1
    for a, b in zip(times, times[1:]):
        if b - a > 0.1:
            bursts += 1
    # 40 parts over ~800 ms in windows of 300 ms: a handful of bursts, not 40.
    check(2 <= bursts <= 8, "%d bursts: %r" % (bursts, times))
    # Without a pipeline, parts are not held.
    plain = ctx.system(workers=1)
    plain.wait_healthy()
    events = plain.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 10, "interval_ms": 50}}).read_all()
    times = [e["at"] for e in events]
    spread = sum(1 for a, b in zip(times, times[1:]) if b - a > 0.025)
    check(spread >= 7, "plain stream bunched: %r" % times)


def test_no_pipeline_keeps_jobs_going_straight(ctx):
    system = system_with(ctx, [pipeline(match={"kind": "demo", "source": "only-this"}, buffer_ms=5000,
                                        buffer_max=100)])
    stream = system.stream("POST", "/v1/jobs", [{"kind": "demo", "args": {"parts": 1}}] * 2)
    started = time.monotonic()
    by_job = events_by_job(stream.read_all())
    check(time.monotonic() - started < 3, "held by a pipeline that does not match")
    for job_id in by_job:
        check(system.job_status(job_id)["pipeline"] is None)


def test_bad_pipeline_config_is_refused(ctx):
    system = ctx.system(workers=0, frontend=False,
                        config={"pipelines": [{"name": "x", "match": {"kind": "demo"}, "mode": "fast"}]})
    status = system.broker.popen.wait(10)
    check(status != 0, "broker started with a bad pipeline")
    system.broker.expected_exit = status
    check("mode" in system.broker.log_text(), system.broker.log_text())


# ---- a job's default source (docs/API.md, "Job object") ----

def test_item_jobs_without_source_group_by_their_upstream(ctx):
    # No "source" anywhere: an http item job's source is its upstream, so a
    # pipeline matching that source and grouping by it makes ONE list call.
    from test_kinds import Upstream, kinds_config
    upstream = Upstream()
    try:
        config = kinds_config(upstream.port, pipelines=[
            {"name": "items", "match": {"kind": "http", "source": "local"}, "group_by": "source",
             "buffer_ms": 500, "buffer_max": 50}])
        system = ctx.system(workers=1, config=config)
        system.wait_healthy()
        names = ["i%d" % n for n in range(6)]
        jobs = [{"kind": "http", "args": {"upstream": "local", "item": name}} for name in names]
        by_job = events_by_job([e for e in system.stream("POST", "/v1/jobs", jobs).read_all() if "job" in e])
        check(len(by_job) == 6, "events of %d jobs" % len(by_job))
        list_requests = [r for r in upstream.requests if r.startswith("/items?ids=")]
        check(len(list_requests) == 1, "expected ONE upstream request, got %r" % list_requests)
        got = {}
        for job_id, events in by_job.items():
            check([e["event"] for e in events] == ["part", "done"], events)
            got[events[0]["data"]["id"]] = job_id
            status = system.job_status(job_id)
            check(status["source"] == "local" and status["pipeline"] == "items", status)
        check(sorted(got) == names, "each job its own item: %r" % got)
        check(len({system.job_status(j)["batch"] for j in got.values()}) == 1, "one batch")
        # An explicit source stays an override: it matches no pipeline here.
        events = system.stream("POST", "/v1/jobs", {"kind": "http", "source": "mine",
                                                    "args": {"upstream": "local", "item": "x"}}).read_all()
        status = system.job_status([e for e in events if "job" in e][0]["job"])
        check(status["source"] == "mine" and status["pipeline"] is None, status)
        # Other kinds: the kind.
        events = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 1}}).read_all()
        status = system.job_status([e for e in events if "job" in e][0]["job"])
        check(status["source"] == "demo", status)
    finally:
        upstream.close()


def test_dedup_sees_the_default_source(ctx):
    # Same kind and args, the one with the explicit source that equals the
    # default is identical: joined; another source is not.
    system = system_with(ctx, [pipeline(dedup=True, mode="parallel")])
    job = {"kind": "demo", "args": {"parts": 2, "interval_ms": 300}}
    status, body = system.json_request("POST", "/v1/jobs?detach=1",
                                       [job, dict(job, source="demo"), dict(job, source="other")])
    check(status == 202, body)
    ids = body["jobs"]
    check(ids[0] == ids[1] and ids[2] != ids[0], ids)


# ---- ordered pipelines: a group's jobs in submission order (docs/CONFIG.md) ----

def job_order(events):
    """The jobs in the order their events came, each once, and whether any
    two jobs' events interleaved."""
    order = []
    interleaved = False
    for e in events:
        if "job" not in e:
            continue  # a notice
        if not order or order[-1] != e["job"]:
            interleaved |= e["job"] in order
            order.append(e["job"])
    return [j for i, j in enumerate(order) if j not in order[:i]], interleaved


def ordered_jobs(source, count=3):
    return [{"kind": "demo", "source": source,
             "args": {"parts": 3, "interval_ms": 50, "jitter_ms": 25, "size": i}} for i in range(count)]


def test_ordered_batch_runs_its_jobs_one_after_another(ctx):
    system = system_with(ctx, [
        pipeline(name="ord", match={"kind": "demo", "source": "ord"}, buffer_ms=600, buffer_max=10,
                 mode="ordered"),
        pipeline(name="par", match={"kind": "demo", "source": "par"}, buffer_ms=600, buffer_max=10,
                 mode="parallel"),
    ], workers=1)
    # The submitter's stream: the jobs by their pad size (their submission order).
    events = system.stream("POST", "/v1/jobs", ordered_jobs("ord")).read_all()
    order, interleaved = job_order(events)
    check(len(order) == 3 and not interleaved, "interleaved: %r" % [(e.get("job"), e["event"]) for e in events])
    sizes = [len(events_by_job(events)[j][0]["data"]["pad"]) for j in order]
    check(sizes == [0, 1, 2], "not in submission order: %r" % sizes)
    for job_id in order:
        check_job_events(events_by_job(events)[job_id], 3, job_id)
    check(len({system.job_status(j)["batch"] for j in order}) == 1, "the three jobs should share one batch")
    # Two other subscribers of the jobs, open before the batch goes.
    status, body = system.json_request("POST", "/v1/jobs?detach=1", ordered_jobs("ord"))
    check(status == 202, body)
    ids = body["jobs"]
    query = "/v1/stream?" + "&".join("job=" + i for i in ids)
    streams = [system.stream("GET", query) for _ in range(2)]
    results = [None, None]

    def read(index):
        results[index] = streams[index].read_all()
    threads = [threading.Thread(target=read, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for events in results:
        check(events is not None, "a subscriber did not end")
        order, interleaved = job_order(events)
        check(order == ids and not interleaved,
              "subscriber saw %r" % [(ids.index(e["job"]) if e.get("job") in ids else None, e["event"])
                                     for e in events])
        check(sum(1 for e in events if e["event"] == "part") == 9, events)
    check(len({system.job_status(j)["batch"] for j in ids}) == 1, "one batch")
    # Parallel: the jobs of one batch run at once.
    events = system.stream("POST", "/v1/jobs", ordered_jobs("par")).read_all()
    order, interleaved = job_order(events)
    check(len(order) == 3 and interleaved, "a parallel batch ran serially: %r" % [e.get("job") for e in events])
    check(len({system.job_status(j)["batch"] for j in order}) == 1, "one parallel batch")


def test_the_list_api_example_runs_in_one_command(ctx):
    # examples/list-api/run.sh as a user runs it, on the build under test
    # and free ports: 10 item jobs, ONE upstream call.
    script = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "list-api", "run.sh")
    env = dict(os.environ, BUILD=ctx.build_dir, PORT=str(free_port()), UPSTREAM_PORT=str(free_port()),
               ITEMS="10")
    result = subprocess.run(["bash", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            timeout=90)
    output = result.stdout.decode("utf-8", "replace")
    check(result.returncode == 0, "run.sh exited %d:\n%s" % (result.returncode, output))
    check("10 of 10 jobs done; upstream calls: 1 (" in output, output)
    check(sum(1 for line in output.splitlines() if " part {" in line) == 10, output)
