/*
 * mirror_codec.h - the records of a MIRROR message (rill/6, the peer link
 * of a standby pair; docs/PROTOCOL.md "Standby broker"). Pure bytes, no
 * broker state: mirror_out.c writes them, mirror_in.c reads them.
 *
 * A MIRROR message's records frame holds records back to back, each
 *
 *     <tag> <header length> <data length>\n<header bytes><data bytes>
 *
 * (one tag byte, the lengths in decimal). The header is text (ids, names,
 * seqs, or a JSON object); the data is an event's or a message's bytes as
 * they are.
 */
#ifndef RILL_BROKER_MIRROR_CODEC_H
#define RILL_BROKER_MIRROR_CODEC_H

#include "rill_buffer.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    RILL_MIRROR_BEGIN = 'B',        /* a snapshot starts: header {"broker","started_ms"}; drop all */
    RILL_MIRROR_END = 'Z',          /* the snapshot is complete */
    RILL_MIRROR_JOB = 'J',          /* header: job id; data: the job's record (JSON) */
    RILL_MIRROR_EVENT = 'E',        /* header: "<job id> <event> <seq>"; data: the event's data */
    RILL_MIRROR_TOPIC = 'P',        /* header: "<name> <last seq>" */
    RILL_MIRROR_MESSAGE = 'T',      /* header: "<name> <seq>"; data: the message */
    RILL_MIRROR_FORGET = 'F',       /* header: job id: forgotten (its retention ended) */
    RILL_MIRROR_TOPIC_DELETE = 'D', /* header: topic name: deleted */
    RILL_MIRROR_PUBLISH_KEY = 'K',  /* rill/10, header: "<name> <seq> <epoch> <hash, hex> <ms left> <key>" */
} rill_mirror_tag_t;

typedef struct {
    rill_mirror_tag_t tag;
    const uint8_t *header;
    size_t header_size;
    const uint8_t *data;
    size_t data_size;
} rill_mirror_record_t;

/* The bytes a record takes besides its header and data. */
#define RILL_MIRROR_RECORD_OVERHEAD 44

/* Appends one record. 0, or -1 when the buffer ran out of memory. */
int rill_mirror_record_append(rill_buffer_t *buffer, rill_mirror_tag_t tag, const char *header,
                              size_t header_size, const void *data, size_t data_size);
/* Reads the record at *offset of frame and moves past it: 1 with record,
 * 0 at the end, -1 when malformed (*error says why; the rest is dropped). */
int rill_mirror_record_next(const uint8_t *frame, size_t size, size_t *offset, rill_mirror_record_t *record,
                            const char **error);

#endif
