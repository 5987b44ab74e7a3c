"""test_websocket.py - WebSocket clients of the streams (issue 14, part 2;
docs/API.md "WebSocket").

Real processes (harness.py), real clients: Python's `websockets` (Debian's
python3-websockets), a raw socket where the test must control the frames
(pings it does not answer, a client that stops reading), and the browser's
own WebSocket in headless Chromium.
"""
import asyncio
import base64
import hashlib
import json
import re
import os
import socket
import struct
import threading
import time

import harness
from harness import check, demo, detach, publish

TOKEN = "ws-token-0123456789abcdef"




def ws_url(system, path):
    return "ws://127.0.0.1:%d%s" % (system.port, path)


def run(coroutine, timeout=60):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


async def next_frame(ws, timeout=15):
    text = await asyncio.wait_for(ws.recv(), timeout)
    try:
        return json.loads(text)
    except ValueError:
        raise harness.TestFailure("a frame that is not JSON: %r" % text)


async def until(ws, predicate, what, timeout=20):
    """Frames up to and including the first one predicate accepts."""
    got = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        check(left > 0, "timed out waiting for %s; got %r" % (what, got))
        frame = await next_frame(ws, left)
        got.append(frame)
        if predicate(frame):
            return got


def is_notice(frame, name, **data):
    return frame.get("event") == name and "seq" not in frame and \
        all(frame.get("data", {}).get(k) == v for k, v in data.items())


async def in_thread(function, *args):
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


# ---- with Python's websockets -------------------------------------------------


def test_ws_two_topics_and_a_job_on_one_socket(ctx):
    import websockets
    system = ctx.system(workers=1)
    system.wait_healthy()

    async def scenario():
        async with websockets.connect(ws_url(system, "/v1/stream?topic=ws.a")) as ws:
            await until(ws, lambda f: is_notice(f, "subscribed", topic="ws.a"), "subscribed ws.a")
            await ws.send(json.dumps({"op": "subscribe", "topic": "ws.b", "id": 7}))
            frames = await until(ws, lambda f: is_notice(f, "subscribed", topic="ws.b"), "subscribed ws.b")
            check(frames[-1]["data"].get("id") == 7, "the reply echoes the id: %r" % frames[-1])
            (job,) = await in_thread(detach, system, demo(5, 50))
            await ws.send(json.dumps({"op": "subscribe", "job": job}))
            await in_thread(publish, system, "ws.a", {"n": 1})
            await in_thread(publish, system, "ws.b", {"n": 2})
            await in_thread(publish, system, "ws.a", {"n": 3})
            events = []
            wanted = lambda: (sum(1 for e in events if "topic" in e) >= 3 and
                              any(e.get("job") == job and e["event"] == "done" for e in events))
            while not wanted():
                frame = await next_frame(ws)
                if "seq" in frame:
                    events.append(frame)
            return job, events

    job, events = run(scenario())
    topics = [(e["topic"], e["data"]["n"]) for e in events if "topic" in e]
    check(topics == [("ws.a", 1), ("ws.b", 2), ("ws.a", 3)], "topic messages: %r" % topics)
    job_events = [e for e in events if e.get("job") == job]
    check([e["seq"] for e in job_events] == list(range(1, 7)), "job seqs: %r" % job_events)
    check([e["event"] for e in job_events] == ["part"] * 5 + ["done"], "job events: %r" % job_events)


def test_ws_resume_by_cursor_after_a_drop(ctx):
    import websockets
    system = ctx.system(workers=1)
    system.wait_healthy()

    async def first():
        async with websockets.connect(ws_url(system, "/v1/topics/ws.r")) as ws:
            await until(ws, lambda f: is_notice(f, "subscribed", topic="ws.r"), "subscribed")
            for n in range(1, 4):
                await in_thread(publish, system, "ws.r", {"n": n})
            got = await until(ws, lambda f: f.get("seq") == 3, "seq 3")
            return [f["seq"] for f in got if "seq" in f]

    check(run(first()) == [1, 2, 3], "before the drop")
    for n in range(4, 7):  # published while no client listens
        publish(system, "ws.r", {"n": n})

    async def resumed():
        async with websockets.connect(ws_url(system, "/v1/topics/ws.r?since=ws.r:3")) as ws:
            got = await until(ws, lambda f: f.get("seq") == 6, "the replay")
            await in_thread(publish, system, "ws.r", {"n": 7})
            got += await until(ws, lambda f: f.get("seq") == 7, "the live message")
        # The same resume asked on the open socket, with a seq.
        async with websockets.connect(ws_url(system, "/v1/stream")) as ws:
            await ws.send(json.dumps({"op": "subscribe", "topic": "ws.r", "since": 5}))
            again = await until(ws, lambda f: f.get("seq") == 7, "the replay from 5")
        return got, again

    got, again = run(resumed())
    check([f["seq"] for f in got if "seq" in f] == [4, 5, 6, 7], "no duplicate, no gap: %r" % got)
    check([f["data"]["n"] for f in got if "seq" in f] == [4, 5, 6, 7], "the messages: %r" % got)
    check(is_notice(got[0], "subscribed", topic="ws.r"), "subscribed comes first: %r" % got[0])
    check([f["seq"] for f in again if "seq" in f] == [6, 7], "since 5 by message: %r" % again)

    # A job and a topic resumed by one cursor on the upgrade.
    (job,) = detach(system, demo(6, 20))
    system.wait_for(lambda: system.job_status(job)["state"] == "done", what="the job done")

    async def both():
        path = "/v1/stream?job=%s&topic=ws.r&since=%s:3,ws.r:6" % (job, job)
        async with websockets.connect(ws_url(system, path)) as ws:
            got = []  # the two subscriptions' frames interleave
            while not (any(f.get("topic") == "ws.r" for f in got) and
                       any(is_notice(f, "unsubscribed", job=job, reason="ended") for f in got)):
                got.append(await next_frame(ws))
            return got

    got = run(both())
    check([f["seq"] for f in got if f.get("job") == job] == [4, 5, 6, 7], "the job after 3: %r" % got)
    check([f["seq"] for f in got if f.get("topic") == "ws.r"] == [7], "the topic after 6: %r" % got)
    ends = [i for i, f in enumerate(got) if f.get("job") == job and f["event"] == "done" or
            is_notice(f, "unsubscribed", job=job)]
    check(len(ends) == 2 and got[ends[0]].get("event") == "done", "done, then unsubscribed: %r" % got)


def test_ws_publish_with_the_token(ctx):
    import websockets
    system = ctx.system(workers=1, config={"auth_token": TOKEN})
    system.wait_healthy()

    async def scenario():
        answers = {}
        async with websockets.connect(ws_url(system, "/v1/topics/ws.p")) as ws:
            await until(ws, lambda f: is_notice(f, "subscribed"), "subscribed")
            await ws.send(json.dumps({"op": "publish", "topic": "ws.p", "data": {"x": 1}}))
            answers["anonymous"] = await next_frame(ws)
        headers = {"Authorization": "Bearer " + TOKEN}
        async with websockets.connect(ws_url(system, "/v1/topics/ws.p"), extra_headers=headers) as ws:
            await until(ws, lambda f: is_notice(f, "subscribed"), "subscribed")
            await ws.send(json.dumps({"op": "publish", "topic": "ws.p", "data": {"x": [1, 2]}, "id": "a"}))
            # Its answer and the message itself, in either order.
            seen = []
            while not (any(f.get("event") == "published" for f in seen) and
                       any(f.get("topic") == "ws.p" for f in seen)):
                seen.append(await next_frame(ws))
            answers["header"] = [f for f in seen if f.get("event") == "published"]
            answers["echo"] = [f for f in seen if f.get("topic") == "ws.p"]
        async with websockets.connect(ws_url(system, "/v1/stream?access_token=" + TOKEN)) as ws:
            await ws.send(json.dumps({"op": "publish", "topic": "ws.p", "data": "two"}))
            answers["query"] = await next_frame(ws)
        try:
            async with websockets.connect(ws_url(system, "/v1/stream?access_token=wrong")):
                answers["wrong"] = "opened"
        except websockets.exceptions.InvalidStatusCode as error:
            answers["wrong"] = error.status_code
        return answers

    answers = run(scenario())
    check(answers["anonymous"]["event"] == "error" and answers["anonymous"]["data"]["code"] == "unauthorized",
          "publish without the token: %r" % answers["anonymous"])
    published = answers["header"][-1]
    check(published["data"] == {"topic": "ws.p", "seq": 1, "id": "a"}, "published: %r" % published)
    check(answers["echo"][-1]["data"] == {"x": [1, 2]}, "the message: %r" % answers["echo"])
    check(answers["query"]["event"] == "published" and answers["query"]["data"]["seq"] == 2,
          "access_token=: %r" % answers["query"])
    check(answers["wrong"] == 401, "a wrong token refuses the upgrade: %r" % answers["wrong"])
    check(publish_count(system) == 2, "two messages were published")


def publish_count(system):
    status, body = system.json_request("GET", "/v1/topics/ws.p?info", headers={"Authorization": "Bearer " + TOKEN})
    check(status == 200, "info answered %s %r" % (status, body))
    return body.get("last_seq", body.get("seq"))


def test_ws_bad_input_gets_error_frames(ctx):
    import websockets
    system = ctx.system(workers=1)
    system.wait_healthy()
    cases = [
        ("not json", "bad_json"),
        (json.dumps([1, 2]), "bad_json"),
        (json.dumps({"op": "dance"}), "bad_request"),
        (json.dumps({"nop": 1}), "bad_request"),
        (json.dumps({"op": "subscribe", "job": "0" * 32, "id": 1}), "not_found"),
        (json.dumps({"op": "subscribe", "job": "nope"}), "not_found"),
        (json.dumps({"op": "subscribe", "topic": "bad topic"}), "bad_topic"),
        (json.dumps({"op": "subscribe", "topic": "a", "job": "0" * 32}), "bad_request"),
        (json.dumps({"op": "subscribe", "topic": "a", "since": "::"}), "bad_cursor"),
        (json.dumps({"op": "unsubscribe", "topic": "never"}), "not_found"),
        (json.dumps({"op": "publish", "topic": "alerts.*", "data": 1}), "bad_topic"),
        (json.dumps({"op": "publish", "topic": "t"}), "bad_json"),
    ]

    async def scenario():
        replies = []
        async with websockets.connect(ws_url(system, "/v1/stream")) as ws:
            for text, _ in cases:
                await ws.send(text)
                replies.append(await next_frame(ws))
            # Still open: a good subscribe and unsubscribe work after all that.
            await ws.send(json.dumps({"op": "subscribe", "topic": "ws.ok"}))
            replies.append(await next_frame(ws))
            await ws.send(json.dumps({"op": "subscribe", "topic": "ws.ok"}))
            replies.append(await next_frame(ws))
            await ws.send(json.dumps({"op": "unsubscribe", "topic": "ws.ok"}))
            replies.append(await next_frame(ws))
            await in_thread(publish, system, "ws.ok", {"after": "unsubscribe"})
            try:
                replies.append(await next_frame(ws, 1.0))
            except asyncio.TimeoutError:
                pass
        return replies

    replies = run(scenario())
    for (text, code), frame in zip(cases, replies):
        check(frame.get("event") == "error" and frame["data"]["code"] == code,
              "%s: expected error %s, got %r" % (text, code, frame))
    check(replies[4]["data"].get("id") == 1, "an error echoes the id: %r" % replies[4])
    tail = replies[len(cases):]
    check(is_notice(tail[0], "subscribed", topic="ws.ok"), "subscribe: %r" % tail[0])
    check(tail[1]["event"] == "error" and tail[1]["data"]["code"] == "conflict", "twice: %r" % tail[1])
    check(is_notice(tail[2], "unsubscribed", topic="ws.ok", reason="request"), "unsubscribe: %r" % tail[2])
    check(len(tail) == 3, "nothing after unsubscribe: %r" % tail[3:])
    status, _, _ = system.request("GET", "/v1/stream", headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                                                 "Sec-WebSocket-Key": "short",
                                                                 "Sec-WebSocket-Version": "13"})
    check(status == 400, "a malformed key answered %s" % status)


# ---- with a raw socket: frames the test controls --------------------------------


class RawWebSocket:
    """A client WebSocket on a plain socket: it answers nothing by itself."""

    def __init__(self, system, path, rcvbuf=None, headers=""):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", system.port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n"
                           % (path, key, headers)).encode())
        self.data = b""
        self.sock.settimeout(15)
        while b"\r\n\r\n" not in self.data:
            got = self.sock.recv(4096)
            check(got, "the connection closed during the handshake: %r" % self.data)
            self.data += got
        head, _, self.data = self.data.partition(b"\r\n\r\n")
        check(head.startswith(b"HTTP/1.1 101"), "the handshake answered %r" % head[:200])
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
                                  .digest()).decode()
        check(accept.encode() in head, "no right Sec-WebSocket-Accept in %r" % head)

    def _need(self, count, deadline):
        while len(self.data) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout()
            self.sock.settimeout(left)
            got = self.sock.recv(1 << 20)
            if not got:
                return False
            self.data += got
        return True

    def frame(self, timeout=15):
        """(opcode, payload), or None when the server closed the connection."""
        deadline = time.monotonic() + timeout
        if not self._need(2, deadline):
            return None
        length = self.data[1] & 0x7F
        header = 2
        if length == 126:
            header = 4
        elif length == 127:
            header = 10
        if not self._need(header, deadline):
            return None
        if length == 126:
            length = struct.unpack(">H", self.data[2:4])[0]
        elif length == 127:
            length = struct.unpack(">Q", self.data[2:10])[0]
        check(not self.data[1] & 0x80, "a server frame must not be masked")
        if not self._need(header + length, deadline):
            return None
        opcode, payload = self.data[0] & 0x0F, self.data[header:header + length]
        self.data = self.data[header + length:]
        return opcode, payload

    def send(self, opcode, payload=b""):
        mask = os.urandom(4)
        head = bytes([0x80 | opcode])
        if len(payload) < 126:
            head += bytes([0x80 | len(payload)])
        else:
            head += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def read_to_end(self, timeout):
        """Every frame until the server closes: (JSON texts, close codes);
        the socket is closed after."""
        texts, closes = [], []
        while True:
            frame = self.frame(timeout)
            if frame is None:
                break
            if frame[0] == 0x1:
                texts.append(json.loads(frame[1]))
            elif frame[0] == 0x8:
                closes.append(struct.unpack(">H", frame[1][:2])[0])
        self.close()
        return texts, closes

    def close(self):
        self.sock.close()


def test_ws_ping_pong_and_close_handshake(ctx):
    system = ctx.system(workers=1, config={"stream_heartbeat_ms": 200})
    system.wait_healthy()
    # Answering every ping keeps the socket open, long past 3 intervals.
    ws = RawWebSocket(system, "/v1/topics/ws.ping")
    pings, started = 0, time.monotonic()
    while time.monotonic() - started < 2.0:
        frame = ws.frame(5)
        check(frame is not None, "closed although every ping was answered (after %d pings)" % pings)
        if frame[0] == 0x9:
            pings += 1
            ws.send(0xA, frame[1])
    check(pings >= 5, "only %d pings in 2 s at 200 ms" % pings)
    # The close handshake from the client: the server echoes 1000 and closes.
    ws.send(0x8, struct.pack(">H", 1000) + b"bye")
    frames = []
    while True:
        frame = ws.frame(5)
        if frame is None:
            break
        frames.append(frame)
    closes = [f for f in frames if f[0] == 0x8]
    check(closes and struct.unpack(">H", closes[0][1][:2])[0] == 1000, "close echo: %r" % frames)
    ws.close()

    # A client that answers no ping is cut after 3 intervals, with close 4000.
    ws = RawWebSocket(system, "/v1/topics/ws.ping")
    started = time.monotonic()
    frames = []
    while True:
        frame = ws.frame(10)
        if frame is None:
            break
        frames.append(frame)
    elapsed = time.monotonic() - started
    ws.close()
    check(0.5 <= elapsed <= 5.0, "a silent client was cut after %.1f s (3 pings at 200 ms)" % elapsed)
    closes = [f for f in frames if f[0] == 0x8]
    check(closes and struct.unpack(">H", closes[0][1][:2])[0] == 4000, "close 4000 expected: %r" % frames)
    # And the server's resources went with it (no stream left behind).
    system.wait_for(lambda: harness.metric(system, "rill_streams_open") == 0, what="no open stream left")


LIMITS = {"slow_client_hard_bytes": 262144, "slow_client_soft_bytes": 65536, "slow_client_soft_ms": 500}
PAD = "x" * 16000


def publish_many(system, topic, count):
    conn = system.connection(30)
    for n in range(1, count + 1):
        conn.request("POST", "/v1/topics/" + topic, body=json.dumps({"n": n, "pad": PAD}))
        response = conn.getresponse()
        response.read()
        check(response.status == 202, "publish answered %s" % response.status)
    conn.close()


def test_ws_slow_client_is_cut(ctx):
    system = ctx.system(workers=1, config=LIMITS)
    system.wait_healthy()
    fast = []
    opened = threading.Event()

    def fast_reader():
        stream = system.stream("GET", "/v1/topics/ws.hose")
        opened.set()  # its headers are in: the frontend sends them once the broker answered its subscription
        while len(fast) < 600:
            event = stream.next_event()
            if event is None:
                break
            fast.append(event)

    reader = threading.Thread(target=fast_reader)
    reader.start()
    slow = RawWebSocket(system, "/v1/topics/ws.hose", rcvbuf=4096)
    check(slow.frame()[1].startswith(b'{"event":"subscribed"'), "subscribed first")
    check(opened.wait(30), "the fast reader's stream did not open")
    publish_many(system, "ws.hose", 600)
    reader.join(60)
    check([e["data"]["n"] for e in fast] == list(range(1, 601)), "the fast reader got %d of 600" % len(fast))
    # Now the slow one reads: what the limits let through, then the end.
    texts, closes = slow.read_to_end(30)
    parts = [t for t in texts if t.get("event") == "part"]
    check(len(parts) < 600, "the slow client should have lost messages")
    check([p["seq"] for p in parts] == list(range(1, len(parts) + 1)), "what came is in order, from 1")
    drops = harness.metric(system, "rill_slow_client_drops_total")
    check(drops >= 1, "rill_slow_client_drops_total %r" % drops)
    check(texts and texts[-1].get("event") == "error" and texts[-1]["data"]["code"] == "slow_client",
          "the last frame: %r" % [(t.get("event"), t.get("seq")) for t in texts[-1:]])
    check(closes == [1008], "close 1008 after the slow_client error: %r" % closes)


def test_ws_slow_client_gets_a_gap(ctx):
    system = ctx.system(workers=1, config=dict(LIMITS, slow_client_action="gap", stream_heartbeat_ms=60000))
    system.wait_healthy()
    slow = RawWebSocket(system, "/v1/topics/ws.gappy", rcvbuf=4096)
    check(slow.frame()[1].startswith(b'{"event":"subscribed"'), "subscribed first")
    publish_many(system, "ws.gappy", 400)
    late = threading.Thread(target=lambda: (time.sleep(1.0), publish_many(system, "ws.gappy", 1)))
    late.start()
    covered, texts = [], []
    while 401 not in covered:
        frame = slow.frame(30)
        check(frame is not None and frame[0] != 0x8, "the socket ended: %r after %r" % (frame, texts[-3:]))
        if frame[0] != 0x1:
            continue
        event = json.loads(frame[1])
        texts.append(event)
        if event.get("event") == "gap":
            covered.extend(range(event["data"]["from"], event["data"]["to"] + 1))
        elif event.get("event") == "part":
            covered.append(event["seq"])
    slow.close()
    late.join(30)  # its 202 comes after the message itself (a topic lease: docs/PROTOCOL.md)
    check(covered == list(range(1, 402)), "every seq once, as a part or in a gap")
    check(any(t.get("event") == "gap" for t in texts), "some were dropped as a gap")


def test_ws_shutdown_sends_closing_then_1001(ctx):
    import signal
    system = ctx.system(workers=1)
    system.wait_healthy()
    subscribed = RawWebSocket(system, "/v1/topics/ws.s")
    check(subscribed.frame()[1].startswith(b'{"event":"subscribed"'), "subscribed first")
    idle = RawWebSocket(system, "/v1/stream")  # no subscription at all
    publish(system, "ws.s", {"n": 1})
    publish(system, "ws.s", {"n": 2})
    check(json.loads(subscribed.frame()[1])["seq"] == 1 and json.loads(subscribed.frame()[1])["seq"] == 2,
          "the two messages")
    system.frontend.signal(signal.SIGTERM)
    results = []
    for ws in (subscribed, idle):
        results.append(ws.read_to_end(10))
    (texts, closes), (idle_texts, idle_closes) = results
    check([t["event"] for t in texts] == ["closing"] and
          re.fullmatch(r"ws\.s:2@[0-9a-f]{8}", texts[0]["data"]["cursor"]) is not None,
          "the closing notice with the cursor: %r" % texts)
    check(closes == [1001] and idle_closes == [1001] and idle_texts == [],
          "close 1001 for both: %r %r %r" % (closes, idle_closes, idle_texts))
    check(system.frontend.popen.wait(10) == 0, "the frontend exits 0")


# ---- the browser's own WebSocket -----------------------------------------------


def test_ws_in_a_browser(ctx):
    if os.environ.get("RILL_NO_BROWSER") == "1":
        print("!!!!! SKIPPED: WebSocket browser test (RILL_NO_BROWSER=1) !!!!!", flush=True)
        return
    import browser
    system = ctx.system(workers=1)
    system.wait_healthy()
    try:
        chromium = browser.Browser()
    except browser.BrowserMissing as error:
        raise harness.TestFailure("the WebSocket is tested in a real browser, and none could start: %s" % error)
    with chromium:
        page = chromium.open(system.url("/livez"))  # same origin, a page with no script of its own
        page.wait_for("document.readyState === 'complete'", 15, "the page")
        page.evaluate("""
            window.got = [];
            window.ws = new WebSocket('ws://' + location.host + '/v1/topics/ws.browser');
            ws.onmessage = (e) => got.push(JSON.parse(e.data));
            ws.onclose = (e) => { window.closeCode = e.code; };
            true""")
        page.wait_for("got.some(f => f.event === 'subscribed')", 15, "the subscribed notice")
        for n in range(1, 4):
            publish(system, "ws.browser", {"n": n})
        # And one published by the browser itself, on the same socket.
        page.evaluate("ws.send(JSON.stringify({op: 'publish', topic: 'ws.browser', data: {n: 4}, id: 'b'})); true")
        page.wait_for("got.filter(f => f.topic === 'ws.browser').length === 4 && "
                      "got.some(f => f.event === 'published')", 15, "four messages and the published answer")
        got = page.evaluate("got")
        page.evaluate("ws.close(1000); true")
        page.wait_for("window.closeCode !== undefined", 15, "the close handshake")
        closed = page.evaluate("window.closeCode")
        problems = [p for p in page.problems() if "favicon.ico" not in p]
    messages = [f for f in got if f.get("topic") == "ws.browser"]
    check([(m["seq"], m["data"]["n"]) for m in messages] == [(1, 1), (2, 2), (3, 3), (4, 4)],
          "the browser got %r" % messages)
    published = [f for f in got if f.get("event") == "published"]
    check(published[0]["data"] == {"topic": "ws.browser", "seq": 4, "id": "b"}, "published: %r" % published)
    check(problems == [], "the page reported problems: %r" % problems)
    check(closed == 1000, "the close code the browser saw: %r" % closed)


def test_ws_message_limits(ctx):
    import websockets
    system = ctx.system(workers=1, config={"max_body_bytes": 1000})
    system.wait_healthy()

    async def scenario():
        out = {}
        async with websockets.connect(ws_url(system, "/v1/stream")) as ws:
            # data over max_body_bytes: an error frame, the socket goes on.
            await ws.send(json.dumps({"op": "publish", "topic": "ws.big", "data": "x" * 2000}))
            out["too_large"] = await next_frame(ws)
            await ws.send(json.dumps({"op": "publish", "topic": "ws.big", "data": "small"}))
            out["small"] = await next_frame(ws)
            # A message over max_body_bytes + 4 KiB: wslay closes with 1009.
            await ws.send("x" * 6000)
            try:
                await asyncio.wait_for(ws.recv(), 10)
                out["closed"] = None
            except websockets.exceptions.ConnectionClosed as closed:
                out["closed"] = closed.code
        return out

    out = run(scenario())
    check(out["too_large"]["event"] == "error" and out["too_large"]["data"]["code"] == "body_too_large",
          "too large: %r" % out["too_large"])
    check(out["small"]["event"] == "published", "then a small one: %r" % out["small"])
    check(out["closed"] == 1009, "an oversized message: close %r" % out["closed"])


def test_ws_vanished_client_is_noticed_at_once(ctx):
    """A socket that just goes (no close frame) is noticed at once, not at a
    ping: its subscriptions are let go within a second."""
    system = ctx.system(workers=1)  # stream_heartbeat_ms 5 s: no ping comes in the time allowed
    system.wait_healthy()
    (job,) = detach(system, demo(1000, 50))
    ws = RawWebSocket(system, "/v1/stream?topic=ws.gone&job=" + job)
    while True:
        opcode, payload = ws.frame()
        if opcode == 0x1 and json.loads(payload).get("event") == "part":
            break
    check(harness.metric(system, "rill_streams_open") == 2, "one stream per subscription")
    ws.sock.close()
    started = time.monotonic()
    system.wait_for(lambda: harness.metric(system, "rill_streams_open") == 0, timeout=10, what="no stream left")
    check(time.monotonic() - started < 3.0, "noticed after %.1f s" % (time.monotonic() - started))
    status, _ = system.json_request("DELETE", "/v1/jobs/" + job)
    check(status == 200, "cancel answered %s" % status)


def test_wss_over_tls(ctx):
    import ssl
    import websockets
    import test_tls
    system = test_tls.tls_system(ctx)
    context = ssl.create_default_context(cafile=system.cert)  # ALPN none: h2o picks http/1.1

    async def scenario():
        async with websockets.connect("wss://127.0.0.1:%d/v1/topics/ws.tls" % system.port, ssl=context) as ws:
            await until(ws, lambda f: is_notice(f, "subscribed", topic="ws.tls"), "subscribed")
            await in_thread(publish, system, "ws.tls", {"over": "tls"})
            await ws.send(json.dumps({"op": "publish", "topic": "ws.tls", "data": {"from": "socket"}}))
            return await until(ws, lambda f: f.get("seq") == 2, "both messages")

    got = run(scenario())
    check([f["data"] for f in got if "seq" in f] == [{"over": "tls"}, {"from": "socket"}], "over TLS: %r" % got)


def test_ws_client_that_sends_and_does_not_read_is_held(ctx):
    """A client that floods the socket with messages and reads none of the
    answers: past slow_client_soft_bytes of answers waiting, the frontend reads
    no more of its messages (TCP pushes back on the client), and once the
    client reads, every message gets its answer, none lost."""
    system = ctx.system(workers=1, config={"slow_client_soft_bytes": 65536})
    system.wait_healthy()
    ws = RawWebSocket(system, "/v1/stream", rcvbuf=4096)
    message = json.dumps({"op": "nope", "pad": "p" * 1000}).encode()
    sent, total = 0, 40000  # 40 MB: more than every buffer on the way
    ws.sock.settimeout(3)
    try:
        while sent < total:
            ws.send(0x1, message)
            sent += 1
    except socket.timeout:
        pass
    check(sent < total, "the frontend read all %d messages without their answers being read" % total)
    answers = []

    def reader():
        while len(answers) < sent:
            frame = ws.frame(20)
            if frame is None:
                return
            if frame[0] == 0x1:
                answers.append(json.loads(frame[1]))

    thread = threading.Thread(target=reader)
    thread.start()
    thread.join(60)
    ws.close()
    # The message cut by the timeout may have gone in part: at most one answer missing.
    check(sent - 1 <= len(answers) <= sent, "%d answers to %d messages" % (len(answers), sent))
    check(all(a["event"] == "error" and a["data"]["code"] == "bad_request" for a in answers), "answers")


def test_ws_broker_notices_once_per_socket(ctx):
    import signal
    import websockets
    heartbeat = 250
    system = ctx.system(workers=1, config={"heartbeat_ms": heartbeat})
    system.wait_healthy()

    async def scenario():
        async with websockets.connect(ws_url(system, "/v1/stream?topic=ws.n1&topic=ws.n2&topic=ws.n3")) as ws:
            await until(ws, lambda f: is_notice(f, "subscribed", topic="ws.n3"), "three subscribed", timeout=10)
            system.broker.signal(signal.SIGSTOP)
            try:
                frames = await until(ws, lambda f: f.get("event") == "broker_unavailable", "broker_unavailable")
                await asyncio.sleep(4 * heartbeat / 1000.0)
            finally:
                system.broker.signal(signal.SIGCONT)
            frames += await until(ws, lambda f: f.get("event") == "broker_available", "broker_available")
            await in_thread(publish, system, "ws.n2", {"after": "outage"})
            frames += await until(ws, lambda f: f.get("topic") == "ws.n2", "a message after it")
            return frames

    frames = run(scenario())
    names = [f.get("event") for f in frames if "seq" not in f]
    check(names.count("broker_unavailable") == 1 and names.count("broker_available") == 1,
          "each notice once on the socket, not once per subscription: %r" % names)


def test_ws_publish_with_a_key_is_published_once(ctx):
    # rill/10: "key" is the Idempotency-Key of a WebSocket publish: the
    # same message again is answered with its seq and "repeated", and the
    # subscriber sees it once; a bad key is refused and publishes nothing.
    import websockets
    system = ctx.system(workers=1)
    system.wait_healthy()

    async def scenario():
        answers, frames = [], []
        async with websockets.connect(ws_url(system, "/v1/topics/ws.k")) as ws:
            await until(ws, lambda f: is_notice(f, "subscribed"), "subscribed")
            for key in ("k-1", "k-1", "bad key", None):
                op = {"op": "publish", "topic": "ws.k", "data": {"n": 1} if key != "bad key" else 2}
                if key is not None:
                    op["key"] = key
                await ws.send(json.dumps(op))
                got = await until(ws, lambda f: f.get("event") in ("published", "error"), "an answer")
                answers.append(got[-1])
                frames.extend(got[:-1])
            messages = [f for f in frames if f.get("topic") == "ws.k"]
            while len(messages) < 2:
                frame = await next_frame(ws)
                if frame.get("topic") == "ws.k":
                    messages.append(frame)
        return answers, messages

    answers, messages = run(scenario())
    check(answers[0]["data"] == {"topic": "ws.k", "seq": 1}, answers)
    check(answers[1]["data"] == {"topic": "ws.k", "seq": 1, "repeated": True}, answers)
    check(answers[2]["event"] == "error" and answers[2]["data"]["code"] == "bad_request", answers)
    check(answers[3]["data"] == {"topic": "ws.k", "seq": 2}, answers)
    check([(m["seq"], m["data"]) for m in messages] == [(1, {"n": 1}), (2, {"n": 1})], messages)
