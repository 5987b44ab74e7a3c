/*
 * rill_messages.h - the JSON frames of the wire protocol as typed values:
 * one encode and one decode for each, shared by the process that builds a
 * frame and the one that reads it (docs/PROTOCOL.md lists the frames).
 *
 *   SUBMIT     frontend -> broker   [{"id","kind","source","args","key","who","detach"}, ...]
 *   SUBMITTED  broker -> frontend   {"jobs":[id, ...],"flush_ms":[N, ...]}
 *   BATCH      broker -> worker     {"batch":id,"jobs":[{"id","kind","source","args","attempt","who"}, ...]}
 *   REPLAY     broker -> frontend   header {"first":F,"last":L,"ended":b,"final":b,"flush_ms":N}
 *
 * Encoders return a JSON text the caller frees (free()); they never fail
 * (rill_alloc.h: allocation aborts). Decoders check everything a peer
 * controls and return 0, or -1 with a human reason in error (which may be
 * NULL when the caller needs none). A decoded value borrows its strings and
 * args from the JSON document it keeps in `root`; *_release frees it.
 */
#ifndef RILL_MESSAGES_H
#define RILL_MESSAGES_H

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
    json_t *args;               /* an object, or NULL */
    int detach;
} rill_submit_job_t;

typedef struct {
    json_t *root;
    rill_submit_job_t *jobs;
    size_t count;
} rill_submit_t;

char *rill_submit_encode(const rill_submit_job_t *jobs, size_t count);
/* Checks the shape of every job (not whether its kind is declared, nor
 * whether its id exists: that is the broker's to say). Also refuses an
 * empty array and an id given twice. On -1, error names the job by index,
 * e.g. "job 2: \"kind\" must be a string of 1 to 63 bytes" (the broker's
 * code bad_request). An id given twice returns -2 instead, with "job <id>
 * appears twice in the request" (code conflict, as the broker answered it
 * before this codec); the first bad job decides which. */
int rill_submit_decode(const void *bytes, size_t length, rill_submit_t *submit, char *error,
                       size_t error_size);
void rill_submit_release(rill_submit_t *submit);

/* SUBMITTED: the id the broker gave each job (another one when the job
 * joined an identical one: debounce, dedup) and its pipeline's flush_ms. */
typedef struct {
    char (*ids)[RILL_ID_TEXT_SIZE];
    uint64_t *flush_ms;
    size_t count;
} rill_submitted_t;

char *rill_submitted_encode(const char (*ids)[RILL_ID_TEXT_SIZE], const uint64_t *flush_ms,
                            size_t count);
/* A missing "flush_ms" array decodes as zeros (older brokers). */
int rill_submitted_decode(const void *bytes, size_t length, rill_submitted_t *submitted, char *error,
                          size_t error_size);
void rill_submitted_release(rill_submitted_t *submitted);

/* BATCH: jobs a worker is to run, each consuming one credit. */
typedef struct {
    const char *id;
    const char *kind;
    const char *source;
    const char *who; /* "" or NULL on encode: none */
    json_t *args;    /* an object, or NULL */
    uint64_t attempt;
    int valid; /* decode only: 0 = this entry is malformed (bad id or kind); skip it */
} rill_batch_job_t;

typedef struct {
    json_t *root;
    const char *batch_id;
    rill_batch_job_t *jobs;
    size_t count;
} rill_batch_t;

char *rill_batch_encode(const char *batch_id, const rill_batch_job_t *jobs, size_t count);
/* -1 when the frame is not a batch at all (no "jobs" array); a malformed
 * entry only gets valid = 0, so the rest of the batch still runs. */
int rill_batch_decode(const void *bytes, size_t length, rill_batch_t *batch, char *error,
                      size_t error_size);
void rill_batch_release(rill_batch_t *batch);

/* The header of one REPLAY message. */
typedef struct {
    uint64_t first; /* oldest retained seq (last + 1 when none is) */
    uint64_t last;  /* newest seq the subject has */
    uint64_t flush_ms;
    int ended;      /* the job has ended (done or error published) */
    int final;      /* no more REPLAY follows for this FETCH */
} rill_replay_header_t;

/* Writes the header into buffer (no allocation: it is on the broker's
 * replay path). Returns its length, or 0 when size is too small
 * (RILL_REPLAY_HEADER_MAX always suffices). */
#define RILL_REPLAY_HEADER_MAX 128
size_t rill_replay_header_encode(const rill_replay_header_t *header, char *buffer, size_t size);
int rill_replay_header_decode(const void *bytes, size_t length, rill_replay_header_t *header);

#endif
