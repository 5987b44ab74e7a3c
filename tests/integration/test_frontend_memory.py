"""test_frontend_memory.py - the frontend's memory comes back after load
(docs/DESIGN.md, "Promises"): 20,000 connect/close cycles - most open a
stream on a running job and close it at once, without reading a
byte (so many connections are in the frontend at once), one in 100 is a
plain request read to its end -
then the frontend idles, and its RSS falls back to within 2x what it was
before the load. 2,000 idle open streams cost the frontend under 8 KiB of
RSS each (the floor of docs/DESIGN.md, "Performance"; tests/bench measures
10,000), and so do 2,000 idle WebSockets subscribed to a topic. An
HTTP/1.1 connection keeps working after its stream ended, though the
stream's request bytes left h2o's read buffer (frontend/request_bytes.h).

Plain build only: a sanitizer keeps freed memory in quarantine, so RSS says
nothing there (test_backpressure.sanitized).
"""
import os
import resource
import socket
import threading
import time

from harness import check
from test_backpressure import sanitized
from test_websocket import RawWebSocket

CYCLES = 20000
CLIENTS = 8
IDLE_LIMIT_S = 30


def rss_kb(process):
    with open("/proc/%d/status" % process.popen.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def one_cycle(port, request, read):
    """Connects, sends request, reads the first bytes of the answer (or
    not: the client leaves at once), closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        if read:
            data = sock.recv(4096)
            check(data.startswith(b"HTTP/1.1 200"), "answered %r" % data[:80])


def churn(system, job_id, cycles, clients=CLIENTS):
    stream_request = ("GET /v1/stream?job=%s HTTP/1.1\r\nHost: rill\r\n\r\n" % job_id).encode()
    plain_request = b"GET /healthz HTTP/1.1\r\nHost: rill\r\nConnection: close\r\n\r\n"
    failures = []

    def client(count):
        try:
            for i in range(count):
                if i % 100 == 99:
                    one_cycle(system.port, plain_request, True)
                else:
                    one_cycle(system.port, stream_request, False)
        except Exception as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=client, args=(cycles // clients,)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check(not failures, "churn failed: %r" % failures[:3])


def test_frontend_memory_returns_after_churn(ctx):
    if sanitized(ctx.build_dir):
        print("    skipped: sanitized build (freed memory stays in quarantine)")
        return
    system = ctx.system(workers=1)
    system.wait_healthy()
    status, body = system.json_request("POST", "/v1/jobs?detach=1",
                                       {"kind": "demo", "args": {"parts": 1000000, "interval_ms": 100, "size": 1000}})
    check(status == 202, "detach answered %s %r" % (status, body))
    job_id = body["jobs"][0]
    # Retained parts: each stream opened gets them first, so closed streams
    # leave queued bytes behind (that is what made the heap grow).
    system.wait_for(lambda: system.job_status(job_id)["parts"] >= 10, what="10 parts retained")
    churn(system, job_id, 500)  # warm up: what a frontend holds once it has served
    time.sleep(1)
    before = rss_kb(system.frontend)
    started = time.time()
    churn(system, job_id, CYCLES)
    loaded = rss_kb(system.frontend)
    took = time.time() - started
    deadline = time.time() + IDLE_LIMIT_S
    after = rss_kb(system.frontend)
    while after > 2 * before and time.time() < deadline:
        time.sleep(0.5)
        after = rss_kb(system.frontend)
    print("    frontend RSS: %d KiB before, %d KiB after %d cycles (%.1f s), %d KiB after idling %.1f s"
          % (before, loaded, CYCLES, took, after, time.time() + IDLE_LIMIT_S - deadline))
    check(after <= 2 * before, "frontend RSS %d KiB after idling, %d KiB before" % (after, before))
    status, body = system.json_request("DELETE", "/v1/jobs/" + job_id)
    check(status == 200, "cancel answered %s %r" % (status, body))


IDLE_STREAMS = 2000
IDLE_KIB_PER_STREAM = 8


def read_until(sock, marker, limit=65536):
    data = b""
    while marker not in data and len(data) < limit:
        more = sock.recv(4096)
        if not more:
            break
        data += more
    return data


def idle_per_stream(ctx, open_streams, what):
    """KiB of frontend RSS per stream held open idle: open_streams(system,
    count) opens count of them and returns them (each has a close());
    None where the measure means nothing (a sanitizer, too few fds)."""
    if sanitized(ctx.build_dir):
        print("    skipped: sanitized build (its allocator's overhead is no frontend's)")
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < IDLE_STREAMS + 200:
        print("    skipped: RLIMIT_NOFILE %d is under %d" % (hard, IDLE_STREAMS + 200))
        return None
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, IDLE_STREAMS + 200), hard))
    system = ctx.system(workers=1)
    system.wait_healthy()
    try:
        for stream in open_streams(system, 100):  # what a frontend holds once it has served
            stream.close()
        time.sleep(2)  # the frontend trims once quiet (memory_trim.h)
        before = rss_kb(system.frontend)
        streams = open_streams(system, IDLE_STREAMS)
        # Once quiet the frontend trims (within two ticks): the least RSS
        # seen over 4 s is what the open streams hold.
        after = rss_kb(system.frontend)
        for _ in range(8):
            time.sleep(0.5)
            after = min(after, rss_kb(system.frontend))
        per_stream = (after - before) / IDLE_STREAMS
        print("    frontend RSS: %d KiB before, %d KiB with %d idle %s: %.2f KiB each"
              % (before, after, IDLE_STREAMS, what, per_stream))
        for stream in streams:
            stream.close()
        return per_stream
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_frontend_memory_idle_streams(ctx):
    request = (b"GET /v1/topics/idle HTTP/1.1\r\nHost: rill\r\n"
               b"Accept: application/x-ndjson\r\n\r\n")

    def open_streams(system, count):
        socks = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", system.port), timeout=30)
            sock.sendall(request)
            socks.append(sock)
        for sock in socks:
            # The headers and the opening heartbeat: the stream is open.
            data = read_until(sock, b"heartbeat")
            check(data.startswith(b"HTTP/1.1 200") and b"heartbeat" in data,
                  "an idle stream answered %r" % data[:200])
        return socks

    per_stream = idle_per_stream(ctx, open_streams, "streams")
    if per_stream is not None:
        check(per_stream < IDLE_KIB_PER_STREAM, "%.2f KiB of frontend RSS per idle stream" % per_stream)


def test_frontend_memory_idle_websockets(ctx):
    """The same floor for a WebSocket subscribed to a topic: an idle one
    holds no wslay context (frontend/ws_conn.c)."""

    def open_sockets(system, count):
        sockets = []
        for _ in range(count):
            ws = RawWebSocket(system, "/v1/topics/idle")
            frame = ws.frame()
            check(frame is not None and frame[0] == 0x1 and b'"subscribed"' in frame[1],
                  "an idle WebSocket got %r first" % (frame,))
            sockets.append(ws)
        return sockets

    per_socket = idle_per_stream(ctx, open_sockets, "WebSockets")
    if per_socket is not None:
        check(per_socket < IDLE_KIB_PER_STREAM, "%.2f KiB of frontend RSS per idle WebSocket" % per_socket)


def test_frontend_keeps_connection_after_stream(ctx):
    """A stream's request moved out of h2o's read buffer: the connection
    serves what was pipelined behind it, and requests after it, larger
    than the moved bytes (h2o grows the buffer again)."""
    system = ctx.system(workers=1)
    system.wait_healthy()
    status, body = system.json_request("POST", "/v1/jobs?detach=1",
                                       {"kind": "demo", "args": {"parts": 3, "interval_ms": 100}})
    check(status == 202, "detach answered %s %r" % (status, body))
    job_id = body["jobs"][0]
    stream = ("GET /v1/stream?job=%s HTTP/1.1\r\nHost: rill\r\nX-Pad: %s\r\n\r\n"
              % (job_id, "p" * 200)).encode()
    health = b"GET /healthz HTTP/1.1\r\nHost: rill\r\n\r\n"
    big = ("GET /healthz HTTP/1.1\r\nHost: rill\r\nX-Big: %s\r\n\r\n" % ("b" * 12000)).encode()
    with socket.create_connection(("127.0.0.1", system.port), timeout=30) as sock:
        sock.sendall(stream + health)  # the second request waits in the buffer
        data = read_until(sock, b'"workers"', limit=1 << 20)
        check(data.startswith(b"HTTP/1.1 200"), "stream answered %r" % data[:200])
        check(b'"event":"done"' in data, "the stream ended with done: %r" % data[-300:])
        check(data.count(b"HTTP/1.1 200") == 2 and b'"workers"' in data,
              "the pipelined request was answered after the stream: %r" % data[-300:])
        for request in (big, stream, health):
            sock.sendall(request)
            marker = b'"event":"done"' if request is stream else b'"workers"'
            data = read_until(sock, marker, limit=1 << 20)
            check(data.startswith(b"HTTP/1.1 200") and marker in data,
                  "a request after the stream answered %r" % data[:200])
