"""test_sse.py - what a stream tells its client up front and at its end
(docs/API.md "POST /v1/jobs", "Notices", "Server-Sent Events"):

- a streamed POST /v1/jobs starts with ONE accepted notice naming its job
  ids in request order, as soon as the broker has the jobs, even when no
  job has an event yet (a tail of a quiet file, a job waiting for a worker,
  a demo job whose first part is a minute away); a resume never replays it;
- every SSE stream starts with retry: 3000;
- resuming a stream whose every job has ended, at or past their last seq,
  answers 204, so EventSource stops reconnecting;
- in a real headless Chromium (tests/integration/browser.py): EventSource
  gets parts and done, its reconnect after done gets 204 and it stays
  CLOSED; a job's error event reaches the 'error' listener with JSON data,
  a connection error reaches it with no data.

Raw sockets for the bytes on the wire: what h2o flushes, and when.
"""
import json
import os
import re
import signal
import socket
import time

import harness
from harness import check, demo

RETRY = b"retry: 3000\n\n"


class Raw:
    """One HTTP/1.1 request on a raw socket; the chunked body is read as it
    arrives, so a test sees exactly when bytes reach the client."""

    def __init__(self, port, method, path, body=None, headers=None, timeout=20):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        data = json.dumps(body).encode() if body is not None else b""
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1:%d" % port]
        for name, value in (headers or {}).items():
            lines.append("%s: %s" % (name, value))
        if body is not None:
            lines += ["Content-Type: application/json", "Content-Length: %d" % len(data)]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        self.raw = b""
        self.body = b""
        self.ended = False
        while b"\r\n\r\n" not in self.raw:
            self.receive()
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.chunked = self.headers.get("transfer-encoding") == "chunked"
        if not self.chunked:
            length = int(self.headers.get("content-length", "0"))
            while len(self.raw) < length:
                self.receive()
            self.body, self.ended = self.raw[:length], True

    def receive(self):
        block = self.sock.recv(65536)
        check(block, "connection closed by the frontend")
        self.raw += block

    def decode(self):
        while not self.ended:
            size_line, sep, rest = self.raw.partition(b"\r\n")
            if not sep:
                return
            size = int(size_line, 16)
            if len(rest) < size + 2:
                return
            if size == 0:
                self.ended = True
                return
            self.body += rest[:size]
            self.raw = rest[size + 2:]

    def read_until(self, predicate, timeout=10, what="bytes"):
        """Reads until predicate(body) is true; returns the body."""
        deadline = time.monotonic() + timeout
        self.decode()
        while not predicate(self.body):
            check(not self.ended, "the stream ended before %s: %r" % (what, self.body))
            left = deadline - time.monotonic()
            check(left > 0, "no %s within %ss: %r" % (what, timeout, self.body))
            self.sock.settimeout(left)
            try:
                self.receive()
            except socket.timeout:
                pass
            self.decode()
        return self.body

    def read_to_end(self, timeout=20):
        return self.read_until(lambda _: self.ended, timeout, "the end")

    def close(self):
        self.sock.close()


def sse_blocks(body):
    """The SSE blocks of body (complete ones), each a dict of its fields."""
    blocks = []
    for text in body.decode().split("\n\n")[:-1]:
        fields = {}
        for line in text.split("\n"):
            if line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        if fields:
            blocks.append(fields)
    return blocks


def job_kind(system, job_id):
    status, body = system.json_request("GET", "/v1/jobs/" + job_id)
    check(status == 200, "GET /v1/jobs/%s: %s %r" % (job_id, status, body))
    return body["kind"], body["state"]


def quiet_jobs_system(ctx):
    """A system whose jobs say nothing for a long while: heartbeats a minute
    apart, a kind no worker serves, a quiet file to tail."""
    system = ctx.system(workers=1, config={"stream_heartbeat_ms": 60000,
                                           "kinds": ["demo", "tail", "nobody"]})
    system.wait_healthy()
    tail_dir = os.path.join(system.run_dir, "tail")
    os.makedirs(tail_dir, exist_ok=True)
    with open(os.path.join(tail_dir, "quiet.log"), "w") as f:
        f.write("old line\n")
    jobs = [demo(2, 60000), {"kind": "nobody"}, {"kind": "tail", "args": {"path": "quiet.log"}}]
    return system, jobs


def cancel_all(system, ids):
    for job_id in ids:
        system.request("DELETE", "/v1/jobs/" + job_id)


# ---- the accepted notice ----------------------------------------------------

def test_accepted_notice_first_before_any_event(ctx):
    system, jobs = quiet_jobs_system(ctx)
    started = time.monotonic()
    stream = Raw(system.port, "POST", "/v1/jobs", jobs)
    check(stream.status == 200 and stream.chunked, (stream.status, stream.headers))
    body = stream.read_until(lambda b: b"\n" in b, timeout=5, what="the first line")
    took = time.monotonic() - started
    first, _, rest = body.partition(b"\n")
    notice = json.loads(first)
    check(set(notice) == {"event", "data"} and notice["event"] == "accepted", notice)
    ids = notice["data"]["jobs"]
    check(len(ids) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids), notice)
    # Before any event: no heartbeat for a minute, no part for a minute.
    check(rest == b"" and took < 3, "first line after %.1fs, then %r" % (took, rest))
    # The ids are the jobs', in request order, and each can be looked up now.
    kinds = [job_kind(system, i) for i in ids]
    check([k for k, _ in kinds] == ["demo", "nobody", "tail"], kinds)
    # Running, and the unserved one waiting: at once, or (when the SUBMIT
    # overtook the frontend's follow subscription on its way to the broker,
    # as on a loaded machine) once it arrived and the broker let the jobs go
    # (docs/PROTOCOL.md, "Direct delivery").
    system.wait_for(lambda: [job_kind(system, i)[1] for i in ids] == ["running", "waiting", "running"],
                    timeout=5, what="demo and tail running, nobody waiting: %r" % kinds)
    # The jobs are still silent, the stream still open: nothing else came.
    time.sleep(0.5)
    stream.sock.settimeout(0.2)
    try:
        stream.receive()
    except socket.timeout:
        pass
    stream.decode()
    check(stream.body == first + b"\n" and not stream.ended, stream.body)
    # A resume of the same jobs gets no accepted notice (a notice is never replayed).
    cursor = ",".join("%s:0" % i for i in ids)
    resumed = Raw(system.port, "GET", "/v1/stream?job=%s&since=%s" % ("&job=".join(ids), cursor))
    check(resumed.status == 200, resumed.status)
    line = resumed.read_until(lambda b: b"\n" in b, timeout=5).split(b"\n")[0]
    check(json.loads(line) == {"event": "heartbeat"}, line)
    resumed.close()
    cancel_all(system, ids)
    # Each cancelled job ends the POST stream with its error, after the notice.
    stream.read_to_end()
    lines = [json.loads(l) for l in stream.body.splitlines() if l]
    check(lines[0]["event"] == "accepted" and sum(1 for e in lines if e["event"] == "accepted") == 1, lines)
    check(sorted(e["job"] for e in lines if e["event"] == "error") == sorted(ids), lines)
    stream.close()


def test_accepted_notice_on_sse_and_with_events_ready(ctx):
    system, jobs = quiet_jobs_system(ctx)
    stream = Raw(system.port, "POST", "/v1/jobs?format=sse", jobs[1:])
    check(stream.headers.get("content-type") == "text/event-stream", stream.headers)
    body = stream.read_until(lambda b: b.count(b"\n\n") >= 2, timeout=5, what="retry and accepted")
    check(body.startswith(RETRY), body)
    blocks = sse_blocks(body)
    check(len(blocks) == 2 and blocks[0] == {"retry": "3000"}, blocks)
    # A notice: event and data, no id: (Last-Event-ID stays a cursor).
    check(set(blocks[1]) == {"event", "data"} and blocks[1]["event"] == "accepted", blocks)
    data = json.loads(blocks[1]["data"])
    check(data["event"] == "accepted" and len(data["data"]["jobs"]) == 2, data)
    ids = data["data"]["jobs"]
    check([job_kind(system, i)[0] for i in ids] == ["nobody", "tail"], ids)
    cancel_all(system, ids)
    stream.read_to_end()
    stream.close()
    # A job that runs at once: the notice still comes first, then its events.
    stream = harness.Stream(system, "POST", "/v1/jobs", [demo(3, 0), demo(2, 0)], None, 20)
    first = json.loads(stream.next_line())
    check(first["event"] == "accepted" and len(first["data"]["jobs"]) == 2, first)
    events = stream.read_all()
    check(sorted(set(e["job"] for e in events)) == sorted(first["data"]["jobs"]), events)
    check(stream.accepted is None, "a second accepted notice: %r" % stream.accepted)
    check([e["event"] for e in events].count("done") == 2, events)


# ---- retry: and 204 on the wire ---------------------------------------------

def finished_job(system, parts=3):
    status, body = system.json_request("POST", "/v1/jobs?detach=1", demo(parts, 10))
    check(status == 202, (status, body))
    job_id = body["jobs"][0]
    system.wait_for(lambda: system.job_status(job_id)["state"] == "done", what="the job done")
    return job_id


def test_sse_retry_field_and_204_after_the_end(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    job_id = finished_job(system)
    path = "/v1/stream?job=%s&format=sse" % job_id
    stream = Raw(system.port, "GET", path)
    body = stream.read_to_end()
    check(body.startswith(RETRY), body[:40])
    blocks = sse_blocks(body)
    check(blocks[0] == {"retry": "3000"} and [b.get("event") for b in blocks[1:]] == ["part"] * 3 + ["done"],
          blocks)
    last_id = blocks[-1]["id"]
    check(last_id == "%s:4" % job_id, last_id)
    # Every job ended and the client has it all: 204, no body.
    over = Raw(system.port, "GET", path, headers={"Last-Event-ID": last_id})
    check(over.status == 204 and over.body == b"", (over.status, over.headers, over.body))
    # Past the end too, and with NDJSON and since= alike.
    over = Raw(system.port, "GET", "/v1/stream?job=%s&since=%s:99" % (job_id, job_id))
    check(over.status == 204, over.status)
    # Something after the cursor is retained: replayed, then the end, as before.
    again = Raw(system.port, "GET", path, headers={"Last-Event-ID": "%s:2" % job_id})
    check(again.status == 200, again.status)
    blocks = sse_blocks(again.read_to_end())
    check([(b.get("event"), b.get("id")) for b in blocks] ==
          [(None, None), ("part", "%s:3" % job_id), ("done", "%s:4" % job_id)], blocks)
    # A stream naming a topic never ends by itself: no 204 there.
    topical = Raw(system.port, "GET", path + "&topic=news", headers={"Last-Event-ID": last_id})
    check(topical.status == 200, topical.status)
    topical.read_until(lambda b: b.startswith(RETRY), 5, "the retry field")
    topical.close()
    # A running job with a cursor at 0 is no end either.
    status, body = system.json_request("POST", "/v1/jobs?detach=1", demo(50, 100))
    running = body["jobs"][0]
    live = Raw(system.port, "GET", "/v1/stream?job=%s&job=%s&format=sse" % (job_id, running),
               headers={"Last-Event-ID": "%s:4,%s:0" % (job_id, running)})
    check(live.status == 200, live.status)
    live.read_until(lambda b: b"event: part" in b, 10, "a part of the running job")
    live.close()
    cancel_all(system, [running])


# ---- EventSource in a real browser ------------------------------------------

def open_browser():
    """A Browser, or None (after a loud SKIPPED) when RILL_NO_BROWSER=1."""
    if os.environ.get("RILL_NO_BROWSER") == "1":
        print("!!!!! SKIPPED: EventSource browser test (RILL_NO_BROWSER=1) !!!!!", flush=True)
        return None
    import browser
    try:
        return browser.Browser()
    except browser.BrowserMissing as error:
        raise harness.TestFailure("EventSource is tested in a real browser, and none could start: %s\n"
                                  "(install Debian's `chromium`, or set RILL_NO_BROWSER=1 to skip loudly)"
                                  % error)


# The browser pattern of docs/API.md ("Server-Sent Events"), recording what it sees.
LISTEN = """
(() => {
  const log = window.rillLog = {parts: [], done: [], jobErrors: [], connectionErrors: [], opens: 0, states: []};
  const es = window.rillEs = new EventSource(%s);
  es.onopen = () => { log.opens += 1; };
  es.addEventListener('part', e => log.parts.push({id: e.lastEventId, event: JSON.parse(e.data)}));
  es.addEventListener('done', e => log.done.push({id: e.lastEventId, event: JSON.parse(e.data)}));
  es.addEventListener('error', e => {
    if (e.data === undefined) {
      log.connectionErrors.push({state: es.readyState, at: Date.now()});  /* EventSource retries */
    } else {
      log.jobErrors.push(JSON.parse(e.data));  /* the job's error event: always JSON */
      es.close();
    }
  });
  return true;
})()
"""


def stream_opens(system):
    """How many GET streams the frontend started (200), and how many it answered 204."""
    text = system.frontend.log_text()
    return text.count(": replayed, streaming"), text.count("refused: 204")


def test_event_source_gets_done_then_204_and_stops(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    chromium = open_browser()
    if chromium is None:
        return
    status, body = system.json_request("POST", "/v1/jobs?detach=1", demo(4, 150))
    check(status == 202, (status, body))
    job_id = body["jobs"][0]
    with chromium:
        page = chromium.open("http://127.0.0.1:%d/" % system.port)
        page.wait_for("document.readyState === 'complete'", 15, "the page")
        page.evaluate(LISTEN % json.dumps("/v1/stream?job=%s&format=sse" % job_id))
        page.wait_for("window.rillLog.done.length === 1", 15, "done in the browser")
        # The frontend ended the response; EventSource reconnects once with
        # Last-Event-ID, gets 204 and is CLOSED (2) for good.
        page.wait_for("window.rillEs.readyState === 2", 15, "EventSource closed by the 204")
        time.sleep(4)  # more than the retry: delay: a loop would have reconnected by now
        log = page.evaluate("window.rillLog")
        state = page.evaluate("window.rillEs.readyState")
        problems = [p for p in page.problems() if "Failed to load resource" not in p]
    check(state == 2, "EventSource state %r" % state)
    check([p["event"]["seq"] for p in log["parts"]] == [1, 2, 3, 4], log["parts"])
    check([p["id"] for p in log["parts"]] == ["%s:%d" % (job_id, n) for n in (1, 2, 3, 4)], log["parts"])
    check(log["done"][0]["event"]["data"] == {"parts": 4} and log["done"][0]["id"] == "%s:5" % job_id, log)
    check(log["jobErrors"] == [], log)
    # The end of the response, then the 204: two connection errors, no data.
    check(len(log["connectionErrors"]) == 2 and log["connectionErrors"][-1]["state"] == 2, log)
    check(log["opens"] == 1, log)
    opens, refused = stream_opens(system)
    check((opens, refused) == (1, 1), "the frontend started %d stream(s) and answered %d reconnect(s)"
          " with 204 (expected 1 and 1: no reconnect loop)" % (opens, refused))
    check(problems == [], problems)


def test_event_source_error_listener_tells_job_errors_from_connection_errors(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    chromium = open_browser()
    if chromium is None:
        return
    status, body = system.json_request("POST", "/v1/jobs?detach=1", [demo(1000, 50), demo(1000, 50)])
    check(status == 202, (status, body))
    cancelled, survivor = body["jobs"]
    with chromium:
        page = chromium.open("http://127.0.0.1:%d/" % system.port)
        page.wait_for("document.readyState === 'complete'", 15, "the page")
        # A job's error event: JSON data, parsed by the listener.
        page.evaluate(LISTEN % json.dumps("/v1/stream?job=%s&format=sse" % cancelled))
        page.wait_for("window.rillLog.parts.length >= 2", 15, "parts of the job to cancel")
        status, _, _ = system.request("DELETE", "/v1/jobs/" + cancelled)
        check(status == 200, status)
        page.wait_for("window.rillLog.jobErrors.length === 1", 15, "the job's error event")
        job_log = page.evaluate("window.rillLog")
        # A connection error: the frontend is killed under a live stream.
        page.evaluate(LISTEN % json.dumps("/v1/stream?job=%s&format=sse" % survivor))
        page.wait_for("window.rillLog.parts.length >= 2", 15, "parts of the other job")
        system.frontend.popen.send_signal(signal.SIGKILL)
        system.frontend.popen.wait()
        system.frontend.expected_exit = -9
        page.wait_for("window.rillLog.connectionErrors.length >= 1", 15, "the connection error")
        conn_log = page.evaluate("window.rillLog")
        problems = [p for p in page.problems()
                    if "Failed to load resource" not in p and "ERR_CONNECTION_REFUSED" not in p]
    error = job_log["jobErrors"][0]
    check(error["job"] == cancelled and error["event"] == "error" and error["data"]["code"] == "cancelled",
          error)
    check(isinstance(error["seq"], int) and error["seq"] == len(job_log["parts"]) + 1, job_log)
    check(job_log["connectionErrors"] == [], job_log)
    check(conn_log["jobErrors"] == [], conn_log)
    # EventSource keeps trying (CONNECTING, 0) after a connection error.
    check(conn_log["connectionErrors"][0]["state"] == 0, conn_log)
    check(problems == [], problems)


def test_slow_sse_client_gets_an_error_event_with_json_data(ctx):
    # The stream-level error (slow_client) is an SSE event like a job's:
    # event: error, its data the JSON line, no id.
    system = ctx.system(workers=1, config={"slow_client_hard_bytes": 262144,
                                           "slow_client_soft_bytes": 65536, "slow_client_soft_ms": 500})
    system.wait_healthy()
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(("127.0.0.1", system.port))
    slow.sendall(b"GET /v1/topics/firehose?format=sse HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    harness.headers_arrived(slow)  # subscribed before the first publish
    conn = system.connection()
    for i in range(300):
        conn.request("POST", "/v1/topics/firehose", body=json.dumps({"n": i + 1, "pad": "x" * 16000}))
        response = conn.getresponse()
        response.read()
        check(response.status == 202, response.status)
    conn.close()
    slow.settimeout(30)
    data = b""
    while True:
        got = slow.recv(1 << 20)
        if not got:
            break
        data += got
    slow.close()
    head, _, body = data.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 200"), head[:100])
    payload = harness.dechunk(body)
    check(payload.startswith(RETRY), payload[:40])
    blocks = sse_blocks(payload)
    last = blocks[-1]
    check(set(last) == {"event", "data"} and last["event"] == "error", last)
    error = json.loads(last["data"])
    check(error["event"] == "error" and error["data"]["code"] == "slow_client", error)
    check(all(b.get("event") == "part" for b in blocks[1:-1]) and len(blocks) < 300, len(blocks))
