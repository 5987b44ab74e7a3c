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

/* The longest source, key or who a job may carry (bytes). */
#define RILL_MESSAGE_TEXT_MAX 256

/* SUBMIT: one job as the frontend hands it to the broker. */
typedef struct {
    char id[RILL_ID_TEXT_SIZE]; /* 32 lower-case hex digits */
    const char *kind;           /* 1..RILL_CONFIG_KIND_NAME_MAX-1 bytes */
    const char *source;         /* NULL: none given */
    const char *key;            /* NULL: none given */
    const char *who;            /* NULL: none given */
    json_t *args;               /* an object, or NULL */
    int detach;
} rill_submit_job_t;

typedef struct {
    json_t *root;
    rill_submit_job_t *jobs;
    size_t count;
    char *text; /* the frame's copy the strings point into (rill_submit_fast.h), or NULL */
} rill_submit_t;

#endif
