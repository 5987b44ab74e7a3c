"""harness.py - start a real rill system and talk real HTTP to it.

Each test gets its own run directory and port: a broker, a frontend and N
workers as separate processes, exactly the binaries `./rill up` starts. On
teardown every process is stopped with SIGTERM and must exit 0 within a few
seconds with no sanitizer report in its log: a leak or a crash fails the test
that caused it.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


class TestFailure(AssertionError):
    pass


def check(condition, message="check failed"):
    if not condition:
        raise TestFailure(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    def __init__(self, name, argv, log_path, env):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.popen = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                      stdin=subprocess.DEVNULL)

    def signal(self, number):
        if self.popen.poll() is None:
            self.popen.send_signal(number)

    def kill(self):
        """SIGKILL, wait: a crash the test makes (the system's checks at its end
        take the exit status -9 as expected)."""
        self.popen.kill()
        self.popen.wait()
        self.expected_exit = -9

    def stop(self, timeout=15.0):
        """SIGTERM, wait; returns the exit status (or None if it had to be killed)."""
        self.signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            return None
        finally:
            self.log.close()

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


class System:
    """A broker, a frontend and workers in a private run directory."""

    def __init__(self, build_dir, workers=2, config=None, worker_args=(), frontend=True,
                 log_level=None, standby=False):
        self.build_dir = build_dir
        # --log of every process: log_level, else $RILL_TEST_LOG, else info.
        self.log_level = log_level or os.environ.get("RILL_TEST_LOG", "info")
        self.dir = tempfile.mkdtemp(prefix="rill-test-")
        os.chmod(self.dir, 0o700)
        self.run_dir = os.path.join(self.dir, "run")
        self.port = free_port()
        self.processes = []
        self.workers = []
        self.worker_args = list(worker_args)
        self.env = dict(os.environ)
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=23")
        self.env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=0")
        self.env["NO_COLOR"] = "1"
        self.config_path = None
        # True once the frontend serves HTTPS (test_tls.py): connection()
        # then speaks TLS, without checking the test's self-signed certificate.
        self.https = False
        if config is not None:
            self.config_path = os.path.join(self.dir, "rill.json")
            with open(self.config_path, "w") as f:
                json.dump(config, f)
        # standby=True: a second broker (self.backup, its own run dir),
        # the standby of the first (--pair-bind / --standby-of, when this
        # build's broker has them: self.paired); frontends and workers are
        # given both endpoints (docs/CONFIG.md "Standby broker").
        self.backup = None
        self.paired = False
        self.run_dir2 = None
        if standby:
            self.run_dir2 = os.path.join(self.dir, "run2")
            self.pair_endpoint = "ipc://%s/pair.sock" % self.dir
            self.paired = broker_has_flag(self.binary("broker", "rill-broker"), "--standby-of")
        self.broker = self.start_broker()
        if standby:
            self.backup = self.start_backup()
        self.frontend = self.start_frontend() if frontend else None
        for _ in range(workers):
            self.start_worker()

    def binary(self, folder, name):
        return os.path.join(self.build_dir, folder, name)

    def common_flags(self):
        flags = ["--run-dir", self.run_dir, "--log", self.log_level]
        if self.config_path:
            flags += ["--config", self.config_path]
        return flags

    def spawn(self, name, argv):
        process = Process(name, argv, os.path.join(self.dir, name + ".log"), self.env)
        self.processes.append(process)
        return process

    def start_broker(self, name="broker"):
        """The broker (with a standby: the primary, binding the pair link)."""
        extra = ["--pair-bind", self.pair_endpoint] if self.paired else []
        return self.spawn(name, [self.binary("broker", "rill-broker")] + self.common_flags() + extra)

    def start_backup(self, name="backup"):
        """The standby broker, in its own run dir (standby=True only)."""
        flags = ["--run-dir", self.run_dir2] + self.common_flags()[2:]
        extra = ["--standby-of", self.pair_endpoint] if self.paired else []
        return self.spawn(name, [self.binary("broker", "rill-broker")] + flags + extra)

    def client_flags(self, *names):
        """With a standby: each named endpoint as a list of both brokers'."""
        if self.run_dir2 is None:
            return []
        flags = []
        for name in names:
            flags += ["--" + name, "ipc://%s/%s.sock,ipc://%s/%s.sock" % (self.run_dir, name, self.run_dir2, name)]
        return flags

    def start_frontend(self, port=None, name="frontend", extra=()):
        """A frontend on port (default: the system's); more than one may run."""
        port = port or self.port
        return self.spawn(name, [self.binary("frontend", "rill-frontend"),
                                 "--listen", "127.0.0.1:%d" % port] + self.common_flags()
                          + self.client_flags("control", "events") + list(extra))

    def start_worker(self, name=None, extra=()):
        name = name or "worker%d" % (len(self.workers) + 1)
        process = self.spawn(name, [self.binary("workers", "rill-worker"), "--name", name]
                             + self.common_flags() + self.client_flags("workers") + self.worker_args
                             + list(extra))
        self.workers.append(process)
        return process

    # ---- HTTP ----
    def connection(self, timeout=30, port=None):
        if self.https:
            return http.client.HTTPSConnection("127.0.0.1", port or self.port, timeout=timeout,
                                               context=unverified_tls_context())
        return http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=timeout)

    def url(self, path="/"):
        return "%s://127.0.0.1:%d%s" % ("https" if self.https else "http", self.port, path)

    def request(self, method, path, body=None, headers=None, timeout=30, port=None):
        """A whole request; returns (status, headers dict, body bytes)."""
        conn = self.connection(timeout, port=port)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            conn.close()

    def json_request(self, method, path, body=None, headers=None, port=None):
        status, headers, data = self.request(method, path, body, headers, port=port)
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            raise TestFailure("%s %s: body is not JSON: %r" % (method, path, data[:200]))
        return status, parsed

    def stream(self, method, path, body=None, headers=None, timeout=30):
        return Stream(self, method, path, body, headers, timeout)

    def stream_on(self, port, method, path, body=None, headers=None, timeout=30):
        """A stream from another frontend of this system (start_frontend(port=...))."""
        return Stream(OnPort(self, port), method, path, body, headers, timeout)

    def start_frontend_on_free_port(self, name="frontend2", workers=1):
        """Another frontend on a free port, once it answers /healthz; its port."""
        port = free_port()
        self.start_frontend(port=port, name=name)
        self.wait_healthy(port=port, workers=workers)
        return port

    def wait_listening(self, timeout=20.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.02)
        raise TestFailure("frontend not listening after %.0fs\n%s" % (timeout, self.logs_tail()))

    def wait_healthy(self, timeout=20.0, workers=1, port=None):
        """Until the frontend on port (default: the system's) answers
        /healthz with 200 and counts at least `workers` workers."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                status, body = self.json_request("GET", "/healthz", port=port)
                last = (status, body)
                if status == 200 and body.get("workers", 0) >= workers:
                    return body
            except (OSError, http.client.HTTPException, TestFailure) as error:
                last = error
            time.sleep(0.05)
        raise TestFailure("system not healthy after %.0fs: %r\n%s" % (timeout, last, self.logs_tail()))

    def wait_for(self, predicate, timeout=15.0, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise TestFailure("timed out waiting for %s" % what)

    def wait_started(self, job_ids, kind, process=None, timeout=30.0):
        """Until a worker (process, else any) has logged "job <id> (<kind>)
        started" for each job: it took the job from its BATCH and starts it in
        the same loop turn (workers/job_registry.c). The broker's "running"
        says only that it sent the job, not that the worker has it."""
        if isinstance(job_ids, str):
            job_ids = [job_ids]
        processes = [process] if process is not None else self.workers
        needles = ["job %s (%s) started" % (job_id, kind) for job_id in job_ids]

        def all_logged():
            text = "".join(p.log_text() for p in processes)
            return all(needle in text for needle in needles)
        self.wait_for(all_logged, timeout=timeout, what="%d %s job(s) started by a worker" % (len(needles), kind))

    def job_status(self, job_id):
        status, body = self.json_request("GET", "/v1/jobs/" + job_id)
        check(status == 200, "GET /v1/jobs/%s answered %s %r" % (job_id, status, body))
        return body

    def logs_tail(self, lines=30):
        out = []
        for p in self.processes:
            text = p.log_text().splitlines()[-lines:]
            out.append("--- %s ---\n%s" % (p.name, "\n".join(text)))
        return "\n".join(out)

    def stop(self):
        """Stops everything; returns a list of problems (unclean exits, sanitizer reports)."""
        problems = []
        # Workers and frontend first, the brokers last, as an operator would.
        brokers = [self.broker] + ([self.backup] if self.backup is not None else [])
        order = [p for p in self.processes if p not in brokers] + brokers
        for p in order:
            already = p.popen.poll()
            status = p.stop() if already is None else already
            if already is not None:
                p.log.close()
            if status not in (0,) and not getattr(p, "expected_exit", None) == status:
                problems.append("%s exited with %s" % (p.name, status))
            text = p.log_text()
            for mark in SANITIZER_MARKS:
                if mark in text:
                    index = text.index(mark)
                    problems.append("%s: %s" % (p.name, text[max(0, index - 200):index + 1500]))
        return problems

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def thread_cpus(pid):
    """{thread id: the set of CPUs it may run on} of every thread of pid."""
    return {int(tid): os.sched_getaffinity(int(tid)) for tid in os.listdir("/proc/%d/task" % pid)}


def exec_child(system, worker, program, timeout=10):
    """The pid of worker's one child (an exec job's), once it runs program:
    posix_spawn's child is in /proc before it has become the command."""
    deadline = time.monotonic() + timeout
    while not child_pids_of(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    children = child_pids_of(worker)
    check(len(children) == 1, "the worker's children: %r" % children)

    def executed():
        try:
            return os.readlink("/proc/%d/exe" % children[0]) == os.path.realpath(program)
        except OSError:
            return False
    system.wait_for(executed, timeout=timeout, what="the exec job's child to run %s" % program)
    return children[0]


def child_pids_of(pid):
    """The pids of the processes whose parent is pid (from /proc)."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                children.append(int(entry))
        except (OSError, IndexError, ValueError):
            pass
    return children


def open_files(pid):
    """What the fds of the process pid are open on, as /proc/<pid>/fd's links read."""
    folder = "/proc/%d/fd" % pid
    targets = []
    for name in os.listdir(folder):
        try:
            targets.append(os.readlink(os.path.join(folder, name)))
        except OSError:
            pass  # closed meanwhile
    return targets


def broker_has_flag(binary, flag):
    """1 when rill-broker --help names flag (a standby needs --standby-of)."""
    try:
        done = subprocess.run([binary, "--help"], capture_output=True, timeout=10)
        text = done.stdout + done.stderr
    except (OSError, subprocess.SubprocessError):
        return False
    return flag.encode() in text


def unverified_tls_context(alpn=("http/1.1",)):
    """A TLS client context that accepts any certificate (the tests' are self-signed)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if alpn:
        context.set_alpn_protocols(list(alpn))
    return context


class OnPort:
    """Lets Stream talk to another frontend of the same system."""

    def __init__(self, system, port):
        self.system = system
        self.port = port

    def connection(self, timeout=30):
        return self.system.connection(timeout, port=self.port)


class Stream:
    """A streaming NDJSON response, read event by event as it arrives."""

    def __init__(self, system, method, path, body, headers, timeout):
        self.conn = system.connection(timeout)
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        self.started = time.monotonic()
        self.conn.request(method, path, body=body, headers=headers or {})
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.headers = {k.lower(): v for k, v in self.response.getheaders()}
        self.events = []
        self.accepted = None  # the data of the POST stream's accepted notice

    def next_line(self):
        line = self.response.readline()
        if not line:
            return None
        return line

    def next_event(self, skip_heartbeats=True):
        """The next event as a dict with an 'at' arrival time, or None at the end."""
        while True:
            line = self.next_line()
            if line is None:
                return None
            check(line.endswith(b"\n"), "NDJSON line not terminated: %r" % line)
            event = json.loads(line)
            if skip_heartbeats and event.get("event") == "heartbeat":
                continue
            if event.get("event") == "accepted" and "seq" not in event and self.accepted is None:
                self.accepted = event["data"]  # a notice, not an event (test_sse.py checks it)
                continue
            event["at"] = time.monotonic() - self.started
            self.events.append(event)
            return event

    def read_all(self):
        while self.next_event() is not None:
            pass
        return self.events

    def close(self):
        self.conn.close()


def headers_arrived(sock, timeout=30):
    """Waits until the response's status and headers are in sock's receive
    buffer (peeked at, left there to be read). The frontend sends them
    once the broker answered the stream's subscription (frontend/stream.c,
    opening_done): from then on what is published reaches it."""
    deadline = time.monotonic() + timeout
    while True:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        data = sock.recv(65536, socket.MSG_PEEK)
        check(data, "the connection closed before the response's headers")
        if b"\r\n\r\n" in data:
            return
        check(time.monotonic() < deadline, "no response headers within %d s: %r" % (timeout, data[:200]))
        time.sleep(0.02)  # a part of them: peeking again at once would find the same bytes


def dechunk(body):
    """The payload of an HTTP/1.1 chunked body (bytes after the headers)."""
    payload = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        payload += rest[:size]
        body = rest[size + 2:]
    return payload


def metric(system, name):
    """The sum of a /metrics counter over its labels (0 when absent)."""
    status, _, body = system.request("GET", "/metrics", timeout=10)
    check(status == 200, "/metrics answered %s" % status)
    total = 0.0
    for line in body.decode("utf-8").splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def publish(system, topic, message, headers=None, port=None):
    """POST /v1/topics/TOPIC with message; checks the 202 and returns its seq."""
    status, body = system.json_request("POST", "/v1/topics/" + topic, message, headers, port=port)
    check(status == 202, "publish to %s answered %s %r" % (topic, status, body))
    return body["seq"]


def topic_parts(stream, count):
    """The next count topic events of stream (notices and heartbeats
    skipped), each checked to be a part."""
    out = []
    while len(out) < count:
        event = stream.next_event()
        check(event is not None, "the stream ended after %r" % stream.events[-5:])
        if "topic" in event:
            check(event["event"] == "part", "a topic event that is not a part: %r" % event)
            out.append(event)
    return out


def events_by_job(events):
    jobs = {}
    for e in events:
        jobs.setdefault(e["job"], []).append(e)
    return jobs


def demo(parts, interval_ms):
    """A demo job of parts parts, interval_ms apart."""
    return {"kind": "demo", "args": {"parts": parts, "interval_ms": interval_ms}}


def detach(system, *jobs):
    """Submits jobs detached (?detach=1); their ids."""
    status, body = system.json_request("POST", "/v1/jobs?detach=1", list(jobs))
    check(status == 202, "detach answered %s %r" % (status, body))
    return body["jobs"]


class BackgroundSubmit:
    """POST /v1/jobs of one demo job of parts parts, streamed in a thread
    (for a request that waits on a broker going away). check_asked_again
    checks it streamed its job whole after the frontend asked it again of
    the next broker (docs/PROTOCOL.md "Calls asked again")."""

    def __init__(self, system, parts):
        self.system = system
        self.parts = parts
        self.result = None
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        stream = self.system.stream("POST", "/v1/jobs", [demo(self.parts, 10)], timeout=30)
        self.result = (stream.status, stream.read_all(), stream.accepted)

    def check_asked_again(self):
        system = self.system
        self.thread.join(30)
        check(self.result is not None, "the submit did not end within 30 s\n%s" % system.logs_tail())
        code, events, accepted = self.result
        check(code == 200, "the submit answered %s: %r\n%s" % (code, events, system.logs_tail()))
        check(accepted is not None and len(accepted["jobs"]) == 1, accepted)
        check_job_events(events, self.parts, accepted["jobs"][0])
        check("asked again of broker" in system.frontend.log_text(), system.frontend.log_text()[-3000:])


def check_job_events(events, parts, job_id=None):
    """parts then done, seqs 1..parts+1 in order."""
    check(len(events) == parts + 1, "expected %d events, got %d: %r" % (parts + 1, len(events), events))
    for i, e in enumerate(events):
        check(e["seq"] == i + 1, "seq %d at position %d: %r" % (e["seq"], i, events))
        if job_id:
            check(e["job"] == job_id, "event of another job: %r" % e)
    for i, e in enumerate(events[:-1]):
        check(e["event"] == "part", "expected part, got %r" % e)
        check(e["data"]["i"] == i + 1, "part out of order: %r" % e)
        check(isinstance(e["data"]["mono_ns"], int), "no mono_ns: %r" % e)
    check(events[-1]["event"] == "done", "last event is not done: %r" % events[-1])
    check(events[-1]["data"] == {"parts": parts}, "done data: %r" % events[-1])
