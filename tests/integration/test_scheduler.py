"""The CPU scheduling policy of rill's processes (common/rill_scheduler.h):
every thread of the broker, the frontend and a worker runs under the policy
it was started with (Linux's default, SCHED_OTHER, here; SCHED_BATCH when
started so from outside) unless RILL_SCHEDULER asks for SCHED_BATCH
("batch") or SCHED_OTHER ("normal"), a bad value stops the process at start
with its reason, and a command of the exec kind runs under Linux's default
whatever the worker's."""
import os
import shutil
import time

from harness import check, child_pids_of

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
    for process in [system.broker, system.frontend] + system.workers:
        policies = thread_policies(process.popen.pid)
        # The loop and libzmq's I/O thread at least: the threads inherit it.
        check(len(policies) >= 2, "%s: threads %r" % (process.name, policies))
        check(set(policies.values()) == {SCHED_OTHER}, "%s: policies %r" % (process.name, policies))

    # RILL_SCHEDULER=batch: SCHED_BATCH in every thread of a new worker ...
    system.env = dict(system.env, RILL_SCHEDULER="batch")
    batch = system.start_worker(name="batch")
    system.wait_healthy(workers=2)
    policies = thread_policies(batch.popen.pid)
    check(len(policies) >= 2 and set(policies.values()) == {SCHED_BATCH}, policies)
    # ... but its exec command runs under Linux's default.
    system.workers[0].stop()
    system.wait_for(lambda: [w["name"] for w in system.json_request("GET", "/v1/workers")[1]["workers"]] == ["batch"],
                    timeout=10, what="the batch worker alone")
    stream = system.stream("POST", "/v1/jobs", {"kind": "exec", "args": {"name": "slow"}})
    check(stream.status == 200, stream.status)
    deadline = time.monotonic() + 10
    while not child_pids_of(batch.popen.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    children = child_pids_of(batch.popen.pid)
    check(len(children) == 1, "the worker's children: %r" % children)
    check(set(thread_policies(children[0]).values()) == {SCHED_OTHER}, thread_policies(children[0]))
    stream.close()

    # Started under SCHED_BATCH from outside (as by chrt or systemd's
    # CPUSchedulingPolicy=): unset, RILL_SCHEDULER leaves that policy to
    # every thread; "normal" gives Linux's default back.
    os.sched_setscheduler(0, SCHED_BATCH, os.sched_param(0))  # inherited by the fork
    try:
        system.env = {k: v for k, v in system.env.items() if k != "RILL_SCHEDULER"}
        outside = system.start_worker(name="outside")
        system.env = dict(system.env, RILL_SCHEDULER="normal")
        normal = system.start_worker(name="normal")
    finally:
        os.sched_setscheduler(0, SCHED_OTHER, os.sched_param(0))
    system.wait_healthy(workers=3)
    policies = thread_policies(outside.popen.pid)
    check(len(policies) >= 2 and set(policies.values()) == {SCHED_BATCH}, "unset: %r" % policies)
    policies = thread_policies(normal.popen.pid)
    check(len(policies) >= 2 and set(policies.values()) == {SCHED_OTHER}, "normal: %r" % policies)

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
