"""test_subscribe.py - the subscribe kind (docs/API.md): a live upstream stream,
SSE or NDJSON over chunked HTTP, followed through rill with real processes and
a real upstream on 127.0.0.1.

The upstream is a small threaded server in this process that writes its
answers by hand (chunked encoding, abrupt drops), records every request it
got (path and Last-Event-ID) and notices when a connection is closed by the
worker.
"""
import json
import socket
import socketserver
import threading
import time

from harness import check


def subscribe_config(port):
    return {"kinds": ["subscribe", "demo"],
            "upstreams": {"local": {"url": "http://127.0.0.1:%d" % port}},
            "retain_parts": 10000}


class Upstream:
    """Streams by path:
    /sse     SSE events 1..8 with ids; the 1st connection drops in the middle
             of event 4, the 2nd after event 6 (also cut), the 3rd ends the
             stream cleanly after 8; a request resuming after 8 gets 204.
    /ndjson  lines 1-3, clean end; then 4-5, abrupt drop; then 204.
    /hold    one SSE event, then holds the connection until the worker closes it.
    /html, /missing, /busy  a text/html page, a 404, a 503.
    """

    def __init__(self):
        self.requests = []  # (path, last_event_id or None)
        self.closed = threading.Semaphore(0)  # released when the worker closes a /hold connection
        self.lock = threading.Lock()
        self.ndjson_connections = 0
        upstream = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                try:
                    upstream.serve(self.request)
                except OSError:
                    pass  # the worker closed first (a refused answer, a cancel)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def serve(self, sock):
        data = b""
        while b"\r\n\r\n" not in data:
            piece = sock.recv(4096)
            if not piece:
                return
            data += piece
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        path = head[0].split(" ")[1]
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        last_id = headers.get("last-event-id")
        with self.lock:
            self.requests.append((path, last_id))

        def answer(status, content_type):
            sock.sendall(("HTTP/1.1 %s\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n"
                          "Cache-Control: no-cache\r\n\r\n" % (status, content_type)).encode())

        def chunk(payload):
            sock.sendall(b"%x\r\n%s\r\n" % (len(payload), payload))
            time.sleep(0.01)

        def no_content():
            sock.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")

        def end():
            sock.sendall(b"0\r\n\r\n")

        if path == "/sse":
            start = int(last_id) + 1 if last_id else 1
            if start > 8:
                return no_content()
            answer("200 OK", "text/event-stream; charset=utf-8")
            chunk(b"\xef\xbb\xbf: hello\n" if start == 1 else b": again\r\n")
            stop_after = 3 if start == 1 else 6 if start <= 6 else 8
            for n in range(start, stop_after + 1):
                if n % 2:
                    chunk(b"id: %d\r\nevent: tick\r\ndata: {\"n\": %d,\r\ndata:  \"odd\": true}\r\n\r\n" % (n, n))
                else:
                    chunk(b"id: %d\ndata: event %d\ndata: second line\n\n" % (n, n))
            if stop_after < 8:
                # The next event, cut in its middle, then the connection drops.
                chunk(b"id: %d\ndata: {\"n\": %d" % (stop_after + 1, stop_after + 1))
                sock.shutdown(socket.SHUT_RDWR)
                return
            return end()
        if path == "/ndjson":
            with self.lock:
                self.ndjson_connections += 1
                connection = self.ndjson_connections
            if connection >= 3:
                return no_content()
            answer("200 OK", "application/x-ndjson")
            if connection == 1:
                chunk(b'{"line": 1}\n{"line": 2}\r\n')
                chunk(b'\n{"li')
                chunk(b'ne": 3}\n')
                return end()
            chunk(b'{"line": 4}\nnot json\n{"line": 5}\n{"cut"')
            sock.shutdown(socket.SHUT_RDWR)
            return
        if path == "/hold":
            answer("200 OK", "text/event-stream")
            chunk(b"data: held\n\n")
            sock.settimeout(30)
            try:
                while sock.recv(4096):
                    pass
            except OSError:
                return
            self.closed.release()
            return
        if path == "/html":
            answer("200 OK", "text/html")
            chunk(b"<html></html>")
            return end()
        if path == "/busy":
            sock.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
            return
        sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")


def start(ctx, upstream):
    system = ctx.system(workers=1, config=subscribe_config(upstream.port))
    system.wait_healthy(workers=1)
    return system


def submit(system, path):
    return system.stream("POST", "/v1/jobs", {"kind": "subscribe", "args": {"upstream": "local", "path": path}})


def parts_and_end(stream):
    events = stream.read_all()
    check(events and events[-1]["event"] in ("done", "error"), "the stream did not end: %r" % events)
    return [e["data"] for e in events if e["event"] == "part"], events[-1]


def test_subscribe_sse_resumes_after_drops_without_loss(ctx):
    upstream = Upstream()
    try:
        system = start(ctx, upstream)
        parts, end = parts_and_end(submit(system, "/sse"))
        check(end["event"] == "done", "ended with %r" % end)
        messages = [p for p in parts if "data" in p]
        markers = [p for p in parts if "data" not in p]
        # Every upstream event exactly once, in order: no duplicate, no silent loss.
        check([m["id"] for m in messages] == [str(n) for n in range(1, 9)], messages)
        for m in messages:
            n = int(m["id"])
            if n % 2:
                check(m["data"] == {"n": n, "odd": True} and m["event"] == "tick", m)
            else:
                check(m["data"] == "event %d\nsecond line" % n and "event" not in m, m)
        # The resumptions asked for what followed the last whole event.
        check(upstream.requests == [("/sse", None), ("/sse", "3"), ("/sse", "6"), ("/sse", "8")],
              upstream.requests)
        # Each drop and each reconnect is visible, where it happened.
        kinds = [p.get("upstream") or "message %s" % p["id"] for p in parts]
        check(kinds == ["message 1", "message 2", "message 3", "dropped", "reconnected",
                        "message 4", "message 5", "message 6", "dropped", "reconnected",
                        "message 7", "message 8", "dropped"], kinds)
        reconnected = [m for m in markers if m["upstream"] == "reconnected"]
        check(reconnected[0] == {"upstream": "reconnected", "connection": 2, "resumed": True,
                                 "last_event_id": "3"}, reconnected)
        check(reconnected[1]["last_event_id"] == "6", reconnected)
        dropped = [m for m in markers if m["upstream"] == "dropped"]
        check(all(0 < d["retry_ms"] <= 5000 and d["reason"] for d in dropped), dropped)
        check(dropped[-1]["reason"] == "the upstream ended the stream", dropped)
    finally:
        upstream.close()


def test_subscribe_ndjson_lines_as_parts(ctx):
    upstream = Upstream()
    try:
        system = start(ctx, upstream)
        parts, end = parts_and_end(submit(system, "/ndjson"))
        check(end["event"] == "done", "ended with %r" % end)
        check([p.get("data") for p in parts if "data" in p] ==
              [{"line": 1}, {"line": 2}, {"line": 3}, {"line": 4}, "not json", {"line": 5}], parts)
        # No resume for NDJSON: the reconnect says messages may be missing.
        reconnected = [p for p in parts if p.get("upstream") == "reconnected"]
        check(reconnected == [{"upstream": "reconnected", "connection": 2, "resumed": False, "gap": True}],
              parts)
        check(len([p for p in parts if p.get("upstream") == "dropped"]) == 2, parts)
        check(all(last_id is None for _, last_id in upstream.requests), upstream.requests)
    finally:
        upstream.close()


def test_subscribe_cancel_closes_the_upstream_connection(ctx):
    upstream = Upstream()
    try:
        system = start(ctx, upstream)
        stream = submit(system, "/hold")
        check(stream.status == 200)
        event = stream.next_event()
        check(event is not None and event["data"] == {"data": "held"}, event)
        job = event["job"]
        # The job's source is its upstream (docs/API.md "Job object").
        status = system.job_status(job)
        check(status["source"] == "local" and status["state"] == "running", status)
        check(not upstream.closed.acquire(timeout=0.2), "the upstream connection closed before the cancel")
        code, body = system.json_request("DELETE", "/v1/jobs/" + job)
        check(code == 200 and body["state"] == "cancelled", (code, body))
        check(upstream.closed.acquire(timeout=10), "the worker kept the upstream connection after the cancel")
        # The last client leaving cancels the job too: the connection closes.
        stream = submit(system, "/hold")
        event = stream.next_event()
        check(event is not None and event["data"] == {"data": "held"}, event)
        stream.close()
        check(upstream.closed.acquire(timeout=10), "the worker kept the upstream connection after its client left")
        check(system.wait_for(lambda: system.job_status(event["job"])["state"] == "cancelled", what="cancelled"))
        check(upstream.requests == [("/hold", None), ("/hold", None)], upstream.requests)
    finally:
        upstream.close()


def test_subscribe_upstream_errors_end_the_job(ctx):
    upstream = Upstream()
    try:
        system = start(ctx, upstream)
        _, end = parts_and_end(submit(system, "/missing"))
        check(end["event"] == "error" and end["data"]["code"] == "upstream_status", end)
        _, end = parts_and_end(submit(system, "/html"))
        check(end["event"] == "error" and end["data"]["code"] == "upstream_invalid", end)
        # 503 is retried, 5 answers in a row at most.
        started = time.monotonic()
        parts, end = parts_and_end(submit(system, "/busy"))
        check(end["event"] == "error" and end["data"]["code"] == "upstream_status", end)
        check(len(parts) == 4 and all(p["upstream"] == "dropped" for p in parts), parts)
        check(time.monotonic() - started < 10, "the retries took too long")
        check(len([r for r in upstream.requests if r[0] == "/busy"]) == 5, upstream.requests)
    finally:
        upstream.close()


def test_subscribe_only_declared_upstreams(ctx):
    upstream = Upstream()
    try:
        system = start(ctx, upstream)
        status, body = system.json_request("POST", "/v1/jobs", {"kind": "subscribe",
                                                                "args": {"upstream": "evil", "path": "/sse"}})
        check(status == 403 and body["error"] == "forbidden", "answered %s %r" % (status, body))
        for args in ({"upstream": "local"}, {"upstream": "local", "path": "sse"},
                     {"upstream": "local", "path": "/a b"}, {"upstream": "local", "path": "/#x"},
                     {"upstream": "local", "path": "/", "url": "http://x/"},
                     {"upstream": "local", "path": "/", "to_topic": "bad name"}):
            status, body = system.json_request("POST", "/v1/jobs", {"kind": "subscribe", "args": args})
            check(status == 422 and body["error"] == "invalid_args", "%r answered %s %r" % (args, status, body))
        # to_topic needs a worker -> broker message this protocol does not have yet.
        status, body = system.json_request("POST", "/v1/jobs", {"kind": "subscribe", "args": {
            "upstream": "local", "path": "/sse", "to_topic": "news"}})
        check(status == 422 and body["error"] == "invalid_args" and "not available" in body["message"],
              "answered %s %r" % (status, body))
        check(upstream.requests == [], upstream.requests)
    finally:
        upstream.close()
