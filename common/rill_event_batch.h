/*
 * rill_event_batch.h - a follower's batch of events (rill/4), written by the
 * broker and read by frontends; no allocation either way.
 *
 * The events the broker publishes to one follow subject within one pass, as
 * ONE message
 *
 *     d<token>/ rill/4 batch <count>\n<len> <event frame><len> <event frame>...
 *
 * each entry the decimal byte length of its frame, a space, then the frame:
 * a job's one-frame event without the follow subject ("j<id> rill/4 part
 * <seq> <accepted_ns>\n<data>"). The entries end exactly at the message's
 * end and there are exactly <count> of them (1..RILL_EVENT_BATCH_MAX_EVENTS).
 * The XPUB filters it by its "d<token>/" prefix like a single event
 * (docs/PROTOCOL.md "Direct delivery").
 */
#ifndef RILL_EVENT_BATCH_H
#define RILL_EVENT_BATCH_H

#include "rill_protocol.h"

#include <stddef.h>
#include <stdint.h>

#define RILL_EVENT_BATCH_MAX_EVENTS 64
#define RILL_EVENT_BATCH_MAX_BYTES 65536 /* of entries; never above max_message_bytes */
/* The longest batch header: follow subject, version, "batch", count. */
#define RILL_EVENT_BATCH_HEADER_MAX (RILL_FOLLOW_SUBJECT_MAX + 1 + 6 + 1 + 5 + 1 + 20 + 1)
/* The longest entry prefix "<len> ". */
#define RILL_EVENT_BATCH_PREFIX_MAX 21

typedef struct {
    rill_frame_t follow; /* "d<token>/" */
    size_t count;        /* entries it holds */
    size_t index;        /* entries read so far */
    const uint8_t *at;   /* the next entry */
    const uint8_t *end;
} rill_event_batch_t;

/* Writes the header of a batch of count events into buffer (at least
 * RILL_EVENT_BATCH_HEADER_MAX bytes); returns its length. */
size_t rill_event_batch_header(char *buffer, const char *follow, size_t follow_length, size_t count);
/* Writes an entry's "<len> " into buffer (at least
 * RILL_EVENT_BATCH_PREFIX_MAX bytes); returns its length. */
size_t rill_event_batch_prefix(char *buffer, size_t frame_size);
/* Is frame a batch (its first word is a follow subject alone)? Cheap: the
 * frame's shape only; rill_event_batch_open checks it. */
int rill_event_is_batch(rill_frame_t frame);
/* Checks a batch's header and its framing (every entry's length, the
 * count, the end) without parsing the events, and readies *batch for
 * rill_event_batch_next. 0, or -1 with *error (the batch is dropped whole).
 * No allocation: *batch points into frame. */
int rill_event_batch_open(rill_frame_t frame, rill_event_batch_t *batch, const char **error);
/* The next entry of an opened batch, parsed as a one-frame event of a job
 * (rill_event_parse), its follow set to the batch's. 1 with *event; 0 when
 * none is left; -1 with *error when this entry is malformed (the caller
 * drops it as it would a lone event, and may go on with the next one). */
int rill_event_batch_next(rill_event_batch_t *batch, rill_event_t *event, const char **error);

#endif
