"""test_websocket_frames.py - a WebSocket's frames as they arrive: in
pieces of a few bytes, a message in fragments with a ping between them,
and a frame whose header alone says it is too large (docs/API.md
"WebSocket"). The frontend hands wslay whole frames only and frees a
connection's wslay context between them when nothing is in flight
(frontend/ws_conn.c), so every one of these crosses points where an idle
connection has no context: none may lose or garble a byte. And the other
way: events framed by the frontend itself and events queued in wslay
while a write waits, mixed on one socket, in order.
"""
import json
import os
import struct
import time

import harness
from harness import check
from test_websocket import RawWebSocket


def client_frame(opcode, payload, fin=True):
    """One masked client frame (RFC 6455 5.2)."""
    mask = os.urandom(4)
    head = bytes([(0x80 if fin else 0) | opcode])
    if len(payload) < 126:
        head += bytes([0x80 | len(payload)])
    elif len(payload) < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", len(payload))
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def send_in_pieces(ws, data, piece, pause=0.002):
    for start in range(0, len(data), piece):
        ws.sock.sendall(data[start:start + piece])
        time.sleep(pause)


def frames_until(ws, wanted, timeout=10):
    """Frames read until wanted(frames) holds: the list read."""
    frames, deadline = [], time.monotonic() + timeout
    while not wanted(frames):
        frame = ws.frame(max(0.1, deadline - time.monotonic()))
        check(frame is not None, "the server closed the socket; frames before: %r" % frames)
        frames.append(frame)
    return frames


def texts(frames):
    return [json.loads(payload) for opcode, payload in frames if opcode == 0x1]


def test_ws_frames_in_pieces_and_fragments(ctx):
    system = ctx.system(workers=1)
    system.wait_healthy()
    ws = RawWebSocket(system, "/v1/stream")
    # A publish of ~6 KiB (over wslay's 4 KiB input buffer) in three
    # fragments, a ping between the second and the third, sent 7 bytes at
    # a time: every read the frontend makes holds part of a frame.
    message = json.dumps({"op": "publish", "topic": "ws.pieces", "data": "y" * 6000, "id": 1}).encode()
    third = len(message) // 3
    data = (client_frame(0x1, message[:third], fin=False) + client_frame(0x0, message[third:2 * third], fin=False)
            + client_frame(0x9, b"between") + client_frame(0x0, message[2 * third:]))
    send_in_pieces(ws, data[:200], 7)
    send_in_pieces(ws, data[200:], 1500)
    frames = frames_until(ws, lambda got: any(t.get("event") == "published" for t in texts(got)))
    check((0xA, b"between") in frames, "the ping between fragments was answered: %r" % frames)
    published = [t for t in texts(frames) if t.get("event") == "published"]
    check(published[0]["data"]["topic"] == "ws.pieces" and published[0]["data"]["seq"] == 1 and
          published[0]["data"]["id"] == 1, "the fragmented publish: %r" % published)
    # Idle a moment (the context goes), then a whole frame in one write and
    # a subscribe in single bytes: both answered, in order.
    time.sleep(0.3)
    ws.sock.sendall(client_frame(0x1, json.dumps({"op": "publish", "topic": "ws.pieces", "data": 2}).encode()))
    send_in_pieces(ws, client_frame(0x1, json.dumps({"op": "subscribe", "topic": "ws.pieces", "since": 0}).encode()), 1)
    frames = frames_until(ws, lambda got: len([t for t in texts(got) if t.get("event") == "part"]) >= 2)
    events = texts(frames)
    check([t["event"] for t in events][:2] == ["published", "subscribed"], "answers in order: %r" % events)
    check([t["data"] for t in events if t.get("event") == "part"] == ["y" * 6000, 2],
          "both messages replayed whole: %r" % [str(t)[:80] for t in events])
    ws.close()


def test_ws_frame_too_large_by_its_header(ctx):
    """A header that declares more than a message may hold is refused at
    once (close 1009), not after waiting for a payload that never comes."""
    system = ctx.system(workers=1, config={"max_body_bytes": 1000})
    system.wait_healthy()
    ws = RawWebSocket(system, "/v1/stream")
    ws.sock.sendall(bytes([0x81, 0x80 | 127]) + struct.pack(">Q", 100 * 1000 * 1000) + os.urandom(4) + b"x" * 100)
    frames = frames_until(ws, lambda got: any(opcode == 0x8 for opcode, _ in got), timeout=5)
    closes = [struct.unpack(">H", payload[:2])[0] for opcode, payload in frames if opcode == 0x8]
    check(closes == [1009], "closed with %r" % closes)
    ws.close()


def test_ws_events_in_order_while_writes_wait(ctx):
    """A subscriber of two topics that reads nothing for a while: one
    subscription's events wait for the write of the other's, so they go
    through wslay's queue behind the frames already in the write buffer
    (frontend/ws_conn.c); read at last, every frame is whole and each
    topic's messages come once each, in seq order."""
    system = ctx.system(workers=1, config={"slow_client_hard_bytes": 64 << 20, "slow_client_soft_bytes": 32 << 20})
    system.wait_healthy()
    topics = ("ws.order.a", "ws.order.b")
    ws = RawWebSocket(system, "/v1/stream?topic=%s&topic=%s" % topics, rcvbuf=4096)
    for _ in topics:
        frame = ws.frame()
        check(frame is not None and b'"subscribed"' in frame[1], "a first frame %r" % (frame,))
    count = 300
    for i in range(count):
        for topic in topics:
            harness.publish(system, topic, {"i": i, "pad": "z" * 4000})
    got = {topic: [] for topic in topics}
    while sum(len(seqs) for seqs in got.values()) < count * len(topics):
        frame = ws.frame(10)
        check(frame is not None, "closed after %r messages" % {t: len(s) for t, s in got.items()})
        opcode, payload = frame
        if opcode == 0x9:
            ws.send(0xA, payload)
        elif opcode == 0x1:
            event = json.loads(payload)
            seqs = got[event.get("topic")]
            check(event.get("event") == "part" and event["data"]["i"] == len(seqs),
                  "message %d of %s: %r" % (len(seqs), event.get("topic"), payload[:120]))
            seqs.append(event["seq"])
    for topic in topics:
        check(got[topic] == list(range(1, count + 1)), "%s: seqs in order, once each" % topic)
    ws.close()
