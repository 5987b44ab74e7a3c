"""test_frontend_memory.py - the frontend's memory comes back after load
(docs/DESIGN.md, "Promises"): 20,000 connect/close cycles - most open a
stream on a running job and close it at once, without reading a
byte (so many connections are in the frontend at once), one in 100 is a
plain request read to its end -
then the frontend idles, and its RSS falls back to within 2x what it was
before the load.

Plain build only: a sanitizer keeps freed memory in quarantine, so RSS says
nothing there (test_backpressure.sanitized).
"""
import os
import socket
import threading
import time

from harness import check
from test_backpressure import sanitized

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
