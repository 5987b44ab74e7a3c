/*
 * retention.h - the events one job keeps for late subscribers and resumes.
 *
 * A bounded ring of (event, seq, data): when full, the oldest event goes
 * first (docs/API.md: up to retain_parts per job, up to topic_retain_messages
 * per topic; topics also drop what is older than topic_retain_ms). A job's
 * ring keeps the very one-frame event the broker published
 * (rill_retention_push_event: shared by reference, no allocation, no copy;
 * the data starts after its header). rill_retention_push_at keeps a
 * zmq_msg_t copy of a bare message instead (the topics'): large ones are
 * shared (libzmq reference-counts big buffers), those up to
 * RILL_RETENTION_SHARE_MIN bytes copied (see retention.c). The ring grows by doubling, so a job with three parts does not pay for a
 * thousand slots.
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

#define RILL_RETENTION_SHARE_MIN 8192

typedef struct {
    rill_event_type_t type;
    uint64_t seq;
    uint64_t at_ms; /* when it was retained (monotonic); 0 unless pushed with _push_at */
    zmq_msg_t data;
    size_t offset; /* where the event's data starts in data: 0, or after the
                      header of a published one-frame event (push_event) */
} rill_retained_event_t;

/* The event's data (its JSON), without any header. */
static inline const uint8_t *rill_retained_data(rill_retained_event_t *event)
{
    return (const uint8_t *)zmq_msg_data(&event->data) + event->offset;
}
static inline size_t rill_retained_size(rill_retained_event_t *event)
{
    return zmq_msg_size(&event->data) - event->offset;
}

typedef struct rill_retention rill_retention_t;

/* Shared by rings (the jobs'): what they hold and what byte limits took. */
typedef struct {
    uint64_t bytes;   /* gauge: data bytes retained now */
    uint64_t evicted; /* events dropped for a byte limit (or too large to keep) */
} rill_retention_totals_t;

/* capacity 0 keeps nothing. */
rill_retention_t *rill_retention_new(size_t capacity);
void rill_retention_destroy(rill_retention_t **self_p);
/* Keeps a copy of data (zmq_msg_copy: shared, not duplicated, when large).
 * seq must grow from push to push. Returns 0, or -1 when libzmq cannot copy
 * the message (nothing kept). */
int rill_retention_push(rill_retention_t *self, rill_event_type_t type, uint64_t seq, zmq_msg_t *data);
/* The same, stamping the event with at_ms (for rill_retention_drop_before). */
int rill_retention_push_at(rill_retention_t *self, rill_event_type_t type, uint64_t seq,
                           zmq_msg_t *data, uint64_t at_ms);
/* Keeps the very event message the broker publishes (rill_event_encode),
 * shared by reference, not copied: the retention path costs no allocation
 * and no copy. event must own its buffer (one the broker built, never a
 * received frame); its data starts at offset, and only those bytes count
 * against the byte limits. Returns 0, or -1 (nothing kept). */
int rill_retention_push_event(rill_retention_t *self, rill_event_type_t type, uint64_t seq,
                              zmq_msg_t *event, size_t offset, uint64_t at_ms);
/* Drops the oldest events stamped before cutoff_ms. Returns how many. */
size_t rill_retention_drop_before(rill_retention_t *self, uint64_t cutoff_ms);
/* Changes the most it may hold; shrinking drops the oldest at once. */
void rill_retention_set_capacity(rill_retention_t *self, size_t capacity);
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
