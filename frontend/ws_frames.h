/*
 * ws_frames.h - where a WebSocket peer's next frame ends (RFC 6455 5.2),
 * read off its header in the bytes that have arrived.
 *
 * ws_conn.c hands wslay whole frames only: between frames wslay then holds
 * nothing of the peer's (no half-read header in its input buffer, no frame
 * half parsed), so a connection with nothing in flight can give its wslay
 * context back and make a new one when the next byte comes (ws_conn.c:
 * that is most of what an idle WebSocket would hold). The other way, the
 * frames of the events ws_conn.c writes itself (rill_ws_frame_text_header).
 */
#ifndef RILL_FRONTEND_WS_FRAMES_H
#define RILL_FRONTEND_WS_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#define RILL_WS_FRAME_HEADER_MAX 14 /* 2 + 8 (64-bit length) + 4 (mask) */

typedef struct {
    uint64_t length; /* header and payload: UINT64_MAX when that does not fit */
    uint8_t opcode;  /* 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong, ... */
    uint8_t fin;     /* 1: the last frame of its message */
} rill_ws_frame_t;

/* 1 with *frame when bytes start with a whole frame header (the payload
 * may not all be there yet); 0 while the header itself is not. Never fails:
 * a frame wslay must refuse (a bad opcode, a length with its top bit set)
 * is still measured, and wslay refuses it. */
int rill_ws_frame_head(const uint8_t *bytes, size_t size, rill_ws_frame_t *frame);

/* 1 for the opcodes of a message's frames (continuation, text, binary),
 * whose fin says whether a message is still being read after them; 0 for
 * control frames, which may come between a message's frames. */
int rill_ws_frame_is_data(const rill_ws_frame_t *frame);

/* Writes the header of a server's text frame of payload bytes, final and
 * not masked (RFC 6455 5.2: a server masks nothing), into out: its length
 * (2, 4 or 10 bytes). */
size_t rill_ws_frame_text_header(uint8_t out[10], uint64_t payload);

#endif
