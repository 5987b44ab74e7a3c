/*
 * chunk.h - refcounted bytes shared by many streams (docs/DESIGN.md "Performance").
 *
 * An event coming off the SUB socket is formatted ONCE into a chunk; every
 * stream that wants it queues a reference, not a copy. A chunk is freed when
 * the last stream that queued it has had its bytes written (h2o's proceed)
 * or has gone away. Chunks are single-threaded: the frontend runs one loop.
 */
#ifndef RILL_FRONTEND_CHUNK_H
#define RILL_FRONTEND_CHUNK_H

#include <stddef.h>
#include <stdint.h>

/* What a chunk's bytes are, for the delivery counters (frontend/metrics.h). */
typedef enum {
    RILL_CHUNK_BYTES = 0, /* anything else: an SSE head, a heartbeat... */
    RILL_CHUNK_PART,      /* one event line of type part */
    RILL_CHUNK_GAP,       /* one event line of type gap */
    RILL_CHUNK_EVENT,     /* one event line of another type */
} rill_chunk_kind_t;

typedef struct {
    uint32_t references;
    uint32_t length;   /* bytes used */
    uint32_t capacity; /* bytes allocated after the header */
    uint32_t kind;     /* rill_chunk_kind_t; rill_chunk_new sets RILL_CHUNK_BYTES */
    uint64_t accepted_ns; /* broker's CLOCK_MONOTONIC at acceptance of a live
                             event (latency histogram); 0 = not measured */
    char bytes[];
} rill_chunk_t;

/* A chunk of capacity bytes, length 0, one reference. NULL when capacity
 * is over 4 GiB (allocation itself never fails: rill_alloc.h). */
rill_chunk_t *rill_chunk_new(size_t capacity);
/* A chunk holding a copy of text (one reference); NULL as rill_chunk_new. */
rill_chunk_t *rill_chunk_new_copy(const char *text, size_t length);
rill_chunk_t *rill_chunk_ref(rill_chunk_t *chunk);
/* Drops one reference and clears *chunk; frees at zero. NULL is fine. */
void rill_chunk_unref(rill_chunk_t **chunk);

#endif
