/*
 * ws_client.h - the client side of one WebSocket connection (RFC 6455), for
 * the `subscribe` kind's ws:// and wss:// upstreams.
 *
 * It owns no socket: the caller connects (libcurl, CONNECT_ONLY, which
 * also speaks TLS for wss) and hands over two non-blocking I/O functions.
 * This file writes the opening handshake (GET with Upgrade: websocket, a
 * random Sec-WebSocket-Key), checks the answer (101 and the
 * Sec-WebSocket-Accept that key calls for), then lets wslay (Debian's
 * libwslay, the framing library h2o uses) read frames: text and binary
 * messages are handed to on_message whole, pings are answered, a close
 * frame is answered and ends the connection. wslay does no I/O of its own
 * and keeps no thread: each call of rill_ws_client_io reads and writes what
 * the socket takes now, which is what the worker's one loop needs.
 */
#ifndef RILL_WORKER_WS_CLIENT_H
#define RILL_WORKER_WS_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RILL_WS_AGAIN (-1)    /* I/O: nothing now, try when the socket is ready */
#define RILL_WS_IO_ERROR (-2) /* I/O: the connection failed */

typedef struct {
    /* Non-blocking I/O: bytes moved, 0 (recv only) at the end of the
     * stream, RILL_WS_AGAIN or RILL_WS_IO_ERROR. */
    ssize_t (*recv)(void *argument, void *buffer, size_t length);
    ssize_t (*send)(void *argument, const void *buffer, size_t length);
    /* The handshake succeeded; non-zero fails the connection. */
    int (*on_open)(void *argument);
    /* One whole message (binary: 1 for a binary one); non-zero stops. */
    int (*on_message)(void *argument, const char *data, size_t length, int binary);
    void *argument;
} rill_ws_callbacks_t;

typedef enum {
    RILL_WS_OPEN = 0, /* going on: call again when the socket is ready */
    RILL_WS_CLOSED,   /* the upstream closed the WebSocket (close frame): rill_ws_client_close_code */
    RILL_WS_FAILED,   /* the handshake was refused (rill_ws_client_status), or the connection failed */
} rill_ws_state_t;

typedef struct rill_ws_client rill_ws_client_t;

/* host: the Host header ("example.com:8080"); path: the request target
 * (begins with "/"); a message over max_message bytes fails the
 * connection (close 1009). */
rill_ws_client_t *rill_ws_client_new(const char *host, const char *path, uint64_t max_message,
                                     const rill_ws_callbacks_t *callbacks);
void rill_ws_client_destroy(rill_ws_client_t **self);

/* Reads and writes what it can now; returns the connection's state. */
rill_ws_state_t rill_ws_client_io(rill_ws_client_t *self);
/* 1 when it has bytes the socket did not take (watch for writable). */
int rill_ws_client_wants_write(const rill_ws_client_t *self);
/* The handshake answer's HTTP status (0 until it came). */
long rill_ws_client_status(const rill_ws_client_t *self);
/* The close frame's status code (0 when it had none). */
unsigned rill_ws_client_close_code(const rill_ws_client_t *self);
/* Why it failed (static or owned text). */
const char *rill_ws_client_error(const rill_ws_client_t *self);
/* 1 when a message over max_message came (the connection failed). */
int rill_ws_client_too_large(const rill_ws_client_t *self);
/* 1 when on_message asked to stop. */
int rill_ws_client_stopped(const rill_ws_client_t *self);

#endif
