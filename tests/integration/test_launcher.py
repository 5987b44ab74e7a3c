"""test_launcher.py - `./rill up` starts a working system and stops all of it;
`./rill help|down|status|reload|logs` find it through its run directory.

The README's first command is the product's front door, so it is tested as a
user runs it: a real launcher process, its printed URL, a real job, then
SIGTERM (or `./rill down`), after which none of the processes it started may
be left. The logs `up` keeps share one time base (docs/LOGGING.md).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

from harness import check, free_port, open_files, thread_cpus

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
    # Waited for, not 0.2 s: a supervisor gives its log sink (tee, the run
    # dir's logs in its command line) up to 3 s to copy its process's last
    # lines (./rill, supervise), so one may end just after the launcher.
    left = []

    def none_left():
        left[:] = processes_using(run_dir)
        return not left
    try:
        wait_for(none_left, 10, "the processes to end")
    except AssertionError:
        check(False, "processes left 10 s after SIGTERM: %r" % left)


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
    """./rill status's process table as {name: (pid, state, restarts, last_exit)}."""
    output = subprocess.run([os.path.join(TOP, "rill"), "status", "--run-dir", run_dir], cwd=TOP,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    check(output.returncode == 0, output.stdout)
    rows = {}
    for line in output.stdout.decode().splitlines()[1:]:
        if not line.strip():
            break  # the table ends; the system's summary follows
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


# ---- help, down, status, reload, logs, one time base ----

def rill(*args, timeout=60):
    """Runs ./rill ARGS; returns (exit status, stdout, stderr) as text."""
    done = subprocess.run([os.path.join(TOP, "rill")] + list(args), cwd=TOP, stdin=subprocess.DEVNULL,
                          env=dict(os.environ, RILL_NO_INSTALL="1", NO_COLOR="1"),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")


COMMANDS = ("up", "down", "status", "logs", "reload", "test", "build", "help")


def test_rill_help_is_real_help(ctx):
    for args in (["--help"], ["-h"], ["help"]):
        code, out, err = rill(*args)
        check(code == 0, "./rill %s exited %d: %s" % (" ".join(args), code, err))
        check(out.startswith("usage: ./rill COMMAND"), out)
        for command in COMMANDS:
            check("\n  %s " % command in out, "%s not in the help: %s" % (command, out))
        check("set -euo" not in out + err and "TOP=" not in out + err, "bash internals in the help: %s" % out)
    # Each command's options: `help COMMAND` and `COMMAND --help` say the same.
    for command in COMMANDS:
        code, out, err = rill("help", command)
        check(code == 0 and out.startswith("usage: ./rill %s" % command), "help %s: %d %s %s" % (command, code, out, err))
        code, same, err = rill(command, "--help")
        check(code == 0 and same == out, "%s --help: %d %s %s" % (command, code, same, err))
    code, out, _ = rill("help", "up")
    check(all(option in out for option in ("--port", "--workers", "--run-dir", "--config", "--log", "--build")), out)
    code, out, _ = rill("help", "logs")
    check("--follow" in out and "--lines" in out and "NAME" in out, out)
    # A mistake: the help on stderr, nothing on stdout, exit 2.
    for args in (["frobnicate"], [], ["help", "frobnicate"], ["status", "--frobnicate"]):
        code, out, err = rill(*args)
        check(code == 2 and out == "", "./rill %s: exit %d, stdout %r" % (" ".join(args), code, out))
        check("usage: ./rill" in err or "./rill help status" in err, "./rill %s: stderr %r" % (" ".join(args), err))


def log_lines(text):
    """Process log lines of text as (ms, role, pid, rest)."""
    found = []
    for line in text.splitlines():
        match = re.match(r"^ *(\d+)ms (\w+)\[(\d+)\] (.*)$", line)
        if match:
            found.append((int(match.group(1)), match.group(2), int(match.group(3)), match.group(4)))
    return found


def test_rill_down_status_reload_logs_and_one_time_base(ctx):
    port = free_port()
    work = tempfile.mkdtemp(prefix="rill-up-")
    run_dir = os.path.join(work, "run")
    config_path = os.path.join(work, "rill.json")
    with open(os.path.join(TOP, "config", "rill.json")) as f:
        config = json.load(f)
    config["max_worker_credit"] = 1  # one job per worker: more are queued
    with open(config_path, "w") as f:
        json.dump(config, f)
    code, _, err = rill("down", "--run-dir", run_dir)
    check(code == 1 and "no ./rill up runs on" in err, "down with nothing up: %d %s" % (code, err))
    code, _, err = rill("reload", "--run-dir", run_dir)
    check(code == 1 and "no ./rill up runs on" in err, "reload with nothing up: %d %s" % (code, err))
    launcher = start_launcher(port, run_dir, ["--build", ctx.build_dir, "--config", config_path])
    try:
        url = wait_up(launcher)
        # Read the launcher's output on: nothing may block its pipe.
        threading.Thread(target=launcher.stdout.read, daemon=True).start()
        merged = os.path.join(run_dir, "logs", "rill.log")
        code, out, err = rill("logs", "--run-dir", run_dir)
        check(code == 0, err)
        start_ms = int(re.search(r"RILL_START_EPOCH_MS=(\d+)", out).group(1))
        check(abs(time.time() * 1000 - start_ms) < 120000, "the start instant %d is now" % start_ms)

        # status: the processes, then the workers and the queue, from the frontend.
        rows = status(run_dir)
        check(sorted(rows) == ["broker", "frontend", "worker1", "worker2"], rows)
        # RILL_PLACEMENT=split by default: with two CPUs or more, every
        # thread of the frontend on the last one; the others' are placed on
        # the rest and, quiet (nothing runs yet), join the frontend's CPU
        # (common/rill_quiet_cpu.h).
        allowed = os.sched_getaffinity(0)
        want = allowed if len(allowed) < 2 else {max(allowed)}
        for name, row in rows.items():
            pid = int(row[0])

            def placed():
                threads = thread_cpus(pid)
                return len(threads) >= 2 and all(cpus == want for cpus in threads.values())
            wait_for(placed, 15, "%s's threads on CPUs %r" % (name, sorted(want)))
        code, out, err = rill("status", "--run-dir", run_dir)
        check(re.search(r"2 workers alive, 0 jobs queued, 0 running", out), out)
        jobs = []
        for _ in range(4):
            code_, body = post_json(url + "v1/jobs?detach=1", {"kind": "demo", "args": {"parts": 1000, "interval_ms": 50}})
            check(code_ == 202, body)
            jobs += body["jobs"]
        wait_for(lambda: re.search(r"2 workers alive, 2 jobs queued, 2 running",
                                   rill("status", "--run-dir", run_dir)[1]), 20, "2 queued, 2 running in status")

        # A cancelled job's error and its log line say "cancelled" once each.
        for job in jobs:
            request = urllib.request.Request(url + "v1/jobs/" + job, method="DELETE")
            with urllib.request.urlopen(request, timeout=10) as response:
                check(json.loads(response.read())["state"] == "cancelled", job)
        with urllib.request.urlopen(url + "v1/stream?job=" + jobs[0], timeout=20) as response:
            events = [json.loads(line) for line in response.read().splitlines()]
        errors = [e for e in events if e.get("event") == "error"]
        check(len(errors) == 1 and errors[0]["data"] == {"code": "cancelled", "message": "requested by a client"},
              errors)
        wait_for(lambda: "job %s cancelled: requested by a client\n" % jobs[3] in open(merged).read(), 10,
                 "the broker's line about the cancel")
        text = open(merged).read()
        check("cancelled: cancelled" not in text, [l for l in text.splitlines() if "cancelled: cancelled" in l])

        # reload: SIGHUP reaches every process, each says so in its log, and
        # a changed config takes effect.
        before, _ = post_json(url + "v1/jobs?detach=1", [{"kind": "demo"}, {"kind": "demo"}])
        check(before == 202, "two jobs in one request before the reload: %s" % before)
        config["max_jobs_per_request"] = 1
        with open(config_path, "w") as f:
            json.dump(config, f)
        code, out, err = rill("reload", "--run-dir", run_dir)
        check(code == 0, "reload: %d %s" % (code, err))
        rows = status(run_dir)
        for name, row in rows.items():
            check("%s (pid %s)" % (name, row[0]) in out, "reload names %s pid %s: %s" % (name, row[0], out))
        for name in rows:
            wait_for(lambda: "SIGHUP: config %s reloaded" % config_path in rill("logs", "--run-dir", run_dir, name)[1],
                     10, "%s logs its reload" % name)
        after, body = post_json(url + "v1/jobs?detach=1", [{"kind": "demo"}, {"kind": "demo"}])
        check(after == 413 and body["error"] == "too_many_jobs", "after the reload: %s %r" % (after, body))

        # logs: one process's log holds its lines only; --lines; --follow
        # shows what comes; an unknown name fails.
        code, out, _ = rill("logs", "--run-dir", run_dir, "worker2")
        lines = log_lines(out)
        check(lines and all(role == "worker" and pid == int(rows["worker2"][0]) for _, role, pid, _ in lines), out)
        code, out, _ = rill("logs", "--run-dir", run_dir, "--lines", "2", "broker")
        check(code == 0 and len(out.splitlines()) == 2, out)
        code, out, err = rill("logs", "--run-dir", run_dir, "worker9")
        check(code == 1 and "worker1" in err and "worker9" in err, "%d %s" % (code, err))
        follower = subprocess.Popen([os.path.join(TOP, "rill"), "logs", "--run-dir", run_dir, "--follow",
                                     "--lines", "0"], cwd=TOP, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            # It follows from the end (--lines 0): the kill's lines are
            # written once it is there. GNU tail sets up its inotify
            # instance once it has read to the file's end.
            wait_for(lambda: "anon_inode:inotify" in open_files(follower.pid), 10,
                     "the follower at the log's end")
            killed_at_ms = time.time() * 1000 - start_ms
            os.kill(int(rows["worker1"][0]), signal.SIGKILL)
            # The line of the restarted worker comes through the follower.
            seen = []
            deadline = time.time() + 30
            while time.time() < deadline:
                line = follower.stdout.readline().decode("utf-8", "replace")
                seen.append(line)
                if re.search(r"worker\[\d+\] info .*worker1 connecting", line):
                    break
            check(seen and "worker1 connecting" in seen[-1], "followed: %s" % "".join(seen))
            check(any("worker1 (pid %s) exited with status 137" % rows["worker1"][0] in l for l in seen), seen)
        finally:
            follower.terminate()
            follower.wait(10)
        restarted_at_ms = time.time() * 1000 - start_ms

        # One time base: the ms of every process count from the launcher's
        # start instant. The first processes' first lines come soon after it;
        # the restarted worker's first line says when it started, not ~0.
        lines = log_lines(open(merged).read())
        first = {}
        for ms, role, pid, _ in lines:
            first.setdefault(pid, (ms, role))
        for name in ("broker", "frontend", "worker2"):
            ms, role = first[int(rows[name][0])]
            check(ms < 60000, "%s's first line at %d ms" % (name, ms))
        new_worker1 = status(run_dir)["worker1"][0]
        ms, role = first[int(new_worker1)]
        check(role == "worker" and killed_at_ms - 50 <= ms <= restarted_at_ms + 50,
              "the restarted worker's first line at %d ms: killed at %d, seen at %d" % (ms, killed_at_ms, restarted_at_ms))

        # down: stops the launcher and all it runs, and says so.
        code, out, err = rill("down", "--run-dir", run_dir)
        check(code == 0 and "stopped" in out, "down: %d %s %s" % (code, out, err))
        check(launcher.poll() == 0, "the launcher exited 0 before down returned: %r" % launcher.poll())
        check(processes_using(run_dir) == [], "left after down: %r" % processes_using(run_dir))
        code, _, err = rill("down", "--run-dir", run_dir)
        check(code == 1 and "no ./rill up runs on" in err, "a second down: %d %s" % (code, err))
        code, _, err = rill("status", "--run-dir", run_dir)
        check(code == 1, "status after down: %d %s" % (code, err))
        code, out, _ = rill("logs", "--run-dir", run_dir, "--lines", "1")
        check(code == 0 and out == "rill: stopped\n", "the logs stay, the launcher's last line last: %r" % out)
    finally:
        clean_up(launcher, run_dir, work)


def post_json(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode())
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
