"""The CPU scheduling policy of rill's processes (common/rill_scheduler.h):
every thread of the broker and of a worker runs under SCHED_BATCH, every
thread of the frontend under Linux's default (SCHED_OTHER), unless
RILL_SCHEDULER names one ("batch", "normal") or the process was started
under another policy than Linux's default, which then stands; a bad value
stops the process at start with its reason, and a command of the exec kind
runs under Linux's default whatever the worker's."""
import os
import shutil
import time

from harness import check, exec_child, thread_cpus

SCHED_OTHER, SCHED_BATCH = 0, 3
SLEEP = shutil.which("sleep") or "/bin/sleep"


def thread_policies(pid):
    """{thread id: policy} of every thread of pid (/proc's stat, field 41)."""
    policies = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        policies[int(tid)] = int(fields[38])  # field 41 of stat; 3 before these
    return policies


def test_scheduling_policy_by_default_with_batch_and_for_commands(ctx):
    system = ctx.system(workers=1, config={"exec": {"slow": {"argv": [SLEEP, "60"]}}})
    system.wait_healthy(workers=1)
    # By default the broker and the workers run under SCHED_BATCH, the
    # frontend under Linux's default: every thread (the loop and libzmq's
    # I/O thread at least) inherits its process's.
    for process, policy in [(system.broker, SCHED_BATCH), (system.frontend, SCHED_OTHER),
                            (system.workers[0], SCHED_BATCH)]:
        policies = thread_policies(process.popen.pid)
        check(len(policies) >= 2, "%s: threads %r" % (process.name, policies))
        check(set(policies.values()) == {policy}, "%s: policies %r" % (process.name, policies))

    # A batch worker's exec command runs under Linux's default.
    stream = system.stream("POST", "/v1/jobs", {"kind": "exec", "args": {"name": "slow"}})
    check(stream.status == 200, stream.status)
    # Its policy is looked at once it is the command (exec_child).
    child = exec_child(system, system.workers[0].popen.pid, SLEEP)
    check(set(thread_policies(child).values()) == {SCHED_OTHER}, thread_policies(child))
    stream.close()

    # RILL_SCHEDULER names a policy for every thread: "normal" for a worker,
    # "batch" for a frontend.
    system.env = dict(system.env, RILL_SCHEDULER="normal")
    normal = system.start_worker(name="normal")
    system.env = dict(system.env, RILL_SCHEDULER="batch")
    batch_port = system.start_frontend_on_free_port(name="frontend-batch", workers=2)
    system.wait_healthy(workers=2)
    policies = thread_policies(normal.popen.pid)
    check(len(policies) >= 2 and set(policies.values()) == {SCHED_OTHER}, "normal: %r" % policies)
    batch_frontend = [p for p in system.processes if p.name == "frontend-batch"][0]
    policies = thread_policies(batch_frontend.popen.pid)
    check(len(policies) >= 2 and set(policies.values()) == {SCHED_BATCH}, "batch: %r" % policies)
    check(batch_port != system.port, batch_port)

    # Started under SCHED_BATCH from outside (as by chrt or systemd's
    # CPUSchedulingPolicy=), a frontend keeps it when RILL_SCHEDULER is
    # unset, though its own default is Linux's.
    system.env = {k: v for k, v in system.env.items() if k != "RILL_SCHEDULER"}
    os.sched_setscheduler(0, SCHED_BATCH, os.sched_param(0))  # inherited by the fork
    try:
        system.start_frontend_on_free_port(name="frontend-outside", workers=2)
    finally:
        os.sched_setscheduler(0, SCHED_OTHER, os.sched_param(0))
    outside = [p for p in system.processes if p.name == "frontend-outside"][0]
    policies = thread_policies(outside.popen.pid)
    check(len(policies) >= 2 and set(policies.values()) == {SCHED_BATCH}, "unset: %r" % policies)

    # A bad value: exit 2 at start, the reason on stderr.
    system.env = dict(system.env, RILL_SCHEDULER="realtime")
    for folder, binary in (("broker", "rill-broker"), ("workers", "rill-worker"), ("frontend", "rill-frontend")):
        bad = system.spawn("bad-" + folder, [system.binary(folder, binary), "--run-dir",
                                             os.path.join(system.dir, "bad-run-" + folder)])
        bad.expected_exit = 2
        check(bad.popen.wait(10) == 2, "%s with RILL_SCHEDULER=realtime exited %s" % (binary, bad.popen.returncode))
        with open(bad.log_path) as f:
            text = f.read()
        check('"realtime"' in text and "batch" in text, "%s said: %r" % (binary, text))


def test_a_busy_broker_keeps_its_threads_on_one_cpu(ctx):
    """broker/colocate.h: from RILL_COLOCATE_PARTS_PER_S job parts a second
    (over a second) every thread of the broker shares the CPU its loop is
    on; under half that rate they get their CPUs back. A bad value stops the
    broker at start."""
    system = ctx.system(environment={"RILL_COLOCATE_PARTS_PER_S": "100"}, workers=1)
    system.wait_healthy(workers=1)
    broker = system.broker.popen.pid
    start = thread_cpus(broker)
    check(len(start) >= 2, "broker threads %r" % start)
    allowed = os.sched_getaffinity(broker)
    # ~400 parts a second for ~2.5 s.
    status, body = system.json_request("POST", "/v1/jobs?detach=1",
                                       [{"kind": "demo", "args": {"parts": 500, "interval_ms": 5}}
                                        for _ in range(2)])
    check(status == 202, "detach answered %s %r" % (status, body))
    if len(allowed) < 2:
        print("one CPU here: nothing to share")
        return
    deadline = time.monotonic() + 8
    pinned = {}
    while time.monotonic() < deadline:
        pinned = thread_cpus(broker)
        if all(len(cpus) == 1 for cpus in pinned.values()):
            break
        time.sleep(0.1)
    check(all(len(cpus) == 1 for cpus in pinned.values()) and len(set(map(frozenset, pinned.values()))) == 1,
          "busy, the broker's threads did not share one CPU: %r" % pinned)
    # The broker logs it once every thread is moved: after what was seen above.
    system.wait_for(lambda: "the broker's threads share CPU" in system.broker.log_text(), timeout=10,
                    what="the broker to log that its threads share a CPU")
    # The jobs end; the next second is quiet: every thread has its CPUs back.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        back = thread_cpus(broker)
        if all(cpus == allowed for cpus in back.values()):
            break
        time.sleep(0.2)
    check(all(cpus == allowed for cpus in thread_cpus(broker).values()),
          "quiet, the broker's threads stayed on one CPU: %r" % thread_cpus(broker))
    system.wait_for(lambda: "run on any of their CPUs again" in system.broker.log_text(), timeout=10,
                    what="the broker to log that its threads have their CPUs back")

    system.env = dict(system.env, RILL_COLOCATE_PARTS_PER_S="lots")
    bad = system.spawn("bad-colocate", [system.binary("broker", "rill-broker"), "--run-dir",
                                        os.path.join(system.dir, "bad-run-colocate")])
    bad.expected_exit = 2
    check(bad.popen.wait(10) == 2, "RILL_COLOCATE_PARTS_PER_S=lots: exited %s" % bad.popen.returncode)
    with open(bad.log_path) as f:
        text = f.read()
    check("RILL_COLOCATE_PARTS_PER_S" in text and '"lots"' in text, "the broker said: %r" % text)
