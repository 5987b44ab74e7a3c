"""test_kinds.py - the built-in kinds tail, exec and http (docs/API.md), with real
files, real child processes and a real HTTP upstream on 127.0.0.1.

Each test starts a system whose config declares a tail root in a temp
directory, an exec allowlist and an upstream served by a tiny http.server in
a thread of this process.
"""
import http.server
import json
import os
import shutil
import tempfile
import threading
import time

from harness import check, child_pids_of, open_files

SEQ = shutil.which("seq") or "/usr/bin/seq"
SLEEP = shutil.which("sleep") or "/bin/sleep"
PRINTF = shutil.which("printf") or "/usr/bin/printf"
FALSE = shutil.which("false") or "/bin/false"


def kinds_config(upstream_port=None, **extra):
    # No tail_root: the default, "tail" in the run directory.
    config = {
        "exec": {
            "seq": {"argv": [SEQ], "max_args": 3},
            "slow": {"argv": ["/bin/sh", "-c", "echo started; exec %s 60" % SLEEP]},
            "bytes": {"argv": [PRINTF, "a\\377b\\n\\342\\202\\254 \"q\"\\n"]},
            "false": {"argv": [FALSE]},
        },
        "upstreams": {},
    }
    if upstream_port:
        config["upstreams"]["local"] = {"url": "http://127.0.0.1:%d" % upstream_port,
                                        "list_url": "http://127.0.0.1:%d/items?ids={ids}" % upstream_port}
    config.update(extra)
    return config


def start(ctx, upstream_port=None, workers=1):
    system = ctx.system(workers=workers, config=kinds_config(upstream_port))
    system.wait_healthy(workers=workers)
    root = os.path.join(system.run_dir, "tail")
    check(os.path.isdir(root), "the worker should create the default tail root (run dir/tail)")
    return system, root


def first_event(stream):
    event = stream.next_event()
    check(event is not None, "stream ended early")
    return event


# ---- tail ----

def test_tail_follows_appended_lines_live(ctx):
    system, root = start(ctx)
    path = os.path.join(root, "app.log")
    with open(path, "w", encoding="utf-8") as f:
        f.write("old line\n")
    status, body = system.json_request("POST", "/v1/jobs?detach=1", {"kind": "tail", "args": {"path": "app.log"}})
    check(status == 202, "detach answered %s %r" % (status, body))
    job_id = body["jobs"][0]
    stream = system.stream("GET", "/v1/stream?job=" + job_id)
    check(stream.status == 200, "status %s" % stream.status)
    # The worker must have opened the file before lines are appended ("from end"):
    # it started the job and holds the file open (its end is taken as it opens it).
    system.wait_started(job_id, "tail")
    system.wait_for(lambda: open_files(system.workers[0].popen.pid).count(os.path.realpath(path)) == 1,
                    what="the worker to open the file")
    with open(path, "a", encoding="utf-8") as f:
        f.write("first\n")
        f.flush()
        time.sleep(0.3)
        f.write("second, with \"quotes\" and caf\u00e9\n")
        f.write("partial")
    e1 = first_event(stream)
    check(e1["event"] == "part" and e1["data"] == {"line": "first"}, e1)
    e2 = first_event(stream)
    check(e2["event"] == "part" and e2["data"] == {"line": "second, with \"quotes\" and caf\u00e9"}, e2)
    check(system.job_status(job_id)["state"] == "running", "the job ended")
    with open(path, "a", encoding="utf-8") as f:
        f.write(" now ended\n")
    e3 = first_event(stream)
    check(e3["data"] == {"line": "partial now ended"}, e3)
    status, body = system.json_request("DELETE", "/v1/jobs/" + job_id)
    check(status == 200 and body["state"] == "cancelled", "cancel answered %s %r" % (status, body))
    end = first_event(stream)
    check(end["event"] == "error" and end["data"]["code"] == "cancelled", end)
    stream.close()


def test_tail_from_start_rotation_and_truncation(ctx):
    system, root = start(ctx)
    os.makedirs(os.path.join(root, "logs"))
    path = os.path.join(root, "logs", "r.log")
    with open(path, "wb") as f:
        f.write(b"one\ntwo\n")
    status, body = system.json_request("POST", "/v1/jobs?detach=1",
                                       {"kind": "tail", "args": {"path": "logs/r.log", "from": "start"}})
    check(status == 202, "detach answered %s %r" % (status, body))
    job_id = body["jobs"][0]
    stream = system.stream("GET", "/v1/stream?job=" + job_id)
    lines = [first_event(stream)["data"]["line"] for _ in range(2)]
    check(lines == ["one", "two"], lines)
    # Rotation: rename away, write a last line to the old file, create a new one.
    os.rename(path, path + ".1")
    with open(path + ".1", "ab") as f:
        f.write(b"three (old file)\n")
    time.sleep(0.2)
    with open(path, "wb") as f:
        f.write(b"four (new file)\n")
    got = [first_event(stream)["data"]["line"] for _ in range(2)]
    check(got == ["three (old file)", "four (new file)"], got)
    # Truncation: the file is emptied and written again from its start. The
    # worker sees a truncation as a size under what it read (kind_tail.c):
    # the new line is shorter than the 16 bytes read, so it is read from the
    # start whether or not the worker looked between the two writes.
    with open(path, "wb") as f:
        f.write(b"")
    with open(path, "ab") as f:
        f.write(b"five\n")
    event = first_event(stream)
    check(event["data"] == {"line": "five"}, event)
    # Bytes that are not UTF-8 still make valid JSON.
    with open(path, "ab") as f:
        f.write(b"bad \xff\xfe bytes \x01\n")
    event = first_event(stream)
    check(event["data"] == {"line": "bad \ufffd\ufffd bytes \x01"}, event)
    status, body = system.json_request("DELETE", "/v1/jobs/" + job_id)
    check(status == 200, "cancel %s %r" % (status, body))
    end = first_event(stream)
    check(end["event"] == "error" and end["data"]["code"] == "cancelled", end)
    stream.close()


def test_tail_refuses_paths_out_of_the_root(ctx):
    system, root = start(ctx)
    for path in ("/etc/passwd", "../etc/passwd", "logs/../../x", ".."):
        status, body = system.json_request("POST", "/v1/jobs", {"kind": "tail", "args": {"path": path}})
        check(status == 403 and body["error"] == "forbidden", "%s answered %s %r" % (path, status, body))
    for args in ({}, {"path": ""}, {"path": "a", "from": "middle"}, {"path": "a", "lines": 3}):
        status, body = system.json_request("POST", "/v1/jobs", {"kind": "tail", "args": args})
        check(status == 422 and body["error"] == "invalid_args", "%r answered %s %r" % (args, status, body))
    # A symlink inside the root that leads out: the worker finds it.
    outside = tempfile.NamedTemporaryFile(prefix="rill-outside-", delete=False)
    outside.write(b"secret\n")
    outside.close()
    try:
        os.symlink(outside.name, os.path.join(root, "escape.log"))
        os.symlink("/etc", os.path.join(root, "etc"))
        for path in ("escape.log", "etc/hostname"):
            stream = system.stream("POST", "/v1/jobs", {"kind": "tail", "args": {"path": path, "from": "start"}})
            events = stream.read_all()
            check(len(events) == 1 and events[0]["event"] == "error", "%s: %r" % (path, events))
            check(events[0]["data"]["code"] == "forbidden", events)
        # Missing file, not waited for ("wait": false): not_found.
        events = system.stream("POST", "/v1/jobs", {"kind": "tail", "args": {"path": "nope.log", "wait": False}}
                               ).read_all()
        check(events[-1]["event"] == "error" and events[-1]["data"]["code"] == "not_found", events)
    finally:
        os.unlink(outside.name)


# ---- exec ----

def test_exec_streams_lines_then_exit_status(ctx):
    system, _ = start(ctx)
    stream = system.stream("POST", "/v1/jobs", {"kind": "exec", "args": {"name": "seq", "args": ["3"]}})
    check(stream.status == 200)
    events = stream.read_all()
    check([e["event"] for e in events] == ["part"] * 4 + ["done"], events)
    check([e["data"] for e in events[:3]] == [{"line": "1"}, {"line": "2"}, {"line": "3"}], events)
    check(events[3]["data"] == {"exit_status": 0}, events)
    # Raw bytes: invalid UTF-8 becomes U+FFFD, quotes are escaped.
    events = system.stream("POST", "/v1/jobs", {"kind": "exec", "args": {"name": "bytes"}}).read_all()
    check([e["data"] for e in events[:2]] == [{"line": "a\ufffdb"}, {"line": "\u20ac \"q\""}], events)
    # A failing command: its status, then error exit_status.
    events = system.stream("POST", "/v1/jobs", {"kind": "exec", "args": {"name": "false"}}).read_all()
    check(events[0]["data"] == {"exit_status": 1}, events)
    check(events[-1]["event"] == "error" and events[-1]["data"]["code"] == "exit_status", events)


def test_exec_refuses_what_is_not_allowlisted(ctx):
    system, _ = start(ctx)
    status, body = system.json_request("POST", "/v1/jobs", {"kind": "exec", "args": {"name": "rm", "args": ["-rf", "/"]}})
    check(status == 403 and body["error"] == "forbidden", "answered %s %r" % (status, body))
    status, body = system.json_request("POST", "/v1/jobs", {"kind": "exec", "args": {"name": "/bin/sh"}})
    check(status == 403 and body["error"] == "forbidden", "answered %s %r" % (status, body))
    for args in ({"name": "seq", "args": ["1", "2", "3", "4"]}, {"name": "seq", "args": [1]},
                 {"name": "seq", "args": "1"}, {}):
        status, body = system.json_request("POST", "/v1/jobs", {"kind": "exec", "args": args})
        check(status == 422 and body["error"] == "invalid_args", "%r answered %s %r" % (args, status, body))


def test_exec_cancel_kills_the_child(ctx):
    system, _ = start(ctx)
    stream = system.stream("POST", "/v1/jobs", {"kind": "exec", "args": {"name": "slow"}})
    event = first_event(stream)
    check(event["data"] == {"line": "started"}, event)
    worker_pid = system.workers[0].popen.pid
    children = child_pids_of(worker_pid)
    check(len(children) == 1, "children of the worker: %r" % children)
    status, body = system.json_request("DELETE", "/v1/jobs/" + event["job"])
    check(status == 200, "cancel %s %r" % (status, body))
    end = first_event(stream)
    check(end["event"] == "error" and end["data"]["code"] == "cancelled", end)
    system.wait_for(lambda: not os.path.exists("/proc/%d" % children[0]), timeout=5, what="the child gone")
    stream.close()


# ---- http ----

class Upstream:
    """A local HTTP upstream: /slow sends a chunked body slowly, /items is a list API."""

    def __init__(self):
        self.requests = []
        self.release = threading.Event()
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                upstream.requests.append(self.path)
                if self.path.startswith("/slow"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for piece in (b"first chunk", b"second \xe2\x82", b"\xac chunk \xff"):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                        self.wfile.flush()
                        upstream.release.wait(10)
                        upstream.release.clear()
                    self.wfile.write(b"0\r\n\r\n")
                    return
                if self.path.startswith("/items?ids="):
                    ids = self.path.split("=", 1)[1].split(",")
                    body = json.dumps({i: {"id": i, "name": "item " + i} for i in ids if i != "missing"}).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_http_streams_chunks_before_the_body_is_complete(ctx):
    upstream = Upstream()
    try:
        system, _ = start(ctx, upstream.port)
        stream = system.stream("POST", "/v1/jobs", {"kind": "http", "args": {"upstream": "local", "path": "/slow"}})
        check(stream.status == 200)
        e1 = first_event(stream)
        check(e1["event"] == "part" and e1["data"] == {"chunk": "first chunk"}, e1)
        # The upstream holds the rest until released: the part came before the body ended.
        check(system.job_status(e1["job"])["state"] == "running", "job not running")
        upstream.release.set()
        e2 = first_event(stream)
        check(e2["data"] == {"chunk": "second "}, e2)  # the cut euro sign waits for its last byte
        upstream.release.set()
        e3 = first_event(stream)
        check(e3["data"] == {"chunk": "\u20ac chunk \ufffd"}, e3)
        upstream.release.set()
        end = first_event(stream)
        check(end["event"] == "done" and end["data"] == {"parts": 3}, end)
        # An upstream error status ends the job with an error.
        events = system.stream("POST", "/v1/jobs", {"kind": "http", "args": {"upstream": "local",
                                                                             "path": "/nothing"}}).read_all()
        check(events[-1]["event"] == "error" and events[-1]["data"]["code"] == "upstream_status", events)
        # A list item through the HTTP API.
        events = system.stream("POST", "/v1/jobs", {"kind": "http", "args": {"upstream": "local",
                                                                             "item": "a7"}}).read_all()
        check(events[0]["data"] == {"id": "a7", "name": "item a7"} and events[1]["event"] == "done", events)
    finally:
        upstream.close()


def test_http_only_declared_upstreams(ctx):
    upstream = Upstream()
    try:
        system, _ = start(ctx, upstream.port)
        status, body = system.json_request("POST", "/v1/jobs", {"kind": "http", "args": {"upstream": "evil", "path": "/"}})
        check(status == 403 and body["error"] == "forbidden", "answered %s %r" % (status, body))
        for args in ({"upstream": "local"}, {"upstream": "local", "path": "x"},
                     {"upstream": "local", "path": "/a b"}, {"upstream": "local", "path": "/", "item": "x"},
                     {"upstream": "local", "item": "a,b"}, {"upstream": "local", "url": "http://x/"}):
            status, body = system.json_request("POST", "/v1/jobs", {"kind": "http", "args": args})
            check(status == 422 and body["error"] == "invalid_args", "%r answered %s %r" % (args, status, body))
        check(upstream.requests == [], upstream.requests)
    finally:
        upstream.close()


def test_http_list_api_batch_through_a_pipeline(ctx):
    # the http kind and a pipeline together: a pipeline buffers item jobs into one batch, and
    # the http kind answers the whole batch with ONE upstream request.
    upstream = Upstream()
    try:
        config = kinds_config(upstream.port, pipelines=[
            {"name": "items", "match": {"kind": "http"}, "group_by": "kind", "buffer_ms": 500,
             "buffer_max": 4, "mode": "parallel"}])
        system = ctx.system(workers=1, config=config)
        system.wait_healthy()
        jobs = [{"kind": "http", "args": {"upstream": "local", "item": name}}
                for name in ("apple", "pear", "plum", "missing")]
        by_job = {}
        for event in system.stream("POST", "/v1/jobs", jobs).read_all():
            by_job.setdefault(event["job"], []).append(event)
        check(len(by_job) == 4, "events of %d jobs" % len(by_job))
        list_requests = [r for r in upstream.requests if r.startswith("/items?ids=")]
        check(len(list_requests) == 1, "expected ONE upstream request, got %r" % list_requests)
        check(sorted(list_requests[0].split("=", 1)[1].split(",")) == ["apple", "missing", "pear", "plum"],
              list_requests)
        found = {}
        batches = set()
        for job_id, events in by_job.items():
            status = system.job_status(job_id)
            batches.add(status["batch"])
            check(status["pipeline"] == "items", status)
            if events[-1]["event"] == "done":
                found[events[0]["data"]["id"]] = events[0]["data"]["name"]
            else:
                check(events[-1]["data"]["code"] == "not_found", events)
        check(found == {"apple": "item apple", "pear": "item pear", "plum": "item plum"}, found)
        check(len(batches) == 1, "the four jobs should share one batch: %r" % batches)
    finally:
        upstream.close()
