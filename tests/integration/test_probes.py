"""test_probes.py - what an orchestrator asks (docs/API.md "Probes",
deploy/kubernetes/): the frontend's GET /livez and GET /readyz, and the
--check mode of rill-broker and rill-worker, against real processes that
run, stop and come back."""
import json
import os
import signal
import subprocess
import time

from harness import check

FAST = {"heartbeat_ms": 200}


def probe(system, path, method="GET"):
    """(status, parsed JSON body or None)."""
    status, _, data = system.request(method, path, timeout=10)
    return status, (json.loads(data) if data else None)


def wait_probe(system, path, status, message=None, timeout=15.0):
    """Until path answers status (and, for an error, that message); its body."""
    last = []

    def answered():
        got, body = probe(system, path)
        last[:] = [got, body]
        if got != status:
            return None
        if message is not None and (body or {}).get("message") != message:
            return None
        return body or True

    try:
        return system.wait_for(answered, timeout=timeout, what="%s %s" % (path, status))
    except AssertionError:
        check(False, "%s never answered %s %s: last %r\n%s" % (path, status, message or "", last,
                                                               system.logs_tail()))


def test_livez_and_readyz_follow_the_broker(ctx):
    """livez is 200 whatever the broker does; readyz is 200 with a broker (no
    worker needed by default), 503 "no broker" once it stopped, 200 again
    when it is back. /healthz keeps needing a worker."""
    system = ctx.system(workers=0, config=FAST)
    system.wait_listening()
    status, body = probe(system, "/livez")
    check(status == 200 and body == {"status": "ok"}, "livez: %s %r" % (status, body))
    body = wait_probe(system, "/readyz", 200)
    check(body["status"] == "ok" and body["workers"] == 0 and body["broker"], "readyz body %r" % body)
    check(probe(system, "/readyz", "HEAD")[0] == 200, "HEAD /readyz")
    check(probe(system, "/livez", "POST")[0] == 405, "POST /livez is not 405")
    status, body = probe(system, "/healthz")
    check(status == 503 and body["message"] == "no live worker", "healthz without workers: %s %r" % (status, body))

    system.broker.stop()
    body = wait_probe(system, "/readyz", 503, "no broker", timeout=10)
    check(body["error"] == "unavailable", "503 body %r" % body)
    for _ in range(3):
        status, body = probe(system, "/livez")
        check(status == 200, "livez without a broker: %s %r" % (status, body))
        time.sleep(0.1)

    system.broker = system.start_broker()
    body = wait_probe(system, "/readyz", 200, timeout=15)
    check(body["workers"] == 0, "readyz after the broker came back: %r" % body)


def test_readyz_can_require_a_worker(ctx):
    """ready_requires_worker: readyz is 503 "no live worker" until a worker
    joined, 200 while one lives, 503 again when it left."""
    config = dict(FAST, ready_requires_worker=True)
    system = ctx.system(workers=0, config=config)
    system.wait_listening()
    body = wait_probe(system, "/readyz", 503, "no live worker")
    check(body["error"] == "unavailable", "503 body %r" % body)
    check(probe(system, "/livez")[0] == 200, "livez without workers")
    worker = system.start_worker()
    body = wait_probe(system, "/readyz", 200)
    check(body["workers"] == 1, "readyz with one worker: %r" % body)
    check(worker.stop() == 0, "the worker did not stop cleanly")
    wait_probe(system, "/readyz", 503, "no live worker")
