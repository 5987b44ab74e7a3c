"""test_busy_flush.py - a busy frontend holds each stream's writes for
busy_flush_ms (frontend/write_pacing.h, docs/CONFIG.md).

RILL_BUSY_PERCENT=0 makes the frontend busy from its first sample of its
loop's CPU on, so the windows show without loading the machine; the default
threshold (80 % of a CPU) is what an idle test frontend never reaches. A
window of 400 ms makes "held" and "at once" far apart on any CI machine.

Real broker, frontend and worker; HTTP/1.1 clients.
"""
import json
import signal
import time

import harness
from harness import check, check_job_events, publish, topic_parts

WINDOW_MS = 400






def delivered(system):
    return (harness.metric(system, "rill_stream_writes_total"),
            harness.metric(system, "rill_events_delivered_total"))


def test_a_busy_frontend_writes_each_streams_events_together(ctx):
    system = ctx.system(environment={"RILL_BUSY_PERCENT": "0"}, workers=1,
                        config={"busy_flush_ms": WINDOW_MS})
    system.wait_healthy()
    streams = [system.stream("GET", "/v1/topics/busy.a") for _ in range(2)]
    check(all(s.status == 200 for s in streams), [s.status for s in streams])
    # The first write starts the frontend's first sample of its CPU; the
    # first one a sample later makes it busy.
    publish(system, "busy.a", {"n": 0})
    for stream in streams:
        topic_parts(stream, 1)
    time.sleep(0.3)
    writes_before, events_before = delivered(system)
    sent_at = time.monotonic() - streams[0].started
    check([publish(system, "busy.a", {"n": n}) for n in range(1, 6)] == [2, 3, 4, 5, 6])
    for stream in streams:
        parts = topic_parts(stream, 5)
        check([(p["seq"], p["data"]) for p in parts] == [(n + 1, {"n": n}) for n in range(1, 6)],
              "in order, no gap: %r" % parts)
    waited = streams[0].events[-5]["at"] - sent_at
    check(waited >= WINDOW_MS / 1000.0 / 2, "held for the window: the first came after %.3f s" % waited)
    writes_after, events_after = delivered(system)
    # Ten events to two streams; a held stream writes them at once (a
    # heartbeat may add a write).
    check(events_after - events_before == 10, (events_before, events_after))
    check(writes_after - writes_before <= 4, "%d writes for 10 events" % (writes_after - writes_before))
    check(harness.metric(system, "rill_frontend_busy") == 1, "the busy gauge")
    check(harness.metric(system, "rill_frontend_busy_episodes_total") >= 1, "the episodes counter")

    # A job's stream is held too, and ends complete.
    job = system.stream("POST", "/v1/jobs", {"kind": "demo", "args": {"parts": 5, "interval_ms": 20}})
    check_job_events(job.read_all(), 5)

    # busy_flush_ms 0 (a reload): nothing waits, busy or not.
    with open(system.config_path, "w") as f:
        json.dump({"busy_flush_ms": 0}, f)
    system.frontend.signal(signal.SIGHUP)
    seq = [6]  # the last seq published

    def prompt():
        seq[0] += 1
        sent = time.monotonic() - streams[0].started
        check(publish(system, "busy.a", {"n": seq[0]}) == seq[0])
        for stream in streams:
            topic_parts(stream, 1)
        return streams[0].events[-1]["at"] - sent < WINDOW_MS / 1000.0 / 4
    system.wait_for(prompt, what="a message delivered at once after busy_flush_ms 0")
    check(harness.metric(system, "rill_frontend_busy") == 0, "a window of 0 ends the busy spell")
    for stream in streams:
        stream.close()


def test_a_frontend_that_keeps_up_writes_at_once(ctx):
    system = ctx.system(workers=1, config={"busy_flush_ms": WINDOW_MS})
    system.wait_healthy()
    stream = system.stream("GET", "/v1/topics/busy.b")
    check(stream.status == 200, stream.status)
    for n in range(1, 8):
        sent = time.monotonic() - stream.started
        check(publish(system, "busy.b", {"n": n}) == n)
        part = topic_parts(stream, 1)[0]
        check(part["data"] == {"n": n}, part)
        check(part["at"] - sent < WINDOW_MS / 1000.0 / 2,
              "message %d took %.3f s: held although the frontend is idle" % (n, part["at"] - sent))
        time.sleep(0.05)
    check(harness.metric(system, "rill_frontend_busy") == 0, "the busy gauge")
    check(harness.metric(system, "rill_frontend_busy_episodes_total") == 0, "the episodes counter")
    stream.close()
