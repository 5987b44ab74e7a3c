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


def test_rill_up_serves_jobs_and_stops_everything(ctx):
    port = free_port()
    work = tempfile.mkdtemp(prefix="rill-up-")
    run_dir = os.path.join(work, "run")
    env = dict(os.environ, RILL_NO_INSTALL="1", NO_COLOR="1")
    launcher = subprocess.Popen([os.path.join(TOP, "rill"), "up", "--port", str(port), "--workers", "2",
                                 "--run-dir", run_dir], cwd=TOP, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = None
        deadline = time.time() + 120  # may have to build first
        lines = []
        while time.time() < deadline and url is None:
            line = launcher.stdout.readline().decode("utf-8", "replace")
            if not line:
                break
            lines.append(line)
            if "rill: up: " in line:
                url = line.split("rill: up: ")[1].split()[0]
        check(url == "http://127.0.0.1:%d/" % port, "no URL printed: %s" % "".join(lines[-20:]))
        with urllib.request.urlopen(url + "healthz", timeout=10) as response:
            health = json.loads(response.read())
        check(health["workers"] == 2, health)
        request = urllib.request.Request(url + "v1/jobs", data=b'{"kind":"demo","args":{"parts":3,"interval_ms":10}}')
        with urllib.request.urlopen(request, timeout=10) as response:
            events = [json.loads(line) for line in response.read().splitlines()]
        events = [e for e in events if e["event"] != "heartbeat"]
        check([e["event"] for e in events] == ["part", "part", "part", "done"], events)
        check(len(processes_using(run_dir)) >= 4, "broker, frontend and two workers should run")
        check(oct(os.stat(run_dir).st_mode & 0o777) == "0o700", "run dir mode")
        launcher.send_signal(signal.SIGTERM)
        check(launcher.wait(30) == 0, "launcher exit status")
        time.sleep(0.2)
        left = processes_using(run_dir)
        check(left == [], "processes left after SIGTERM: %r" % left)
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
        for pid in processes_using(run_dir):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)
