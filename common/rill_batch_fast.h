/*
 * rill_batch_fast.h - a BATCH frame as a worker reads it: without a JSON
 * parser when it is in the exact layout rill_batch_encode writes (what
 * every rill broker sends), with the full decoder (rill_batch_decode)
 * otherwise. The layout is
 *
 *   {"batch":"b","jobs":[{"id":"<32 hex>","kind":"k","source":"s","args":{...},
 *    "attempt":N,"who":"w","seq":N}, ...]}   (,"ordered":true before the last brace)
 *
 * no whitespace outside args, strings of printable ASCII without escapes,
 * counts of at most 18 digits. A BATCH comes with every job, and jansson's
 * parse of it was the larger part of what a job cost the worker
 * (~40k instructions of ~100k). Here a job's args are not parsed at all:
 * they stay the JSON text of an object, and the kind parses what it needs
 * (rill_worker_job_args_text, rill_worker_kind.h). So that a frame the fast
 * reader takes is one the full decoder would take, with the same values,
 * the args text must also pass rill_json_check and hold nothing jansson
 * could refuse where rill_json_check does not: no backslash (\u0000), no
 * byte above 0x7e, no run of more than 18 digits, no exponent (an integer
 * or a real too big). Anything else (another key order, an escape, an
 * invalid entry, null where a string was expected) goes to the full
 * decoder, which decides and says what is wrong.
 */
#ifndef RILL_BATCH_FAST_H
#define RILL_BATCH_FAST_H

#include "rill_messages.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* One job of a BATCH. Strings and args are borrowed from the read batch. */
typedef struct {
    const char *id;
    const char *kind;
    const char *source;    /* NULL: none */
    const char *who;       /* NULL: none */
    const char *args_text; /* the args object's JSON text (fast read), or NULL */
    size_t args_length;
    json_t *args;          /* the args object (full decoder), or NULL */
    uint64_t attempt;
    uint64_t seq;          /* the job's last seq so far */
    int valid;             /* 0: malformed entry (bad id or kind): skip it */
} rill_batch_entry_t;

typedef struct {
    const char *batch_id; /* NULL: none */
    rill_batch_entry_t *jobs;
    size_t count;
    int ordered;          /* rill/3: the jobs run one after another, in their order */
    int fast;             /* 1: read without jansson (args_text set), 0: by the full decoder */
    char *text;           /* the fast read's copy of the frame (strings end in place) */
    rill_batch_t decoded; /* the full decoder's document */
} rill_batch_read_t;

/* 0, or -1 with error (may be NULL) as rill_batch_decode: the frame is not
 * a batch at all. On 0, release it with rill_batch_read_release. */
int rill_batch_read(const void *bytes, size_t length, rill_batch_read_t *batch, char *error, size_t error_size);
void rill_batch_read_release(rill_batch_read_t *batch);

#endif
