"""test_streams.py - subscribe, replay, resume, topics, SSE, HTTP/2 (issue 3, part A).

Every test runs the real broker, frontend(s) and workers. HTTP/1.1 clients
are Python's http.client; HTTP/2 clients are curl with --http2-prior-knowledge.
"""
import json
import os
import signal
import subprocess
import time
import urllib.parse

import harness
from harness import BackgroundSubmit, check, check_job_events, detach, events_by_job, metric

DEMO = "demo"


def demo(parts, interval_ms):
    return {"kind": DEMO, "args": {"parts": parts, "interval_ms": interval_ms}}


def publish(system, topic, message, port=None):
    conn = system.connection(10, port=port)
    try:
        conn.request("POST", "/v1/topics/" + topic, body=json.dumps(message))
        response = conn.getresponse()
        body = json.loads(response.read())
    finally:
        conn.close()
    check(response.status == 202, "publish answered %s %r" % (response.status, body))
    check(body["topic"] == topic and isinstance(body["seq"], int), body)
    return body["seq"]


def ndjson(system, path, headers=None, port=None, timeout=30):
    target = harness.OnPort(system, port) if port else system
    return harness.Stream(target, "GET", path, None, headers, timeout)


class Sse:
    """A Server-Sent Events client over HTTP/1.1, as EventSource reads it."""

    def __init__(self, system, path, last_event_id=None, accept=True, timeout=30):
        self.conn = system.connection(timeout)
        headers = {"Accept": "text/event-stream"} if accept else {}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.conn.request("GET", path, headers=headers)
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.headers = {k.lower(): v for k, v in self.response.getheaders()}
        self.last_id = None
        self.events = []

    def next_event(self):
        """The next event's data object, with its SSE "event" and "id" fields
        as sse_event / sse_id; None when the stream ended."""
        fields = {}
        while True:
            line = self.response.readline()
            if not line:
                return None
            check(line.endswith(b"\n"), "SSE line not terminated: %r" % line)
            line = line[:-1].decode("utf-8")
            if line == "":
                if "data" not in fields:
                    fields = {}
                    continue
                event = json.loads(fields["data"])
                event["sse_event"] = fields.get("event")
                event["sse_id"] = fields.get("id")
                check(event["sse_event"] == event["event"], "event: %r" % event)
                check(event["sse_id"], "an event without id: %r" % event)
                self.last_id = event["sse_id"]
                self.events.append(event)
                return event
            if line.startswith(":"):
                continue  # a comment: the heartbeat
            if line.startswith("retry:") and not fields:
                continue  # the reconnection delay (test_sse.py checks it)
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            check(name in ("event", "id", "data"), "unexpected SSE field %r" % line)
            check(name not in fields, "field %s twice in one event" % name)
            fields[name] = value

    def read_all(self):
        while self.next_event() is not None:
            pass
        return self.events

    def close(self):
        self.conn.close()


class Curl:
    """An HTTP/2 (prior knowledge) NDJSON subscriber: a curl subprocess."""

    def __init__(self, port, path, max_time=30, extra=()):
        self.process = subprocess.Popen(
            ["curl", "--http2-prior-knowledge", "-sN", "-i", "--max-time", str(max_time)]
            + list(extra) + ["http://127.0.0.1:%d%s" % (port, path)],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        status = self.process.stdout.readline()
        check(status.startswith(b"HTTP/2 200"), "curl status line %r" % status)
        self.headers = {}
        while True:
            line = self.process.stdout.readline().rstrip(b"\r\n")
            if not line:
                break
            name, _, value = line.decode().partition(":")
            self.headers[name.lower()] = value.strip()

    def next_event(self):
        while True:
            line = self.process.stdout.readline()
            if not line:
                return None
            event = json.loads(line)
            if event.get("event") not in ("heartbeat", "accepted"):
                return event

    def close(self):
        self.process.terminate()
        self.process.wait(10)
        self.process.stdout.close()


def curl(port, method, path, body=None, headers=(), max_time=20):
    """One HTTP/2 request; returns (status, http version, body bytes)."""
    argv = ["curl", "--http2-prior-knowledge", "-sN", "--max-time", str(max_time), "-X", method,
            "-o", "-", "-w", "\n%{http_code} %{http_version}"]
    for header in headers:
        argv += ["-H", header]
    if body is not None:
        argv += ["--data-binary", body if isinstance(body, str) else json.dumps(body)]
    argv.append("http://127.0.0.1:%d%s" % (port, path))
    output = subprocess.run(argv, capture_output=True, timeout=max_time + 10).stdout
    body, _, trailer = output.rpartition(b"\n")
    code, _, version = trailer.decode().partition(" ")
    return int(code), version, body


def ndjson_events(body):
    events = [json.loads(line) for line in body.splitlines() if line.strip()]
    return [e for e in events if e.get("event") not in ("heartbeat", "accepted")]


# ---- (a) late subscribers ------------------------------------------------------

def test_late_subscriber_gets_every_part_once(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    owner = system.stream("POST", "/v1/jobs", demo(8, 100))
    job_id = owner.next_event()["job"]
    owner.next_event()
    # Two parts are retained and more are on their way: the late subscriber
    # gets the first from the replay, the rest live, each exactly once.
    late = system.stream("GET", "/v1/stream?job=" + job_id)
    check(late.status == 200, "status %s" % late.status)
    check(late.headers.get("content-type", "").startswith("application/x-ndjson"), late.headers)
    check_job_events(late.read_all(), 8, job_id)
    check_job_events(owner.read_all(), 8, job_id)
    # After the end: the whole job from retention, then the stream ends.
    after = system.stream("GET", "/v1/stream?job=" + job_id)
    check_job_events(after.read_all(), 8, job_id)


def test_many_late_subscribers_of_a_fast_job(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    (job_id,) = detach(system, demo(60, 5))
    streams = []
    for _ in range(6):
        streams.append(system.stream("GET", "/v1/stream?job=" + job_id))
        time.sleep(0.04)
    for stream in streams:
        check_job_events(stream.read_all(), 60, job_id)


# ---- (b) jobs and topics multiplexed -------------------------------------------

def test_one_stream_two_jobs_and_a_topic(ctx):
    system = ctx.system(workers=2)
    system.wait_healthy(workers=2)
    a, b = detach(system, demo(4, 150), demo(6, 100))
    stream = system.stream("GET", "/v1/stream?job=%s&job=%s&topic=news" % (a, b))
    check(stream.status == 200, "status %s" % stream.status)
    for n in range(1, 4):
        check(publish(system, "news", {"n": n}) == n)
        time.sleep(0.1)
    done = set()
    topic = []
    while len(done) < 2 or len(topic) < 3:
        event = stream.next_event()
        check(event is not None, "stream ended early: %r" % stream.events)
        if "topic" in event:
            topic.append(event)
        elif event["event"] == "done":
            done.add(event["job"])
    jobs = events_by_job([e for e in stream.events if "job" in e])
    check_job_events(jobs[a], 4, a)
    check_job_events(jobs[b], 6, b)
    check([(e["topic"], e["seq"], e["event"], e["data"]) for e in topic]
          == [("news", n, "part", {"n": n}) for n in (1, 2, 3)], "topic events %r" % topic)
    # Both jobs have ended, but the stream names a topic: it stays open.
    publish(system, "news", {"n": 4})
    event = stream.next_event()
    check(event["topic"] == "news" and event["seq"] == 4 and event["data"] == {"n": 4}, event)
    stream.close()


def test_topic_without_since_starts_live(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    for n in range(1, 4):
        publish(system, "late", {"old": n})
    stream = system.stream("GET", "/v1/topics/late")
    check(stream.status == 200)
    publish(system, "late", {"new": 1})
    event = stream.next_event()
    check(event == dict(event, topic="late", seq=4, event="part", data={"new": 1}), event)
    stream.close()
    # With since, what is retained is replayed.
    stream = system.stream("GET", "/v1/topics/late?since=late:1")
    check([(e["seq"], e["data"]) for e in (stream.next_event(), stream.next_event(), stream.next_event())]
          == [(2, {"old": 2}), (3, {"old": 3}), (4, {"new": 1})], stream.events)
    stream.close()


# ---- (c) resume ------------------------------------------------------------------

def test_sse_resume_with_last_event_id(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    (job_id,) = detach(system, demo(6, 200))
    sse = Sse(system, "/v1/stream?job=" + job_id)
    check(sse.status == 200, "status %s" % sse.status)
    check(sse.headers.get("content-type") == "text/event-stream", sse.headers)
    check(sse.headers.get("cache-control") == "no-cache", sse.headers)
    first = [sse.next_event() for _ in range(3)]
    check([(e["seq"], e["event"]) for e in first] == [(1, "part"), (2, "part"), (3, "part")], first)
    check([e["sse_id"] for e in first] == ["%s:%d" % (job_id, n) for n in (1, 2, 3)], first)
    sse.close()
    # EventSource reconnects with the last id it saw: exactly the other 3 parts.
    again = Sse(system, "/v1/stream?job=" + job_id, last_event_id=first[-1]["sse_id"])
    rest = again.read_all()
    check([(e["seq"], e["event"]) for e in rest] == [(4, "part"), (5, "part"), (6, "part"), (7, "done")],
          "after resume: %r" % rest)
    check([e["data"]["i"] for e in rest[:3]] == [4, 5, 6], rest)
    check(rest[-1]["sse_id"] == "%s:7" % job_id, rest[-1])
    # Resuming after the end has nothing to say: 204, so EventSource stops.
    over = Sse(system, "/v1/stream?job=" + job_id, last_event_id=rest[-1]["sse_id"])
    check(over.status == 204 and over.read_all() == [], over.events)


def test_sse_resume_of_a_multiplexed_stream(ctx):
    system = ctx.system(workers=2)
    system.wait_healthy(workers=2)
    job_id, other = detach(system, demo(6, 250), demo(4, 300))
    path = "/v1/stream?job=%s&topic=feed&job=%s&format=sse" % (job_id, other)
    sse = Sse(system, path, accept=False)  # ?format=sse alone picks SSE
    check(sse.headers.get("content-type") == "text/event-stream", sse.headers)
    publish(system, "feed", {"m": 1})
    seen = []
    while sum(1 for e in seen if e.get("job") == job_id and e["event"] == "part") < 3 or \
            not any("topic" in e for e in seen):
        event = sse.next_event()
        check(event is not None, "stream ended early: %r" % seen)
        seen.append(event)
    cursor = sse.last_id
    check(("feed:" in cursor) and (job_id + ":") in cursor and (other + ":") in cursor,
          "cursor %r" % cursor)
    sse.close()
    publish(system, "feed", {"m": 2})
    publish(system, "feed", {"m": 3})
    again = Sse(system, path, last_event_id=cursor, accept=False)
    ended = set(e["job"] for e in seen if e["event"] == "done")
    while len(ended) < 2 or sum(1 for e in seen + again.events if "topic" in e) < 3:
        event = again.next_event()
        check(event is not None, "stream ended early: %r" % again.events)
        if event["event"] == "done":
            ended.add(event["job"])
    again.close()
    every = seen + again.events
    for job, parts in ((job_id, 6), (other, 4)):
        events = [e for e in every if e.get("job") == job]
        check_job_events(sorted(events, key=lambda e: e["seq"]), parts, job)
        check(len(set(e["seq"] for e in events)) == len(events), "a duplicate in %r" % events)
    topic = [(e["seq"], e["data"]["m"]) for e in every if "topic" in e]
    check(topic == [(1, 1), (2, 2), (3, 3)], "topic events %r" % topic)


def test_resume_point_no_longer_retained_starts_with_gap(ctx):
    system = ctx.system(workers=1, config={"retain_parts": 2})
    system.wait_healthy()
    (job_id,) = detach(system, demo(6, 150))
    sse = Sse(system, "/v1/stream?job=" + job_id)
    first = [sse.next_event() for _ in range(3)]
    check([e["seq"] for e in first] == [1, 2, 3], first)
    sse.close()
    system.wait_for(lambda: system.job_status(job_id)["state"] == "done", what="job done")
    # Retained now: part 6 (seq 6) and done (seq 7); 4 and 5 are gone.
    again = Sse(system, "/v1/stream?job=" + job_id, last_event_id=first[-1]["sse_id"])
    rest = again.read_all()
    check(len(rest) == 3, "after resume: %r" % rest)
    gap, part, done = rest
    check(gap["event"] == "gap" and gap["job"] == job_id and gap["data"] == {"from": 4, "to": 5}, gap)
    check(gap["sse_id"] == "%s:5" % job_id, gap)
    check(part["event"] == "part" and part["seq"] == 6 and part["data"]["i"] == 6, part)
    check(done["event"] == "done" and done["seq"] == 7, done)
    # NDJSON ?since= the same way (percent-encoded or not).
    for since in ("%s:3" % job_id, urllib.parse.quote("%s:3" % job_id, safe="")):
        stream = system.stream("GET", "/v1/stream?job=%s&since=%s" % (job_id, since))
        events = stream.read_all()
        check([(e["event"], e["seq"]) for e in events] == [("gap", 5), ("part", 6), ("done", 7)], events)
        check(events[0]["data"] == {"from": 4, "to": 5}, events[0])
    # A stream from the start of a job whose first parts are gone: gap 1..5.
    events = system.stream("GET", "/v1/stream?job=" + job_id).read_all()
    check([(e["event"], e["seq"]) for e in events] == [("gap", 5), ("part", 6), ("done", 7)], events)
    check(events[0]["data"] == {"from": 1, "to": 5}, events[0])


def test_ndjson_resume_with_since(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    (job_id,) = detach(system, demo(6, 20))
    system.wait_for(lambda: system.job_status(job_id)["state"] == "done", what="job done")
    events = system.stream("GET", "/v1/stream?job=%s&since=%s:3" % (job_id, job_id)).read_all()
    check([(e["event"], e["seq"]) for e in events] == [("part", 4), ("part", 5), ("part", 6), ("done", 7)],
          events)
    # After the end: nothing to say, 204 (NDJSON as SSE).
    stream = system.stream("GET", "/v1/stream?job=%s&since=%s:7" % (job_id, job_id))
    check(stream.status == 204 and stream.read_all() == [], stream.events)
    # Subjects of the cursor that the query does not name are ignored.
    events = system.stream("GET", "/v1/stream?job=%s&since=other:9,%s:5" % (job_id, job_id)).read_all()
    check([e["seq"] for e in events] == [6, 7], events)


# ---- (d) topic fan-out over HTTP/1.1 and HTTP/2, on two frontends ----------------

def test_topic_reaches_every_subscriber_on_two_frontends(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    port2 = harness.free_port()
    system.start_frontend(port=port2, name="frontend2")
    system.wait_healthy(port=port2)
    python_subscribers = [ndjson(system, "/v1/topics/alerts") for _ in range(3)]
    python_subscribers += [ndjson(system, "/v1/stream?topic=alerts", port=port2) for _ in range(2)]
    curl_subscribers = [Curl(system.port, "/v1/topics/alerts") for _ in range(2)]
    curl_subscribers.append(Curl(port2, "/v1/stream?topic=alerts"))
    for stream in python_subscribers:
        check(stream.status == 200, "status %s" % stream.status)
    for c in curl_subscribers:
        check(c.headers.get("content-type") == "application/x-ndjson", c.headers)
    for n in range(1, 6):
        # Published through either frontend: one broker, one seq.
        seq = publish(system, "alerts", {"n": n}, port=port2 if n % 2 == 0 else None)
        check(seq == n, "seq %s for message %d" % (seq, n))
    try:
        for subscriber in python_subscribers + curl_subscribers:
            got = [subscriber.next_event() for _ in range(5)]
            check([(e["topic"], e["seq"], e["event"], e["data"]) for e in got]
                  == [("alerts", n, "part", {"n": n}) for n in range(1, 6)],
                  "subscriber got %r" % got)
    finally:
        for stream in python_subscribers:
            stream.close()
        for c in curl_subscribers:
            c.close()


def test_http2_serves_every_endpoint(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    port = system.port
    status, version, body = curl(port, "GET", "/healthz")
    check((status, version) == (200, "2") and json.loads(body)["status"] == "ok", (status, version, body))
    status, version, body = curl(port, "POST", "/v1/jobs", demo(3, 50))
    check((status, version) == (200, "2"), (status, version, body))
    events = ndjson_events(body)
    check_job_events(events, 3)
    job_id = events[0]["job"]
    status, _, body = curl(port, "GET", "/v1/jobs/" + job_id)
    check(status == 200 and json.loads(body)["state"] == "done", body)
    status, _, body = curl(port, "GET", "/v1/stream?job=" + job_id)
    check(status == 200, body)
    check_job_events(ndjson_events(body), 3, job_id)
    status, _, body = curl(port, "GET", "/v1/stream?job=%s&since=%s:2" % (job_id, job_id),
                           headers=["Accept: text/event-stream"])
    check(status == 200 and b"id: %s:4\n" % job_id.encode() in body and b"event: done\n" in body, body)
    status, _, body = curl(port, "POST", "/v1/jobs?detach=1", [demo(1000, 50)])
    check(status == 202, body)
    long_job = json.loads(body)["jobs"][0]
    status, _, body = curl(port, "DELETE", "/v1/jobs/" + long_job)
    check(status == 200 and json.loads(body)["state"] == "cancelled", body)
    status, _, body = curl(port, "POST", "/v1/topics/h2", {"over": "h2"})
    check(status == 202 and json.loads(body) == {"topic": "h2", "seq": 1}, body)
    status, _, body = curl(port, "GET", "/v1/stream?topic=bad%20name")
    check(status == 400 and json.loads(body)["error"] == "bad_topic", body)
    status, _, body = curl(port, "GET", "/v1/stream?job=0123456789abcdef0123456789abcdef")
    check(status == 404 and json.loads(body)["error"] == "not_found", body)
    # A live topic stream over HTTP/2: headers at once, then each message.
    subscriber = Curl(port, "/v1/topics/h2")
    try:
        publish(system, "h2", {"n": 2})
        event = subscriber.next_event()
        check(event["topic"] == "h2" and event["seq"] == 2 and event["data"] == {"n": 2}, event)
    finally:
        subscriber.close()


# ---- (e) bad input ----------------------------------------------------------------

def test_stream_and_topic_bad_input(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    (job_id,) = detach(system, demo(1, 1))
    unknown = "0123456789abcdef0123456789abcdef"
    cases = [
        ("GET", "/v1/stream?job=" + unknown, None, {}, 404),
        ("GET", "/v1/stream?job=%s&job=%s" % (job_id, unknown), None, {}, 404),
        ("GET", "/v1/stream?job=nothex", None, {}, 404),
        ("GET", "/v1/stream?topic=bad%20name", None, {}, 400),
        ("GET", "/v1/stream?topic=" + "x" * 129, None, {}, 400),
        ("GET", "/v1/stream?topic=a/b", None, {}, 400),
        ("GET", "/v1/stream", None, {}, 400),
        ("GET", "/v1/stream?format=sse", None, {}, 400),
        ("GET", "/v1/stream?job=%s&format=xml" % job_id, None, {}, 400),
        ("GET", "/v1/topics/bad!name", None, {}, 400),
        ("POST", "/v1/topics/bad!name", b"{}", {}, 400),
        ("POST", "/v1/topics/news", b"{not json", {}, 400),
        ("POST", "/v1/topics/news", b"", {}, 400),
        ("POST", "/v1/topics/news", b"[" + b"1," * (600 * 1024) + b"1]", {}, 413),
        ("DELETE", "/v1/topics/never-published", None, {}, 404),  # rill/3: DELETE ends a topic
        ("PUT", "/v1/topics/news", b"{}", {}, 405),
        ("POST", "/v1/stream", b"{}", {}, 405),
        ("GET", "/v1/stream?job=%s&since=garbage" % job_id, None, {}, 400),
        ("GET", "/v1/stream?job=%s&since=%s:x" % (job_id, job_id), None, {}, 400),
        ("GET", "/v1/stream?job=%s&since=%s:1,%s:2" % (job_id, job_id, job_id), None, {}, 400),
        ("GET", "/v1/stream?job=%s&since=%%zz" % job_id, None, {}, 400),
        ("GET", "/v1/stream?job=" + job_id, None, {"Last-Event-ID": "bad cursor"}, 400),
        ("GET", "/v1/topics/news", None, {"Last-Event-ID": "news:1,"}, 400),
    ]
    for method, path, body, headers, expected in cases:
        status, response_headers, data = system.request(method, path, body, headers)
        check(status == expected, "%s %s answered %s, expected %s: %r" % (method, path[:80], status, expected,
                                                                          data[:200]))
        check(response_headers.get("content-type", "").startswith("application/json"),
              "%s %s: %r" % (method, path[:80], response_headers))
        error = json.loads(data)
        check(isinstance(error.get("error"), str) and error.get("message"), error)
    # None of it published anything: the topic's first message is seq 1.
    check(publish(system, "news", "a JSON string is JSON too") == 1)
    check(publish(system, "news", 42) == 2)
    events = system.stream("GET", "/v1/stream?job=" + job_id).read_all()
    check_job_events(events, 1, job_id)


# ---- repair: what the XPUB dropped is fetched, what is gone is a gap ---------------

def dropping_system(ctx, config):
    """A system whose sockets' high-water mark is tiny, so the broker's XPUB
    is full at once for a stalled frontend: the broker holds the events for
    one heartbeat, then drops what that frontend cannot take
    (broker/events_channel.h), plus a second frontend to publish through
    while the first is stopped. Returns (system, second frontend's port)."""
    saved = os.environ.get("RILL_SOCKET_HWM")
    os.environ["RILL_SOCKET_HWM"] = "10"
    try:
        system = ctx.system(workers=1, config=config)
    finally:
        if saved is None:
            del os.environ["RILL_SOCKET_HWM"]
        else:
            os.environ["RILL_SOCKET_HWM"] = saved
    system.wait_healthy()
    port2 = harness.free_port()
    system.start_frontend(port=port2, name="frontend2")
    system.wait_healthy(port=port2)
    return system, port2


def broker_gave_up_holding(system, times=1):
    """The broker held events for the stopped frontend for a heartbeat, then
    dropped them for it (it logs each time it stops holding)."""
    system.wait_for(lambda: system.broker.log_text().count("for a frontend that is behind") >= times, timeout=15,
                    what="the broker to stop holding events for the stopped frontend")


def test_dropped_live_events_are_repaired_or_reported(ctx):
    system, port2 = dropping_system(ctx, {"topic_retain_messages": 60})
    stream = system.stream("GET", "/v1/topics/flood")
    check(stream.status == 200)
    pad = "x" * 20000
    system.frontend.signal(signal.SIGSTOP)
    try:
        for n in range(1, 101):
            publish(system, "flood", {"n": n, "pad": pad}, port=port2)
        broker_gave_up_holding(system)
    finally:
        system.frontend.signal(signal.SIGCONT)
    # The next live message, or the broker's sync before it, shows the jump;
    # the frontend FETCHes what is missing: the last 60 are retained, anything
    # older is a gap. (If 101 is dropped too, the sync still finds it.)
    publish(system, "flood", {"n": 101, "pad": pad}, port=port2)
    got = []
    while not got or got[-1]["seq"] < 101:
        event = stream.next_event()
        check(event is not None, "stream ended: %r" % [(e["event"], e["seq"]) for e in got])
        got.append(event)
    stream.close()
    covered = []
    gaps = [e for e in got if e["event"] == "gap"]
    for e in got:
        if e["event"] == "gap":
            covered += list(range(e["data"]["from"], e["data"]["to"] + 1))
        else:
            check(e["event"] == "part" and e["data"]["n"] == e["seq"], e["seq"])
            covered.append(e["seq"])
    check(covered == list(range(1, 102)), "seqs covered: %r" % covered)
    # The repair starts at the broker's next sync (then 41..100 are the last 60
    # retained) or at message 101 (then 42..101): the gap ends at 40 or 41.
    check(len(gaps) == 1 and gaps[0]["data"]["to"] in (40, 41) and gaps[0]["topic"] == "flood",
          "expected one gap ending at 40 or 41 (the XPUB must have dropped): %r" % gaps)
    check("fetching the missing events" in system.frontend.log_text(), "no repair logged")
    # Dropped but still retained: repaired without a gap.
    stream = system.stream("GET", "/v1/topics/flood?since=flood:101")
    system.frontend.signal(signal.SIGSTOP)
    try:
        for n in range(102, 152):
            publish(system, "flood", {"n": n, "pad": pad}, port=port2)
        # Still dropping for it (ten heartbeats after giving up), or holding
        # for a heartbeat and giving up again: dropped either way.
        time.sleep(1.5)
    finally:
        system.frontend.signal(signal.SIGCONT)
    publish(system, "flood", {"n": 152, "pad": pad}, port=port2)
    got = [stream.next_event() for _ in range(51)]
    stream.close()
    check([(e["event"], e["seq"], e["data"]["n"]) for e in got] == [("part", n, n) for n in range(102, 153)],
          "after a repair: %r" % [(e["event"], e["seq"]) for e in got])
    check(system.frontend.log_text().count("fetching the missing events") >= 2, "no second repair logged")


def test_a_submit_in_flight_when_the_broker_restarts_is_asked_again(ctx):
    # A submit the broker took into its socket and never read (SIGSTOP),
    # then the broker killed and started again: the frontend asks it again
    # of the new instance once that answers (docs/PROTOCOL.md "Calls asked
    # again"), and the client gets its stream, not a 504 after 5 s.
    system = ctx.system(workers=1)
    system.wait_healthy()
    system.broker.signal(signal.SIGSTOP)
    submit = BackgroundSubmit(system, 3)
    # The submit's stream opens just before its SUBMIT leaves (submit_http.c).
    system.wait_for(lambda: metric(system, "rill_streams_opened_total") >= 1, timeout=20,
                    what="the submit to reach the frontend")
    system.broker.kill()
    system.broker = system.start_broker()
    submit.check_asked_again()


def test_broker_restart_keeps_jobs_and_marks_topics(ctx):
    # A broker restart (docs/API.md "Broker restarts"): the job runs on on
    # its worker, which re-registers it with the new broker, so the stream
    # goes on with every seq exactly once or inside a gap and ends with done;
    # a topic's history died with the old broker: a gap with the reason.
    system = ctx.system(workers=1)
    system.wait_healthy()
    (job_id,) = detach(system, demo(60, 50))
    stream = system.stream("GET", "/v1/stream?job=%s&topic=news" % job_id)
    publish(system, "news", {"n": 1})
    while not any("topic" in e for e in stream.events):
        check(stream.next_event() is not None, "stream ended early")
    system.broker.kill()
    system.broker = system.start_broker()
    seqs, topic_gap, end = [], None, None
    while end is None:
        event = stream.next_event()
        check(event is not None, "stream ended: %r" % stream.events[-3:])
        if event.get("topic") == "news" and event["event"] == "gap":
            topic_gap = event
        elif event.get("job") == job_id:
            if event["event"] == "gap":
                seqs += list(range(event["data"]["from"], event["data"]["to"] + 1))
            elif event["event"] in ("part", "retry"):
                seqs.append(event["seq"])
            else:
                end = event
    check(end["event"] == "done", "the job ended with %r" % end)
    check(seqs == list(range(1, end["seq"])), "job seqs: %r" % seqs)
    check(topic_gap is not None and topic_gap["data"]["from"] == 2 and
          topic_gap["data"]["reason"] == "broker_restarted", topic_gap)
    # The new broker numbers the topic from 1; the stream (it names a topic) goes on.
    system.wait_healthy()
    check(publish(system, "news", {"n": "again"}) == 1)
    event = stream.next_event()
    check(event["topic"] == "news" and event["seq"] == 1 and event["data"] == {"n": "again"}, event)
    stream.close()


def test_dropped_last_events_are_noticed_without_a_next_one(ctx):
    # The XPUB drops a burst's tail while the frontend is stalled (after the
    # broker held it for a heartbeat), and then nothing more is published: no
    # later event shows the jump. The broker's periodic sync (PROTOCOL.md)
    # does, and the frontend FETCHes the rest.
    system, port2 = dropping_system(ctx, {"topic_retain_messages": 60, "stream_heartbeat_ms": 300})
    stream = system.stream("GET", "/v1/topics/burst")
    check(stream.status == 200)
    pad = "x" * 20000
    system.frontend.signal(signal.SIGSTOP)
    try:
        for n in range(1, 41):
            publish(system, "burst", {"n": n, "pad": pad}, port=port2)
        broker_gave_up_holding(system)
    finally:
        system.frontend.signal(signal.SIGCONT)
    covered = []
    deadline = time.time() + 20
    while (not covered or covered[-1] < 40) and time.time() < deadline:
        event = stream.next_event(skip_heartbeats=False)  # heartbeats every 300 ms keep the loop turning
        check(event is not None, "stream ended")
        if event["event"] == "gap":
            covered += list(range(event["data"]["from"], event["data"]["to"] + 1))
        elif event["event"] == "part":
            covered.append(event["seq"])
    stream.close()
    check(covered == list(range(1, 41)), "seqs covered: %r" % covered)
    check("fetching the missing events" in system.frontend.log_text(), "the drop was not noticed by a sync")
    _, _, metrics = system.request("GET", "/metrics")
    check(b"rill_broker_syncs_published_total" in metrics, "no sync counter")
