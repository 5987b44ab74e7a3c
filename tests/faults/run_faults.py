#!/usr/bin/env python3
"""run_faults.py - fault injection on one host, through the real launcher.

    python3 tests/faults/run_faults.py --build build [-k FAULT] [--jobs 20]

For each fault, a fresh system is started by `./rill up --build DIR` (the
supervisor restarts what dies, as it does for a user). Twenty jobs of 100
parts x 100 ms run through it, half streamed by the POST that submitted
them, half submitted detached and followed with GET /v1/stream. A few
seconds in, the fault hits one process. Clients behave as a careful user's
would: when a stream breaks before its job ended, they reconnect (to the
restarted frontend) with `?since=<cursor>` until the job ends.

Each job must then satisfy rill's promises (docs/DESIGN.md "Promises"):
- it ends with `done`;
- every seq from 1 to its last arrives exactly once, or inside a `gap`;
- no part of a superseded attempt arrives after its `retry` event (the
  parts after the last retry count 1, 2, 3, ... as their seqs go on, a
  gap skipping as many of each);
- it ends within 60 s of when it would have ended without the fault.

Prints one row per fault and ends with "N passed, N failed".
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PARTS = 100
INTERVAL_MS = 100
SETTLE_S = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class System:
    """One `./rill up` with its own run directory and port."""

    def __init__(self, build_dir, workers=2):
        self.work = tempfile.mkdtemp(prefix="rill-faults-")
        self.run_dir = os.path.join(self.work, "run")
        self.port = free_port()
        self.log_path = os.path.join(self.work, "up.log")
        self.log = open(self.log_path, "wb")
        env = dict(os.environ, RILL_NO_INSTALL="1", NO_COLOR="1")
        self.launcher = subprocess.Popen(
            [os.path.join(TOP, "rill"), "up", "--port", str(self.port), "--workers", str(workers),
             "--run-dir", self.run_dir, "--build", build_dir], cwd=TOP, env=env,
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while time.time() < deadline:
            with open(self.log_path, "rb") as f:
                if b"rill: up: " in f.read():
                    return
            if self.launcher.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("system not up: %s" % self.tail())

    def tail(self, lines=30):
        with open(self.log_path, "rb") as f:
            return b"\n".join(f.read().splitlines()[-lines:]).decode("utf-8", "replace")

    def pid(self, name):
        with open(os.path.join(self.run_dir, "supervisor", name + ".status")) as f:
            return int(f.read().split()[0])

    def wait_running(self, name, old_pid, timeout=30):
        """Waits until the supervisor runs a new process for name."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with open(os.path.join(self.run_dir, "supervisor", name + ".status")) as f:
                    fields = f.read().split()
                if fields[1] == "running" and int(fields[0]) != old_pid:
                    return True
            except (OSError, IndexError, ValueError):
                pass
            time.sleep(0.1)
        return False

    def stop(self):
        if self.launcher.poll() is None:
            self.launcher.send_signal(signal.SIGTERM)
            try:
                self.launcher.wait(30)
            except subprocess.TimeoutExpired:
                self.launcher.kill()
                self.launcher.wait()
        self.log.close()

    def cleanup(self):
        shutil.rmtree(self.work, ignore_errors=True)


class Job:
    """What one client saw of one job."""

    def __init__(self):
        self.id = None
        self.seqs = []        # seqs of every event with a seq, in arrival order
        self.gaps = []        # (from, to)
        self.parts_after_retry = []  # (seq, data.i) of parts since the last retry event
        self.retries = 0
        self.end = None       # "done" or "error:<code>"
        self.reconnects = 0
        self.ended_at = None
        self.problem = None

    def last_seq(self):
        return self.seqs[-1] if self.seqs else 0

    def take(self, event):
        kind = event.get("event")
        if kind == "heartbeat" or "seq" not in event or event.get("seq") == 0:
            return
        if self.id is None:
            self.id = event.get("job")
        self.seqs.append(event["seq"])
        if kind == "part":
            self.parts_after_retry.append((event["seq"], event["data"].get("i")))
        elif kind == "retry":
            self.retries += 1
            self.parts_after_retry = []
        elif kind == "gap":
            self.gaps.append((event["data"]["from"], event["data"]["to"]))
        elif kind == "done":
            self.end = "done"
        elif kind == "error":
            self.end = "error:%s" % event["data"].get("code")
        if self.end is not None and self.ended_at is None:
            self.ended_at = time.time()


def read_stream(response, job, stop):
    """Reads NDJSON events into job until the job ends or the stream breaks."""
    while job.end is None and not stop.is_set():
        line = response.readline()
        if not line:
            return
        try:
            job.take(json.loads(line))
        except ValueError:
            job.problem = "unparsable line %r" % line[:80]
            return


def follow(port, job, stop, deadline):
    """Reconnects with ?since= until the job ends or the deadline passes."""
    while job.end is None and not stop.is_set() and time.time() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
            connection.request("GET", "/v1/stream?job=%s&since=%s:%d" % (job.id, job.id, job.last_seq()))
            response = connection.getresponse()
            if response.status == 200:
                read_stream(response, job, stop)
            else:
                response.read()
            connection.close()
        except (OSError, http.client.HTTPException):
            pass
        if job.end is None:
            job.reconnects += 1
            time.sleep(0.3)


BODY = json.dumps({"kind": "demo", "args": {"parts": PARTS, "interval_ms": INTERVAL_MS}}).encode()


def streamed_client(port, job, stop, deadline):
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        connection.request("POST", "/v1/jobs", body=BODY, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        if response.status != 200:
            job.problem = "POST answered %d" % response.status
            return
        read_stream(response, job, stop)
        connection.close()
    except (OSError, http.client.HTTPException):
        pass
    if job.id is None:
        job.problem = "the stream broke before any event told the job's id"
        return
    follow(port, job, stop, deadline)


def followed_client(port, job, stop, deadline):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    connection.request("POST", "/v1/jobs?detach=1", body=BODY)
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    job.id = answer["jobs"][0]
    follow(port, job, stop, deadline)


def verdict(job):
    """The problems of one job, as a short text; '' when it kept every promise."""
    if job.problem:
        return job.problem
    if job.end != "done":
        return "ended %s" % (job.end or "never")
    seen = set()
    for seq in job.seqs:
        if seq in seen:
            return "seq %d twice" % seq
        seen.add(seq)
    if job.seqs != sorted(job.seqs):
        return "seqs out of order"
    for first, last in job.gaps:
        seen.update(range(first, last + 1))
    missing = [s for s in range(1, job.last_seq() + 1) if s not in seen]
    if missing:
        return "seqs %s missing without a gap" % missing[:5]
    # One attempt numbers its parts i = 1, 2, 3, ... as their seqs go on:
    # i - seq is the same for all of them, across a gap too (the parts it
    # covers are missing from both). A part of another attempt is not.
    offsets = {seq - i for seq, i in job.parts_after_retry if i is not None}
    if len(offsets) > 1:
        return "parts of two attempts after the last retry"
    return ""


def inject(system, fault):
    """Applies one fault; returns a short description of what was done."""
    name, action = fault.split(":")
    old = system.pid(name)
    if action == "kill9":
        os.kill(old, signal.SIGKILL)
    elif action == "term":
        os.kill(old, signal.SIGTERM)
    elif action == "stop10":
        os.kill(old, signal.SIGSTOP)
        time.sleep(10)
        os.kill(old, signal.SIGCONT)
        return
    system.wait_running(name, old)


FAULTS = ["worker1:kill9", "broker:kill9", "frontend:kill9", "worker1:stop10",
          "worker1:term", "broker:term", "frontend:term"]


def run_fault(build_dir, fault, job_count):
    system = System(build_dir)
    jobs = [Job() for _ in range(job_count)]
    stop = threading.Event()
    started = time.time()
    deadline = started + PARTS * INTERVAL_MS / 1000.0 + SETTLE_S
    threads = []
    for index, job in enumerate(jobs):
        client = streamed_client if index % 2 == 0 else followed_client
        thread = threading.Thread(target=client, args=(system.port, job, stop, deadline), daemon=True)
        thread.start()
        threads.append(thread)
    time.sleep(3)
    inject(system, fault)
    for thread in threads:
        thread.join(max(0.1, deadline - time.time()))
    stop.set()
    system.stop()
    problems = [(job.id, verdict(job)) for job in jobs if verdict(job)]
    row = {
        "fault": fault,
        "done": sum(1 for job in jobs if job.end == "done"),
        "events": sum(len(job.seqs) for job in jobs),
        "gaps": sum(len(job.gaps) for job in jobs),
        "retries": sum(job.retries for job in jobs),
        "reconnects": sum(job.reconnects for job in jobs),
        "seconds": round(max((job.ended_at or time.time()) for job in jobs) - started, 1),
        "problems": problems,
    }
    if problems:
        row["log"] = system.tail(40)
    system.cleanup()
    return row


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    parser.add_argument("-k", dest="selected")
    parser.add_argument("--jobs", type=int, default=20)
    arguments = parser.parse_args()
    build_dir = os.path.abspath(arguments.build)
    passed = failed = 0
    print("%-16s %5s %7s %5s %8s %10s %8s  %s" % ("fault", "done", "events", "gaps", "retries", "reconnects",
                                                  "seconds", "result"))
    sys.stdout.flush()
    for fault in FAULTS:
        if arguments.selected and arguments.selected not in fault:
            continue
        try:
            row = run_fault(build_dir, fault, arguments.jobs)
        except Exception as error:  # a harness failure is a failed fault, not a crash of the suite
            print("%-16s %s" % (fault, "FAIL: %s" % error))
            failed += 1
            continue
        ok = not row["problems"]
        print("%-16s %5d %7d %5d %8d %10d %8.1f  %s" % (
            fault, row["done"], row["events"], row["gaps"], row["retries"], row["reconnects"], row["seconds"],
            "ok" if ok else "FAIL: %d job(s): %s" % (len(row["problems"]), row["problems"][0][1])))
        if not ok:
            sys.stderr.write("--- %s: launcher log tail ---\n%s\n" % (fault, row["log"]))
        sys.stdout.flush()
        passed += ok
        failed += not ok
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
