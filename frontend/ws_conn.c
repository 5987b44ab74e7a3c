/*
 * ws_conn.c - see ws_conn.h.
 *
 * wslay does no I/O: its recv callback takes bytes from the h2o socket's
 * input buffer, its send callback appends frames to one write buffer, and
 * the buffer goes out as one h2o_socket_write; while that write is out the
 * send callback says "would block", so wslay keeps the rest queued (and
 * counted: rill_ws_conn_queued_bytes). When a write completes, the next
 * buffer is filled; when nothing is left, the owner hears on_drained. An
 * event's text frame skips wslay: it is framed here, straight into the
 * buffer, whenever wslay has nothing queued (rill_ws_conn_send_text).
 *
 * An idle connection holds no wslay context. wslay's context is ~8.6 KiB
 * (a 4 KiB input buffer for frames, a 4 KiB output buffer for fragments,
 * its queues): an idle WebSocket subscribed to a topic held 14.5 KiB of
 * RSS, where an idle HTTP stream holds 5.6 (docs/DESIGN.md "Performance").
 * So the recv callback hands wslay whole frames only (ws_frames.h): between
 * frames wslay holds nothing of the peer's, and once nothing is half read,
 * queued or being written, and no close has begun, the context is freed.
 * The next frame from the peer, message to send or ping makes a new one.
 */
#include "ws_conn.h"
#include "ws_frames.h"

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
/* A connection that made this many wslay contexts since the last tick is
 * busy: it keeps the one it has until the next tick, not one per message. */
#define CONTEXTS_PER_TICK 4

typedef enum { WS_UPGRADING = 0, WS_OPEN, WS_CLOSED } ws_phase_t;

struct rill_ws_conn {
    h2o_socket_t *sock;
    wslay_event_context_ptr wslay; /* NULL while idle (need_wslay) */
    size_t max_message;
    uint64_t frame_left; /* bytes of the frame being handed to wslay, still to hand */
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
    unsigned in_message : 1;   /* frames of a fragmented message are being read */
    unsigned contexts_made;    /* wslay contexts made since the last tick */
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

static size_t queued_messages(rill_ws_conn_t *self)
{
    return self->wslay != NULL ? wslay_event_get_queued_msg_count(self->wslay) : 0;
}

static ssize_t on_wslay_recv(wslay_event_context_ptr context, uint8_t *buffer, size_t length, int flags,
                             void *argument);
static ssize_t on_wslay_send(wslay_event_context_ptr context, const uint8_t *data, size_t length, int flags,
                             void *argument);
static void on_wslay_message(wslay_event_context_ptr context, const struct wslay_event_on_msg_recv_arg *message,
                             void *argument);

static const struct wslay_event_callbacks wslay_callbacks = {
    .recv_callback = on_wslay_recv,
    .send_callback = on_wslay_send,
    .on_msg_recv_callback = on_wslay_message,
};

/* The connection's wslay context, made when it needs one: 0, or -1 when
 * wslay could not allocate it. */
static int need_wslay(rill_ws_conn_t *self)
{
    if (self->wslay != NULL)
        return 0;
    if (wslay_event_context_server_init(&self->wslay, &wslay_callbacks, self) != 0) {
        self->wslay = NULL;
        return -1;
    }
    wslay_event_config_set_max_recv_msg_length(self->wslay, self->max_message);
    self->contexts_made++;
    return 0;
}

/* Frees the wslay context of a connection with nothing in flight: nothing
 * of the peer's half read (ws_frames.h), nothing queued or being written,
 * no close begun by either side, and not busy (CONTEXTS_PER_TICK). */
static void release_wslay_if_idle(rill_ws_conn_t *self)
{
    if (self->wslay == NULL || self->phase != WS_OPEN || self->in_pump || self->writing || self->write_length > 0 ||
        self->frame_left > 0 || self->in_message || self->close_queued || self->contexts_made >= CONTEXTS_PER_TICK)
        return;
    if (wslay_event_get_queued_msg_count(self->wslay) > 0 || !wslay_event_get_read_enabled(self->wslay) ||
        !wslay_event_get_write_enabled(self->wslay) || wslay_event_get_close_received(self->wslay) ||
        wslay_event_get_close_sent(self->wslay))
        return;
    wslay_event_context_free(self->wslay);
    self->wslay = NULL;
}

/* 1 with *frame when the input starts with a frame wslay may have now: all
 * of it is here, or its header says it is over max_message (wslay refuses
 * it on that header and needs none of the rest). */
static int next_frame(rill_ws_conn_t *self, rill_ws_frame_t *frame)
{
    h2o_buffer_t *input = self->sock->input;
    if (!rill_ws_frame_head((const uint8_t *)input->bytes, input->size, frame))
        return 0;
    return frame->length <= input->size || frame->length > (uint64_t)self->max_message + RILL_WS_FRAME_HEADER_MAX;
}

/* 1 when wslay has a frame to read: the rest of the one it is reading, or
 * a next one (next_frame). */
static int frame_to_read(rill_ws_conn_t *self)
{
    rill_ws_frame_t frame;
    return self->sock->input->size > 0 && (self->frame_left > 0 || next_frame(self, &frame));
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
    if (self->phase == WS_OPEN && !self->writing && queued_messages(self) == 0)
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
        if (!reads_held(self) && frame_to_read(self)) {
            if (need_wslay(self) != 0)
                failed = 1;
            else if (wslay_event_want_read(self->wslay))
                failed = wslay_event_recv(self->wslay) != 0;
        }
        if (self->sock->input->size == 0 && self->sock->input->bytes != NULL) {
            /* all read: h2o's read buffer goes back to its prototype, so an
             * idle socket holds none (h2o reserves one at its next read) */
            h2o_buffer_dispose(&self->sock->input);
            h2o_buffer_init(&self->sock->input, &h2o_socket_buffer_prototype);
        }
        if (!failed && self->phase == WS_OPEN && !self->writing && self->wslay != NULL &&
            wslay_event_want_write(self->wslay))
            failed = wslay_event_send(self->wslay) != 0;
        if (!failed && self->close_code != 0 && !self->close_issued && queued_messages(self) == 0) {
            /* wslay sends control frames ahead of data: the close frame is
             * queued only once every frame before it is in the buffer. */
            if (need_wslay(self) != 0) {
                failed = 1;
                break;
            }
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
        finish(self, "a bad frame, a failed write, or no memory for wslay");
    else if (self->close_code == RILL_WS_CLOSE_GOING_AWAY && self->wslay != NULL &&
             wslay_event_get_close_sent(self->wslay) && !self->writing)
        finish(self, "going away"); /* the frontend stops: no wait for the answer */
    else if (self->wslay == NULL || wslay_event_want_read(self->wslay)) {
        if (reads_held(self))
            h2o_socket_read_stop(self->sock); /* pumped again when a write completes, or on resume */
        else if (!h2o_socket_is_reading(self->sock))
            h2o_socket_read_start(self->sock, on_read);
    } else if (self->writing || wslay_event_want_write(self->wslay))
        h2o_socket_read_stop(self->sock);
    else
        finish(self, "close handshake done"); /* both close frames went */
    release_wslay_if_idle(self);
}

static ssize_t on_wslay_recv(wslay_event_context_ptr context, uint8_t *buffer, size_t length, int flags,
                             void *argument)
{
    (void)flags;
    rill_ws_conn_t *self = argument;
    h2o_buffer_t *input = self->sock->input;
    rill_ws_frame_t frame;
    if (self->frame_left == 0 && !reads_held(self) && next_frame(self, &frame)) {
        /* wslay has read every frame before this one whole; this one is all
         * here, or over the limit (next_frame) */
        self->frame_left = frame.length;
        if (rill_ws_frame_is_data(&frame))
            self->in_message = !frame.fin;
    }
    if (input->size == 0 || self->frame_left == 0 || reads_held(self)) {
        wslay_event_set_error(context, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (length > input->size)
        length = input->size;
    if (length > self->frame_left)
        length = (size_t)self->frame_left; /* never the start of the next frame */
    memcpy(buffer, input->bytes, length);
    h2o_buffer_consume(&self->sock->input, length);
    self->frame_left -= length;
    return (ssize_t)length;
}

/* Room in the write buffer for wanted more bytes, grown (up to
 * WRITE_BUFFER_BYTES) for them: the room there is, 0 while a write holds
 * the buffer. */
static size_t write_room(rill_ws_conn_t *self, size_t wanted)
{
    if (self->writing)
        return 0;
    if (self->write_length + wanted > self->write_capacity && self->write_capacity < WRITE_BUFFER_BYTES) {
        size_t capacity = self->write_capacity * 2;
        if (capacity < self->write_length + wanted)
            capacity = self->write_length + wanted;
        if (capacity < WRITE_BUFFER_MIN)
            capacity = WRITE_BUFFER_MIN;
        if (capacity > WRITE_BUFFER_BYTES)
            capacity = WRITE_BUFFER_BYTES;
        self->write_buffer = rill_xrealloc(self->write_buffer, capacity);
        self->write_capacity = capacity;
    }
    return self->write_capacity - self->write_length;
}

static ssize_t on_wslay_send(wslay_event_context_ptr context, const uint8_t *data, size_t length, int flags,
                             void *argument)
{
    (void)flags;
    rill_ws_conn_t *self = argument;
    size_t room = write_room(self, length);
    if (room == 0) {
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
    if (self->phase == WS_OPEN && !self->writing && queued_messages(self) == 0)
        self->events->on_drained(self->data);
}

rill_ws_conn_t *rill_ws_conn_upgrade(h2o_req_t *req, const char *key, size_t max_message, size_t read_hold,
                                     const rill_ws_conn_events_t *events, void *data)
{
    rill_ws_conn_t *self = rill_xcalloc(1, sizeof(*self));
    self->read_hold = read_hold;
    self->max_message = max_message; /* the wslay context comes with the first frame either way */
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
    /* Framed here, straight into the write buffer, when no frame of wslay's
     * waits to go first (then every frame in the buffer is whole): one copy
     * of the event and no allocation, where wslay copies each message it
     * queues and then again into the buffer. While a write holds the
     * buffer, or wslay has frames queued, wslay queues it: the frames go
     * out in the order they were sent either way. */
    if (queued_messages(self) == 0) {
        uint8_t header[10];
        size_t header_length = rill_ws_frame_text_header(header, length);
        if (write_room(self, header_length + length) >= header_length + length) {
            memcpy(self->write_buffer + self->write_length, header, header_length);
            memcpy(self->write_buffer + self->write_length + header_length, bytes, length);
            self->write_length += header_length + length;
            return 0;
        }
    }
    if (need_wslay(self) != 0)
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
    return (self->wslay != NULL ? wslay_event_get_queued_msg_length(self->wslay) : 0) + self->write_length;
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
        int sent = self->wslay != NULL && wslay_event_get_close_sent(self->wslay) && !self->writing; /* on the wire */
        if (sent ? self->answer_ticks++ >= 1 : self->close_ticks++ >= RILL_WS_MISSED_PINGS)
            finish(self, sent ? "no answer to our close frame" : "our close frame was never read");
        return;
    }
    if (self->missed >= RILL_WS_MISSED_PINGS) {
        rill_log_info(NULL, "websocket: no answer to %u pings: closed", self->missed);
        rill_ws_conn_close(self, RILL_WS_CLOSE_NO_PONG, "no pong");
        return;
    }
    self->contexts_made = 0; /* a new window for CONTEXTS_PER_TICK */
    struct wslay_event_msg ping = {WSLAY_PING, NULL, 0};
    if (need_wslay(self) == 0 && wslay_event_queue_msg(self->wslay, &ping) == 0)
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
