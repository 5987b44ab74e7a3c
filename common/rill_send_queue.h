/*
 * rill_send_queue.h - messages a ZeroMQ socket has not taken yet, kept in
 * order until it does: a process's outbox.
 *
 * A socket at its high-water mark refuses a non-blocking send (EAGAIN; an
 * XPUB with ZMQ_XPUB_NODROP too). A process that let such a send fail lost
 * the message: a worker lost parts, or worse a DONE or FAIL, after which the
 * broker waited for the job until its timeout; the broker's XPUB dropped
 * events a frontend then had to repair. With this queue nothing is dropped:
 * a message the socket does not take at once is copied here and sent, in
 * order and before anything newer, as soon as the socket takes messages
 * again (the owner flushes it when poll says so, or on its next turn).
 *
 * The queue is also a back-pressure signal: above a high-water mark
 * (messages or bytes) it is "full" until it drains to a low-water mark. Its
 * owner then stops making messages (the worker stops serving its kinds:
 * workers/worker_core.c; the broker stops reading its workers:
 * broker/main.c). Nothing is refused when full: the mark says "stop", the
 * queue still takes what was already on its way.
 *
 * It knows frames, not commands, and sends through a function of zmq_send's
 * shape, so tests run it without a socket.
 */
#ifndef RILL_SEND_QUEUE_H
#define RILL_SEND_QUEUE_H

#include "rill_protocol.h"

#include <stddef.h>
#include <stdint.h>

/* zmq_send's shape: >= 0 when the frame was taken, -1 with errno (EAGAIN:
 * the socket is full for now). */
typedef int (*rill_send_queue_send_t)(void *socket, const void *data, size_t size, int flags);

typedef struct rill_send_queue_message rill_send_queue_message_t;

typedef struct {
    rill_send_queue_send_t send;
    void *socket;
    rill_send_queue_message_t *head; /* the oldest, maybe partly sent */
    rill_send_queue_message_t *tail;
    size_t messages;
    size_t bytes; /* of the messages queued (frames' sizes) */
    size_t high_messages, high_bytes, low_messages, low_bytes;
    int full;
    uint64_t queued_total; /* messages that had to wait, ever */
} rill_send_queue_t;

/* An empty queue sending through send(socket, ...). No marks: never full. */
void rill_send_queue_init(rill_send_queue_t *self, rill_send_queue_send_t send, void *socket);
/* Full above high (either count), not full again at or under both lows. */
void rill_send_queue_set_marks(rill_send_queue_t *self, size_t high_messages, size_t high_bytes,
                               size_t low_messages, size_t low_bytes);
/* Frees what is still queued: it is not sent. */
void rill_send_queue_release(rill_send_queue_t *self);

/* Sends frames as one message after everything queued before it: at once
 * when nothing waits and the socket takes it, else a copy is queued. Never
 * fails, never drops. */
void rill_send_queue_send(rill_send_queue_t *self, const rill_frame_t *frames, size_t count);
/* Queues a copy of frames (none of them sent yet) behind what waits: for a
 * caller that tried the socket itself first (the broker's zero-copy send). */
void rill_send_queue_push(rill_send_queue_t *self, const rill_frame_t *frames, size_t count);

/* Sends what is queued while the socket takes it. Returns 0 when the queue
 * is empty, 1 when the socket is full (the rest waits), -1 when the socket
 * failed otherwise (errno; the rest waits too). */
int rill_send_queue_flush(rill_send_queue_t *self);

size_t rill_send_queue_messages(const rill_send_queue_t *self);
size_t rill_send_queue_bytes(const rill_send_queue_t *self);
/* Above the high-water mark, and not yet back to the low-water mark. */
int rill_send_queue_full(const rill_send_queue_t *self);

#endif
