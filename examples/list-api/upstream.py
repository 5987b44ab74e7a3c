#!/usr/bin/env python3
"""upstream.py - a tiny list API for the rill list-API example (stdlib only).

  GET /items?ids=a,b,c   {"a": {"id": "a", "name": "item a", "price": ...}, ...}
  GET /calls             {"calls": N, "last": "/items?ids=..."}: how many /items calls so far

Every /items call is logged on stderr. Usage: upstream.py [--port 9301]
"""
import argparse
import http.server
import json
import sys
import threading
import urllib.parse

calls = []
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/items":
            ids = [i for i in urllib.parse.parse_qs(url.query).get("ids", [""])[0].split(",") if i]
            with lock:
                calls.append(self.path)
                count = len(calls)
            print("upstream: call %d: GET %s (%d items)" % (count, self.path, len(ids)), file=sys.stderr, flush=True)
            self.answer(200, {i: {"id": i, "name": "item " + i, "price": 10 * (n + 1)} for n, i in enumerate(ids)})
        elif url.path == "/calls":
            with lock:
                self.answer(200, {"calls": len(calls), "last": calls[-1] if calls else None})
        else:
            self.answer(404, {"error": "not_found"})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9301)
    port = parser.parse_args().port
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print("upstream: listening on 127.0.0.1:%d" % port, file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
