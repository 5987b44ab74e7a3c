/*
 * ws_client.c - one client WebSocket connection: the handshake here, the
 * frames by wslay. See ws_client.h.
 */
#include "ws_client.h"

#include "rill_alloc.h"
#include "rill_buffer.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <wslay/wslay.h>

#define WS_RESPONSE_MAX 16384 /* a handshake answer's head larger than this fails */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

typedef enum { WS_SENDING_REQUEST, WS_READING_RESPONSE, WS_FRAMES, WS_DONE } ws_phase_t;

struct rill_ws_client {
    rill_ws_callbacks_t callbacks;
    ws_phase_t phase;
    rill_ws_state_t state;
    rill_buffer_t out;   /* the handshake request not yet sent */
    rill_buffer_t in;    /* the handshake answer so far; then the bytes after it, for wslay */
    size_t in_offset;    /* of in, what wslay already took */
    char accept[64];     /* the Sec-WebSocket-Accept the key calls for */
    long status;
    unsigned close_code;
    int eof;
    int stopped;
    int too_large; /* a message over max_message came (closed with 1009) */
    uint64_t max_message;
    char error[160];
    wslay_event_context_ptr wslay;
};

static rill_ws_state_t fail(rill_ws_client_t *self, const char *reason)
{
    if (self->state == RILL_WS_OPEN) {
        snprintf(self->error, sizeof(self->error), "%s", reason);
        self->state = RILL_WS_FAILED;
    }
    self->phase = WS_DONE;
    return self->state;
}

static void base64(const unsigned char *bytes, size_t length, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, bytes, (int)length);
}

rill_ws_client_t *rill_ws_client_new(const char *host, const char *path, uint64_t max_message,
                                     const rill_ws_callbacks_t *callbacks)
{
    unsigned char key_bytes[16];
    if (getrandom(key_bytes, sizeof(key_bytes), 0) != (ssize_t)sizeof(key_bytes))
        return NULL;
    rill_ws_client_t *self = rill_xcalloc(1, sizeof(*self));
    self->callbacks = *callbacks;
    self->max_message = max_message;
    char key[32];
    base64(key_bytes, sizeof(key_bytes), key);
    /* Accept = base64(SHA-1(key + GUID)) (RFC 6455, 4.2.2). */
    char joined[sizeof(key) + sizeof(WS_GUID)];
    snprintf(joined, sizeof(joined), "%s%s", key, WS_GUID);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    if (EVP_Digest(joined, strlen(joined), digest, &digest_length, EVP_sha1(), NULL) != 1) {
        free(self);
        return NULL;
    }
    base64(digest, digest_length, self->accept);
    rill_buffer_printf(&self->out,
                       "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nUser-Agent: rill-worker\r\n\r\n",
                       path, host, key);
    return self;
}

void rill_ws_client_destroy(rill_ws_client_t **self)
{
    if (*self == NULL)
        return;
    if ((*self)->wslay != NULL)
        wslay_event_context_free((*self)->wslay);
    rill_buffer_release(&(*self)->out);
    rill_buffer_release(&(*self)->in);
    free(*self);
    *self = NULL;
}

/* ---- wslay's callbacks ---- */

static ssize_t on_wslay_recv(wslay_event_context_ptr context, uint8_t *buffer, size_t length, int flags,
                             void *argument)
{
    (void)flags;
    rill_ws_client_t *self = argument;
    if (self->in_offset < self->in.length) {
        /* What came after the handshake answer in its read. */
        size_t take = self->in.length - self->in_offset < length ? self->in.length - self->in_offset : length;
        memcpy(buffer, self->in.data + self->in_offset, take);
        self->in_offset += take;
        return (ssize_t)take;
    }
    ssize_t got = self->callbacks.recv(self->callbacks.argument, buffer, length);
    if (got > 0)
        return got;
    if (got == 0)
        self->eof = 1;
    wslay_event_set_error(context, got == RILL_WS_AGAIN ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static ssize_t on_wslay_send(wslay_event_context_ptr context, const uint8_t *data, size_t length, int flags,
                             void *argument)
{
    (void)flags;
    rill_ws_client_t *self = argument;
    ssize_t sent = self->callbacks.send(self->callbacks.argument, data, length);
    if (sent > 0)
        return sent;
    wslay_event_set_error(context, sent == RILL_WS_AGAIN ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static int on_wslay_mask(wslay_event_context_ptr context, uint8_t *buffer, size_t length, void *argument)
{
    (void)argument;
    if (getrandom(buffer, length, 0) != (ssize_t)length) {
        wslay_event_set_error(context, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return 0;
}

static void on_wslay_message(wslay_event_context_ptr context, const struct wslay_event_on_msg_recv_arg *message,
                             void *argument)
{
    rill_ws_client_t *self = argument;
    if (message->opcode == WSLAY_CONNECTION_CLOSE) {
        self->close_code = message->status_code;
        return;
    }
    if (self->stopped || (message->opcode != WSLAY_TEXT_FRAME && message->opcode != WSLAY_BINARY_FRAME))
        return;
    if (self->callbacks.on_message(self->callbacks.argument, (const char *)message->msg, message->msg_length,
                                   message->opcode == WSLAY_BINARY_FRAME) != 0) {
        self->stopped = 1;
        wslay_event_shutdown_read(context);
    }
}

/* ---- the handshake ---- */

/* The value of header name in the answer's head, or NULL; *length set. */
static const char *header_value(const char *head, size_t head_length, const char *name, size_t *length)
{
    size_t name_length = strlen(name);
    const char *line = memchr(head, '\n', head_length);
    const char *end = head + head_length;
    while (line != NULL && line + 1 < end) {
        line++;
        const char *line_end = memchr(line, '\n', (size_t)(end - line));
        if (line_end == NULL)
            return NULL;
        if ((size_t)(line_end - line) > name_length && strncasecmp(line, name, name_length) == 0 &&
            line[name_length] == ':') {
            const char *value = line + name_length + 1;
            while (value < line_end && (*value == ' ' || *value == '\t'))
                value++;
            const char *value_end = line_end;
            while (value_end > value && (value_end[-1] == '\r' || value_end[-1] == ' ' || value_end[-1] == '\t'))
                value_end--;
            *length = (size_t)(value_end - value);
            return value;
        }
        line = line_end;
    }
    return NULL;
}

/* The answer's head is in (head_length bytes of in): 101 and the right
 * accept value start the frames. */
static rill_ws_state_t check_answer(rill_ws_client_t *self, size_t head_length)
{
    const char *head = self->in.data;
    int major = 0, minor = 0;
    if (sscanf(head, "HTTP/%d.%d %ld", &major, &minor, &self->status) != 3)
        return fail(self, "the upstream's answer is not HTTP");
    if (self->status != 101) {
        char reason[64];
        snprintf(reason, sizeof(reason), "the upstream answered HTTP %ld", self->status);
        return fail(self, reason);
    }
    size_t length = 0;
    const char *upgrade = header_value(head, head_length, "Upgrade", &length);
    if (upgrade == NULL || length != 9 || strncasecmp(upgrade, "websocket", 9) != 0)
        return fail(self, "the upstream's 101 answer does not upgrade to websocket");
    const char *accept = header_value(head, head_length, "Sec-WebSocket-Accept", &length);
    if (accept == NULL || length != strlen(self->accept) || memcmp(accept, self->accept, length) != 0)
        return fail(self, "the upstream's Sec-WebSocket-Accept is wrong");
    struct wslay_event_callbacks callbacks = {
        .recv_callback = on_wslay_recv,
        .send_callback = on_wslay_send,
        .genmask_callback = on_wslay_mask,
        .on_msg_recv_callback = on_wslay_message,
    };
    if (wslay_event_context_client_init(&self->wslay, &callbacks, self) != 0)
        return fail(self, "out of memory");
    wslay_event_config_set_max_recv_msg_length(self->wslay, self->max_message);
    self->in_offset = head_length;
    self->phase = WS_FRAMES;
    if (self->callbacks.on_open(self->callbacks.argument) != 0) {
        self->stopped = 1;
        return fail(self, "stopped");
    }
    return RILL_WS_OPEN;
}

static rill_ws_state_t handshake(rill_ws_client_t *self)
{
    while (self->phase == WS_SENDING_REQUEST) {
        ssize_t sent = self->callbacks.send(self->callbacks.argument, self->out.data, self->out.length);
        if (sent == RILL_WS_AGAIN)
            return RILL_WS_OPEN;
        if (sent <= 0)
            return fail(self, "the connection failed while sending the handshake");
        rill_buffer_consume(&self->out, (size_t)sent);
        if (self->out.length == 0)
            self->phase = WS_READING_RESPONSE;
    }
    while (self->phase == WS_READING_RESPONSE) {
        char buffer[4096];
        ssize_t got = self->callbacks.recv(self->callbacks.argument, buffer, sizeof(buffer));
        if (got == RILL_WS_AGAIN)
            return RILL_WS_OPEN;
        if (got <= 0)
            return fail(self, got == 0 ? "the upstream closed the connection during the handshake"
                                       : "the connection failed during the handshake");
        size_t before = self->in.length;
        rill_buffer_append(&self->in, buffer, (size_t)got);
        const char *end = NULL;
        size_t from = before > 3 ? before - 3 : 0;
        for (size_t i = from; end == NULL && i + 4 <= self->in.length; i++) {
            if (memcmp(self->in.data + i, "\r\n\r\n", 4) == 0)
                end = self->in.data + i + 4;
        }
        if (end != NULL)
            return check_answer(self, (size_t)(end - self->in.data));
        if (self->in.length > WS_RESPONSE_MAX)
            return fail(self, "the upstream's handshake answer is too large");
    }
    return self->state;
}

rill_ws_state_t rill_ws_client_io(rill_ws_client_t *self)
{
    if (self->phase == WS_DONE)
        return self->state;
    if (self->phase != WS_FRAMES && (handshake(self) != RILL_WS_OPEN || self->phase != WS_FRAMES))
        return self->state;
    int received = wslay_event_recv(self->wslay);
    int sent = received == 0 ? wslay_event_send(self->wslay) : 0;
    if (self->stopped)
        return fail(self, "stopped");
    if (wslay_event_get_close_received(self->wslay)) {
        if (received == 0 && sent == 0 && wslay_event_want_write(self->wslay))
            return RILL_WS_OPEN; /* our close reply first (a peer gone meanwhile is no matter) */
        self->state = RILL_WS_CLOSED;
        self->phase = WS_DONE;
        return self->state;
    }
    if (received != 0 || sent != 0)
        return fail(self, self->eof ? "the upstream closed the connection" : "the connection failed");
    if (!wslay_event_get_read_enabled(self->wslay)) {
        self->too_large = wslay_event_get_status_code_sent(self->wslay) == WSLAY_CODE_MESSAGE_TOO_BIG;
        return fail(self, self->too_large ? "an upstream message is over max_part_bytes"
                                          : "the upstream broke the WebSocket protocol");
    }
    return RILL_WS_OPEN;
}

int rill_ws_client_wants_write(const rill_ws_client_t *self)
{
    if (self->phase == WS_SENDING_REQUEST)
        return 1;
    return self->phase == WS_FRAMES && wslay_event_want_write(self->wslay);
}

long rill_ws_client_status(const rill_ws_client_t *self)
{
    return self->status;
}

unsigned rill_ws_client_close_code(const rill_ws_client_t *self)
{
    return self->close_code;
}

const char *rill_ws_client_error(const rill_ws_client_t *self)
{
    return self->error;
}

int rill_ws_client_stopped(const rill_ws_client_t *self)
{
    return self->stopped;
}

int rill_ws_client_too_large(const rill_ws_client_t *self)
{
    return self->too_large;
}
