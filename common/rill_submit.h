/*
 * rill_submit.h - a decoded SUBMIT frame (docs/PROTOCOL.md, SUBMIT): the
 * types rill_messages.h decodes into, on their own so that the fast reader
 * (rill_submit_fast.h) fills them without depending on the full codec.
 */
#ifndef RILL_SUBMIT_H
#define RILL_SUBMIT_H

#include "rill_config.h"
#include "rill_id.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The longest source, key or who a job may carry (bytes). */
#define RILL_MESSAGE_TEXT_MAX 256

/* SUBMIT: one job as the frontend hands it to the broker. */
typedef struct {
    char id[RILL_ID_TEXT_SIZE]; /* 32 lower-case hex digits */
    const char *kind;           /* 1..RILL_CONFIG_KIND_NAME_MAX-1 bytes */
    const char *source;         /* NULL: none given */
    const char *key;            /* NULL: none given */
    const char *who;            /* NULL: none given */
    /* The args object as compact JSON text, args_length bytes (not
     * NUL-terminated), byte for byte what jansson's compact dump of it
     * writes (rill_json_compact.h); NULL: none, which is {}. Kept as text
     * from the request body to the BATCH: nothing on the way parses it
     * unless it needs a field (rill_job_source, a pipeline's identity). */
    const char *args;
    size_t args_length;
    int detach;
} rill_submit_job_t;

typedef struct {
    json_t *root;
    rill_submit_job_t *jobs;
    size_t count;
    char *text; /* the frame's copy the strings point into (rill_submit_fast.h), or NULL */
    char *args_text; /* the full decoder's args, dumped one after another; the jobs' args point into it */
} rill_submit_t;

/* SUBMITTED: the id the broker gave each job (another one when the job
 * joined an identical one: debounce, dedup) and its pipeline's flush_ms. */
typedef struct {
    char (*ids)[RILL_ID_TEXT_SIZE];
    uint64_t *flush_ms;
    size_t count;
} rill_submitted_t;

#endif
