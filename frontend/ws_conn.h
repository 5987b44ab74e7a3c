/*
 * ws_conn.h - one server WebSocket connection (RFC 6455) on the socket of
 * an HTTP/1.1 request that asked to upgrade (docs/API.md "WebSocket").
 *
 * h2o 2.2 says whether a request is a WebSocket handshake
 * (h2o_is_websocket_handshake) and hands over its socket after a 101
 * (h2o_http1_upgrade); the frames are Debian's libwslay, the library under
 * h2o's own websocket.c. This file drives wslay itself instead of using
 * h2o_upgrade_to_websocket because its owner must know when what it queued
 * is written (a stream's one send in flight and its slow-client limits:
 * output_queue.h) - h2o 2.2's wrapper never says - and so that many frames
 * go out in one write, as many events go out in one h2o_send.
 *
 * Liveness is a ping every tick (the owner's stream_heartbeat_ms): a peer
 * that answers nothing for RILL_WS_MISSED_PINGS ticks, or that does not
 * answer our close frame within a tick, is cut.
 */
#ifndef RILL_FRONTEND_WS_CONN_H
#define RILL_FRONTEND_WS_CONN_H

#include <h2o.h>
#include <stddef.h>
#include <stdint.h>

#define RILL_WS_MISSED_PINGS 3

/* Close codes (docs/API.md, "WebSocket"). */
#define RILL_WS_CLOSE_NORMAL 1000
#define RILL_WS_CLOSE_GOING_AWAY 1001     /* the frontend is shutting down */
#define RILL_WS_CLOSE_POLICY 1008         /* slow client (after its error frame) */
#define RILL_WS_CLOSE_NO_PONG 4000        /* missed pings (sent, maybe never read) */
#define RILL_WS_CLOSE_TOKEN_EXPIRED 4001  /* the upgrade's JWT passed its exp (after its error frame) */

typedef struct rill_ws_conn rill_ws_conn_t;

/* What a connection tells its owner; none may destroy the connection. */
typedef struct {
    /* One whole text (or binary) message from the peer. */
    void (*on_message)(void *data, const char *bytes, size_t length);
    /* Everything queued is written. */
    void (*on_drained)(void *data);
    /* The connection is over (close handshake done, peer gone, error,
     * missed pings): its socket is closed; only destroy is left. */
    void (*on_closed)(void *data);
} rill_ws_conn_events_t;

/* 1 when req asks to upgrade to a WebSocket (HTTP/1.1 only: h2o 2.2 has no
 * WebSocket over HTTP/2), with its Sec-WebSocket-Key in *key; -1 for a
 * malformed key; 0 otherwise. */
int rill_ws_conn_is_handshake(h2o_req_t *req, const char **key);
/* Answers 101 and takes the request's socket; the request is gone after
 * this. max_message bounds the peer's messages (close 1009 past it); no
 * message is read while read_hold bytes or more wait to be written. */
rill_ws_conn_t *rill_ws_conn_upgrade(h2o_req_t *req, const char *key, size_t max_message, size_t read_hold,
                                     const rill_ws_conn_events_t *events, void *data);
/* hold 1: read no more messages until called again with 0. */
void rill_ws_conn_hold_reading(rill_ws_conn_t *self, int hold);
/* Queues one text frame (the bytes are copied). 0, or -1 when the
 * connection takes no more (closing, closed). */
int rill_ws_conn_send_text(rill_ws_conn_t *self, const char *bytes, size_t length);
/* Writes what is queued (after a series of send_text). */
void rill_ws_conn_flush(rill_ws_conn_t *self);
/* Bytes queued and not yet written. */
size_t rill_ws_conn_queued_bytes(rill_ws_conn_t *self);
/* 1 once the 101 went out and frames flow; 0 before and after. */
int rill_ws_conn_is_open(rill_ws_conn_t *self);
/* Starts the close handshake: what is queued goes first, then a close
 * frame with code and reason. */
void rill_ws_conn_close(rill_ws_conn_t *self, uint16_t code, const char *reason);
/* Liveness: a ping, or the end of a peer that answers nothing. */
void rill_ws_conn_tick(rill_ws_conn_t *self);
/* Frees it (its socket closed if still open); never from its events. */
void rill_ws_conn_destroy(rill_ws_conn_t **self);

#endif
