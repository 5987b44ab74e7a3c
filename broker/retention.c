/*
 * retention.c - the per-job ring of retained events. See retention.h.
 */
#include "retention.h"
#include "rill_alloc.h"

#include <stdlib.h>
#include <string.h>

struct rill_retention {
    size_t capacity;  /* the most it may ever hold */
    size_t allocated; /* slots in events */
    size_t start;     /* index of the oldest */
    size_t count;
    rill_retained_event_t *events;
    uint64_t bytes;     /* data bytes of the events held */
    uint64_t max_bytes; /* the most data it may hold */
    rill_retention_totals_t *totals; /* NULL = none */
};

rill_retention_t *rill_retention_new(size_t capacity)
{
    rill_retention_t *self = rill_xcalloc(1, sizeof(*self));
    self->capacity = capacity;
    self->max_bytes = UINT64_MAX;
    return self;
}

void rill_retention_destroy(rill_retention_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_retention_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        zmq_msg_close(&self->events[(self->start + i) % self->allocated].data);
    if (self->totals != NULL)
        self->totals->bytes -= self->bytes;
    free(self->events);
    free(self);
    *self_p = NULL;
}

/* Doubles the slots (up to capacity), moving the ring to start at 0.
 * zmq_msg_t must be moved with zmq_msg_move, never memcpy'd. */
static void grow(rill_retention_t *self)
{
    size_t allocated = self->allocated == 0 ? 8 : self->allocated * 2;
    if (allocated > self->capacity)
        allocated = self->capacity;
    /* Not zeroed: a slot is written whole when an event goes in. */
    rill_retained_event_t *events = rill_xmalloc(allocated * sizeof(*events));
    for (size_t i = 0; i < self->count; i++) {
        rill_retained_event_t *from = &self->events[(self->start + i) % self->allocated];
        events[i].type = from->type;
        events[i].seq = from->seq;
        events[i].at_ms = from->at_ms;
        events[i].offset = from->offset;
        zmq_msg_init(&events[i].data);
        zmq_msg_move(&events[i].data, &from->data);
        zmq_msg_close(&from->data);
    }
    free(self->events);
    self->events = events;
    self->allocated = allocated;
    self->start = 0;
}

/* libzmq receives messages of up to its 8 KiB batch size as slices of one
 * shared buffer: keeping such a slice by reference would pin the whole
 * buffer for as long as the part is retained. Those are copied (once);
 * larger ones own their buffer, which zmq_msg_copy shares. */
static int keep_copy(zmq_msg_t *slot, zmq_msg_t *data)
{
    size_t size = zmq_msg_size(data);
    if (size > RILL_RETENTION_SHARE_MIN) {
        zmq_msg_init(slot);
        if (zmq_msg_copy(slot, data) == 0)
            return 0;
        zmq_msg_close(slot);
        return -1;
    }
    if (zmq_msg_init_size(slot, size) != 0)
        return -1;
    if (size > 0)
        memcpy(zmq_msg_data(slot), zmq_msg_data(data), size);
    return 0;
}

int rill_retention_push(rill_retention_t *self, rill_event_type_t type, uint64_t seq, zmq_msg_t *data)
{
    return rill_retention_push_at(self, type, seq, data, 0);
}

/* Closes the oldest event and frees its slot. Returns its bytes. */
static uint64_t drop_oldest(rill_retention_t *self)
{
    uint64_t size = rill_retained_size(&self->events[self->start]);
    zmq_msg_close(&self->events[self->start].data);
    self->start = (self->start + 1) % self->allocated;
    self->count--;
    self->bytes -= size;
    if (self->totals != NULL)
        self->totals->bytes -= size;
    return size;
}

uint64_t rill_retention_evict_oldest(rill_retention_t *self)
{
    if (self->count == 0)
        return 0;
    if (self->totals != NULL)
        self->totals->evicted++;
    return drop_oldest(self);
}

void rill_retention_set_max_bytes(rill_retention_t *self, uint64_t max_bytes)
{
    self->max_bytes = max_bytes;
    while (self->bytes > max_bytes)
        rill_retention_evict_oldest(self);
}

void rill_retention_set_totals(rill_retention_t *self, rill_retention_totals_t *totals)
{
    if (self->totals != NULL)
        self->totals->bytes -= self->bytes;
    self->totals = totals;
    if (totals != NULL)
        totals->bytes += self->bytes;
}

uint64_t rill_retention_bytes(const rill_retention_t *self)
{
    return self->bytes;
}

size_t rill_retention_drop_before(rill_retention_t *self, uint64_t cutoff_ms)
{
    size_t dropped = 0;
    while (self->count > 0 && self->events[self->start].at_ms < cutoff_ms) {
        drop_oldest(self);
        dropped++;
    }
    return dropped;
}

void rill_retention_set_capacity(rill_retention_t *self, size_t capacity)
{
    while (self->count > capacity)
        drop_oldest(self);
    self->capacity = capacity;
}

/* Makes room for an event of size data bytes. Returns the slot it goes
 * in, or NULL when it is not kept (capacity 0, or too large to keep). */
static rill_retained_event_t *make_room(rill_retention_t *self, uint64_t size)
{
    if (self->capacity == 0)
        return NULL;
    if (size > self->max_bytes) {
        /* Too large to keep: it is lost to replay, and so is everything
         * older, or the ring would hold a hole `first` does not show. */
        while (self->count > 0)
            rill_retention_evict_oldest(self);
        if (self->totals != NULL)
            self->totals->evicted++;
        return NULL;
    }
    while (self->count > 0 && self->bytes + size > self->max_bytes)
        rill_retention_evict_oldest(self);
    if (self->count == self->allocated && self->allocated < self->capacity)
        grow(self);
    /* Full: the oldest goes (after a shrink the ring may hold more slots
     * than its capacity, so the newest goes after the last, not in the
     * oldest's slot). */
    while (self->count >= self->capacity)
        drop_oldest(self);
    return &self->events[(self->start + self->count) % self->allocated];
}

static void kept(rill_retention_t *self, rill_retained_event_t *slot, rill_event_type_t type, uint64_t seq,
                 size_t offset, uint64_t size, uint64_t at_ms)
{
    slot->type = type;
    slot->seq = seq;
    slot->at_ms = at_ms;
    slot->offset = offset;
    self->count++;
    self->bytes += size;
    if (self->totals != NULL)
        self->totals->bytes += size;
}

int rill_retention_push_at(rill_retention_t *self, rill_event_type_t type, uint64_t seq,
                           zmq_msg_t *data, uint64_t at_ms)
{
    uint64_t size = zmq_msg_size(data);
    rill_retained_event_t *slot = make_room(self, size);
    if (slot == NULL)
        return 0;
    /* libzmq could not copy it: the slot is free again and the ring
     * consistent without it. */
    if (keep_copy(&slot->data, data) != 0)
        return -1;
    kept(self, slot, type, seq, 0, size, at_ms);
    return 0;
}

int rill_retention_push_event(rill_retention_t *self, rill_event_type_t type, uint64_t seq,
                              zmq_msg_t *event, size_t offset, uint64_t at_ms)
{
    size_t total = zmq_msg_size(event);
    if (offset > total)
        return -1;
    uint64_t size = total - offset;
    rill_retained_event_t *slot = make_room(self, size);
    if (slot == NULL)
        return 0;
    zmq_msg_init(&slot->data);
    if (zmq_msg_copy(&slot->data, event) != 0) {
        zmq_msg_close(&slot->data);
        return -1;
    }
    kept(self, slot, type, seq, offset, size, at_ms);
    return 0;
}

size_t rill_retention_count(const rill_retention_t *self)
{
    return self->count;
}

size_t rill_retention_capacity(const rill_retention_t *self)
{
    return self->capacity;
}

rill_retained_event_t *rill_retention_at(rill_retention_t *self, size_t index)
{
    if (index >= self->count)
        return NULL;
    return &self->events[(self->start + index) % self->allocated];
}

size_t rill_retention_find_after(rill_retention_t *self, uint64_t after)
{
    /* seqs grow along the ring: binary search. */
    size_t low = 0, high = self->count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (rill_retention_at(self, middle)->seq <= after)
            low = middle + 1;
        else
            high = middle;
    }
    return low;
}
