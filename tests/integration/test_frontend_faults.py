"""test_frontend_faults.py - jobs outlive their frontend; notices; closed connections (issue 8).

A frontend killed or stopped does not take its clients' jobs with it: the
broker gives them an orphan grace (orphan_grace_ms), and a client resumes
on another frontend with its cursor. A client that leaves a live frontend
still cancels its job at once (RELEASE). On SIGTERM each stream ends with a
`closing` notice carrying its cursor. A silent broker makes every stream get
`broker_unavailable`, then `broker_available` when it answers again. A
client that closes its connection frees the stream's resources at once.
"""
import json
import os
import re
import resource
import signal
import socket
import time

import harness
from harness import check, demo


def second_frontend(system):
    port = system.start_frontend_on_free_port("frontend2")
    return port, system.processes[-1]


def events_until_end(stream):
    """Events (heartbeats skipped) until the response ends."""
    out = []
    while True:
        event = stream.next_event()
        if event is None:
            return out
        out.append(event)


def resume_all(system, port, job_id, last_seq):
    """Resumes job_id on the frontend at port from last_seq: the events after it, to the end."""
    path = "/v1/stream?job=%s&since=%s:%d" % (job_id, job_id, last_seq)
    stream = harness.Stream(harness.OnPort(system, port), "GET", path, None, None, 30)
    check(stream.status == 200, "resume answered %s" % stream.status)
    events = events_until_end(stream)
    stream.close()
    return events


def check_every_part(before, after, parts):
    """The events read before the fault and after the resume make the whole job once."""
    events = [e for e in before + after if "seq" in e]
    seqs = [e["seq"] for e in events]
    check(seqs == list(range(1, parts + 2)), "seqs %r" % seqs)
    check([e["data"]["i"] for e in events[:-1]] == list(range(1, parts + 1)), "parts out of order")
    check(events[-1]["event"] == "done" and events[-1]["data"] == {"parts": parts}, events[-1])


def streamed_job_and_a_second_frontend(ctx):
    """A job of 30 parts POST-streamed on the system's frontend, 5 events
    read, and a second frontend: (system, its port, stream, events, job id)."""
    system = ctx.system(workers=1)
    system.wait_healthy()
    port2, _ = second_frontend(system)
    stream = system.stream("POST", "/v1/jobs", demo(30, 100))
    before = [stream.next_event() for _ in range(5)]
    return system, port2, stream, before, before[0]["job"]


def test_job_outlives_a_killed_frontend(ctx):
    system, port2, stream, before, job_id = streamed_job_and_a_second_frontend(ctx)
    system.frontend.kill()
    stream.close()
    time.sleep(0.5)
    after = resume_all(system, port2, job_id, before[-1]["seq"])
    check_every_part(before, after, 30)


def test_sigterm_ends_streams_with_closing_and_jobs_go_on(ctx):
    system, port2, stream, before, job_id = streamed_job_and_a_second_frontend(ctx)
    # An SSE stream of the same job: its closing notice has no id: line.
    sse = system.connection(30)
    sse.request("GET", "/v1/stream?job=%s&format=sse" % job_id)
    sse_response = sse.getresponse()
    check(sse_response.status == 200)
    sse_response.readline()  # the opening heartbeat or the first event
    system.frontend.signal(signal.SIGTERM)
    rest = events_until_end(stream)
    stream.close()
    check(rest and rest[-1]["event"] == "closing", "no closing notice at the end: %r" % rest[-3:])
    closing = rest[-1]
    check(set(closing) == {"event", "data", "at"} and set(closing["data"]) == {"cursor"}, closing)
    delivered = before + rest[:-1]
    last_seq = delivered[-1]["seq"]
    check(closing["data"]["cursor"] == "%s:%d" % (job_id, last_seq), (closing, last_seq))
    sse_text = sse_response.read().decode()
    sse.close()
    check("event: closing\n" in sse_text, "no SSE closing notice: %r" % sse_text[-300:])
    tail = sse_text[sse_text.index("event: closing\n"):]
    check(re.fullmatch(r'event: closing\ndata: \{"event":"closing","data":\{"cursor":"%s:\d+"\}\}\n\n' % job_id,
                       tail) is not None, "SSE closing notice (no id: line): %r" % tail)
    check(system.frontend.popen.wait(10) == 0, "the frontend did not exit 0")
    # The job was not cancelled: a client resumes it on the other frontend.
    after = resume_all(system, port2, job_id, last_seq)
    check_every_part(delivered, after, 30)


def test_client_leaving_a_live_frontend_cancels_at_once(ctx):
    # Nothing is written for a long while (parts 10 s apart, heartbeats a
    # minute apart): the departure is seen on the connection itself, and the
    # job is RELEASEd, not left to its orphan grace (30 s).
    system = ctx.system(workers=1, config={"stream_heartbeat_ms": 60000})
    system.wait_healthy()
    stream = system.stream("POST", "/v1/jobs", demo(10, 10000))
    check(stream.status == 200 and json.loads(stream.next_line())["event"] == "accepted")
    job_id = system.wait_for(lambda: re.findall(r"job ([0-9a-f]{32}) dispatched", system.broker.log_text()),
                             what="the job dispatched")[0]
    check(system.job_status(job_id)["state"] == "running")
    stream.close()
    left = time.time()
    system.wait_for(lambda: system.job_status(job_id)["state"] == "cancelled", timeout=5,
                    what="job of a departed client cancelled")
    check(time.time() - left < 2, "cancelled after %.1fs" % (time.time() - left))


def test_orphan_grace_passes_and_the_job_is_cancelled(ctx):
    grace = 3.0
    system = ctx.system(workers=1, config={"orphan_grace_ms": int(grace * 1000)})
    system.wait_healthy()
    port2, _ = second_frontend(system)
    stream = system.stream("POST", "/v1/jobs", demo(100000, 10))
    job_id = stream.next_event()["job"]
    # The grace starts when the broker learns the frontend is gone: after this.
    before_kill = time.time()
    system.frontend.kill()
    stream.close()

    def status():
        conn = system.connection(5, port=port2)
        conn.request("GET", "/v1/jobs/" + job_id)
        body = json.loads(conn.getresponse().read())
        conn.close()
        return body

    time.sleep(0.8)
    during = status()
    check(time.time() - before_kill < grace - 0.05,
          "the kill and a status read took longer than the %.0f s grace" % grace)
    check(during["state"] == "running", "cancelled before its grace passed: %r" % during)
    deadline = time.time() + 10
    while status()["state"] == "running" and time.time() < deadline:
        time.sleep(0.1)
    check(status()["state"] == "cancelled", status())
    check(time.time() - before_kill >= grace - 0.1, "cancelled %.1fs after the kill" % (time.time() - before_kill))
    check("orphan grace passed" in system.broker.log_text())


def test_broker_unavailable_and_available(ctx):
    heartbeat = 250
    system = ctx.system(workers=1, config={"heartbeat_ms": heartbeat, "stream_heartbeat_ms": 100})
    health = system.wait_healthy()
    stream = system.stream("GET", "/v1/topics/news")
    check(stream.status == 200)
    system.broker.signal(signal.SIGSTOP)
    stopped = time.time()
    try:
        event = stream.next_event()
        noticed = time.time() - stopped
        check(event == dict(event, event="broker_unavailable", data={}) and set(event) == {"event", "data", "at"},
              event)
        check(noticed <= 3 * heartbeat / 1000.0 + 0.5, "broker_unavailable after %.2fs" % noticed)
        time.sleep(max(0, 4 * heartbeat / 1000.0 - noticed))
    finally:
        system.broker.signal(signal.SIGCONT)
    event = stream.next_event()
    check(event["event"] == "broker_available" and event["data"] == {"broker": health["broker"]}, event)
    check(set(event) == {"event", "data", "at"}, event)
    stream.close()


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def streams_open(system):
    _, _, body = system.request("GET", "/metrics", timeout=10)
    match = re.search(rb'^rill_streams_open\{process="frontend"[^}]*\} (\d+)', body, re.MULTILINE)
    check(match is not None, "no rill_streams_open in /metrics")
    return int(match.group(1))


def test_closed_connections_are_freed_at_once(ctx):
    count = 2000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 1000), hard))
    # Heartbeats far apart: nothing but the connection watch sees the clients go.
    system = ctx.system(workers=1, config={"stream_heartbeat_ms": 300000})
    system.wait_healthy()
    pid = system.frontend.popen.pid
    baseline_fds = open_fds(pid)
    check(streams_open(system) == 0)
    request = b"GET /v1/topics/news HTTP/1.1\r\nHost: x\r\n\r\n"
    sockets = []
    try:
        for _ in range(count):
            s = socket.create_connection(("127.0.0.1", system.port), timeout=30)
            s.sendall(request)
            sockets.append(s)
        for s in sockets:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(4096)
                check(chunk, "a stream closed before its headers")
                head += chunk
            check(head.startswith(b"HTTP/1.1 200"), head[:100])
        check(streams_open(system) == count, "streams open: %d" % streams_open(system))
        # One fd per connection: the watch takes none of its own.
        fds = open_fds(pid)
        check(baseline_fds + count - 10 <= fds <= baseline_fds + count + 50, "fds %d, baseline %d" % (fds, baseline_fds))
    finally:
        for s in sockets:
            s.close()
    closed = time.time()
    seen = []

    def freed():
        seen[:] = [streams_open(system), open_fds(pid)]
        return seen[0] == 0 and seen[1] <= baseline_fds + 10

    deadline = closed + 2
    while not freed() and time.time() < deadline:
        time.sleep(0.05)
    check(freed(), "2 s after the clients closed: %d streams open, %d fds (baseline %d)"
          % (seen[0], seen[1], baseline_fds))
