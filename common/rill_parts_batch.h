/*
 * rill_parts_batch.h - a worker's batch of parts (PARTS, rill/3) and the
 * jobs done after them (rill/7), written by the worker and read by the
 * broker; no allocation either way (docs/PROTOCOL.md "Parts in batches").
 *
 * The first frame of a PARTS message holds entries back to back,
 *
 *     <job id> <seq> <size>\n<size bytes of data>
 *
 * A worker puts in one the small parts its kinds made in one loop turn: the
 * broker reads, checks and forwards them for the cost of one message. The
 * optional second frame (rill/7) holds the ids of the jobs whose DONE came
 * in the same turn, after their parts, one space between two:
 *
 *     <job id> <job id> ...
 *
 * so a job's end costs no message of its own either.
 */
#ifndef RILL_PARTS_BATCH_H
#define RILL_PARTS_BATCH_H

#include "rill_protocol.h"

#include <stddef.h>
#include <stdint.h>

/* The most a batch holds (a larger part goes alone as PART): */
#define RILL_PARTS_MAX_ENTRIES 32
#define RILL_PARTS_MAX_BYTES (32u * 1024)   /* a batch's frame, about */
#define RILL_PARTS_ENTRY_MAX_DATA (16u * 1024) /* larger parts go as PART */
/* An entry's header: id, seq, size with separators. */
#define RILL_PARTS_ENTRY_HEADER_MAX (RILL_JOB_ID_LENGTH + 1 + 20 + 1 + 20 + 1)
/* The most ids the done frame holds; more DONEs go as DONE messages. */
#define RILL_PARTS_MAX_DONE 256

typedef struct {
    rill_frame_t id;
    uint64_t seq;
    rill_frame_t data; /* points into the PARTS frame (writable when the frame is) */
} rill_parts_entry_t;

/* Reads the entry of a PARTS frame at *offset and moves *offset past it.
 * Returns 1 with entry set, 0 at the end of the frame, -1 when the rest is
 * malformed (*error says why; nothing after it can be trusted). */
int rill_parts_next(rill_frame_t frame, size_t *offset, rill_parts_entry_t *entry, const char **error);
/* Writes an entry's header for a part of size bytes into buffer (at least
 * RILL_PARTS_ENTRY_HEADER_MAX bytes); returns its length. id is a job id. */
size_t rill_parts_entry_header(char *buffer, const char *id, uint64_t seq, size_t size);

/* Reads the id at *offset of a done frame and moves *offset past it (and
 * the space after it). Returns 1 with id set, 0 at the end of the frame, -1
 * when the rest is malformed (*error says why). */
int rill_parts_next_done(rill_frame_t frame, size_t *offset, rill_frame_t *id, const char **error);
/* Appends a job id to a done frame of *length bytes (buffer has at least
 * RILL_JOB_ID_LENGTH + 1 bytes free after them). */
void rill_parts_add_done(char *buffer, size_t *length, const char *id);

#endif
