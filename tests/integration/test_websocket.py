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
import os
import socket
import struct
import threading
import time

import harness
from harness import check

TOKEN = "ws-token-0123456789abcdef"


def demo(parts, interval_ms):
    return {"kind": "demo", "args": {"parts": parts, "interval_ms": interval_ms}}


def detach(system, *jobs):
    status, body = system.json_request("POST", "/v1/jobs?detach=1", list(jobs))
    check(status == 202, "detach answered %s %r" % (status, body))
    return body["jobs"]


def publish(system, topic, message):
    status, body = system.json_request("POST", "/v1/topics/" + topic, message)
    check(status == 202, "publish to %s answered %s %r" % (topic, status, body))
    return body["seq"]


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
