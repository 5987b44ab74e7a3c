/*
 * hold_ring.h - the last parts of one job a worker keeps, with their seqs,
 * to send again after a re-join (docs/PROTOCOL.md, "Worker sessions").
 *
 * A broker that paused, lost the worker's connection or restarted may not
 * have every part the worker sent, and while no broker has welcomed the
 * worker its parts go nowhere else: the ring is where they wait. It is
 * bounded twice: by parts per job (config worker_hold_parts) and by bytes
 * over all of a worker's rings (worker_hold_bytes, a budget the rings
 * share). At either bound the job's oldest part goes first; the broker sees
 * the jump in seqs and publishes a gap, so nothing is lost silently.
 *
 * Pure (no sockets, no loop): tests/unit/workers/test_hold_ring.c.
 */
#ifndef RILL_WORKER_HOLD_RING_H
#define RILL_WORKER_HOLD_RING_H

#include <stddef.h>
#include <stdint.h>

/* What the rings of one worker may hold in all. */
typedef struct {
    uint64_t bytes;     /* held now, over all rings */
    uint64_t max_bytes; /* 0: nothing is held */
} rill_hold_budget_t;

typedef struct {
    uint64_t seq;
    size_t length;
    const char *data; /* in the ring's byte buffer, valid until its next push; not NUL-terminated */
} rill_held_part_t;

typedef struct {
    rill_held_part_t *parts; /* a circular buffer of capacity slots, grown by doubling */
    size_t capacity;
    size_t head;  /* index of the oldest */
    size_t count;
    /* The parts' bytes, oldest first, back to back in one buffer: a part
     * costs a copy, not a malloc and a free (the parts come and go in
     * order, so what is held is always bytes[bytes_head, bytes_end)). */
    char *bytes;
    size_t bytes_capacity;
    size_t bytes_head;
    size_t bytes_end;
    size_t max_parts;
    rill_hold_budget_t *budget; /* shared; may be NULL (no byte bound) */
    uint64_t dropped; /* parts dropped at a bound, oldest first */
} rill_hold_ring_t;

/* An empty ring of at most max_parts parts (0: it holds none). */
void rill_hold_ring_init(rill_hold_ring_t *self, size_t max_parts, rill_hold_budget_t *budget);
/* Frees what it holds (and gives the bytes back to the budget). */
void rill_hold_ring_release(rill_hold_ring_t *self);
/* Keeps a copy of data as part seq (seqs grow from push to push), dropping
 * the ring's oldest parts while a bound would be passed. A part larger than
 * the whole budget is not kept (returns 0); else returns 1. */
int rill_hold_ring_push(rill_hold_ring_t *self, uint64_t seq, const char *data, size_t length);
size_t rill_hold_ring_count(const rill_hold_ring_t *self);
/* index 0 is the oldest; NULL past the end. */
const rill_held_part_t *rill_hold_ring_at(const rill_hold_ring_t *self, size_t index);
/* The seq of the oldest part held, or if_empty. */
uint64_t rill_hold_ring_first_seq(const rill_hold_ring_t *self, uint64_t if_empty);

#endif
