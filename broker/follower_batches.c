/*
 * follower_batches.c - the batches of followed events of one pass. See
 * follower_batches.h. A broker has a few frontends, so the follow subjects
 * of a pass are a small array searched in order.
 */
#include "follower_batches.h"
#include "rill_alloc.h"
#include "rill_event_batch.h"

#include <stdlib.h>
#include <string.h>

#define HEADROOM RILL_EVENT_BATCH_HEADER_MAX
#define FIRST_CAPACITY 2048

typedef struct {
    char follow[RILL_FOLLOW_SUBJECT_MAX + 1];
    size_t follow_length;
    uint8_t *buffer; /* HEADROOM bytes, then the entries; NULL when empty */
    size_t size;     /* bytes used, the headroom included */
    size_t capacity;
    size_t count; /* events */
} batch_t;

struct rill_follower_batches {
    batch_t *items; /* the follow subjects of this pass */
    size_t count;
    size_t allocated;
    /* The largest batch lately, decaying by 1/8 a batch: a new batch's
     * buffer starts that big, so a busy pass fills it without a chain of
     * reallocs (each a copy of all before). */
    size_t typical_size;
};

rill_follower_batches_t *rill_follower_batches_new(void)
{
    return rill_xcalloc(1, sizeof(rill_follower_batches_t));
}

void rill_follower_batches_destroy(rill_follower_batches_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_follower_batches_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        free(self->items[i].buffer);
    free(self->items);
    free(self);
    *self_p = NULL;
}

static void free_buffer(void *data, void *hint)
{
    (void)data;
    free(hint);
}

/* The buffer goes with the message (libzmq frees it once sent); the batch
 * is empty after. */
static void send_batch(rill_follower_batches_t *self, batch_t *batch, rill_follower_batches_send_t send,
                       void *context)
{
    if (batch->count == 0)
        return;
    self->typical_size -= self->typical_size / 8;
    if (batch->size > self->typical_size)
        self->typical_size = batch->size;
    char header[RILL_EVENT_BATCH_HEADER_MAX];
    size_t length = rill_event_batch_header(header, batch->follow, batch->follow_length, batch->count);
    size_t start = HEADROOM - length;
    uint8_t *buffer = batch->buffer;
    size_t size = batch->size;
    size_t events = batch->count;
    batch->buffer = NULL;
    batch->size = batch->capacity = batch->count = 0;
    memcpy(buffer + start, header, length);
    zmq_msg_t message;
    if (zmq_msg_init_data(&message, buffer + start, size - start, free_buffer, buffer) != 0) {
        free(buffer); /* libzmq could not allocate: the events are lost */
        send(context, batch->follow, NULL, events);
        return;
    }
    send(context, batch->follow, &message, events);
}

static batch_t *find(rill_follower_batches_t *self, const char *follow, size_t follow_length)
{
    for (size_t i = 0; i < self->count; i++) {
        batch_t *batch = &self->items[i];
        if (batch->follow_length == follow_length && memcmp(batch->follow, follow, follow_length) == 0)
            return batch;
    }
    if (follow_length > RILL_FOLLOW_SUBJECT_MAX)
        return NULL;
    if (self->count == self->allocated) {
        self->allocated = self->allocated == 0 ? 4 : 2 * self->allocated;
        self->items = rill_xrealloc(self->items, self->allocated * sizeof(*self->items));
    }
    batch_t *batch = &self->items[self->count++];
    memset(batch, 0, sizeof(*batch));
    memcpy(batch->follow, follow, follow_length);
    batch->follow_length = follow_length;
    return batch;
}

int rill_follower_batches_add(rill_follower_batches_t *self, const char *follow, size_t follow_length,
                              const void *head, size_t head_size, const void *body, size_t body_size, size_t limit,
                              rill_follower_batches_send_t send, void *context)
{
    size_t size = head_size + body_size;
    batch_t *batch = find(self, follow, follow_length);
    char prefix[RILL_EVENT_BATCH_PREFIX_MAX];
    size_t prefix_length = rill_event_batch_prefix(prefix, size);
    size_t entry = prefix_length + size;
    if (batch == NULL || size == 0 || entry > limit) {
        if (batch != NULL)
            send_batch(self, batch, send, context);
        return 1;
    }
    if (batch->count == RILL_EVENT_BATCH_MAX_EVENTS || batch->size - HEADROOM + entry > limit)
        send_batch(self, batch, send, context);
    if (batch->buffer == NULL) {
        size_t first = self->typical_size > FIRST_CAPACITY ? self->typical_size : FIRST_CAPACITY;
        batch->capacity = HEADROOM + (entry > first ? entry : first);
        batch->buffer = rill_xmalloc(batch->capacity);
        batch->size = HEADROOM;
    }
    if (batch->size + entry > batch->capacity) {
        size_t capacity = batch->capacity;
        while (capacity < batch->size + entry)
            capacity *= 2;
        batch->buffer = rill_xrealloc(batch->buffer, capacity);
        batch->capacity = capacity;
    }
    memcpy(batch->buffer + batch->size, prefix, prefix_length);
    memcpy(batch->buffer + batch->size + prefix_length, head, head_size);
    if (body_size > 0)
        memcpy(batch->buffer + batch->size + prefix_length + head_size, body, body_size);
    batch->size += entry;
    batch->count++;
    return 0;
}

void rill_follower_batches_flush(rill_follower_batches_t *self, rill_follower_batches_send_t send, void *context)
{
    for (size_t i = 0; i < self->count; i++)
        send_batch(self, &self->items[i], send, context);
    self->count = 0;
}
