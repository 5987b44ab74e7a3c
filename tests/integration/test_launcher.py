"""test_launcher.py - `./rill up` starts a working system and stops all of it.

The README's first command is the product's front door, so it is tested as a
user runs it: a real launcher process, its printed URL, a real job, then
SIGTERM, after which none of the processes it started may be left.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

from harness import check, free_port

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def processes_using(run_dir):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if run_dir.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def stop_and_check(launcher, run_dir):
    """SIGTERM stops the launcher with status 0 and every process it started."""
    launcher.send_signal(signal.SIGTERM)
    check(launcher.wait(30) == 0, "launcher exit status")
    time.sleep(0.2)
    left = processes_using(run_dir)
    check(left == [], "processes left after SIGTERM: %r" % left)


def clean_up(launcher, run_dir, work):
    if launcher.poll() is None:
        launcher.kill()
        launcher.wait()
    for pid in processes_using(run_dir):
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(work, ignore_errors=True)


def start_launcher(port, run_dir, extra=()):
    env = dict(os.environ, RILL_NO_INSTALL="1", NO_COLOR="1")
    return subprocess.Popen([os.path.join(TOP, "rill"), "up", "--port", str(port), "--workers", "2",
                             "--run-dir", run_dir] + list(extra), cwd=TOP, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def wait_up(launcher):
    lines = []
    deadline = time.time() + 120
    while time.time() < deadline:
        line = launcher.stdout.readline().decode("utf-8", "replace")
        if not line:
            break
        lines.append(line)
        if "rill: up: " in line:
            return line.split("rill: up: ")[1].split()[0]
    check(False, "not up: %s" % "".join(lines[-20:]))


def status(run_dir):
    """./rill status as {name: (pid, state, restarts, last_exit)}."""
    output = subprocess.run([os.path.join(TOP, "rill"), "status", "--run-dir", run_dir], cwd=TOP,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    check(output.returncode == 0, output.stdout)
    rows = {}
    for line in output.stdout.decode().splitlines()[1:]:
        name, pid, state, restarts, last_exit = line.split()
        rows[name] = (pid, state, int(restarts), last_exit)
    return rows


def run_demo_job(url):
    request = urllib.request.Request(url + "v1/jobs", data=b'{"kind":"demo","args":{"parts":3,"interval_ms":10}}')
    with urllib.request.urlopen(request, timeout=20) as response:
        events = [json.loads(line) for line in response.read().splitlines()]
    return [e["event"] for e in events if e["event"] not in ("heartbeat", "accepted")]


def wait_for(condition, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if condition():
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    check(False, "timed out waiting for %s" % what)


def health(url):
    with urllib.request.urlopen(url + "healthz", timeout=5) as response:
        return json.loads(response.read())


def healthy_workers(url):
    return health(url).get("workers")


def test_rill_up_serves_jobs_and_stops_everything(ctx):
    port = free_port()
    work = tempfile.mkdtemp(prefix="rill-up-")
    run_dir = os.path.join(work, "run")
    launcher = start_launcher(port, run_dir)  # the default build: `up` builds it first
    try:
        url = wait_up(launcher)
        check(url == "http://127.0.0.1:%d/" % port, "printed URL %s" % url)
        check(healthy_workers(url) == 2, "workers in /healthz")
        check(run_demo_job(url) == ["part", "part", "part", "done"], "a demo job")
        check(len(processes_using(run_dir)) >= 4, "broker, frontend and two workers should run")
        check(oct(os.stat(run_dir).st_mode & 0o777) == "0o700", "run dir mode")
        stop_and_check(launcher, run_dir)
    finally:
        clean_up(launcher, run_dir, work)


def test_rill_up_supervises_and_refuses_a_second_instance(ctx):
    """A process that dies is restarted and the others stay up; a second
    ./rill up on the same run directory or the same port exits non-zero at
    once with a message naming the holder, and the first is unharmed."""
    port = free_port()
    work = tempfile.mkdtemp(prefix="rill-up-")
    run_dir = os.path.join(work, "run")
    launcher = start_launcher(port, run_dir, ["--build", ctx.build_dir])
    try:
        url = wait_up(launcher)
        rows = status(run_dir)
        check(sorted(rows) == ["broker", "frontend", "worker1", "worker2"], rows)
        check(all(row[1] == "running" and row[2] == 0 for row in rows.values()), rows)

        # kill -9 a worker: only it is restarted.
        os.kill(int(rows["worker1"][0]), signal.SIGKILL)
        wait_for(lambda: status(run_dir)["worker1"][2] == 1 and status(run_dir)["worker1"][1] == "running",
                 30, "worker1 restarted")
        after = status(run_dir)
        check(after["worker1"][3] == "137", after)
        for name in ("broker", "frontend", "worker2"):
            check(after[name][0] == rows[name][0] and after[name][2] == 0, "%s changed: %r" % (name, after))
        wait_for(lambda: healthy_workers(url) == 2, 30, "two workers again")
        check(run_demo_job(url) == ["part", "part", "part", "done"], "job after a worker restart")

        # kill -9 the broker: restarted, the frontend and workers rejoin it.
        old_broker = health(url)["broker"]
        os.kill(int(rows["broker"][0]), signal.SIGKILL)
        wait_for(lambda: status(run_dir)["broker"][2] == 1, 30, "broker restarted")
        wait_for(lambda: health(url)["broker"] != old_broker and healthy_workers(url) == 2, 60,
                 "the frontend and both workers join the new broker")
        check(run_demo_job(url) == ["part", "part", "part", "done"], "job after a broker restart")
        check(status(run_dir)["frontend"][0] == rows["frontend"][0], "the frontend stayed up")

        # A second instance on the same run directory, then on the same port.
        broker_pid = status(run_dir)["broker"][0]
        started = time.time()
        second = subprocess.run([os.path.join(TOP, "rill"), "up", "--port", str(free_port()), "--run-dir",
                                 run_dir, "--build", ctx.build_dir], cwd=TOP,
                                env=dict(os.environ, RILL_NO_INSTALL="1"), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        check(second.returncode != 0, "second up on the same run dir: exit %d" % second.returncode)
        check(("in use by rill-broker pid %s" % broker_pid).encode() in second.stdout, second.stdout)
        check(time.time() - started < 30, "the refusal is at once")
        other_run_dir = os.path.join(work, "other")
        third = subprocess.run([os.path.join(TOP, "rill"), "up", "--port", str(port), "--run-dir", other_run_dir,
                                "--build", ctx.build_dir], cwd=TOP, env=dict(os.environ, RILL_NO_INSTALL="1"),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=60)
        check(third.returncode != 0, "second up on the same port: exit %d" % third.returncode)
        check(b"port %d" % port in third.stdout and b"taken" in third.stdout, third.stdout)
        check(b"rill: up:" not in third.stdout, "never says up for another server")
        check(processes_using(other_run_dir) == [], "nothing left of the refused instance")
        check(run_demo_job(url) == ["part", "part", "part", "done"], "the first instance is unharmed")

        stop_and_check(launcher, run_dir)
    finally:
        clean_up(launcher, run_dir, work)
