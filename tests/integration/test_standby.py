"""test_standby.py - a standby broker (rill/6, issue 12 point 4;
docs/PROTOCOL.md "Standby broker", docs/RELIABILITY.md "Standby broker").

Two real rill-broker processes form a pair: the primary binds the peer
link (--pair-bind), the backup connects to it (--standby-of), each with
its own run directory and client sockets. The clients are fakes written
here with python3-zmq that speak the protocol: a frontend (a DEALER on
control.sock) and a worker (a DEALER on workers.sock). The peer link
goes through a TCP proxy in this test, so it can be cut alone.

- A cut of the peer link alone, while clients use the primary, never
  makes the backup active (it answers no client), and after the link
  heals the pair is one active and one passive again.
- The primary's jobs, events and topics are mirrored: after it is killed
  (SIGKILL), the backup takes over on a client's message within 2 s,
  presents the same broker id in PONG, answers FETCH and STATUS from the
  mirror, and adopts the fake worker's running job with the mirrored
  last seq in WELCOME; the job goes on with no retry event.
"""
import json
import os
import re
import signal
import socket
import sys
import tempfile
import threading
import time

try:
    import zmq
except ImportError:  # a python3 other than Debian's: its python3-zmq still fits
    sys.path.append("/usr/lib/python3/dist-packages")
    import zmq

from harness import check, free_port

VERSION = b"rill/12"
HEARTBEAT_MS = 500
CONFIG = {"heartbeat_ms": HEARTBEAT_MS}


class Proxy:
    """A TCP forwarder for the peer link: cut() closes every connection and
    refuses new ones until heal()."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.cut_now = False
        self.closed = False
        self.sockets = []
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut_now:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
            threading.Thread(target=self.pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self.pipe, args=(upstream, client), daemon=True).start()

    def pipe(self, source, sink):
        try:
            while not self.cut_now:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.close()
            except OSError:
                pass

    def cut(self):
        self.cut_now = True
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.sockets = []

    def heal(self):
        self.cut_now = False

    def close(self):
        self.closed = True
        self.cut()
        self.listener.close()


class Client:
    """A DEALER on one broker's socket, speaking the protocol (VERSION)."""

    def __init__(self, context, endpoint):
        self.socket = context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(endpoint)

    def send(self, *frames):
        self.socket.send_multipart([VERSION] + [f if isinstance(f, bytes) else f.encode() for f in frames])

    def receive(self, timeout):
        if self.socket.poll(int(timeout * 1000)):
            return self.socket.recv_multipart()
        return None

    def request(self, timeout, *frames):
        """Sends, then the first answer whose req (frame 2) matches, or None."""
        self.send(*frames)
        deadline = time.time() + timeout
        while time.time() < deadline:
            answer = self.receive(max(0.01, deadline - time.time()))
            if answer is not None and answer[1] != b"PONG" and len(answer) > 2 and answer[2] == frames[1].encode():
                return answer
            if answer is not None and frames[0] == "PING" and answer[1] == b"PONG":
                return answer
        return None

    def drain(self):
        """Drops the answers that came late (to PINGs already given up on)."""
        while self.receive(0) is not None:
            pass

    def ping(self, timeout=0.5):
        self.drain()
        answer = self.request(timeout, "PING")
        return json.loads(answer[2]) if answer is not None else None

    def close(self):
        self.socket.close()


def start_pair(ctx, tmp, proxy_for_backup=True, backup_log=None):
    """The primary and the backup brokers; returns (primary, backup, proxy).
    backup_log: the backup's --log level (debug: each MIRROR it applied)."""
    port = free_port()
    primary = ctx.system(environment={"RILL_PAIR_BIND": "tcp://127.0.0.1:%d" % port}, workers=0, frontend=False,
                         config=CONFIG)
    proxy = Proxy(port)
    backup = ctx.system(environment={"RILL_STANDBY_OF": "tcp://127.0.0.1:%d" % proxy.port}, workers=0,
                        frontend=False, config=CONFIG, log_level=backup_log)
    return primary, backup, proxy


def endpoint(system, name):
    return "ipc://" + os.path.join(system.run_dir, name + ".sock")


def wait(predicate, timeout, what, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise AssertionError("timed out waiting for " + what)


def pong_of(client, timeout):
    """PINGs until a PONG comes (or timeout): the PONG, or None."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        pong = client.ping(0.2)
        if pong is not None:
            return pong
    return None


def primary_pong(client, primary):
    """The primary's first PONG to client (it must answer within 10 s)."""
    pong = pong_of(client, 10)
    check(pong is not None, "the primary never answered:\n" + primary.logs_tail())
    return pong


def test_standby_cut_alone_never_two_actives(ctx):
    zctx = zmq.Context()
    primary, backup, proxy = start_pair(ctx, None)
    to_primary = Client(zctx, endpoint(primary, "control"))
    to_backup = Client(zctx, endpoint(backup, "control"))
    try:
        first = primary_pong(to_primary, primary)
        wait(lambda: "backup -> passive" in backup.broker.log_text(), 10, "the backup to go passive")
        check(to_backup.ping(1.0) is None, "a passive backup answered a PING")
        # That PING was a client coming to the backup: the cut comes after
        # it has aged (2 heartbeats), as clients that stay with the primary.
        time.sleep(3 * HEARTBEAT_MS / 1000)
        # The cut: the peer link alone. Clients stay with the primary.
        proxy.cut()
        wait(lambda: "the peer is lost" in backup.broker.log_text() or
             "peer link's connection closed" in backup.broker.log_text(), 5, "the backup to see the cut", 0.1)
        for _ in range(int(4 * HEARTBEAT_MS / 200)):
            check(to_primary.ping(0.5) is not None, "the primary stopped answering during the cut")
            time.sleep(0.1)
        check("-> active" not in backup.broker.log_text(),
              "the backup became active on a cut alone:\n" + backup.logs_tail())
        # Healed: one active, one passive, the mirror asked again.
        proxy.heal()
        wait(lambda: backup.broker.log_text().count("a snapshot of broker") >= 2, 10, "a new snapshot after the heal")
        # Now the backup hears the active primary: a client changes nothing.
        check(to_backup.ping(1.0) is None, "the backup answered after the heal")
        check(to_primary.ping(1.0) is not None, "the primary does not answer after the heal")
        check("-> active" not in backup.broker.log_text(), "the backup became active")

        # A partition that clients cross: a client comes to the cut-off
        # backup, which serves (two actives while the cut lasts); when it
        # heals, the backup yields and says so, and falls silent.
        proxy.cut()
        wait(lambda: backup.broker.log_text().count("the peer is lost") >= 2, 5, "the backup to see the 2nd cut", 0.1)
        check(pong_of(to_backup, 3) is not None, "the cut-off backup did not serve a client that came")
        proxy.heal()
        wait(lambda: "two actives: the backup yields" in backup.broker.log_text(), 10, "the backup to yield")
        time.sleep(0.2)
        check(to_backup.ping(1.0) is None, "the backup answers after it yielded")
        check(to_primary.ping(1.0) is not None, "the primary does not answer after the backup yielded")
    finally:
        to_primary.close()
        to_backup.close()
        proxy.close()
        zctx.term()


class FakeWorker(Client):
    def __init__(self, context, endpoint_text):
        super().__init__(context, endpoint_text)
        self.session = os.urandom(16).hex()
        self.batches = []
        self.welcomes = []
        self.rejoins = 0

    def hello(self, jobs=()):
        self.send("HELLO", json.dumps({"name": "fake", "host": "test", "pid": os.getpid(), "kinds": ["demo"],
                                       "credit": 4, "session": self.session, "jobs": list(jobs)}))

    def pump(self, seconds, until=lambda: False):
        deadline = time.time() + seconds
        while time.time() < deadline and not until():
            message = self.receive(0.05)
            if message is None:
                self.send("PING")
                continue
            if message[1] == b"BATCH":  # rill/7: one batch a frame
                self.batches += [json.loads(frame) for frame in message[2:]]
            elif message[1] == b"WELCOME":
                self.welcomes.append(json.loads(message[2]))
            elif message[1] == b"REJOIN":
                self.rejoins += 1


def submit(frontend, job_id, detach=True):
    jobs = [{"id": job_id, "kind": "demo", "source": None, "args": {}, "key": None, "who": "standby-test",
             "detach": detach}]
    answer = frontend.request(3, "SUBMIT", "s1", "", json.dumps(jobs))
    check(answer is not None and answer[1] == b"SUBMITTED", "SUBMIT was not answered: %r" % (answer,))


def fetch(frontend, subject, after=0):
    """Every REPLAY of a FETCH: (header, [(event, seq, data)])."""
    frontend.send("FETCH", "f1", "", subject, str(after))
    header, events = None, []
    deadline = time.time() + 5
    while time.time() < deadline:
        message = frontend.receive(1)
        if message is None or message[1] == b"PONG":
            continue
        if message[1] == b"ERROR":
            return None, [message[3].decode()]
        header = json.loads(message[4])
        rest = message[5:]
        events += [(rest[i].decode(), int(rest[i + 1]), rest[i + 2]) for i in range(0, len(rest), 3)]
        if header["final"]:
            break
    return header, events


def metrics(frontend):
    """The broker's METRICS samples without labels: {name: value}."""
    answer = frontend.request(3, "METRICS", "m1")
    check(answer is not None and answer[1] == b"METRICS", "METRICS: %r" % (answer,))
    samples = {}
    for line in answer[3].decode().splitlines():
        if line and not line.startswith("#") and "{" in line:
            name, rest = line.split("{", 1)
            if 'worker="' not in rest:
                samples[name] = float(rest.rsplit(" ", 1)[1])
    return samples


def mirror_applied(backup):
    """The seq of the last MIRROR the passive backup applied (its debug
    line, broker/mirror_in.c), 0 before any."""
    seqs = re.findall(r"standby: mirror message (\d+) applied", backup.broker.log_text())
    return int(seqs[-1]) if seqs else 0


def test_standby_takes_over_with_the_mirror(ctx):
    zctx = zmq.Context()
    primary, backup, proxy = start_pair(ctx, None, backup_log="debug")
    frontend = Client(zctx, endpoint(primary, "control"))
    worker = FakeWorker(zctx, endpoint(primary, "workers"))
    try:
        first = primary_pong(frontend, primary)
        wait(lambda: "mirror of broker" in backup.broker.log_text(), 10, "the backup's first snapshot")
        worker.hello()
        worker.pump(3, until=lambda: worker.welcomes)
        running, ended = os.urandom(16).hex(), os.urandom(16).hex()
        submit(frontend, ended)
        worker.pump(5, until=lambda: len(worker.batches) >= 1)
        submit(frontend, running)
        worker.pump(5, until=lambda: len(worker.batches) >= 2)
        check(len(worker.batches) == 2, "the jobs were not dispatched: %r" % worker.batches)
        batch = {b["jobs"][0]["id"]: b for b in worker.batches}
        parts = b"".join(b"%s %d %d\n%s" % (job.encode(), seq, len(data), data) for job, seq, data in
                         [(ended, 1, b'{"n":1}'), (ended, 2, b'{"n":2}'), (running, 1, b'{"r":1}'),
                          (running, 2, b'{"r":2}'), (running, 3, b'{"r":3}')])
        worker.send("PARTS", parts)
        worker.send("DONE", ended)
        answer = frontend.request(3, "PUBLISH", "p1", "alerts", '{"level":"high"}')
        check(answer is not None and answer[1] == b"PUBLISHED", "PUBLISH was not answered")

        def primary_has_the_done():
            worker.pump(0.1)  # the worker stays heard meanwhile
            return [e[0] for e in fetch(frontend, "j" + ended)[1]][-1:] == ["done"]
        # The DONE came after the PARTS on the worker's socket: once the
        # primary has it, it has the parts of both jobs (and answered PUBLISH).
        wait(primary_has_the_done, 10, "the primary to take the parts and the DONE")
        header, events = fetch(frontend, "j" + ended)
        check(header is not None and [e[0] for e in events] == ["part", "part", "done"],
              "the primary's own FETCH: %r %r" % (header, events))
        identity = first["broker"]
        samples = metrics(frontend)
        check(samples.get("rill_broker_standby_state") == 3 and samples.get("rill_broker_mirror_snapshots_total", 0) >= 1
              and samples.get("rill_broker_mirror_messages_total", 0) >= 2, "the active's metrics: %r" %
              {k: v for k, v in samples.items() if "standby" in k or "mirror" in k})
        # The MIRRORs of the passes that took all that went before METRICS was
        # answered (one per pass, at its end; their seqs count from 1 as the
        # counter): the backup must have applied them before the primary dies.
        sent = int(samples["rill_broker_mirror_messages_total"])
        wait(lambda: mirror_applied(backup) >= sent, 10, "the backup to apply MIRROR %d" % sent)

        # The primary dies; the clients come to the backup.
        primary.broker.popen.kill()
        primary.broker.expected_exit = -signal.SIGKILL
        killed = time.time()
        session = worker.session
        frontend.close()
        worker.close()
        frontend = Client(zctx, endpoint(backup, "control"))
        worker = FakeWorker(zctx, endpoint(backup, "workers"))
        worker.session = session  # the same worker process, switched to the backup
        pong = pong_of(frontend, 5)
        took = time.time() - killed
        check(pong is not None, "the backup never answered:\n" + backup.logs_tail())
        check(took < 2.0, "the backup took %.2f s to answer" % took)
        check(pong["broker"] == identity, "the backup presents %s, not the pair's %s" % (pong["broker"], identity))
        check(pong["started_ms"] == first["started_ms"], "started_ms changed: %r %r" % (pong, first))
        check(pong["recovering"] is True, "the new active is not recovering: %r" % pong)
        check(metrics(frontend).get("rill_broker_standby_state") == 3, "the backup's state after the takeover")

        # The mirror: the ended job's events, a topic, STATUS.
        header, events = fetch(frontend, "j" + ended)
        check(header is not None and header["ended"] and [(e[0], e[1]) for e in events] ==
              [("part", 1), ("part", 2), ("done", 3)], "FETCH after the takeover: %r %r" % (header, events))
        check(events[0][2] == b'{"n":1}', "a mirrored part's data: %r" % (events[0],))
        header, events = fetch(frontend, "talerts/")
        # Published just before the kill: the topic numbers on 1,024 seqs
        # further (broker/takeover.c), its message 1 retained from the mirror.
        check(header is not None and header["last"] == 1 + 1024 and header["first"] == 1 and events and
              [(e[0], e[1]) for e in events] == [("part", 1)] and events[0][2] == b'{"level":"high"}',
              "the topic after the takeover: %r %r" % (header, events))
        answer = frontend.request(3, "STATUS", "st", ended)
        check(answer is not None and answer[1] == b"STATUS" and json.loads(answer[3])["state"] == "done",
              "STATUS of the ended job: %r" % (answer,))

        # The worker re-joins with its running job: adopted at the mirrored last seq.
        entry = batch[running]["jobs"][0]
        worker.hello([{"id": running, "kind": "demo", "source": entry["source"], "who": entry["who"],
                       "attempt": entry["attempt"], "seq": 3, "first": 1}])
        worker.pump(3, until=lambda: worker.welcomes)
        check(worker.welcomes and worker.welcomes[0]["broker"] == identity, "WELCOME: %r" % worker.welcomes)
        check(worker.welcomes[0]["adopted"] == {running: 3}, "not adopted at seq 3: %r" % worker.welcomes)
        worker.send("PART", running, "4", '{"r":4}')
        worker.send("DONE", running)

        def backup_has_the_done():
            worker.pump(0.1)
            return [e[0] for e in fetch(frontend, "j" + running)[1]][-1:] == ["done"]
        wait(backup_has_the_done, 10, "the backup to take the adopted job's part 4 and DONE")
        header, events = fetch(frontend, "j" + running)
        check([(e[0], e[1]) for e in events] == [("part", 1), ("part", 2), ("part", 3), ("part", 4), ("done", 5)],
              "the adopted job's events: %r" % events)
        check("broker_restarted" not in repr(events), "a broker_restarted")

        # The primary comes back: it hears the active backup and goes
        # passive, mirroring it (the pair's identity still); the backup dies
        # in turn, and the primary takes over with the same id and jobs.
        primary.broker = primary.start_broker()
        wait(lambda: "primary -> passive" in primary.broker.log_text(), 10, "the returning primary to go passive")
        wait(lambda: "is complete" in primary.broker.log_text(), 10, "the returning primary's mirror")
        check(frontend.ping(1.0) is not None, "the backup stopped serving when the primary came back")
        backup.broker.popen.kill()
        backup.broker.expected_exit = -signal.SIGKILL
        frontend.close()
        frontend = Client(zctx, endpoint(primary, "control"))
        pong = pong_of(frontend, 5)
        check(pong is not None and pong["broker"] == identity, "the primary back presents %r" % (pong,))
        header, events = fetch(frontend, "j" + running)
        check([(e[0], e[1]) for e in events][-1] == ("done", 5), "the job after two takeovers: %r" % events)
        header, events = fetch(frontend, "talerts/")
        # Mirrored moments before each takeover: 1,024 further each time.
        check(header is not None and header["last"] == 1 + 2 * 1024, "the topic after two takeovers: %r" % header)
    finally:
        frontend.close()
        worker.close()
        proxy.close()
        zctx.term()


def test_standby_snapshot_in_chunks(ctx):
    """A primary with hundreds of jobs (1 MiB of args in all) when its
    backup starts: the snapshot goes in several MIRROR messages and the
    backup, after a takeover, knows every job."""
    zctx = zmq.Context()
    port = free_port()
    primary = ctx.system(environment={"RILL_PAIR_BIND": "tcp://127.0.0.1:%d" % port}, workers=0, frontend=False,
                         config=CONFIG)
    frontend = Client(zctx, endpoint(primary, "control"))
    to_backup = None
    try:
        # Alone, the primary waits 2 heartbeats and a client before it serves.
        first = pong_of(frontend, 10)
        check(first is not None, "the lonely primary never served:\n" + primary.logs_tail())
        check("primary -> active (the peer is lost and a client came)" in primary.broker.log_text(),
              "the lonely primary's start: " + primary.logs_tail())
        # Junk on the peer link is dropped and logged; the primary serves on.
        junk = zctx.socket(zmq.DEALER)
        junk.setsockopt(zmq.LINGER, 0)
        junk.connect("tcp://127.0.0.1:%d" % port)
        for frames in ([b"rill/12", b"STATE"], [b"rill/5", b"SYNC"], [b"rill/12", b"MIRROR", b"x", b""],
                       [b"rill/12", b"NOPE"], [b"rill/12", b"STATE", b""]):
            junk.send_multipart(frames)
        wait(lambda: primary.broker.log_text().count("malformed message from the peer") >= 5, 5, "the junk dropped")
        junk.close()
        check(frontend.ping(1.0) is not None, "the primary stopped serving after junk on the peer link")
        ids = [os.urandom(16).hex() for _ in range(400)]
        filler = "x" * 2500
        for start in range(0, len(ids), 50):
            jobs = [{"id": i, "kind": "demo", "source": None, "args": {"filler": filler, "n": n}, "key": None,
                     "who": None, "detach": True} for n, i in enumerate(ids[start:start + 50], start)]
            answer = frontend.request(5, "SUBMIT", "s%d" % start, "", json.dumps(jobs))
            check(answer is not None and answer[1] == b"SUBMITTED", "SUBMIT: %r" % (answer,))
        os.environ["RILL_STANDBY_OF"] = "tcp://127.0.0.1:%d" % port
        try:
            backup = ctx.system(workers=0, frontend=False, config=CONFIG)
        finally:
            del os.environ["RILL_STANDBY_OF"]
        wait(lambda: "is complete: 400 jobs" in backup.broker.log_text(), 15, "the backup's whole snapshot")
        sent = [line for line in primary.broker.log_text().splitlines() if "the snapshot went in" in line]
        check(sent and int(sent[-1].split("went in ")[1].split()[0]) >= 2,
              "the snapshot was not sent in chunks: %r" % sent)
        primary.broker.popen.kill()
        primary.broker.expected_exit = -signal.SIGKILL
        to_backup = Client(zctx, endpoint(backup, "control"))
        pong = pong_of(to_backup, 5)
        check(pong is not None and pong["broker"] == first["broker"], "the backup presents %r" % (pong,))
        for job in (ids[0], ids[199], ids[-1]):
            answer = to_backup.request(3, "STATUS", "st", job)
            check(answer is not None and answer[1] == b"STATUS", "STATUS of %s after the takeover: %r" % (job, answer))
            status = json.loads(answer[3])
            check(status["state"] in ("queued", "waiting") and status["detached"], "status: %r" % status)
    finally:
        frontend.close()
        if to_backup is not None:
            to_backup.close()
        zctx.term()
