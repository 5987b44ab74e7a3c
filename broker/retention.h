/*
 * retention.h - the events one job keeps for late subscribers and resumes.
 *
 * A bounded ring of (event, seq, data): when full, the oldest event goes
 * first (docs/API.md: up to retain_parts per job, up to topic_retain_messages
 * per topic; topics also drop what is older than topic_retain_ms). The ring
 * copies each event's data (without the header of the one-frame event the
 * broker publishes) into one buffer it owns, back to back, so
 * a retained event costs its data and 40 bytes: a job of ten demo parts
 * keeps ~1.3 KiB instead of the ~3.5 KiB its published messages and their
 * slots held when they were kept by reference (docs/BENCHMARKS.md,
 * 2026-11-30 10:05). The event slots grow by doubling and the buffer to
 * twice what it holds (1.5 times past 64 KiB: retention.c), so a job with
 * three parts does not pay for a thousand slots; rill_retention_trim gives the slack back once a job has
 * ended.
 *
 * Bytes are bounded too (docs/CONFIG.md retain_bytes, retain_total_bytes):
 * a ring keeps at most max_bytes of data, the oldest going first, and
 * adds what it holds to a totals struct the rings of all jobs share, so
 * the job table can evict across jobs when the sum passes its limit.
 * What a ring keeps is always its newest events, contiguous: an event too
 * large to keep drops every older one too, so the oldest retained seq
 * (the REPLAY header's `first`) says where the loss ends.
 */
#ifndef RILL_BROKER_RETENTION_H
#define RILL_BROKER_RETENTION_H

#include "rill_protocol.h"

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

typedef struct {
    rill_event_type_t type;
    uint64_t seq;
    uint64_t at_ms;      /* when it was retained (monotonic); 0 unless pushed with _push_at */
    const uint8_t *data; /* its data (JSON), in the ring's buffer: valid until the next push or trim */
    size_t size;
} rill_retained_event_t;

/* The event's data (its JSON), without any header. */
static inline const uint8_t *rill_retained_data(const rill_retained_event_t *event)
{
    return event->data;
}
static inline size_t rill_retained_size(const rill_retained_event_t *event)
{
    return event->size;
}

typedef struct rill_retention rill_retention_t;

/* Shared by rings (the jobs'): what they hold and what byte limits took. */
typedef struct {
    uint64_t bytes;   /* gauge: data bytes retained now */
    uint64_t evicted; /* events dropped for a byte limit (or too large to keep) */
    /* What the rings trimmed lately held (running averages, in 1/16ths):
     * a ring's first push allocates that much at once, so the rings of a
     * workload of like jobs never grow by realloc (retention.c). */
    uint64_t typical_events16;
    uint64_t typical_bytes16;
} rill_retention_totals_t;

/* capacity 0 keeps nothing. */
rill_retention_t *rill_retention_new(size_t capacity);
void rill_retention_destroy(rill_retention_t **self_p);
/* Keeps a copy of data's bytes. seq must grow from push to push. Returns 0
 * (also when it keeps nothing: capacity 0, or too large to keep). */
int rill_retention_push(rill_retention_t *self, rill_event_type_t type, uint64_t seq, zmq_msg_t *data);
/* The same, stamping the event with at_ms (for rill_retention_drop_before). */
int rill_retention_push_at(rill_retention_t *self, rill_event_type_t type, uint64_t seq,
                           zmq_msg_t *data, uint64_t at_ms);
/* Keeps a copy of size bytes at data (an event's data, without any
 * header), stamped with at_ms. Returns 0. */
int rill_retention_push_bytes(rill_retention_t *self, rill_event_type_t type, uint64_t seq, const void *data,
                              size_t size, uint64_t at_ms);
/* Drops the oldest events stamped before cutoff_ms. Returns how many. */
size_t rill_retention_drop_before(rill_retention_t *self, uint64_t cutoff_ms);
/* Changes the most it may hold; shrinking drops the oldest at once. */
void rill_retention_set_capacity(rill_retention_t *self, size_t capacity);
/* Gives back what the ring holds beyond its events and their bytes (for a
 * job that has ended: nothing more is pushed, though a push still works). */
void rill_retention_trim(rill_retention_t *self);
/* At most max_bytes of data (default: no byte limit; 0 keeps nothing);
 * lowering it drops the oldest at once (counted as evicted). */
void rill_retention_set_max_bytes(rill_retention_t *self, uint64_t max_bytes);
/* Adds what the ring holds now, and will hold, to totals (NULL: none). */
void rill_retention_set_totals(rill_retention_t *self, rill_retention_totals_t *totals);
/* Data bytes retained. */
uint64_t rill_retention_bytes(const rill_retention_t *self);
/* Drops the oldest event for a byte limit (counted as evicted). Returns
 * its bytes; 0 when empty. */
uint64_t rill_retention_evict_oldest(rill_retention_t *self);
size_t rill_retention_count(const rill_retention_t *self);
size_t rill_retention_capacity(const rill_retention_t *self);
/* index 0 is the oldest retained event; NULL past the end. */
rill_retained_event_t *rill_retention_at(rill_retention_t *self, size_t index);
/* Index of the first retained event with seq > after (== count if none). */
size_t rill_retention_find_after(rill_retention_t *self, uint64_t after);

#endif
