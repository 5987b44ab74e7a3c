"""test_lists.py - the lists and presence of docs/API.md "Lists": GET /v1/jobs
(filters, newest first, paging), GET /v1/workers, GET /v1/topics and
GET /v1/topics/{name}?info (subscribers counted over several frontends),
and the auth_token that guards them."""
import json
import time

import harness
from harness import check

TOKEN = "list-token-0123456789abcdef"


def get_json(system, path, port=None, headers=None):
    conn = system.connection(30, port=port)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None
    finally:
        conn.close()


def ids_of(system, query):
    status, body = get_json(system, "/v1/jobs" + query)
    check(status == 200, "GET /v1/jobs%s answered %s %r" % (query, status, body))
    return [job["id"] for job in body["jobs"]]


def detach(system, jobs):
    status, body = system.json_request("POST", "/v1/jobs?detach=1", jobs)
    check(status == 202, "submit answered %s %r" % (status, body))
    return body["jobs"]


def cancel(system, *ids):
    """Long jobs end before the system stops (a worker's drain waits for them)."""
    for job_id in ids:
        status, _, _ = system.request("DELETE", "/v1/jobs/" + job_id)
        check(status == 200, "cancel answered %s" % status)


# ---- GET /v1/jobs ------------------------------------------------------------

def test_job_list_filters_and_newest_first(ctx):
    config = {"pipelines": [{"name": "piped", "match": {"kind": "demo", "source": "piped"}}]}
    system = ctx.system(workers=2, config=config, worker_args=("--kinds", "demo"))
    system.wait_healthy(workers=2)
    quick = detach(system, {"kind": "demo", "args": {"parts": 1, "interval_ms": 1}})[0]
    system.wait_for(lambda: system.job_status(quick)["state"] == "done", what="the quick job done")
    long_job = detach(system, {"kind": "demo", "args": {"parts": 1000, "interval_ms": 100}})[0]
    piped = detach(system, {"kind": "demo", "source": "piped", "args": {"parts": 1000, "interval_ms": 100}})[0]
    waiting = detach(system, {"kind": "tail", "args": {"path": "a.log"}})[0]  # no worker serves tail
    system.wait_for(lambda: system.job_status(long_job)["state"] == "running" and
                    system.job_status(piped)["state"] == "running", what="the long jobs running")

    status, body = get_json(system, "/v1/jobs")
    check(status == 200 and body["next"] is None, "%s %r" % (status, body))
    check([j["id"] for j in body["jobs"]] == [waiting, piped, long_job, quick], body)
    # Each item is the job's status, field for field.
    for item in body["jobs"]:
        single = system.job_status(item["id"])
        check(sorted(item) == sorted(single), "%r vs %r" % (item, single))
        check(item["state"] == single["state"] and item["kind"] == single["kind"], "%r vs %r" % (item, single))

    check(ids_of(system, "?state=done") == [quick], "state=done")
    check(ids_of(system, "?state=running") == [piped, long_job], "state=running")
    check(ids_of(system, "?state=waiting") == [waiting], "state=waiting")
    check(ids_of(system, "?state=queued") == [], "state=queued")
    check(ids_of(system, "?kind=tail") == [waiting], "kind=tail")
    check(ids_of(system, "?source=piped") == [piped], "source=piped")
    check(ids_of(system, "?pipeline=piped") == [piped], "pipeline=piped")
    check(ids_of(system, "?kind=demo&state=running&source=demo") == [long_job], "three filters")
    worker = system.job_status(long_job)["worker"]["name"]
    check(long_job in ids_of(system, "?worker=" + worker), "worker=%s" % worker)
    check(ids_of(system, "?worker=nobody") == [], "worker=nobody")
    check(ids_of(system, "?kind=nope") == [], "an unknown kind lists nothing")
    check(ids_of(system, "?limit=2") == [waiting, piped], "limit=2")

    for query in ("?state=bogus", "?color=red", "?limit=0", "?limit=1001", "?limit=ten", "?next=abc",
                  "?kind=demo&kind=tail", "?kind="):
        status, body = get_json(system, "/v1/jobs" + query)
        check(status == 400 and body["error"] == "bad_request" and body["message"],
              "%s answered %s %r" % (query, status, body))
    status, _, _ = system.request("PUT", "/v1/jobs")
    check(status == 405, "PUT /v1/jobs answered %s" % status)
    cancel(system, long_job, piped, waiting)
    check(ids_of(system, "?state=cancelled") == [waiting, piped, long_job], "state=cancelled")


def test_job_list_pages_250_jobs_without_duplicate_or_miss(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    submitted = []
    for _ in range(5):
        submitted += detach(system, [{"kind": "demo", "args": {"parts": 1, "interval_ms": 1}}] * 50)
    check(len(set(submitted)) == 250, "250 distinct ids")
    seen = []
    query = "?limit=100"
    pages = 0
    while True:
        status, body = get_json(system, "/v1/jobs" + query)
        check(status == 200, "%s %r" % (status, body))
        seen += [job["id"] for job in body["jobs"]]
        pages += 1
        # Jobs submitted while paging come before the first page: never in a later one.
        detach(system, [{"kind": "demo", "args": {"parts": 1, "interval_ms": 1}}] * 3)
        if body["next"] is None:
            break
        check(len(body["jobs"]) == 100, "a full page before the last: %d" % len(body["jobs"]))
        query = "?limit=100&next=" + body["next"]
    check(pages == 3, "pages: %d" % pages)
    check(len(seen) == len(set(seen)), "a job listed twice")
    check(seen == list(reversed(submitted)), "every job once, newest first")


# ---- GET /v1/workers -----------------------------------------------------------

def test_worker_list(ctx):
    system = ctx.system(workers=2, worker_args=("--credit", "3"))
    system.wait_healthy(workers=2)
    job = detach(system, {"kind": "demo", "args": {"parts": 1000, "interval_ms": 100}})[0]
    system.wait_for(lambda: system.job_status(job)["state"] == "running", what="the job running")
    runner = system.job_status(job)["worker"]["name"]
    status, body = get_json(system, "/v1/workers")
    check(status == 200 and body["next"] is None, "%s %r" % (status, body))
    workers = {w["name"]: w for w in body["workers"]}
    check(sorted(workers) == ["worker1", "worker2"], body)
    for process in system.workers:
        entry = workers[process.name]
        check(entry["pid"] == process.popen.pid, "pid of %s: %r vs %d" % (process.name, entry, process.popen.pid))
        check(entry["host"] and "demo" in entry["kinds"] and entry["capacity"] == 3, entry)
        check(0 <= entry["last_heartbeat_ms"] < 5000, entry)
        check(abs(entry["connected_ms"] / 1000.0 - time.time()) < 120, entry)
        if process.name == runner:
            check(entry["jobs"] == [job] and entry["credit"] == 2 and entry["held"] == 1, entry)
        else:
            check(entry["jobs"] == [] and entry["credit"] == 3, entry)
    status, body = get_json(system, "/v1/workers?kind=nope")
    check(status == 200 and body["workers"] == [], body)
    status, body = get_json(system, "/v1/workers?limit=1")
    check(status == 200 and len(body["workers"]) == 1 and body["next"], body)
    status, second = get_json(system, "/v1/workers?limit=1&next=" + body["next"])
    check(status == 200 and len(second["workers"]) == 1 and second["next"] is None, second)
    check(body["workers"][0]["name"] != second["workers"][0]["name"], "the pages differ")
    status, body = get_json(system, "/v1/workers?state=x")
    check(status == 400 and body["error"] == "bad_request", body)
    cancel(system, job)


# ---- GET /v1/topics, /v1/topics/{name}?info ------------------------------------

def topic_info(system, name):
    status, body = get_json(system, "/v1/topics/%s?info" % name)
    check(status == 200, "info of %s answered %s %r" % (name, status, body))
    return body


def test_topic_presence_over_two_frontends(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    port_b = harness.free_port()
    system.start_frontend(port=port_b, name="frontend2")
    system.wait_healthy(port=port_b)
    status, body = get_json(system, "/v1/topics/room?info")
    check(status == 404 and body["error"] == "not_found", "a topic never seen: %s %r" % (status, body))

    a1 = harness.Stream(system, "GET", "/v1/topics/room", None, None, 30)
    a2 = harness.Stream(system, "GET", "/v1/stream?topic=room", None, None, 30)
    b1 = harness.Stream(harness.OnPort(system, port_b), "GET", "/v1/topics/room", None, None, 30)
    for stream in (a1, a2, b1):
        check(stream.status == 200, "stream answered %s" % stream.status)
    system.wait_for(lambda: topic_info(system, "room")["subscribers"] == 3, timeout=10,
                    what="3 subscribers (2 on frontend A, 1 on B)")
    # Either frontend answers the same.
    status, body = get_json(system, "/v1/topics/room?info", port=port_b)
    check(status == 200 and body["subscribers"] == 3, body)

    a2.close()
    system.wait_for(lambda: topic_info(system, "room")["subscribers"] == 2, timeout=10,
                    what="2 subscribers after one stream closed")

    for i in range(3):
        status, body = system.json_request("POST", "/v1/topics/room", {"i": i})
        check(status == 202 and body["seq"] == i + 1, body)
    info = topic_info(system, "room")
    check(info["name"] == "room" and info["last_seq"] == 3 and info["retained"] == 3, info)
    check(info["rate"] > 0, info)
    for stream in (a1, b1):
        check(stream.next_event()["seq"] == 1, "the subscribers get the messages")

    status, body = system.json_request("POST", "/v1/topics/quiet", {"x": 1})
    check(status == 202, body)
    status, body = get_json(system, "/v1/topics")
    check(status == 200 and body["next"] is None, body)
    names = [t["name"] for t in body["topics"]]
    check(names == ["quiet", "room"], "newest first: %r" % names)
    room = body["topics"][1]
    check(room["subscribers"] == 2 and room["last_seq"] == 3, room)
    status, body = get_json(system, "/v1/topics?prefix=qu")
    check(status == 200 and [t["name"] for t in body["topics"]] == ["quiet"], body)
    status, body = get_json(system, "/v1/topics/room?info&format=sse")
    check(status == 400, "info takes no other parameter: %s %r" % (status, body))

    # A frontend that dies stops counting: its broker subscription goes at
    # once, its PRESENCE snapshot (2 streams here) after 3 heartbeats.
    b2 = harness.Stream(harness.OnPort(system, port_b), "GET", "/v1/stream?topic=room", None, None, 30)
    check(b2.status == 200, "stream answered %s" % b2.status)
    system.wait_for(lambda: topic_info(system, "room")["subscribers"] == 3, timeout=10,
                    what="3 subscribers (1 on A, 2 on B)")
    frontend_b = [p for p in system.processes if p.name == "frontend2"][0]
    frontend_b.expected_exit = -9
    frontend_b.signal(9)
    frontend_b.popen.wait(10)
    system.wait_for(lambda: topic_info(system, "room")["subscribers"] == 1, timeout=10,
                    what="1 subscriber after frontend B died")
    for stream in (a1, b1, b2):
        stream.close()


def test_job_subscribers_count_streams(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    job = detach(system, {"kind": "demo", "args": {"parts": 1000, "interval_ms": 100}})[0]
    streams = [system.stream("GET", "/v1/stream?job=" + job) for _ in range(2)]
    system.wait_for(lambda: system.job_status(job)["subscribers"] == 2, timeout=10, what="2 subscribers")
    status, body = get_json(system, "/v1/jobs?state=running")
    check(status == 200 and body["jobs"][0]["subscribers"] == 2, body)
    streams[0].close()
    system.wait_for(lambda: system.job_status(job)["subscribers"] == 1, timeout=10, what="1 subscriber")
    streams[1].close()
    cancel(system, job)


# ---- access ----------------------------------------------------------------------

def test_lists_need_the_token_when_one_is_set(ctx):
    system = ctx.system(workers=1, config={"auth_token": TOKEN})
    system.wait_healthy()
    good = {"Authorization": "Bearer " + TOKEN}
    status, body = system.json_request("POST", "/v1/topics/news", {"a": 1}, good)
    check(status == 202, body)
    for path in ("/v1/jobs", "/v1/workers", "/v1/topics", "/v1/topics/news?info", "/v1/jobs?state=done",
                 "/v1/pipelines"):
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            status, body = get_json(system, path, headers=headers)
            check(status == 401 and body["error"] == "unauthorized", "%s %r: %s %r" % (path, headers, status, body))
        status, body = get_json(system, path, headers=good)
        check(status == 200, "%s with the token: %s %r" % (path, status, body))
    # The stream of a topic stays open without a token, as before.
    stream = system.stream("GET", "/v1/topics/news")
    check(stream.status == 200, "stream answered %s" % stream.status)
    stream.close()


def test_lists_are_open_without_a_token(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    for path in ("/v1/jobs", "/v1/workers", "/v1/topics", "/v1/pipelines"):
        status, body = get_json(system, path)
        check(status == 200, "%s: %s %r" % (path, status, body))
    status, body = get_json(system, "/v1/pipelines")
    check(body == {"pipelines": []}, "no pipeline declared: %r" % body)


def test_pipelines_show_groups_queued_and_batches(ctx):
    """GET /v1/pipelines: each declared pipeline with its operators, its
    counters and its groups now: jobs buffered in their group until the
    window ends, then one batch per group."""
    window = 3.0
    config = {"pipelines": [
        {"name": "windowed", "match": {"kind": "demo"}, "group_by": "source", "buffer_ms": int(window * 1000),
         "buffer_max": 10, "mode": "ordered"},
        {"name": "idle", "match": {"kind": "exec"}, "debounce_ms": 200, "dedup": True}]}
    system = ctx.system(workers=1, config=config)
    system.wait_healthy()
    jobs = [{"kind": "demo", "source": s, "args": {"parts": 1}} for s in ("a", "a", "a", "b", "b")]
    # Before the POST: the groups' windows (buffer_ms from their first job's
    # entry, in whole milliseconds) cannot close before started + window.
    started = time.monotonic()
    status, body = system.json_request("POST", "/v1/jobs?detach=1", jobs)
    check(status == 202, body)
    status, body = get_json(system, "/v1/pipelines")
    check(status == 200, body)
    # The groups as buffered count only if the list was read while their
    # windows were certainly open (a millisecond kept for whole milliseconds).
    check(time.monotonic() - started < window - 0.002,
          "the POST and the list took longer than the %.0f s window" % window)
    check([p["name"] for p in body["pipelines"]] == ["windowed", "idle"], body)
    windowed, idle = body["pipelines"]
    check(windowed["match"] == {"kind": "demo", "source": None} and windowed["group_by"] == "source" and
          windowed["buffer_ms"] == int(window * 1000) and windowed["buffer_max"] == 10 and
          windowed["mode"] == "ordered" and windowed["dedup"] is False, windowed)
    groups = {g["group"]: g for g in windowed["groups"]}
    check(set(groups) == {"a", "b"}, windowed)
    check(groups["a"]["queued"] == 3 and groups["b"]["queued"] == 2, windowed)
    check(all(g["in_flight"] == 0 for g in groups.values()), windowed)
    check(windowed["jobs_total"] == 5 and windowed["batches_total"] == 0, windowed)
    check(idle["match"] == {"kind": "exec", "source": None} and idle["debounce_ms"] == 200 and idle["dedup"] is True and
          idle["groups"] == [] and idle["jobs_total"] == 0, idle)
    # The window ends: one batch per group, and the jobs run.
    def dispatched():
        status, body = get_json(system, "/v1/pipelines")
        return status == 200 and body["pipelines"][0]["batches_total"] == 2
    system.wait_for(dispatched, timeout=15, what="two batches")
    status, body = get_json(system, "/v1/pipelines?limit=5")
    check(status == 400 and body["error"] == "bad_request", "a parameter: %s %r" % (status, body))
    status, _, _ = system.request("POST", "/v1/pipelines", b"{}")
    check(status == 405, "POST answered %s" % status)
