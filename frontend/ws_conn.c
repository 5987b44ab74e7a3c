/*
 * ws_conn.c - see ws_conn.h.
 *
 * wslay does no I/O: its recv callback takes bytes from the h2o socket's
 * input buffer, its send callback appends frames to one write buffer, and
 * the buffer goes out as one h2o_socket_write; while that write is out the
 * send callback says "would block", so wslay keeps the rest queued (and
 * counted: rill_ws_conn_queued_bytes). When a write completes, the next
 * buffer is filled; when nothing is left, the owner hears on_drained.
 */
#include "ws_conn.h"

#include "rill_alloc.h"
#include "rill_log.h"

#include <h2o/http1.h>
#include <h2o/websocket.h> /* h2o_is_websocket_handshake */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

#define WRITE_BUFFER_BYTES (64 * 1024) /* one write: many frames */
#define WRITE_BUFFER_MIN 1024          /* an idle socket keeps none (10,000 idle ones) */

typedef enum { WS_UPGRADING = 0, WS_OPEN, WS_CLOSED } ws_phase_t;

struct rill_ws_conn {
    h2o_socket_t *sock;
    wslay_event_context_ptr wslay;
    const rill_ws_conn_events_t *events;
    void *data;
    ws_phase_t phase;
    char *write_buffer; /* grown up to WRITE_BUFFER_BYTES; referenced by the write in flight */
    size_t write_length;
    size_t write_capacity;
    size_t read_hold;
    unsigned writing : 1;
    unsigned read_paused : 1; /* rill_ws_conn_hold_reading */
    unsigned in_pump : 1;
    unsigned pump_again : 1;
    unsigned close_queued : 1; /* we started the close handshake */
    unsigned close_issued : 1; /* ... and wslay has its close frame */
    uint16_t close_code;
    const char *close_reason; /* a literal */
    unsigned close_ticks;      /* ticks since close_queued, the close frame unsent */
    unsigned answer_ticks;     /* ticks since the close frame went */
    unsigned missed;           /* pings without anything heard back */
};

int rill_ws_conn_is_handshake(h2o_req_t *req, const char **key)
{
    *key = NULL;
    if (req->version >= 0x200)
        return 0; /* h2o 2.2: no WebSocket over HTTP/2 (RFC 8441) */
    if (h2o_is_websocket_handshake(req, key) != 0)
        return -1;
    return *key != NULL ? 1 : 0;
}

/* RFC 6455 4.2.2: base64(SHA-1(key + GUID)), 28 characters. */
static void accept_key(char out[29], const char *key)
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char source[24 + sizeof(guid) - 1], digest[SHA_DIGEST_LENGTH];
    memcpy(source, key, 24);
    memcpy(source + 24, guid, sizeof(guid) - 1);
    SHA1(source, sizeof(source), digest);
    EVP_EncodeBlock((unsigned char *)out, digest, SHA_DIGEST_LENGTH);
    out[28] = '\0';
}

/* The end, once: the socket closes, the owner hears it. */
static void finish(rill_ws_conn_t *self, const char *why)
{
    if (self->phase == WS_CLOSED)
        return;
    rill_log_debug(NULL, "websocket: connection ends (%s)", why);
    self->phase = WS_CLOSED;
    if (self->sock != NULL) {
        h2o_socket_close(self->sock);
        self->sock = NULL;
    }
    self->events->on_closed(self->data);
}

static void pump(rill_ws_conn_t *self);

static void on_write_complete(h2o_socket_t *sock, const char *err)
{
    rill_ws_conn_t *self = sock->data;
    self->writing = 0;
    self->write_length = 0;
    if (err != NULL) {
        finish(self, err);
        return;
    }
    pump(self);
    if (!self->writing) { /* nothing more to write now: an idle socket holds no buffer */
        free(self->write_buffer);
        self->write_buffer = NULL;
        self->write_capacity = 0;
        self->write_length = 0;
    }
    if (self->phase == WS_OPEN && !self->writing && wslay_event_get_queued_msg_count(self->wslay) == 0)
        self->events->on_drained(self->data);
}

static void on_read(h2o_socket_t *sock, const char *err)
{
    rill_ws_conn_t *self = sock->data;
    if (err != NULL) {
        finish(self, err); /* the peer went away */
        return;
    }
    pump(self);
}

/* Back-pressure on the peer's messages: none is read while the owner holds
 * reading, or while the answers already queued are over read_hold bytes (a
 * client that sends and does not read). */
static int reads_held(rill_ws_conn_t *self)
{
    return self->read_paused || rill_ws_conn_queued_bytes(self) >= self->read_hold;
}

/* Reads what the socket has, writes what wslay queued, and ends the
 * connection when wslay wants neither (the close handshake is over). The
 * owner's events run inside wslay_event_recv and may queue frames and pump
 * again: that pump only asks the running one for another turn (wslay is not
 * re-entrant). */
static void pump(rill_ws_conn_t *self)
{
    if (self->phase != WS_OPEN)
        return;
    if (self->in_pump) {
        self->pump_again = 1;
        return;
    }
    self->in_pump = 1;
    int failed = 0;
    do {
        self->pump_again = 0;
        if (self->sock->input->size > 0 && wslay_event_want_read(self->wslay) && !reads_held(self))
            failed = wslay_event_recv(self->wslay) != 0;
        if (self->sock->input->size == 0 && self->sock->input->bytes != NULL) {
            /* all read: h2o's read buffer goes back to its prototype, so an
             * idle socket holds none (h2o reserves one at its next read) */
            h2o_buffer_dispose(&self->sock->input);
            h2o_buffer_init(&self->sock->input, &h2o_socket_buffer_prototype);
        }
        if (!failed && self->phase == WS_OPEN && !self->writing && wslay_event_want_write(self->wslay))
            failed = wslay_event_send(self->wslay) != 0;
        if (!failed && self->close_code != 0 && !self->close_issued &&
            wslay_event_get_queued_msg_count(self->wslay) == 0) {
            /* wslay sends control frames ahead of data: the close frame is
             * queued only once every frame before it is in the buffer. */
            self->close_issued = 1;
            (void)wslay_event_queue_close(self->wslay, self->close_code, (const uint8_t *)self->close_reason,
                                          strlen(self->close_reason));
            self->pump_again = 1;
        }
        if (!failed && self->phase == WS_OPEN && !self->writing && self->write_length > 0) {
            h2o_iovec_t buffer = h2o_iovec_init(self->write_buffer, self->write_length);
            self->writing = 1;
            h2o_socket_write(self->sock, &buffer, 1, on_write_complete);
        }
    } while (!failed && self->pump_again && self->phase == WS_OPEN);
    self->in_pump = 0;
    if (self->phase != WS_OPEN)
        return; /* an event of the owner ended it */
    if (failed)
        finish(self, "a bad frame, or a failed write");
    else if (self->close_code == RILL_WS_CLOSE_GOING_AWAY && wslay_event_get_close_sent(self->wslay) &&
             !self->writing)
        finish(self, "going away"); /* the frontend stops: no wait for the answer */
    else if (wslay_event_want_read(self->wslay)) {
        if (reads_held(self))
            h2o_socket_read_stop(self->sock); /* pumped again when a write completes, or on resume */
        else if (!h2o_socket_is_reading(self->sock))
            h2o_socket_read_start(self->sock, on_read);
    } else if (self->writing || wslay_event_want_write(self->wslay))
        h2o_socket_read_stop(self->sock);
    else
        finish(self, "close handshake done"); /* both close frames went */
}

static ssize_t on_wslay_recv(wslay_event_context_ptr context, uint8_t *buffer, size_t length, int flags,
                             void *argument)
{
    (void)flags;
    rill_ws_conn_t *self = argument;
    h2o_buffer_t *input = self->sock->input;
    if (input->size == 0 || reads_held(self)) {
        wslay_event_set_error(context, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (length > input->size)
        length = input->size;
    memcpy(buffer, input->bytes, length);
    h2o_buffer_consume(&self->sock->input, length);
    return (ssize_t)length;
}

static ssize_t on_wslay_send(wslay_event_context_ptr context, const uint8_t *data, size_t length, int flags,
                             void *argument)
{
    (void)flags;
    rill_ws_conn_t *self = argument;
    if (!self->writing && self->write_length + length > self->write_capacity &&
        self->write_capacity < WRITE_BUFFER_BYTES) {
        size_t capacity = self->write_capacity * 2;
        if (capacity < self->write_length + length)
            capacity = self->write_length + length;
        if (capacity < WRITE_BUFFER_MIN)
            capacity = WRITE_BUFFER_MIN;
        if (capacity > WRITE_BUFFER_BYTES)
            capacity = WRITE_BUFFER_BYTES;
        self->write_buffer = rill_xrealloc(self->write_buffer, capacity);
        self->write_capacity = capacity;
    }
    size_t room = self->write_capacity - self->write_length;
    if (self->writing || room == 0) {
        wslay_event_set_error(context, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (length > room)
        length = room;
    memcpy(self->write_buffer + self->write_length, data, length);
    self->write_length += length;
    return (ssize_t)length;
}

static void on_wslay_message(wslay_event_context_ptr context, const struct wslay_event_on_msg_recv_arg *message,
                             void *argument)
{
    (void)context;
    rill_ws_conn_t *self = argument;
    self->missed = 0; /* anything heard is a sign of life */
    if (message->opcode == WSLAY_TEXT_FRAME || message->opcode == WSLAY_BINARY_FRAME)
        self->events->on_message(self->data, (const char *)message->msg, message->msg_length);
    /* pings are answered and close frames echoed by wslay itself */
}

static void on_upgraded(void *data, h2o_socket_t *sock, size_t request_size)
{
    rill_ws_conn_t *self = data;
    if (sock == NULL) {
        finish(self, "the 101 could not be written");
        return;
    }
    self->sock = sock;
    sock->data = self;
    h2o_buffer_consume(&sock->input, request_size); /* the request's own bytes */
    self->phase = WS_OPEN;
    pump(self);
    if (self->phase == WS_OPEN && !self->writing && wslay_event_get_queued_msg_count(self->wslay) == 0)
        self->events->on_drained(self->data);
}

rill_ws_conn_t *rill_ws_conn_upgrade(h2o_req_t *req, const char *key, size_t max_message, size_t read_hold,
                                     const rill_ws_conn_events_t *events, void *data)
{
    rill_ws_conn_t *self = rill_xcalloc(1, sizeof(*self));
    self->read_hold = read_hold;
    struct wslay_event_callbacks callbacks = {
        .recv_callback = on_wslay_recv,
        .send_callback = on_wslay_send,
        .on_msg_recv_callback = on_wslay_message,
    };
    if (wslay_event_context_server_init(&self->wslay, &callbacks, self) != 0)
        abort(); /* only out of memory (rill_alloc.h) */
    wslay_event_config_set_max_recv_msg_length(self->wslay, max_message);
    self->events = events;
    self->data = data;
    char accept[29];
    accept_key(accept, key);
    req->res.status = 101;
    req->res.reason = "Switching Protocols";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_UPGRADE, NULL, H2O_STRLIT("websocket"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("sec-websocket-accept"), 0, NULL, accept,
                          strlen(accept));
    h2o_http1_upgrade(req, NULL, 0, on_upgraded, self);
    return self;
}

int rill_ws_conn_send_text(rill_ws_conn_t *self, const char *bytes, size_t length)
{
    if (self->phase == WS_CLOSED || self->close_queued)
        return -1;
    struct wslay_event_msg message = {WSLAY_TEXT_FRAME, (const uint8_t *)bytes, length};
    return wslay_event_queue_msg(self->wslay, &message) == 0 ? 0 : -1;
}

void rill_ws_conn_flush(rill_ws_conn_t *self)
{
    pump(self);
}

size_t rill_ws_conn_queued_bytes(rill_ws_conn_t *self)
{
    return wslay_event_get_queued_msg_length(self->wslay) + self->write_length;
}

void rill_ws_conn_hold_reading(rill_ws_conn_t *self, int hold)
{
    if ((int)self->read_paused == (hold != 0))
        return;
    self->read_paused = hold != 0;
    pump(self);
}

int rill_ws_conn_is_open(rill_ws_conn_t *self)
{
    return self->phase == WS_OPEN && !self->close_queued;
}

void rill_ws_conn_close(rill_ws_conn_t *self, uint16_t code, const char *reason)
{
    if (self->phase == WS_CLOSED || self->close_queued)
        return;
    self->close_queued = 1;
    self->close_code = code;
    self->close_reason = reason;
    pump(self);
}

void rill_ws_conn_tick(rill_ws_conn_t *self)
{
    if (self->phase != WS_OPEN)
        return;
    if (self->close_queued) {
        /* Our close frame waits for a peer that reads nothing, or for its
         * answer: RILL_WS_MISSED_PINGS ticks to take it, one to answer. */
        int sent = wslay_event_get_close_sent(self->wslay) && !self->writing; /* on the wire */
        if (sent ? self->answer_ticks++ >= 1 : self->close_ticks++ >= RILL_WS_MISSED_PINGS)
            finish(self, sent ? "no answer to our close frame" : "our close frame was never read");
        return;
    }
    if (self->missed >= RILL_WS_MISSED_PINGS) {
        rill_log_info(NULL, "websocket: no answer to %u pings: closed", self->missed);
        rill_ws_conn_close(self, RILL_WS_CLOSE_NO_PONG, "no pong");
        return;
    }
    struct wslay_event_msg ping = {WSLAY_PING, NULL, 0};
    if (wslay_event_queue_msg(self->wslay, &ping) == 0)
        self->missed++;
    pump(self);
}

void rill_ws_conn_destroy(rill_ws_conn_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_ws_conn_t *self = *self_p;
    *self_p = NULL;
    if (self->sock != NULL)
        h2o_socket_close(self->sock);
    wslay_event_context_free(self->wslay);
    free(self->write_buffer);
    free(self);
}
