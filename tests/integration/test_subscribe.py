"""test_subscribe.py - the subscribe kind (docs/API.md): a live upstream stream,
SSE or NDJSON over chunked HTTP, followed through rill with real processes and
a real upstream on 127.0.0.1.

The upstream is a small threaded server in this process that writes its
answers by hand (chunked encoding, abrupt drops), records every request it
got (path and Last-Event-ID) and notices when a connection is closed by the
worker.
"""
import base64
import hashlib
import json
import socket
import socketserver
import threading
import time

import harness
from harness import check


def subscribe_config(port):
    return {"kinds": ["subscribe", "demo", "http"],
            "upstreams": {"local": {"url": "http://127.0.0.1:%d" % port},
                          "ws": {"url": "ws://127.0.0.1:%d/base" % port}},
            "retain_parts": 10000, "max_part_bytes": 65536}


def ws_frame(opcode, payload, fin=True):
    head = bytes([(0x80 if fin else 0) | opcode])
    if len(payload) < 126:
        return head + bytes([len(payload)]) + payload
    if len(payload) < 65536:
        return head + bytes([126]) + len(payload).to_bytes(2, "big") + payload
    return head + bytes([127]) + len(payload).to_bytes(8, "big") + payload


def ws_read_frame(sock):
    """One frame from the client (masked): (opcode, payload), or None at the end."""
    def exactly(n):
        data = b""
        while len(data) < n:
            piece = sock.recv(n - len(data))
            if not piece:
                return None
            data += piece
        return data
    head = exactly(2)
    if head is None:
        return None
    length = head[1] & 0x7f
    if length == 126:
        length = int.from_bytes(exactly(2), "big")
    mask = exactly(4) if head[1] & 0x80 else b"\0\0\0\0"
    payload = exactly(length) if length else b""
    return head[0] & 0x0f, bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


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
        self.ticks = []     # /ticks: (n, time.monotonic() it was sent)
        self.ticks_connections = 0
        self.closed = threading.Semaphore(0)  # released when the worker closes a /hold connection
        self.lock = threading.Lock()
        self.ndjson_connections = 0
        self.ws_connections = 0
        self.pongs = []  # payloads of the pongs the worker sent
        self.ws_closes = []  # what ended a /base/ws-hold connection: "close frame" or "tcp"
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
        if path == "/ticks":
            # 40 NDJSON lines, one every 100 ms, when each went recorded; then no more.
            with self.lock:
                self.ticks_connections += 1
                if self.ticks_connections > 1:
                    return no_content()
            answer("200 OK", "application/x-ndjson")
            for n in range(1, 41):
                with self.lock:
                    self.ticks.append((n, time.monotonic()))
                chunk(b'{"n": %d}\n' % n)
                time.sleep(0.1)
            return end()
        if path.startswith("/base/ws"):
            return self.serve_websocket(sock, path, headers)
        if path == "/big":
            answer("200 OK", "text/event-stream")
            chunk(b"data: " + b"x" * 70000 + b"\n\n")
            return end()
        if path == "/html":
            answer("200 OK", "text/html")
            chunk(b"<html></html>")
            return end()
        if path == "/busy":
            sock.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
            return
        sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")


    def serve_websocket(self, sock, path, headers):
        sock.settimeout(10)  # a client that never answers fails the test, it does not hang it
        if path == "/base/ws-refused" or headers.get("upgrade", "").lower() != "websocket":
            sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            return
        accept = base64.b64encode(hashlib.sha1((headers["sec-websocket-key"] +
                                                "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        if path == "/base/ws-big":
            sock.sendall(ws_frame(1, b'"' + b"x" * 70000 + b'"'))
            frame = ws_read_frame(sock)
            self.ws_closes.append("big: %s" % (frame[0] if frame else None))
            return
        if path == "/base/ws-hold":
            sock.sendall(ws_frame(1, b"held"))
            frame = ws_read_frame(sock)
            self.ws_closes.append("close frame" if frame and frame[0] == 8 else "tcp")
            self.closed.release()
            return
        with self.lock:
            self.ws_connections += 1
            connection = self.ws_connections
        if connection == 1:
            sock.sendall(ws_frame(1, b'{"n": 1}') + ws_frame(1, b"hello"))
            sock.sendall(ws_frame(9, b"ping!"))
            frame = ws_read_frame(sock)
            if frame and frame[0] == 10:
                self.pongs.append(frame[1])
            # A message in two fragments, then a binary one, then the TCP connection drops.
            sock.sendall(ws_frame(1, b'{"frag', fin=False) + ws_frame(0, b'": true}'))
            sock.sendall(ws_frame(2, b"\xff"))
            time.sleep(0.1)
            sock.shutdown(socket.SHUT_RDWR)
            return
        sock.sendall(ws_frame(1, b'{"n": 2}') + ws_frame(1, b'{"n": 3}'))
        # A normal closure (1000) ends the subscription; the worker answers it.
        sock.sendall(ws_frame(8, (1000).to_bytes(2, "big") + b"bye"))
        frame = ws_read_frame(sock)
        self.ws_closes.append("answered %s" % (frame[0] if frame else None))


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
        # A message over max_part_bytes (64 KiB here).
        _, end = parts_and_end(submit(system, "/big"))
        check(end["event"] == "error" and end["data"]["code"] == "upstream_too_large", end)
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
        check(upstream.requests == [], upstream.requests)
    finally:
        upstream.close()


def submit_ws(system, path):
    return system.stream("POST", "/v1/jobs", {"kind": "subscribe", "args": {"upstream": "ws", "path": path}})


def test_subscribe_websocket_upstream(ctx):
    upstream = Upstream()
    try:
        system = start(ctx, upstream)
        parts, end = parts_and_end(submit_ws(system, "/ws"))
        check(end["event"] == "done", "ended with %r" % end)
        check(parts[:4] == [{"data": {"n": 1}}, {"data": "hello"}, {"data": {"frag": True}}, {"data": "\ufffd"}],
              parts)
        check(parts[4]["upstream"] == "dropped" and parts[4]["attempt"] == 1, parts)
        check(parts[5:] == [{"upstream": "reconnected", "connection": 2, "resumed": False, "gap": True},
                            {"data": {"n": 2}}, {"data": {"n": 3}}], parts)
        check(upstream.pongs == [b"ping!"], upstream.pongs)
        # The close frame was answered (the upstream's thread records it as
        # it reads the answer, which may be after the job's end reached us).
        system.wait_for(lambda: upstream.ws_closes == ["answered 8"], timeout=5,
                        what="the close frame answered: %r" % upstream.ws_closes)
        check([r[0] for r in upstream.requests] == ["/base/ws", "/base/ws"], upstream.requests)
        # Cancel closes the connection.
        stream = submit_ws(system, "/ws-hold")
        event = stream.next_event()
        check(event is not None and event["data"] == {"data": "held"}, event)
        code, body = system.json_request("DELETE", "/v1/jobs/" + event["job"])
        check(code == 200 and body["state"] == "cancelled", (code, body))
        check(upstream.closed.acquire(timeout=10), "the worker kept the WebSocket after the cancel")
        # A message over max_part_bytes: refused with close 1009, the job fails.
        _, end = parts_and_end(submit_ws(system, "/ws-big"))
        check(end["event"] == "error" and end["data"]["code"] == "upstream_too_large", end)
        # The upstream's thread records the close frame as it reads it, which
        # may be after the job's end reached us.
        system.wait_for(lambda: any(c.startswith("big: ") for c in upstream.ws_closes), timeout=5,
                        what="the upstream to read what ended /ws-big: %r" % upstream.ws_closes)
        check(upstream.ws_closes[-1] == "big: 8", upstream.ws_closes)
        # A refused handshake ends the job like an HTTP status.
        _, end = parts_and_end(submit_ws(system, "/ws-refused"))
        check(end["event"] == "error" and end["data"]["code"] == "upstream_status", end)
        # The http kind does not take a WebSocket upstream.
        status, body = system.json_request("POST", "/v1/jobs", {"kind": "http", "args": {"upstream": "ws",
                                                                                          "path": "/ws"}})
        check(status == 422 and body["error"] == "invalid_args", (status, body))
    finally:
        upstream.close()


def test_subscribe_websocket_relayed_to_a_topic_with_100_subscribers(ctx):
    """to_topic (rill/5 TOPIC): a WebSocket upstream's messages, and its
    drop and reconnect markers, go to a topic, each once, numbered by the
    topic's seq, to all of its 100 subscribers in the same order; the job
    itself has no part."""
    upstream = Upstream()
    streams = []
    try:
        system = start(ctx, upstream)
        for _ in range(100):
            streams.append(system.stream("GET", "/v1/topics/relay"))
        def subscribed():
            status, _, body = system.request("GET", "/v1/topics/relay?info")
            return status == 200 and json.loads(body)["subscribers"] == 100
        system.wait_for(subscribed, timeout=15, what="100 subscribers of relay")
        status, body = system.json_request("POST", "/v1/jobs?detach=1", {"kind": "subscribe", "args": {
            "upstream": "ws", "path": "/ws", "to_topic": "relay"}})
        check(status == 202, (status, body))
        job = body["jobs"][0]
        system.wait_for(lambda: system.job_status(job)["state"] == "done", timeout=20, what="the relay job done")
        check(system.job_status(job)["parts"] == 0, system.job_status(job))
        expected = [{"data": {"n": 1}}, {"data": "hello"}, {"data": {"frag": True}}, {"data": "\ufffd"}]
        first = None
        for stream in streams:
            events = []
            while len(events) < 8:
                event = stream.next_event()
                check(event is not None, "a subscriber's stream ended after %r" % events)
                events.append(event)
            check([e["seq"] for e in events] == list(range(1, 9)), [e["seq"] for e in events])
            check(all(e["topic"] == "relay" and e["event"] == "part" for e in events), events)
            data = [e["data"] for e in events]
            check(data[:4] == expected and data[4]["upstream"] == "dropped" and
                  data[5] == {"upstream": "reconnected", "connection": 2, "resumed": False, "gap": True} and
                  data[6:] == [{"data": {"n": 2}}, {"data": {"n": 3}}], data)
            first = first or data
            check(data == first, "subscribers disagree: %r / %r" % (data, first))
    finally:
        for stream in streams:
            stream.close()
        upstream.close()


def test_subscribe_to_topic_messages_made_while_no_broker_is_joined_are_held(ctx):
    """to_topic: the broker numbers a topic's messages, so one a worker
    dropped while no broker was there would leave no trace. Those made
    after the worker found its broker gone wait in the worker and are
    published once it joins the restarted broker."""
    upstream = Upstream()
    try:
        config = subscribe_config(upstream.port)
        config["heartbeat_ms"] = 200
        system = ctx.system(workers=1, config=config)
        system.wait_healthy(workers=1)
        status, body = system.json_request("POST", "/v1/jobs?detach=1", {"kind": "subscribe", "args": {
            "upstream": "local", "path": "/ticks", "to_topic": "ticks"}})
        check(status == 202, (status, body))
        system.wait_for(lambda: len(upstream.ticks) >= 5, what="the upstream's first lines")
        system.broker.kill()
        # The worker finds the broker silent after 3 heartbeats (0.6 s, later
        # on a loaded machine): lines it reads from then on are held. The
        # window starts when its log says so, not at a guessed moment.
        worker = system.workers[0]
        system.wait_for(lambda: "the broker fell silent: joining again" in worker.log_text(), timeout=20,
                        what="the worker to find the broker silent")
        silent_from = time.monotonic()
        # Two of them at least (100 ms apart): the first is in the window below.
        system.wait_for(lambda: len([n for n, at in upstream.ticks if at > silent_from]) >= 2, timeout=20,
                        what="lines made while the worker knew no broker")
        restarted = time.monotonic()
        system.broker = system.start_broker()
        system.wait_for(lambda: len(upstream.ticks) >= 40, timeout=20, what="the upstream's last line")
        time.sleep(1.0)
        stream = system.stream("GET", "/v1/topics/ticks?since=ticks:0", timeout=10)
        check(stream.status == 200, stream.status)
        got = []
        deadline = time.time() + 15
        try:
            while {"data": {"n": 40}} not in got:
                check(time.time() < deadline, "no n 40 within 15 s: %r" % got)
                event = stream.next_event()
                check(event is not None, "the stream ended after %r" % got)
                if event.get("topic") == "ticks" and event["event"] == "part":
                    got.append(event["data"])
        except OSError as error:
            check(False, "%s after %r" % (error, got))
        stream.close()
        numbers = [d["data"]["n"] for d in got if "data" in d]
        # Made while the worker knew no broker (after it found it silent, before the restart): all there.
        silent = [n for n, at in upstream.ticks if silent_from < at < restarted - 0.1]
        check(silent, "no line was made while the broker was away: %r" % upstream.ticks)
        check(all(n in numbers for n in silent), "held messages missing: %r not all in %r" % (silent, numbers))
        check(numbers == sorted(numbers) and numbers[-1] == 40, numbers)
    finally:
        upstream.close()


def test_subscribe_to_topic_takes_the_topic_back_from_a_frontends_lease(ctx):
    """A frontend numbers "relay" under its lease (rill/8); a job's
    messages to the same topic wait for the broker to take the lease back,
    then follow with the next seqs: one numbering, no gap, no duplicate."""
    upstream = Upstream()
    stream = None
    try:
        system = start(ctx, upstream)
        stream = system.stream("GET", "/v1/topics/relay")
        for n in range(1, 4):
            status, body = system.json_request("POST", "/v1/topics/relay", {"mine": n})
            check(status == 202 and body["seq"] == n, (status, body))
        check(harness.metric(system, "rill_broker_topic_leases") == 1, "the frontend holds no lease")
        status, body = system.json_request("POST", "/v1/jobs?detach=1", {"kind": "subscribe", "args": {
            "upstream": "ws", "path": "/ws", "to_topic": "relay"}})
        check(status == 202, (status, body))
        job = body["jobs"][0]
        system.wait_for(lambda: system.job_status(job)["state"] == "done", timeout=20, what="the relay job done")
        events = []
        while len(events) < 11:
            event = stream.next_event()
            check(event is not None, "the stream ended after %r" % events)
            events.append(event)
        check([e["seq"] for e in events] == list(range(1, 12)), [e["seq"] for e in events])
        check([e["data"] for e in events[:4]] == [{"mine": 1}, {"mine": 2}, {"mine": 3}, {"data": {"n": 1}}],
              events[:4])
        check(harness.metric(system, "rill_broker_topic_leases_revoked_total") == 1, "the lease was not revoked")
    finally:
        if stream is not None:
            stream.close()
        upstream.close()
