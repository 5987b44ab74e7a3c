/*
 * hold_ring.c - a job's last parts, bounded by count and by a shared byte
 * budget. See hold_ring.h.
 */
#include "hold_ring.h"

#include "rill_alloc.h"

#include <stdlib.h>
#include <string.h>

void rill_hold_ring_init(rill_hold_ring_t *self, size_t max_parts, rill_hold_budget_t *budget)
{
    memset(self, 0, sizeof(*self));
    self->max_parts = max_parts;
    self->budget = budget;
}

/* Drops the oldest part: its bytes are the first of the buffer's. */
static void drop_oldest(rill_hold_ring_t *self)
{
    rill_held_part_t *oldest = &self->parts[self->head];
    if (self->budget != NULL)
        self->budget->bytes -= oldest->length;
    self->bytes_head += oldest->length;
    oldest->data = NULL;
    self->head = (self->head + 1) % self->capacity;
    self->count--;
    self->dropped++;
    if (self->count == 0)
        self->bytes_head = self->bytes_end = 0;
}

void rill_hold_ring_release(rill_hold_ring_t *self)
{
    if (self->budget != NULL)
        self->budget->bytes -= self->bytes_end - self->bytes_head;
    free(self->bytes);
    free(self->parts);
    memset(self, 0, sizeof(*self));
}

/* Room for one more slot: the buffer doubles (up to max_parts), keeping
 * the order, so a job with three parts does not pay for a thousand (16
 * first: the benchmarks' jobs of 10 parts grow it once). */
static void grow(rill_hold_ring_t *self)
{
    size_t capacity = self->capacity > 0 ? 2 * self->capacity : 16;
    if (capacity > self->max_parts)
        capacity = self->max_parts;
    rill_held_part_t *parts = rill_xcalloc(capacity, sizeof(*parts));
    for (size_t i = 0; i < self->count; i++)
        parts[i] = self->parts[(self->head + i) % self->capacity];
    free(self->parts);
    self->parts = parts;
    self->capacity = capacity;
    self->head = 0;
}

/* Room for length more bytes at the buffer's end. The held bytes move to
 * its start when they then take at most 3/4 of it (each byte moved buys
 * at least a third of a byte of room), else to a buffer 1.5 times what
 * they need (1 KiB at least); the parts' data follow them. */
static void make_room(rill_hold_ring_t *self, size_t length)
{
    if (self->bytes_end + length <= self->bytes_capacity)
        return;
    size_t held = self->bytes_end - self->bytes_head;
    char *bytes = self->bytes;
    if ((held + length) * 4 > self->bytes_capacity * 3) {
        self->bytes_capacity = (held + length) + (held + length) / 2;
        if (self->bytes_capacity < 1024)
            self->bytes_capacity = 1024; /* the first: a short job's parts in one go */
        bytes = rill_xmalloc(self->bytes_capacity);
    }
    if (held > 0)
        memmove(bytes, self->bytes + self->bytes_head, held);
    if (bytes != self->bytes) {
        free(self->bytes);
        self->bytes = bytes;
    }
    size_t offset = 0;
    for (size_t i = 0; i < self->count; i++) {
        rill_held_part_t *part = &self->parts[(self->head + i) % self->capacity];
        part->data = bytes + offset;
        offset += part->length;
    }
    self->bytes_head = 0;
    self->bytes_end = held;
}

static int over_budget(const rill_hold_ring_t *self, size_t length)
{
    return self->budget != NULL && self->budget->bytes + length > self->budget->max_bytes;
}

int rill_hold_ring_push(rill_hold_ring_t *self, uint64_t seq, const char *data, size_t length)
{
    if (self->max_parts == 0 || (self->budget != NULL && length > self->budget->max_bytes)) {
        self->dropped++;
        return 0;
    }
    while (self->count > 0 && (self->count >= self->max_parts || over_budget(self, length)))
        drop_oldest(self);
    if (over_budget(self, length)) {
        /* Other jobs' parts fill the budget: this one is not kept. */
        self->dropped++;
        return 0;
    }
    if (self->count == self->capacity)
        grow(self);
    if (length > 0)
        make_room(self, length);
    rill_held_part_t *slot = &self->parts[(self->head + self->count) % self->capacity];
    slot->seq = seq;
    slot->length = length;
    slot->data = length > 0 ? self->bytes + self->bytes_end : "";
    if (length > 0)
        memcpy(self->bytes + self->bytes_end, data, length);
    self->bytes_end += length;
    self->count++;
    if (self->budget != NULL)
        self->budget->bytes += length;
    return 1;
}

size_t rill_hold_ring_count(const rill_hold_ring_t *self)
{
    return self->count;
}

const rill_held_part_t *rill_hold_ring_at(const rill_hold_ring_t *self, size_t index)
{
    if (index >= self->count)
        return NULL;
    return &self->parts[(self->head + index) % self->capacity];
}

uint64_t rill_hold_ring_first_seq(const rill_hold_ring_t *self, uint64_t if_empty)
{
    return self->count > 0 ? self->parts[self->head].seq : if_empty;
}
