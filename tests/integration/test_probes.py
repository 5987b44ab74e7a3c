"""test_probes.py - what an orchestrator asks (docs/API.md "Probes",
deploy/kubernetes/): the frontend's GET /livez and GET /readyz, and the
--check mode of rill-broker and rill-worker, against real processes that
run, stop and come back."""
import json
import os
import signal
import subprocess
import time

from harness import check, free_port

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


def run_check(system, argv, env=None):
    """Runs a --check command line; (exit status, stdout, stderr, seconds)."""
    started = time.monotonic()
    done = subprocess.run(argv, env=dict(system.env, **(env or {})), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    return (done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"),
            time.monotonic() - started)


def broker_check(system, *extra):
    return run_check(system, [system.binary("broker", "rill-broker"), "--check", "--run-dir", system.run_dir]
                     + list(extra))


def worker_check(system, *extra, env=None):
    return run_check(system, [system.binary("workers", "rill-worker"), "--run-dir", system.run_dir] + list(extra),
                     env=env)


def wait_check(system, check_function, status, text, timeout=15.0):
    """Until check_function() exits status with text in its output."""
    last = []

    def done():
        got = check_function()
        last[:] = [got]
        return got[0] == status and text in got[1] + got[2]

    try:
        system.wait_for(done, timeout=timeout, what="a check exiting %d" % status)
    except AssertionError:
        check(False, "the check never exited %d with %r: last %r\n%s" % (status, text, last, system.logs_tail()))
    return last[0]


def test_broker_check(ctx):
    """rill-broker --check: 0 with a one-line "alive" against a running broker
    (ipc://, and tcp:// through the bind's wildcard as in Kubernetes), 1 with
    the reason once it stopped, within its timeout."""
    system = ctx.system(workers=0, frontend=False, config=FAST)
    status, out, err, _ = wait_check(system, lambda: broker_check(system), 0, "alive")
    check(out.startswith("broker ") and out.count("\n") == 1 and err == "", "check output %r %r" % (out, err))

    # tcp://: a broker bound to tcp://*:PORT is checked with the same flags.
    ports = [free_port() for _ in range(3)]
    tcp = ["--control", "tcp://*:%d" % ports[0], "--events", "tcp://*:%d" % ports[1],
           "--workers", "tcp://*:%d" % ports[2]]
    other_run = os.path.join(system.dir, "run-tcp")
    system.spawn("broker-tcp", [system.binary("broker", "rill-broker"), "--run-dir", other_run, "--log", "info"]
                 + tcp)
    wait_check(system, lambda: broker_check(system, *tcp), 0, "alive")
    # The env twin works as the flag does (docs/CONFIG.md).
    status, out, err, _ = run_check(system, [system.binary("broker", "rill-broker"), "--check"],
                                    env={"RILL_CONTROL_ENDPOINT": "tcp://*:%d" % ports[0]})
    check(status == 0 and "alive" in out, "check by environment: %d %r %r" % (status, out, err))

    system.broker.stop()
    status, out, err, seconds = broker_check(system, "--timeout-ms", "1000")
    check(status == 1 and out == "" and err.startswith("rill-broker --check: ") and err.count("\n") == 1,
          "check of a stopped broker: %d %r %r" % (status, out, err))
    check(seconds < 5, "the check took %.1f s" % seconds)
    status, _, err, _ = broker_check(system, "--timeout-ms", "x")
    check(status == 2, "a bad --timeout-ms: %d %r" % (status, err))


def test_worker_check(ctx):
    """rill-worker --check reads the worker's health file: 0 while it runs
    joined; with the broker gone 1 "not joined" while --check-alive stays 0;
    0 again when the broker is back; --check-alive 1 once the worker is
    stopped (SIGSTOP: the file goes stale) and once it exited (the file is
    removed); --health-file and RILL_WORKER_HEALTH_FILE name the file."""
    system = ctx.system(workers=1, config=FAST)
    system.wait_healthy(workers=1)
    named = ("--name", "worker1")
    status, out, err, _ = wait_check(system, lambda: worker_check(system, "--check", *named), 0, "joined")
    check(out.startswith("worker worker1 alive, joined to broker ") and err == "", "%r %r" % (out, err))
    status, _, err, _ = worker_check(system, "--check")
    check(status == 2 and "--name" in err, "--check without a name: %d %r" % (status, err))

    system.broker.stop()
    wait_check(system, lambda: worker_check(system, "--check", *named), 1, "not joined")
    status, out, _, _ = worker_check(system, "--check-alive", *named)
    check(status == 0 and "alive, not joined" in out, "--check-alive without a broker: %d %r" % (status, out))
    system.broker = system.start_broker()
    wait_check(system, lambda: worker_check(system, "--check", *named), 0, "joined to broker")

    worker = system.workers[0]
    worker.signal(signal.SIGSTOP)
    try:
        # 3 heartbeats (200 ms) + 1 s: stale within 2 s of the stop.
        status, _, err, _ = wait_check(system, lambda: worker_check(system, "--check-alive", *named), 1, "ms old",
                                       timeout=10)
        check("stopped, stuck or gone" in err, err)
    finally:
        worker.signal(signal.SIGCONT)
    wait_check(system, lambda: worker_check(system, "--check", *named), 0, "joined")

    health = os.path.join(system.dir, "w2.health")
    system.start_worker(name="worker2", extra=("--health-file", health))
    wait_check(system, lambda: worker_check(system, "--check", env={"RILL_WORKER_HEALTH_FILE": health}), 0,
               "worker worker2 alive, joined")
    check(worker.stop() == 0, "worker1 did not stop cleanly")
    status, _, err, _ = worker_check(system, "--check-alive", *named)
    check(status == 1 and "no health file" in err, "after worker1 exited: %d %r" % (status, err))
    check(not os.path.exists(os.path.join(system.run_dir, "health", "worker1.json")), "worker1's file stayed")
