"""test_jobs.py - submitting jobs and streaming their parts (issue 2).

Every test runs the real broker, frontend and workers and talks HTTP/1.1.
"""
import json
import signal
import time

from harness import check, check_job_events, events_by_job


def test_parts_are_streamed_not_buffered(ctx):
    system = ctx.system(workers=2)
    system.wait_healthy()
    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 5, "interval_ms": 200}})
    check(stream.status == 200, "status %s" % stream.status)
    check(stream.headers.get("content-type", "").startswith("application/x-ndjson"), stream.headers)
    events = stream.read_all()
    job_id = events[0]["job"]
    check(len(job_id) == 32, "job id %r" % job_id)
    check_job_events(events, 5, job_id)
    first_part, done = events[0]["at"], events[-1]["at"]
    # 5 parts 200 ms apart: done comes ~800 ms after the first part. Buffering would
    # deliver them together.
    check(done - first_part > 0.5, "first part at %.3fs, done at %.3fs: buffered?" % (first_part, done))
    gaps = [b["at"] - a["at"] for a, b in zip(events, events[1:-1])]
    check(all(g > 0.1 for g in gaps), "parts did not arrive spread out: %r" % gaps)


def test_three_jobs_on_one_response(ctx):
    system = ctx.system(workers=2)
    system.wait_healthy()
    jobs = [{"kind": "demo", "args": {"parts": n, "interval_ms": 30}} for n in (2, 3, 4)]
    stream = system.stream("POST", "/v1/jobs", jobs)
    check(stream.status == 200)
    by_job = events_by_job(stream.read_all())
    check(len(by_job) == 3, "events of %d jobs" % len(by_job))
    counts = sorted(len(events) - 1 for events in by_job.values())
    check(counts == [2, 3, 4], "part counts %r" % counts)
    for job_id, events in by_job.items():
        check_job_events(events, len(events) - 1, job_id)


def test_ten_jobs_spread_over_two_workers(ctx):
    system = ctx.system(workers=2)
    system.wait_healthy(workers=2)
    jobs = [{"kind": "demo", "args": {"parts": 3, "interval_ms": 100}} for _ in range(10)]
    stream = system.stream("POST", "/v1/jobs", jobs)
    by_job = events_by_job(stream.read_all())
    check(len(by_job) == 10)
    names = set()
    for job_id, events in by_job.items():
        check_job_events(events, 3, job_id)
        status = system.job_status(job_id)
        check(status["state"] == "done", status)
        check(status["parts"] == 3, status)
        check(status["worker"]["pid"] > 0 and status["worker"]["host"], status)
        names.add(status["worker"]["name"])
    check(names == {"worker1", "worker2"}, "jobs ran on %r" % names)


def test_detach_status_and_cancel(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    status, body = system.json_request("POST", "/v1/jobs?detach=1",
                                       [{"kind": "demo", "args": {"parts": 2, "interval_ms": 10}},
                                        {"kind": "demo", "args": {"parts": 1000, "interval_ms": 50}}])
    check(status == 202, "detach answered %s %r" % (status, body))
    quick, slow = body["jobs"]
    system.wait_for(lambda: system.job_status(quick)["state"] == "done", what="detached job done")
    info = system.job_status(quick)
    check(info["kind"] == "demo" and info["source"] == "demo" and info["parts"] == 2, info)
    check(info["timings"]["submitted_ms"] <= info["timings"]["started_ms"] <= info["timings"]["ended_ms"], info)
    system.wait_for(lambda: system.job_status(slow)["state"] == "running", what="slow job running")
    status, body = system.json_request("DELETE", "/v1/jobs/" + slow)
    check(status == 200 and body["state"] == "cancelled", "cancel answered %s %r" % (status, body))
    check(system.job_status(slow)["state"] == "cancelled")
    status, body = system.json_request("DELETE", "/v1/jobs/" + slow)
    check(status == 409 and body["error"], "second cancel answered %s %r" % (status, body))


def test_cancel_reaches_the_streaming_client(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 1000, "interval_ms": 20}})
    first = stream.next_event()
    check(first["event"] == "part")
    status, _ = system.json_request("DELETE", "/v1/jobs/" + first["job"])
    check(status == 200)
    events = stream.read_all()
    check(events[-1]["event"] == "error" and events[-1]["data"]["code"] == "cancelled", events[-1])
    seqs = [e["seq"] for e in events]
    check(seqs == list(range(1, len(seqs) + 1)), "seqs %r" % seqs)


def test_client_that_leaves_cancels_its_job(ctx):
    system = ctx.system(workers=1, config={"stream_heartbeat_ms": 300})
    system.wait_healthy()
    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 100000, "interval_ms": 5}})
    job_id = stream.next_event()["job"]
    stream.close()
    # Nobody listens any more: the broker disposes of the job (heartbeats make
    # an HTTP/1.1 client's departure visible within a few seconds).
    system.wait_for(lambda: system.job_status(job_id)["state"] == "cancelled", timeout=20,
                    what="job of a departed client cancelled")


def test_bad_input_gets_json_errors(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    cases = [
        ("POST", "/v1/jobs", b"{not json", 400),
        ("POST", "/v1/jobs", b"", 400),
        ("POST", "/v1/jobs", json.dumps({"kind": "nope"}), 422),
        ("POST", "/v1/jobs", json.dumps({"kind": "demo", "args": {"parts": -2}}), 422),
        ("POST", "/v1/jobs", json.dumps([]), 422),
        ("POST", "/v1/jobs", json.dumps([{"kind": "demo"}, {"kind": "nope"}]), 422),
        ("POST", "/v1/jobs", b"[" + b"1" * (1024 * 1024 + 10) + b"]", 413),
        ("POST", "/v1/jobs", json.dumps([{"kind": "demo"}] * 1001), 413),
        ("GET", "/v1/jobs/0123456789abcdef0123456789abcdef", None, 404),
        ("GET", "/v1/jobs/not-an-id", None, 404),
        ("DELETE", "/v1/jobs/0123456789abcdef0123456789abcdef", None, 404),
        ("PUT", "/v1/jobs", b"{}", 405),
        ("GET", "/v1/jobs?state=bogus", None, 400),  # the list (test_lists.py)
        ("POST", "/v1/workers", b"{}", 405),
        ("POST", "/healthz", b"", 405),
        ("GET", "/no/such/path", None, 404),
    ]
    for method, path, body, expected in cases:
        status, headers, data = system.request(method, path, body)
        check(status == expected, "%s %s answered %s, expected %s: %r" % (method, path, status, expected, data[:200]))
        check(headers.get("content-type", "").startswith("application/json"), "%s %s: %r" % (method, path, headers))
        error = json.loads(data)
        check(isinstance(error.get("error"), str) and isinstance(error.get("message"), str) and error["message"],
              "%s %s: error body %r" % (method, path, error))
    # Nothing above created a job, and the frontend still works.
    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 2, "interval_ms": 1}})
    check_job_events(stream.read_all(), 2)


def test_garbage_bytes_do_not_hurt_the_frontend(ctx):
    import socket
    system = ctx.system(workers=1)
    system.wait_healthy()
    for garbage in (b"\x00\xff\xfe garbage\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"POST /v1/jobs HTTP/1.1\r\n"
                    b"Content-Length: 99999999999999999999\r\n\r\n", b"\x16\x03\x01\x02\x00" * 100):
        with socket.create_connection(("127.0.0.1", system.port), timeout=5) as s:
            s.sendall(garbage)
            s.shutdown(socket.SHUT_WR)
            try:
                while s.recv(4096):
                    pass
            except OSError:
                pass
    system.wait_healthy()


def test_worker_joining_takes_queued_jobs(ctx):
    system = ctx.system(workers=0)
    system.wait_listening()
    # First "no broker" until the frontend's first PONG, then "no live worker".
    system.wait_for(lambda: "worker" in system.json_request("GET", "/healthz")[1]["message"],
                    what="503 naming the missing worker")
    status, body = system.json_request("GET", "/healthz")
    check(status == 503 and body["error"] == "unavailable", body)
    status, body = system.json_request("POST", "/v1/jobs?detach=1", [{"kind": "demo", "args": {"parts": 2, "interval_ms": 10}}] * 3)
    check(status == 202, body)
    for job_id in body["jobs"]:
        check(system.job_status(job_id)["state"] == "waiting", "job should wait for a worker")
    system.start_worker("late")
    system.wait_healthy()
    for job_id in body["jobs"]:
        system.wait_for(lambda: system.job_status(job_id)["state"] == "done", what="queued job done")
        check(system.job_status(job_id)["worker"]["name"] == "late")


def test_worker_stopped_with_sigterm_loses_no_job(ctx):
    system = ctx.system(workers=1, worker_args=["--drain-ms", "300"])
    system.wait_healthy()
    # Long jobs: the draining worker cannot finish them in 300 ms, so it hands
    # them back; the broker re-dispatches them to the other worker.
    stream = system.stream("POST", "/v1/jobs", [{"kind": "demo", "args": {"parts": 6, "interval_ms": 150}}] * 4)
    first = stream.next_event()
    check(first["event"] == "part")
    system.start_worker("second")
    system.wait_healthy(workers=2)
    system.workers[0].signal(signal.SIGTERM)
    check(system.workers[0].popen.wait(10) == 0, "draining worker did not exit 0")
    by_job = events_by_job(stream.read_all())
    check(len(by_job) == 4, "events of %d jobs" % len(by_job))
    for job_id, events in by_job.items():
        check(events[-1]["event"] == "done", "job %s did not finish: %r" % (job_id, events[-3:]))
        seqs = [e["seq"] for e in events]
        check(seqs == list(range(1, len(seqs) + 1)), "seqs of %s: %r" % (job_id, seqs))
        kinds = [e["event"] for e in events]
        if "retry" in kinds:
            # A retried attempt starts over: its parts follow the retry event.
            after = events[kinds.index("retry") + 1:]
            check([e["data"]["i"] for e in after if e["event"] == "part"] == list(range(1, 7)), after)
            check(system.job_status(job_id)["worker"]["name"] == "second")
            check(system.job_status(job_id)["attempt"] >= 2)


def test_worker_killed_mid_job_is_retried(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 30, "interval_ms": 100}})
    first = stream.next_event()
    system.start_worker("survivor")
    system.wait_healthy(workers=2)
    victim = system.workers[0]
    victim.kill()
    events = stream.read_all()
    kinds = [e["event"] for e in events]
    check("retry" in kinds and kinds[-1] == "done", "events %r" % kinds)
    check(system.job_status(first["job"])["worker"]["name"] == "survivor")


def test_json_answers_keep_the_connection_alive(ctx):
    # Publishers and pollers reuse one HTTP/1.1 connection: every JSON answer
    # carries its length, and the connection stays open after it.
    system = ctx.system(workers=1)
    system.wait_healthy()
    conn = system.connection()
    try:
        for method, path, body, expected in (("GET", "/healthz", None, 200),
                                             ("POST", "/v1/topics/alive", '{"n":1}', 202),
                                             ("GET", "/v1/jobs/nope", None, 404),
                                             ("POST", "/v1/topics/alive", '{"n":2}', 202)):
            conn.request(method, path, body=body)
            response = conn.getresponse()
            data = response.read()
            check(response.status == expected, "%s %s: %s %r" % (method, path, response.status, data))
            check(response.getheader("content-length") == str(len(data)), response.getheaders())
            check((response.getheader("connection") or "").lower() != "close", response.getheaders())
        check(json.loads(data)["seq"] == 2, data)
    finally:
        conn.close()


def test_demo_jitter_varies_the_interval(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 10, "interval_ms": 100, "jitter_ms": 60}})
    events = stream.read_all()
    check_job_events(events, 10)
    # Emission times as the worker stamped them: each interval is 100 ± 60 ms.
    stamps = [e["data"]["mono_ns"] / 1e6 for e in events[:-1]]
    intervals = [b - a for a, b in zip(stamps, stamps[1:])]
    check(all(30 <= i <= 250 for i in intervals), "intervals out of 100±60 ms (with slack): %r" % intervals)
    check(max(intervals) - min(intervals) > 15, "no jitter seen: %r" % intervals)
