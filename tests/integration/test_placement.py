"""The CPUs rill's processes run on (common/rill_cpus.h): RILL_PLACEMENT=split
puts every thread of the frontend on the last CPU the process may use and
every thread of the broker and of a worker on the others (with one CPU,
nothing is split), and jobs stream as before; RILL_CPUS names one process's
CPUs and wins over RILL_PLACEMENT; a bad value of either stops the process at
start with its reason; none of them set, the processes keep the CPUs they
were started with; a command of the exec kind gets back the CPUs its worker
was started with. Under split, a quiet broker or worker runs on the
frontend's CPU and goes back to the others when busy
(common/rill_quiet_cpu.h); RILL_PLACEMENT_BUSY_PER_S=0 keeps the split
fixed."""
import os
import shutil
import time

from harness import check, exec_child, thread_cpus

SLEEP = shutil.which("sleep") or "/bin/sleep"


def check_threads(process, want):
    threads = thread_cpus(process.popen.pid)
    # The loop and libzmq's I/O thread at least: the I/O thread inherits.
    check(len(threads) >= 2 and all(cpus == want for cpus in threads.values()),
          "%s's threads run on %r, not %r" % (process.name, threads, want))


def demo_job_streams(system, port=None):
    body = {"kind": "demo", "args": {"parts": 3, "interval_ms": 5}}
    stream = system.stream_on(port, "POST", "/v1/jobs", body) if port else system.stream("POST", "/v1/jobs", body)
    check(stream.status == 200, stream.status)
    events = stream.read_all()
    parts = [e for e in events if e.get("event") == "part"]
    check(len(parts) == 3 and events[-1].get("event") == "done", events)


def threads_on(process, want):
    threads = thread_cpus(process.popen.pid)
    return len(threads) >= 2 and all(cpus == want for cpus in threads.values())


def test_split_puts_the_frontend_apart(ctx):
    allowed = os.sched_getaffinity(0)
    # A low threshold (common/rill_quiet_cpu.h): a demo job at ~1,000 parts
    # a second makes the worker and the broker busy.
    system = ctx.system(environment={"RILL_PLACEMENT": "split", "RILL_PLACEMENT_BUSY_PER_S": "200"}, workers=1,
                        config={"exec": {"slow": {"argv": [SLEEP, "60"]}}})
    system.wait_healthy(workers=1)
    if len(allowed) < 2:
        for process in (system.broker, system.frontend, system.workers[0]):
            check_threads(process, allowed)
        check("one CPU, nothing to split" in system.frontend.log_text(), system.frontend.log_text())
        demo_job_streams(system)
        return
    last = max(allowed)
    others = allowed - {last}
    check_threads(system.frontend, {last})
    check("RILL_PLACEMENT=split: running on CPUs %d" % last in system.frontend.log_text(),
          system.frontend.log_text())
    backends = (system.broker, system.workers[0])
    # Placed on the others first thing; quiet, on the frontend's CPU.
    for process in backends:
        check("RILL_PLACEMENT=split: running on CPUs %s" % cpu_list(others) in process.log_text(),
              process.log_text())
        system.wait_for(lambda: threads_on(process, {last}), timeout=15,
                        what="%s's threads on the frontend's CPU %d" % (process.name, last))
        check("quiet (" in process.log_text(), process.log_text())
    demo_job_streams(system)

    # Busy: back on the others while a job streams ~1,000 parts a second.
    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 20000, "interval_ms": 1}})
    check(stream.status == 200, stream.status)
    for process in backends:
        system.wait_for(lambda: threads_on(process, others), timeout=15,
                        what="%s's threads back on CPUs %r" % (process.name, sorted(others)))
        check("busy (" in process.log_text(), process.log_text())
    stream.close()  # the job's last subscriber gone: it is cancelled
    for process in backends:
        system.wait_for(lambda: threads_on(process, {last}), timeout=15,
                        what="%s's threads on the frontend's CPU again" % process.name)
    check_threads(system.frontend, {last})

    # The exec kind's command: the CPUs the worker was started with.
    stream = system.stream("POST", "/v1/jobs", {"kind": "exec", "args": {"name": "slow"}})
    check(stream.status == 200, stream.status)
    child = exec_child(system, system.workers[0].popen.pid, SLEEP)
    # give_back runs as soon as posix_spawn returns: allow it a moment.
    system.wait_for(lambda: all(cpus == allowed for cpus in thread_cpus(child).values()), timeout=10,
                    what="the exec job's %s on CPUs %r" % (SLEEP, sorted(allowed)))
    stream.close()


def test_split_stays_fixed_with_no_threshold(ctx):
    """RILL_PLACEMENT_BUSY_PER_S=0: the broker and the workers keep the
    others, quiet or not; a value that is not a number stops them at start."""
    allowed = os.sched_getaffinity(0)
    system = ctx.system(environment={"RILL_PLACEMENT": "split", "RILL_PLACEMENT_BUSY_PER_S": "0"}, workers=1)
    system.wait_healthy(workers=1)
    want = allowed if len(allowed) < 2 else allowed - {max(allowed)}
    time.sleep(3)  # a quiet process would have moved at once, and again after two quiet seconds
    for process in (system.broker, system.workers[0]):
        check_threads(process, want)
        check("quiet (" not in process.log_text(), process.log_text())
    demo_job_streams(system)

    system.env = dict(system.env, RILL_PLACEMENT_BUSY_PER_S="fast")
    for folder, binary in (("broker", "rill-broker"), ("workers", "rill-worker")):
        name = "bad-threshold-" + folder
        bad = system.spawn(name, [system.binary(folder, binary), "--run-dir", os.path.join(system.dir, name)])
        bad.expected_exit = 2
        check(bad.popen.wait(10) == 2, "%s with RILL_PLACEMENT_BUSY_PER_S=fast exited %s" %
              (binary, bad.popen.returncode))
        with open(bad.log_path) as f:
            text = f.read()
        check("RILL_PLACEMENT_BUSY_PER_S" in text and '"fast"' in text, "%s said: %r" % (binary, text))


def cpu_list(cpus):
    """The list form rill logs ("0-2,5") of a set of CPUs."""
    ranges, ordered = [], sorted(cpus)
    start = previous = ordered[0]
    for cpu in ordered[1:] + [None]:
        if cpu is not None and cpu == previous + 1:
            previous = cpu
            continue
        ranges.append("%d" % start if start == previous else "%d-%d" % (start, previous))
        if cpu is not None:
            start = previous = cpu
    return ",".join(ranges)


def test_cpus_names_a_list_and_bad_values_stop_at_start(ctx):
    allowed = os.sched_getaffinity(0)
    first = min(allowed)
    system = ctx.system(workers=1)
    system.wait_healthy(workers=1)
    # Neither set: the CPUs they were started with.
    for process in (system.broker, system.frontend, system.workers[0]):
        check_threads(process, allowed)

    # RILL_CPUS: that list, and it wins over RILL_PLACEMENT.
    system.env = dict(system.env, RILL_CPUS=str(first), RILL_PLACEMENT="split")
    worker = system.start_worker(name="listed")
    port = system.start_frontend_on_free_port(name="frontend-listed", workers=2)
    check_threads(worker, {first})
    check_threads([p for p in system.processes if p.name == "frontend-listed"][0], {first})
    demo_job_streams(system, port=port)

    # Bad values: exit 2 at start, the variable and the value in the reason.
    bad_values = [("RILL_CPUS", "1-"), ("RILL_CPUS", "cpu0"), ("RILL_PLACEMENT", "spread")]
    for variable, value in bad_values:
        env = {k: v for k, v in system.env.items() if k not in ("RILL_CPUS", "RILL_PLACEMENT")}
        system.env = dict(env, **{variable: value})
        for folder, binary in (("broker", "rill-broker"), ("workers", "rill-worker"),
                               ("frontend", "rill-frontend")):
            name = "bad-%s-%s" % (folder, value)
            bad = system.spawn(name, [system.binary(folder, binary), "--run-dir", os.path.join(system.dir, name)])
            bad.expected_exit = 2
            check(bad.popen.wait(10) == 2, "%s with %s=%s exited %s" % (binary, variable, value, bad.popen.returncode))
            with open(bad.log_path) as f:
                text = f.read()
            check(variable in text and '"%s"' % value in text, "%s said: %r" % (binary, text))
