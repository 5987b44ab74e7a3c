/*
 * rill_send_queue.c - messages a socket has not taken yet. See
 * rill_send_queue.h.
 */
#include "rill_send_queue.h"

#include "rill_alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* One message in one allocation: its frames point into the bytes after them. */
struct rill_send_queue_message {
    rill_send_queue_message_t *next;
    size_t count;
    size_t sent; /* frames the socket already took (only after a failure mid-message) */
    size_t bytes;
    rill_frame_t frames[];
};

void rill_send_queue_init(rill_send_queue_t *self, rill_send_queue_send_t send, void *socket)
{
    memset(self, 0, sizeof(*self));
    self->send = send;
    self->socket = socket;
    rill_send_queue_set_marks(self, SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX);
}

void rill_send_queue_set_marks(rill_send_queue_t *self, size_t high_messages, size_t high_bytes,
                               size_t low_messages, size_t low_bytes)
{
    self->high_messages = high_messages;
    self->high_bytes = high_bytes;
    self->low_messages = low_messages;
    self->low_bytes = low_bytes;
}

void rill_send_queue_release(rill_send_queue_t *self)
{
    while (self->head != NULL) {
        rill_send_queue_message_t *next = self->head->next;
        free(self->head);
        self->head = next;
    }
    self->tail = NULL;
    self->messages = 0;
    self->bytes = 0;
    self->full = 0;
}

/* Sends frames[first..count) as the rest of one message. Returns how many
 * of its frames are sent: count when the socket took it all. */
static size_t send_frames(rill_send_queue_t *self, const rill_frame_t *frames, size_t count, size_t first)
{
    for (size_t i = first; i < count; i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < count ? ZMQ_SNDMORE : 0);
        if (self->send(self->socket, frames[i].data, frames[i].size, flags) < 0)
            return i;
    }
    return count;
}

static void enqueue(rill_send_queue_t *self, const rill_frame_t *frames, size_t count, size_t sent)
{
    size_t bytes = 0;
    for (size_t i = 0; i < count; i++)
        bytes += frames[i].size;
    rill_send_queue_message_t *message = rill_xmalloc(sizeof(*message) + count * sizeof(rill_frame_t) + bytes);
    uint8_t *data = (uint8_t *)&message->frames[count];
    for (size_t i = 0; i < count; i++) {
        message->frames[i].data = data;
        message->frames[i].size = frames[i].size;
        if (frames[i].size > 0)
            memcpy(data, frames[i].data, frames[i].size);
        data += frames[i].size;
    }
    message->next = NULL;
    message->count = count;
    message->sent = sent;
    message->bytes = bytes;
    if (self->tail != NULL)
        self->tail->next = message;
    else
        self->head = message;
    self->tail = message;
    self->messages++;
    self->bytes += bytes;
    self->queued_total++;
    if (self->messages > self->high_messages || self->bytes > self->high_bytes)
        self->full = 1;
}

void rill_send_queue_send(rill_send_queue_t *self, const rill_frame_t *frames, size_t count)
{
    size_t sent = 0;
    if (self->head == NULL) {
        sent = send_frames(self, frames, count, 0);
        if (sent == count)
            return;
    }
    enqueue(self, frames, count, sent);
}

void rill_send_queue_push(rill_send_queue_t *self, const rill_frame_t *frames, size_t count)
{
    enqueue(self, frames, count, 0);
}

int rill_send_queue_flush(rill_send_queue_t *self)
{
    while (self->head != NULL) {
        rill_send_queue_message_t *message = self->head;
        message->sent = send_frames(self, message->frames, message->count, message->sent);
        if (message->sent < message->count)
            return errno == EAGAIN || errno == EINTR ? 1 : -1;
        self->head = message->next;
        if (self->head == NULL)
            self->tail = NULL;
        self->messages--;
        self->bytes -= message->bytes;
        free(message);
        if (self->full && self->messages <= self->low_messages && self->bytes <= self->low_bytes)
            self->full = 0;
    }
    return 0;
}

size_t rill_send_queue_messages(const rill_send_queue_t *self)
{
    return self->messages;
}

size_t rill_send_queue_bytes(const rill_send_queue_t *self)
{
    return self->bytes;
}

int rill_send_queue_full(const rill_send_queue_t *self)
{
    return self->full;
}
