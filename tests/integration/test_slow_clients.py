"""test_slow_clients.py - a slow client never slows others and never grows
memory without bound (docs/DESIGN.md "Promises"): past the hard limit (or over the soft limit
for too long) its stream is closed with an error event, or, with
slow_client_action "gap", loses what was queued and is told so with gap
events. The slow client here is a raw socket with a tiny receive buffer that
stops reading while a fast subscriber of the same topic reads everything."""
import json
import re
import socket
import threading
import time

import harness
from harness import check

LIMITS = {"slow_client_hard_bytes": 262144, "slow_client_soft_bytes": 65536, "slow_client_soft_ms": 500}
PAD = "x" * 16000


def open_slow_client(system, topic):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", system.port))
    s.sendall(("GET /v1/topics/%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % topic).encode())
    return s


def read_events(sock, timeout=30):
    """Reads the whole (chunked) response; returns its NDJSON events, heartbeats left out."""
    sock.settimeout(timeout)
    data = b""
    while True:
        got = sock.recv(1 << 20)
        if not got:
            break
        data += got
    head, _, body = data.partition(b"\r\n\r\n")
    check(head.startswith(b"HTTP/1.1 200"), head[:100])
    payload = harness.dechunk(body)
    events = [json.loads(line) for line in payload.splitlines() if line]
    return [e for e in events if e.get("event") not in ("heartbeat", "accepted")]


def fast_reader(system, topic, count, into, opened):
    stream = system.stream("GET", "/v1/topics/" + topic)
    opened.set()  # its headers are in: subscribed
    while len(into) < count:
        event = stream.next_event()
        if event is None:
            break
        into.append(event)
    stream.close()


def publish_many(system, topic, count):
    conn = system.connection()
    for i in range(count):
        conn.request("POST", "/v1/topics/" + topic, body=json.dumps({"n": i + 1, "pad": PAD}))
        response = conn.getresponse()
        response.read()
        check(response.status == 202, "publish answered %s" % response.status)
    conn.close()


def run_firehose(system, topic, count):
    fast = []
    opened = threading.Event()
    reader = threading.Thread(target=fast_reader, args=(system, topic, count, fast, opened))
    reader.start()
    slow = open_slow_client(system, topic)
    # Both subscriptions in place: each stream's headers have arrived.
    check(opened.wait(30), "the fast subscriber's stream did not open")
    harness.headers_arrived(slow)
    publish_many(system, topic, count)
    reader.join(60)
    # The fast subscriber got every message, in order, though the slow one read nothing.
    check([e["data"]["n"] for e in fast] == list(range(1, count + 1)),
          "fast subscriber got %d of %d" % (len(fast), count))
    return slow


def test_slow_client_is_closed_with_an_error(ctx):
    system = ctx.system(workers=1, config=LIMITS)
    system.wait_healthy()
    slow = run_firehose(system, "firehose", 600)
    events = read_events(slow)
    slow.close()
    check(events and events[-1]["event"] == "error" and events[-1]["data"]["code"] == "slow_client",
          "last event: %r" % (events[-1:] if events else None))
    check(len(events) < 600, "the slow client should have lost events")
    status, _, metrics = system.request("GET", "/metrics")
    check(b"rill_slow_client_drops_total" in metrics)


def test_slow_client_gets_gaps_then_goes_on(ctx):
    system = ctx.system(workers=1, config=dict(LIMITS, slow_client_action="gap"))
    system.wait_healthy()
    slow = run_firehose(system, "gappy", 600)
    # Now it reads again: the stream is still open and live messages follow the gap.
    slow.settimeout(30)
    time.sleep(0.2)
    publish_thread = threading.Thread(target=lambda: (time.sleep(1.0), publish_many(system, "gappy", 3)))
    publish_thread.start()
    data = b""
    deadline = time.time() + 30
    last_line = re.compile(rb'"seq":603[^\n]*\n')
    while not last_line.search(data) and time.time() < deadline:
        got = slow.recv(1 << 20)
        if not got:
            break
        data += got
    publish_thread.join(30)
    slow.close()
    check(b'"seq":603' in data, "the slow client never got the messages after its gap")
    lines = [l for l in data.split(b"\n") if l.startswith(b"{") and l.endswith(b"}")]
    events = [json.loads(l) for l in lines]
    events = [e for e in events if e.get("event") in ("part", "gap")]
    covered = []
    for e in events:
        if e["event"] == "gap":
            covered.extend(range(e["data"]["from"], e["data"]["to"] + 1))
        else:
            covered.append(e["seq"])
    gaps = [e for e in events if e["event"] == "gap"]
    check(gaps, "no gap event")
    breaks = [(a, b) for a, b in zip(covered, covered[1:]) if b != a + 1]
    check(covered[0] == 1 and covered[-1] == 603 and not breaks, "seqs not accounted for exactly once, in order: breaks %r, ends %r" % (breaks[:5], (covered[:1], covered[-1:])))
