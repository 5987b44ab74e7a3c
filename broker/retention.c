/*
 * retention.c - the per-job ring of retained events. See retention.h.
 *
 * Two rings side by side: the events (type, seq, time, where the data is)
 * and the data bytes, back to back in one buffer in the same order, so
 * the oldest event's bytes are always at the buffer's front and a new
 * event's go after the newest's. A dropped event frees its bytes by
 * moving the front; the buffer is compacted (or grown, or shrunk) only
 * when a new event does not fit after the newest one, which costs a copy
 * of what is live and a pass that moves the events' pointers: amortized,
 * a constant per byte kept.
 */
#include "retention.h"
#include "rill_alloc.h"

#include <stdlib.h>
#include <string.h>

/* The smallest data buffer: a demo part is ~80 bytes of data. */
#define BUFFER_MIN 256
/* A ring's first slots and buffer are never made larger than this from
 * what others held (a job runs with them until it ends and is trimmed:
 * ten thousand running jobs hold at most ~16 MiB more so); the rings of
 * jobs with many or large parts grow as they need. */
#define TYPICAL_EVENTS_MAX 64
#define TYPICAL_BYTES_MAX 16384

struct rill_retention {
    size_t capacity;  /* the most events it may ever hold */
    size_t allocated; /* slots in events */
    size_t start;     /* index of the oldest */
    size_t count;
    rill_retained_event_t *events;
    uint8_t *buffer;    /* the data of the events held, oldest first */
    size_t buffer_size; /* bytes allocated */
    size_t front;       /* offset of the oldest event's data */
    size_t back;        /* offset just past the newest event's data */
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
    if (self->totals != NULL)
        self->totals->bytes -= self->bytes;
    free(self->events);
    free(self->buffer);
    free(self);
    *self_p = NULL;
}

/* Moves the events into an array of `allocated` slots, starting at 0.
 * Unwrapped (the usual case: a job under retain_parts), realloc does it,
 * often in place. */
static void resize_slots(rill_retention_t *self, size_t allocated)
{
    if (self->start == 0 || self->count == 0) {
        self->events = rill_xrealloc(self->events, allocated * sizeof(*self->events));
        self->allocated = allocated;
        self->start = 0;
        return;
    }
    rill_retained_event_t *events = rill_xmalloc(allocated * sizeof(*events));
    for (size_t i = 0; i < self->count; i++)
        events[i] = self->events[(self->start + i) % self->allocated];
    free(self->events);
    self->events = events;
    self->allocated = allocated;
    self->start = 0;
}

/* Doubles the slots (up to capacity). */
static void grow_slots(rill_retention_t *self)
{
    size_t allocated = self->allocated == 0 ? 8 : self->allocated * 2;
    resize_slots(self, allocated > self->capacity ? self->capacity : allocated);
}

/* Moves the live bytes to the front of a buffer of buffer_size bytes (the
 * same one when it is the same size; realloc'd, often in place, when they
 * are at its front already: a job's growing ring, or its trim) and points
 * the events at them: back to back from the front, as they were. */
static void move_bytes(rill_retention_t *self, size_t buffer_size)
{
    size_t live = self->back - self->front;
    if (buffer_size != self->buffer_size && self->front == 0) {
        self->buffer = rill_xrealloc(self->buffer, buffer_size);
    } else if (buffer_size != self->buffer_size) {
        uint8_t *buffer = rill_xmalloc(buffer_size);
        if (live > 0)
            memcpy(buffer, self->buffer + self->front, live);
        free(self->buffer);
        self->buffer = buffer;
    } else if (live > 0 && self->front > 0) {
        memmove(self->buffer, self->buffer + self->front, live);
    }
    size_t offset = 0;
    for (size_t i = 0; i < self->count; i++) {
        rill_retained_event_t *event = &self->events[(self->start + i) % self->allocated];
        event->data = self->buffer + offset;
        offset += event->size;
    }
    self->buffer_size = buffer_size;
    self->front = 0;
    self->back = live;
}

/* The first push of a ring that shares totals: the slots and the buffer a
 * ring trimmed lately ended with (rill_retention_trim keeps the averages),
 * so a job like the ones before fills its ring without a realloc; the
 * trim at its end gives back what it did not use. */
static void size_like_the_last(rill_retention_t *self, size_t size)
{
    if (self->totals == NULL || self->allocated > 0 || self->buffer != NULL)
        return;
    size_t events = (size_t)(self->totals->typical_events16 / 16);
    size_t bytes = (size_t)(self->totals->typical_bytes16 / 16);
    if (events > 8) {
        if (events > TYPICAL_EVENTS_MAX)
            events = TYPICAL_EVENTS_MAX;
        if (events > self->capacity)
            events = self->capacity;
        resize_slots(self, events);
    }
    bytes += bytes / 8; /* the jobs vary a little */
    if (bytes > TYPICAL_BYTES_MAX)
        bytes = TYPICAL_BYTES_MAX;
    if (bytes > BUFFER_MIN && bytes >= size)
        move_bytes(self, bytes);
}

/* Room for size more bytes after the newest event's. The buffer is made
 * twice what it must hold while that is small (a job's few parts: trimmed
 * when it ends), 1.5 times beyond 64 KiB: a ring at retain_bytes keeps
 * about 1.5 times that resident, not twice. When the buffer is big enough
 * for that, the live bytes are compacted to its front instead, which
 * leaves room for at least half as many again before the next compaction:
 * a byte is copied at most about twice. A buffer over twice what it needs
 * shrinks. */
static void make_byte_room(rill_retention_t *self, size_t size)
{
    if (self->buffer != NULL && self->buffer_size - self->back >= size)
        return;
    size_t need = self->back - self->front + size;
    size_t target = need < 65536 ? 2 * need : need + need / 2;
    if (target < BUFFER_MIN)
        target = BUFFER_MIN;
    if (target <= self->buffer_size && self->buffer_size <= 2 * target)
        move_bytes(self, self->buffer_size); /* compact */
    else
        move_bytes(self, target); /* grow, or shrink */
}

/* Drops the oldest event and frees its bytes. Returns its size. */
static uint64_t drop_oldest(rill_retention_t *self)
{
    rill_retained_event_t *oldest = &self->events[self->start];
    uint64_t size = oldest->size;
    self->start = (self->start + 1) % self->allocated;
    self->count--;
    self->front = self->count > 0 ? (size_t)(self->events[self->start].data - self->buffer) : 0;
    if (self->count == 0)
        self->back = 0;
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

void rill_retention_trim(rill_retention_t *self)
{
    if (self->totals != NULL) {
        /* Averages over the last ~16 trimmed rings (size_like_the_last). */
        rill_retention_totals_t *totals = self->totals;
        totals->typical_events16 += self->count - totals->typical_events16 / 16;
        totals->typical_bytes16 += (self->back - self->front) - totals->typical_bytes16 / 16;
    }
    if (self->count == 0) {
        free(self->events);
        free(self->buffer);
        self->events = NULL;
        self->buffer = NULL;
        self->allocated = self->start = self->buffer_size = self->front = self->back = 0;
        return;
    }
    if (self->allocated > self->count)
        resize_slots(self, self->count);
    size_t live = self->back - self->front;
    if (live > 0 && self->buffer_size > live)
        move_bytes(self, live);
}

/* Keeps a copy of size bytes at data. Returns 0, also with nothing kept
 * when the ring keeps nothing or the event is too large to keep (and then
 * nothing older either: retention.h). */
int rill_retention_push_bytes(rill_retention_t *self, rill_event_type_t type, uint64_t seq, const void *data,
                              size_t size, uint64_t at_ms)
{
    if (self->capacity == 0)
        return 0;
    if (size > self->max_bytes) {
        /* Too large to keep: it is lost to replay, and so is everything
         * older, or the ring would hold a hole `first` does not show. */
        while (self->count > 0)
            rill_retention_evict_oldest(self);
        if (self->totals != NULL)
            self->totals->evicted++;
        return 0;
    }
    while (self->count > 0 && self->bytes + size > self->max_bytes)
        rill_retention_evict_oldest(self);
    /* Full: the oldest goes. */
    while (self->count >= self->capacity)
        drop_oldest(self);
    size_like_the_last(self, size);
    if (self->count == self->allocated)
        grow_slots(self);
    make_byte_room(self, size);
    rill_retained_event_t *slot = &self->events[(self->start + self->count) % self->allocated];
    slot->type = type;
    slot->seq = seq;
    slot->at_ms = at_ms;
    slot->data = self->buffer + self->back;
    slot->size = size;
    if (size > 0)
        memcpy(self->buffer + self->back, data, size);
    self->back += size;
    self->count++;
    self->bytes += size;
    if (self->totals != NULL)
        self->totals->bytes += size;
    return 0;
}

int rill_retention_push(rill_retention_t *self, rill_event_type_t type, uint64_t seq, zmq_msg_t *data)
{
    return rill_retention_push_at(self, type, seq, data, 0);
}

int rill_retention_push_at(rill_retention_t *self, rill_event_type_t type, uint64_t seq,
                           zmq_msg_t *data, uint64_t at_ms)
{
    return rill_retention_push_bytes(self, type, seq, zmq_msg_data(data), zmq_msg_size(data), at_ms);
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
