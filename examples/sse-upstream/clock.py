#!/usr/bin/env python3
"""clock.py - a live upstream for rill's `subscribe` kind (stdlib only).

  GET /events        Server-Sent Events: a numbered event every second,
                     "id: N", "event: tick", data {"n": N, "time": "..."}.
                     A request with Last-Event-ID: K first gets the events
                     after K it missed (the last 1000 are kept), then live ones.
  GET /events.ndjson the same ticks as newline-delimited JSON (no resume).
  GET /ws            the same ticks as WebSocket text messages (no resume);
                     --stop-after closes it with 1000 (normal closure).

Options:
  --port P          listen on 127.0.0.1:P (default 9100)
  --drop-every N    close each connection after N events (shows the resume)
  --stop-after N    once tick N was sent, answer 204 No Content: the
                    subscriptions end (as an EventSource does on 204)

Usage: clock.py [--port 9100] [--drop-every 5] [--stop-after 30]
"""
import argparse
import base64
import hashlib
import http.server
import json
import sys
import threading
import time

history = []  # (n, time text), the last 1000 ticks
changed = threading.Condition()
options = None


def ticker():
    n = 0
    while True:
        time.sleep(1)
        n += 1
        with changed:
            history.append((n, time.strftime("%H:%M:%S")))
            del history[:-1000]
            changed.notify_all()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        sys.stderr.write("clock: %s\n" % (format % args))

    def chunk(self, text):
        data = text.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def websocket(self):
        """The ticks as WebSocket text frames (RFC 6455; server frames are not masked)."""
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept.decode())
        self.end_headers()
        self.close_connection = True

        def frame(opcode, payload):
            head = bytes([0x80 | opcode, len(payload)]) if len(payload) < 126 else \
                bytes([0x80 | opcode, 126]) + len(payload).to_bytes(2, "big")
            self.wfile.write(head + payload)
            self.wfile.flush()

        with changed:
            next_n = (history[-1][0] if history else 0) + 1
        sent = 0
        try:
            while True:
                with changed:
                    changed.wait_for(lambda: history and history[-1][0] >= next_n, 5)
                    ready = [t for t in history if t[0] >= next_n]
                for n, at in ready:
                    frame(1, json.dumps({"n": n, "time": at}).encode())
                    next_n = n + 1
                    sent += 1
                    if options.stop_after and n >= options.stop_after:
                        frame(8, (1000).to_bytes(2, "big") + b"that was the last tick")
                        return
                    if options.drop_every and sent >= options.drop_every:
                        self.log_message("/ws: dropping the connection after %d messages", sent)
                        return  # no close frame: an abrupt end
        except (BrokenPipeError, ConnectionResetError):
            self.log_message("/ws: the subscriber left")

    def do_GET(self):
        if self.path == "/ws" and self.headers.get("Upgrade", "").lower() == "websocket":
            self.log_message("/ws: a WebSocket subscriber")
            return self.websocket()
        sse = self.path == "/events"
        if not sse and self.path != "/events.ndjson":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        last = self.headers.get("Last-Event-ID", "") if sse else ""
        after = int(last) if last.isdigit() else None
        with changed:
            newest = history[-1][0] if history else 0
        if options.stop_after and newest >= options.stop_after:
            self.log_message("%s after %s: 204, the stream is over", self.path, last or "-")
            self.send_response(204)
            self.end_headers()
            return
        self.log_message("%s: %s", self.path, "resuming after %d" % after if after is not None else "from now")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream" if sse else "application/x-ndjson")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if sse:
            self.chunk("retry: 1000\n: ticks every second\n\n")
        sent = 0
        next_n = after + 1 if after is not None else newest + 1
        try:
            while True:
                with changed:
                    ready = [t for t in history if t[0] >= next_n]
                    if not ready:
                        changed.wait(5)
                        ready = [t for t in history if t[0] >= next_n]
                for n, at in ready:
                    data = json.dumps({"n": n, "time": at})
                    self.chunk("id: %d\nevent: tick\ndata: %s\n\n" % (n, data) if sse else data + "\n")
                    next_n = n + 1
                    sent += 1
                    if options.drop_every and sent >= options.drop_every:
                        self.log_message("%s: dropping the connection after %d events", self.path, sent)
                        self.close_connection = True
                        return  # no last chunk: an abrupt end
                    if options.stop_after and n >= options.stop_after:
                        self.chunk("")  # the last chunk: a clean end
                        return
                if not ready:
                    self.chunk(": keep-alive\n\n" if sse else "\n")
        except (BrokenPipeError, ConnectionResetError):
            self.log_message("%s: the subscriber left", self.path)


def main():
    global options
    parser = argparse.ArgumentParser(description="a live SSE/NDJSON upstream for rill's subscribe kind")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--drop-every", type=int, default=0)
    parser.add_argument("--stop-after", type=int, default=0)
    options = parser.parse_args()
    threading.Thread(target=ticker, daemon=True).start()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", options.port), Handler)
    server.daemon_threads = True
    sys.stderr.write("clock: http://127.0.0.1:%d/events (SSE), /events.ndjson and ws://127.0.0.1:%d/ws\n"
                     % (options.port, options.port))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
