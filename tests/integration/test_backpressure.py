"""test_backpressure.py - back-pressure, not loss (docs/PROTOCOL.md,
"Back-pressure, not loss"): a job that makes parts faster than the path to
its client takes them is slowed down, never cut short.

- `seq 1 1000000` through the exec kind, read by a client that stops
  reading for 2 s, with the default slow-client limits: every line exactly
  once, in order, then done (the job waits at its source while its only
  client is behind: docs/PROTOCOL.md, "Flow"). The broker is stopped for a moment on the way,
  so the worker's outbox fills and its kinds must pause (the child blocks on
  its stdout pipe) instead of dropping a part or the last FAIL/DONE.
- Two clients follow one job, one never reads: the other gets every line
  and done all the same; the slow one meets the slow-client limit.
- 100 detached demo jobs of 3,000 parts at interval 0 on one worker: all
  done with 3,000 parts each, and a few followed with GET /v1/stream from
  their first part get every part once.
- A frontend stopped for a moment (shorter than a heartbeat) loses nothing:
  the broker holds its events (ZMQ_XPUB_NODROP) instead of dropping them.

Semantics only, never speed: the timeouts are generous for a shared machine.
"""
import json
import os
import signal
import threading
import time

import harness
from harness import check
from test_streams import dropping_system, publish

SEQ_LINES = 1000000
SEQ_EXEC = {"seq": {"argv": ["/usr/bin/seq"], "max_args": 3}}


def sanitized(build_dir):
    """True for a build with sanitizers (their memory overhead voids RSS checks)."""
    try:
        with open(os.path.join(build_dir, "meson-info", "intro-buildoptions.json")) as f:
            options = json.load(f)
    except (OSError, ValueError):
        return True
    return any(o["name"] == "b_sanitize" and o["value"] not in ("none", "") for o in options)


def peak_rss_kb(process):
    """The process's peak resident set (VmHWM) in KiB, 0 when gone."""
    try:
        with open("/proc/%d/status" % process.popen.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def check_no_lost_message(system):
    for process in system.workers:
        log = process.log_text()
        check("cannot send" not in log and "refusing parts" not in log,
              "%s lost or refused a message:\n%s" % (process.name, system.logs_tail()))


def read_lines_slowly(stream, pause_after, pause_s, out):
    """Reads the stream's NDJSON lines into out (bytes, heartbeats left out);
    after the first pause_after lines it stops reading for pause_s seconds,
    then reads at full speed."""
    buffered, paused = b"", pause_after is None
    while True:
        block = stream.response.read1(1 << 16)
        if not block:
            break
        lines = (buffered + block).split(b"\n")
        buffered = lines.pop()
        out.extend(line for line in lines if b'"heartbeat"' not in line[:40] and b'"accepted"' not in line[:40])
        if not paused and len(out) >= pause_after:
            paused = True
            time.sleep(pause_s)
    if buffered:
        out.append(buffered)


def check_seq_lines(lines, count, system):
    """Every line 1..count once, in order, then the exit status and done."""
    parts = [line for line in lines if b'"event":"part"' in line]
    check(len(parts) >= count, "only %d parts arrived\n%s" % (len(parts), system.logs_tail()))
    for expected in range(1, count + 1):
        line = parts[expected - 1]
        if (b'"seq":%d,' % expected) not in line or (b'{"line":"%d"}' % expected) not in line:
            check(False, "expected line %d as seq %d, got %r" % (expected, expected, line))
    tail = [json.loads(line) for line in lines[count:]]
    check([(e["event"], e["seq"], e["data"]) for e in tail] ==
          [("part", count + 1, {"exit_status": 0}), ("done", count + 2, {"parts": count + 1})],
          "after the lines: %r" % tail[:5])


def test_seq_million_lines_every_line_once_in_order(ctx):
    # The DEFAULT slow-client limits (docs/CONFIG.md): the client stops
    # reading for 2 s after its first 1,000 lines, far longer than seq needs
    # to overrun 8 MiB; its job is paused at its source (docs/PROTOCOL.md,
    # "Flow") instead of the stream being cut with error slow_client. On the
    # way the broker is stopped for a moment, so the worker's outbox fills
    # and its kinds pause too, and no part nor the last DONE is dropped.
    # What is in flight when the job pauses still arrives: the worker <->
    # broker pipe holds RILL_WORKER_PIPE_HWM (32) messages on each side,
    # the rest waits in the worker's outbox (docs/PROTOCOL.md, "Flow").
    system = ctx.system(workers=1, config={"exec": SEQ_EXEC})
    system.wait_healthy()
    body = {"kind": "exec", "args": {"name": "seq", "args": ["1", str(SEQ_LINES)]}}
    started = time.monotonic()
    stream = system.stream("POST", "/v1/jobs", body, {"Content-Type": "application/json"}, timeout=150)
    check(stream.status == 200, "POST answered %s" % stream.status)
    lines = []
    reader = threading.Thread(target=read_lines_slowly, args=(stream, 1000, 2.0, lines), daemon=True)
    reader.start()
    system.wait_for(lambda: len(lines) > 100000, timeout=60, what="the lines after the pause")
    system.broker.signal(signal.SIGSTOP)
    time.sleep(0.5)
    system.broker.signal(signal.SIGCONT)
    reader.join(150)
    check(not reader.is_alive(), "the stream did not end\n%s" % system.logs_tail())
    stream.close()
    elapsed = time.monotonic() - started
    check(not any(b"slow_client" in line for line in lines), "slow_client\n%s" % system.logs_tail())
    check_seq_lines(lines, SEQ_LINES, system)
    check_no_lost_message(system)
    worker_peak = peak_rss_kb(system.workers[0])
    print("    seq: %d lines in %.1f s, worker peak RSS %d KiB" % (SEQ_LINES, elapsed, worker_peak))
    if not sanitized(system.build_dir):
        # Bounded by the outbox's mark, not by the job: all of it held
        # would take some 200 MB.
        check(0 < worker_peak < 64 * 1024, "worker peak RSS %d KiB" % worker_peak)


def test_slow_follower_does_not_hold_back_a_fast_one(ctx):
    # Two clients follow one job: one reads at full speed, the other never
    # reads. The job must not be paused for the slow one (a slow client never
    # slows others): the fast one gets every line and done, and the slow one
    # meets the slow-client limit (default: error slow_client).
    lines_total = 300000
    system = ctx.system(workers=0, config={"exec": SEQ_EXEC})
    system.wait_listening()
    system.wait_for(lambda: "worker" in (system.json_request("GET", "/healthz")[1] or {}).get("message", ""),
                    what="the frontend to know the broker")
    status, body = system.json_request("POST", "/v1/jobs?detach=1",
                                       {"kind": "exec", "args": {"name": "seq", "args": ["1", str(lines_total)]}})
    check(status == 202, body)
    job_id = body["jobs"][0]
    slow = system.stream("GET", "/v1/stream?job=" + job_id, timeout=90)
    fast = system.stream("GET", "/v1/stream?job=" + job_id, timeout=90)
    check(slow.status == 200 and fast.status == 200, "GET /v1/stream answered %s %s" % (slow.status, fast.status))
    lines = []
    reader = threading.Thread(target=read_lines_slowly, args=(fast, None, 0, lines), daemon=True)
    reader.start()
    started = time.monotonic()
    system.start_worker()
    reader.join(60)
    elapsed = time.monotonic() - started
    check(not reader.is_alive(), "the fast stream did not end within 60 s\n%s" % system.logs_tail())
    fast.close()
    check_seq_lines(lines, lines_total, system)
    # The slow one was cut (its queue went over the hard limit), not obeyed.
    slow_lines = []
    read_lines_slowly(slow, None, 0, slow_lines)
    slow.close()
    check(slow_lines and b"slow_client" in slow_lines[-1],
          "the slow stream ended with %r" % (slow_lines[-1:] or None))
    check(len(slow_lines) < lines_total, "the slow stream got all %d lines" % len(slow_lines))
    print("    fast follower: %d lines in %.1f s, slow one cut after %d" % (lines_total, elapsed, len(slow_lines)))


def check_every_part(events, parts, job_id):
    """harness.check_job_events' semantics (parts 1..N as seqs 1..N, then
    done), its messages built only on failure: 3,000 events are many."""
    summary = [(e.get("event"), e.get("seq")) for e in events]
    check(len(events) == parts + 1, "job %s: %d events, expected %d: %r..." % (job_id, len(events), parts + 1,
                                                                              summary[-5:]))
    for i, e in enumerate(events[:-1]):
        if not (e["job"] == job_id and e["event"] == "part" and e["seq"] == i + 1 and e["data"]["i"] == i + 1):
            check(False, "job %s: event %d is %r" % (job_id, i, e))
    done = events[-1]
    check(done["event"] == "done" and done["seq"] == parts + 1 and done["data"] == {"parts": parts},
          "job %s ends with %r" % (job_id, done))


def read_stream(stream, into):
    try:
        into.extend(stream.read_all())
    except Exception as error:  # reported by the main thread's checks
        into.append({"event": "reader failed", "error": repr(error)})


def test_hundred_detached_demo_jobs_all_done_every_part_streamed(ctx):
    jobs, parts = 100, 3000
    system = ctx.system(workers=0)
    system.wait_listening()
    system.wait_for(lambda: "worker" in (system.json_request("GET", "/healthz")[1] or {}).get("message", ""),
                    what="the frontend to know the broker")
    status, body = system.json_request("POST", "/v1/jobs?detach=1",
                                       [{"kind": "demo", "args": {"parts": parts, "interval_ms": 0}}] * jobs)
    check(status == 202 and len(body["jobs"]) == jobs, body)
    ids = body["jobs"]
    # No worker yet: the jobs wait, so these streams see them from seq 1 (the
    # broker retains only a job's last 1,000 parts: retain_parts).
    followed = ids[:3]
    streams, events, readers = [], [], []
    for job_id in followed:
        stream = system.stream("GET", "/v1/stream?job=" + job_id, timeout=90)
        check(stream.status == 200, "GET /v1/stream answered %s" % stream.status)
        got = []
        reader = threading.Thread(target=read_stream, args=(stream, got), daemon=True)
        reader.start()
        streams.append(stream)
        events.append(got)
        readers.append(reader)
    started = time.monotonic()
    system.start_worker()
    states = {}

    def all_ended():
        for job_id in ids:
            if states.get(job_id, {}).get("state") not in ("done", "failed", "cancelled"):
                states[job_id] = system.job_status(job_id)
                if states[job_id]["state"] not in ("done", "failed", "cancelled"):
                    return False
        return True

    system.wait_for(all_ended, timeout=90, what="100 demo jobs to end")
    elapsed = time.monotonic() - started
    not_done = [(j, s["state"], s["parts"]) for j, s in states.items() if s["state"] != "done" or s["parts"] != parts]
    check(not not_done, "jobs not done with %d parts: %r" % (parts, not_done[:5]))
    for job_id, reader, got, stream in zip(followed, readers, events, streams):
        reader.join(60)
        check(not reader.is_alive(), "stream of %s did not end" % job_id)
        stream.close()
        check_every_part(got, parts, job_id)
    check_no_lost_message(system)
    print("    demo: %d jobs x %d parts in %.1f s, worker peak RSS %d KiB"
          % (jobs, parts, elapsed, peak_rss_kb(system.workers[0])))


def test_frontend_stopped_briefly_loses_nothing(ctx):
    # A tiny HWM fills the XPUB's pipe to the stopped frontend at once; the
    # broker holds what it refuses (for up to heartbeat_ms, 3 s here) and sends it when the frontend reads again: no gap, no repair.
    system, port2 = dropping_system(ctx, {"heartbeat_ms": 3000})
    stream = system.stream("GET", "/v1/topics/held")
    check(stream.status == 200)
    pad = "x" * 20000
    system.frontend.signal(signal.SIGSTOP)
    try:
        for n in range(1, 61):
            publish(system, "held", {"n": n, "pad": pad}, port=port2)
    finally:
        system.frontend.signal(signal.SIGCONT)
    got = [stream.next_event() for _ in range(60)]
    stream.close()
    check([(e["event"], e["seq"], e["data"]["n"]) for e in got] == [("part", n, n) for n in range(1, 61)],
          "after the stop: %r" % [(e["event"], e["seq"]) for e in got])
    check("fetching the missing events" not in system.frontend.log_text(), "a repair was needed: events were dropped")
    check("for a frontend that is behind" not in system.broker.log_text(), "the broker gave up holding")
