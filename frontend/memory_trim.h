/*
 * memory_trim.h - when the frontend gives freed memory back to the kernel.
 *
 * glibc's malloc keeps what a burst of connections freed (tens of MB after
 * 20,000 connect/close cycles, docs/DESIGN.md "Promises") in its arenas:
 * the pieces are scattered, so the heap's top never shrinks and RSS stays at
 * its peak. malloc_trim(0) returns every free page, at a cost that grows with
 * the heap, so it runs once the frontend went quiet after activity, not on
 * every close. This module is the decision only (pure, unit-tested); the
 * frontend ticks it from a timer on its loop and calls malloc_trim.
 */
#ifndef RILL_FRONTEND_MEMORY_TRIM_H
#define RILL_FRONTEND_MEMORY_TRIM_H

#include <stdint.h>

#define RILL_MEMORY_TRIM_TICK_MS 1000

typedef struct {
    uint64_t accepted;     /* connections accepted, at the last tick */
    uint64_t streams_open; /* streams open, at the last tick */
    int dirty;             /* something changed since the last trim */
} rill_memory_trim_t;

/* Zeroes self: nothing happened yet. */
void rill_memory_trim_init(rill_memory_trim_t *self);

/* One tick with the frontend's counters now: returns 1 when memory should be
 * trimmed now - the counters moved since the last trim, and not since the
 * previous tick (the burst is over) - else 0. */
int rill_memory_trim_tick(rill_memory_trim_t *self, uint64_t accepted, uint64_t streams_open);

#endif
