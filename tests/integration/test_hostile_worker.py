"""test_hostile_worker.py - a worker that breaks the rules (issue 9,
docs/PROTOCOL.md "Bounds" and "Parts are checked").

A fake worker written here in Python (Debian's python3-zmq) speaks rill/4
on the broker's workers socket: it announces a giant credit, sends a part
that is not one JSON value, one that is not UTF-8, and a frame larger than
max_message_bytes. The broker must stay healthy, fail each job with
bad_part, cap the credit, and no client may ever get a line that is not
JSON: every line of every stream is parsed.
"""
import json
import os
import sys
import time

try:
    import zmq
except ImportError:  # a python3 other than Debian's: its python3-zmq still fits
    sys.path.append("/usr/lib/python3/dist-packages")
    import zmq

from harness import check, metric

MAX_MESSAGE_BYTES = 256 * 1024
MAX_CREDIT = 4
CONFIG = {"max_message_bytes": MAX_MESSAGE_BYTES, "max_body_bytes": 65536, "max_worker_credit": MAX_CREDIT,
          "heartbeat_ms": 500}


class FakeWorker:
    """A DEALER that says what the test tells it to, and PINGs meanwhile."""

    def __init__(self, run_dir, credit):
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect("ipc://" + os.path.join(run_dir, "workers.sock"))
        self.session = os.urandom(16).hex()
        self.credit = credit
        self.jobs = []       # ids from every BATCH, in order
        self.cancelled = []  # ids from every CANCEL
        self.last_ping = 0.0

    def send(self, *frames):
        self.socket.send_multipart([b"rill/12"] + [f if isinstance(f, bytes) else f.encode() for f in frames])

    def parts(self, *entries):
        """One PARTS message (rill/3) of (job, seq, data) entries."""
        batch = b"".join(b"%s %d %d\n" % (job.encode(), seq, len(data)) + data for job, seq, data in entries)
        self.send("PARTS", batch)

    def hello(self):
        self.send("HELLO", json.dumps({"name": "hostile", "host": "test", "pid": os.getpid(), "kinds": ["demo"],
                                       "credit": self.credit, "session": self.session, "jobs": []}))

    def pump(self, seconds, until=None):
        """Reads (and PINGs) for up to seconds, or until until() is true."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            if until is not None and until():
                return True
            if time.time() - self.last_ping > 0.2:
                self.send("PING")
                self.last_ping = time.time()
            if self.socket.poll(50):
                frames = self.socket.recv_multipart()
                command = frames[1].decode()
                if command == "BATCH":  # rill/7: one batch a frame
                    self.jobs += [job["id"] for frame in frames[2:] for job in json.loads(frame)["jobs"]]
                elif command == "CANCEL":
                    self.cancelled.append(frames[2].decode())
                elif command == "REJOIN":
                    self.hello()
        return until() if until is not None else True

    def close(self):
        self.socket.close()
        self.context.term()


def read_lines(stream, seconds=15):
    """Every raw line of a stream until it ends: each must be UTF-8 JSON."""
    lines = []
    deadline = time.time() + seconds
    while time.time() < deadline:
        line = stream.next_line()
        if line is None:
            break
        check(line.endswith(b"\n"), "line not terminated: %r" % line)
        try:
            event = json.loads(line.decode("utf-8"))
        except ValueError as error:
            raise AssertionError("a client got a line that is not JSON (%s): %r" % (error, line[:200]))
        if event.get("event") not in ("heartbeat", "accepted"):
            lines.append(event)
    return lines


def submit(system, parts=5):
    stream = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": parts, "interval_ms": 10}})
    check(stream.status == 200, "submit answered %s" % stream.status)
    return stream


def test_hostile_worker_cannot_break_clients_or_broker(ctx):
    system = ctx.system(workers=0, config=CONFIG)
    system.wait_listening()
    worker = FakeWorker(system.run_dir, credit=1000000)
    try:
        worker.hello()
        worker.pump(2, until=lambda: "capped at max_worker_credit" in system.broker.log_text())
        system.wait_healthy(workers=1)
        log = system.broker.log_text()
        check("announced credit 1000000: capped at max_worker_credit %d" % MAX_CREDIT in log,
              "the giant credit was not capped in the log:\n%s" % system.logs_tail())

        # Invalid JSON after a valid part, then invalid UTF-8: each ends its
        # job, whether it came alone (PART) or in a batch (PARTS, rill/3).
        bad_parts = [b'{"x":1}garbage', b'"\xff"', b'{"a":"\xed\xa0\x80"}', b'[1,2']
        for number, bad in enumerate(bad_parts):
            stream = submit(system)
            worker.pump(10, until=lambda: len(worker.jobs) > number)
            check(len(worker.jobs) == number + 1, "no BATCH for job %d" % number)
            job = worker.jobs[number]
            watcher = system.stream("GET", "/v1/stream?job=" + job)
            if number % 2 == 0:
                worker.send("PART", job, "1", b'{"i":1}')
                worker.send("PART", job, "2", bad)
            else:
                worker.parts((job, 1, b'{"i":1}'), (job, 2, bad))
            worker.pump(5, until=lambda: job in worker.cancelled)
            check(job in worker.cancelled, "job %s was not cancelled on its worker" % job)
            for lines in (read_lines(stream), read_lines(watcher)):
                kinds = [e["event"] for e in lines]
                check(kinds == ["part", "error"], "job %s events %r" % (job, lines))
                check(lines[0]["data"] == {"i": 1}, "first part: %r" % lines[0])
                error = lines[-1]["data"]
                check(error["code"] == "bad_part" and "part 2" in error["message"] and "at byte" in error["message"],
                      "error event: %r" % error)
            stream.close()
            watcher.close()
        bad_count = metric(system, "rill_broker_bad_parts_total")
        check(bad_count == len(bad_parts), "rill_broker_bad_parts_total is %r, not %d" % (bad_count, len(bad_parts)))
        check(system.job_status(worker.jobs[0])["state"] == "failed", "a bad_part job is not failed")

        # Credit: more CREDIT changes nothing past the cap. 10 detached jobs,
        # the worker holds none: it gets MAX_CREDIT of them.
        worker.send("CREDIT", "1000000")
        before = len(worker.jobs)
        status, body = system.json_request("POST", "/v1/jobs?detach=1",
                                           [{"kind": "demo", "args": {"parts": 1}} for _ in range(10)])
        check(status == 202, "detach answered %s %r" % (status, body))
        # Its MAX_CREDIT jobs are waited for; then a second more, in which no other may come.
        worker.pump(20, until=lambda: len(worker.jobs) - before >= MAX_CREDIT)
        worker.pump(1)
        check(len(worker.jobs) - before == MAX_CREDIT,
              "a worker that announced credit 1000000 got %d jobs, not %d" % (len(worker.jobs) - before, MAX_CREDIT))

        # A PARTS whose entry runs past its frame is malformed: its good
        # entries before it go, the rest is dropped and counted.
        malformed = metric(system, "rill_broker_malformed_frames_total")
        batched = worker.jobs[before + 1]
        watcher = system.stream("GET", "/v1/stream?job=" + batched)
        worker.send("PARTS", b"%s 1 7\n{\"i\":1}%s 2 99\n{}" % (batched.encode(), batched.encode()))
        worker.pump(20, until=lambda: metric(system, "rill_broker_malformed_frames_total") >= malformed + 1)
        check(metric(system, "rill_broker_malformed_frames_total") == malformed + 1, "the malformed PARTS was not counted")
        # rill/7: a done frame with a malformed id is counted too, and ends
        # nothing; its batch's entries stand.
        worker.send("PARTS", b'%s 2 7\n{"i":2}' % batched.encode(), b"not-a-job-id")
        # Counted, the message was read whole: had its done frame ended the job, it would be ended now.
        worker.pump(20, until=lambda: metric(system, "rill_broker_malformed_frames_total") >= malformed + 2)
        check(metric(system, "rill_broker_malformed_frames_total") == malformed + 2,
              "the malformed done frame was not counted")
        check(system.job_status(batched)["state"] == "running", "a malformed done frame ended the job")
        # The job's last part and its end in one PARTS: its done frame.
        worker.send("PARTS", b'%s 3 7\n{"i":3}' % batched.encode(), batched.encode())
        worker.pump(1)
        raw = read_lines(watcher)
        lines = [e for e in raw if "event" in e]
        check([e["event"] for e in lines] == ["part", "part", "part", "done"] and
              [e["data"] for e in lines[:3]] == [{"i": 1}, {"i": 2}, {"i": 3}], "batched job's events %r" % raw)
        watcher.close()

        # An oversized frame: libzmq disconnects the sender; the broker goes on.
        held = worker.jobs[before]
        worker.send("PART", held, "1", b'"' + b"x" * (MAX_MESSAGE_BYTES + 1024) + b'"')
        # The broker logs the disconnect when it reads its socket monitor,
        # on its tick: waited for, not assumed within 3 s.
        disconnected = worker.pump(20, until=lambda: "a peer of the workers socket disconnected" in
                                   system.broker.log_text())
        check(disconnected, "the disconnect was not logged:\n%s" % system.logs_tail())
        check(system.broker.popen.poll() is None, "the broker died")
        # Still serving: the fake worker, whose connection libzmq made again, is back (a REJOIN, its HELLO).
        answers = []
        healthy = worker.pump(20, until=lambda: answers.append(system.json_request("GET", "/healthz")) or
                              answers[-1][0] == 200)
        check(healthy, "healthz after the oversized frame: %r" % (answers[-1],))
        events = read_lines(system.stream("GET", "/v1/stream?job=%s&since=0" % held), seconds=2) \
            if system.job_status(held)["state"] != "running" else []
        check(all(len(json.dumps(e)) < MAX_MESSAGE_BYTES for e in events), "the oversized part reached a client")
    finally:
        worker.close()
