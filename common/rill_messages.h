/*
 * rill_messages.h - the JSON frames of the wire protocol as typed values:
 * one encode and one decode for each, shared by the process that builds a
 * frame and the one that reads it (docs/PROTOCOL.md lists the frames).
 *
 *   SUBMIT     frontend -> broker   [{"id","kind","source","args","key","who","detach"}, ...]
 *   SUBMITTED  broker -> frontend   {"jobs":[id, ...],"flush_ms":[N, ...]}
 *   BATCH      broker -> worker     {"batch":id,"jobs":[{"id","kind","source","args","attempt","who","seq"}, ...],
 *                                    "ordered":true (only when it is)}
 *   REPLAY     broker -> frontend   header {"first":F,"last":L,"ended":b,"final":b,"flush_ms":N}
 *   HELLO      worker -> broker     {"name","host","pid","kinds":[...],"credit":N,"session":id,
 *                                    "jobs":[{"id","kind","source","who","attempt","seq","first"}, ...]}
 *   WELCOME    broker -> worker     {"broker":id,"heartbeat_ms":N,"adopted":{id:last_seq, ...},"cancelled":[id, ...]}
 *
 * Encoders return a JSON text the caller frees (free()); they never fail
 * (rill_alloc.h: allocation aborts). Decoders check everything a peer
 * controls and return 0, or -1 with a human reason in error (which may be
 * NULL when the caller needs none). A decoded value borrows its strings and
 * args from the JSON document it keeps in `root`; *_release frees it.
 */
#ifndef RILL_MESSAGES_H
#define RILL_MESSAGES_H

#include "rill_config.h"
#include "rill_id.h"
#include "rill_protocol.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "rill_submit.h"
#include "rill_submit_fast.h"

/* rill_submit_encode: rill_submit_fast.h, with the reader of its layout. */
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

/* SUBMITTED: rill_submitted_t (rill_submit.h). */
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
    /* Encode only: the args as compact JSON text (args_text_length bytes),
     * copied as they are; NULL: args is dumped (NULL args: {}). */
    const char *args_text;
    size_t args_text_length;
    uint64_t attempt;
    uint64_t seq; /* the job's last seq so far: this attempt's parts are seq+1, seq+2, ... */
    int valid; /* decode only: 0 = this entry is malformed (bad id or kind); skip it */
} rill_batch_job_t;

typedef struct {
    json_t *root;
    const char *batch_id;
    rill_batch_job_t *jobs;
    size_t count;
    int ordered; /* rill/3: the jobs run one after another, in their order (an ordered pipeline's batch) */
} rill_batch_t;

/* ordered: the batch of an ordered pipeline ("ordered":true, written only
 * then); a job without source is sent with its kind as source. */
char *rill_batch_encode(const char *batch_id, int ordered, const rill_batch_job_t *jobs, size_t count);
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
    char epoch[RILL_TOPIC_EPOCH_LENGTH + 1]; /* rill/6: a topic's epoch; "" for a job (or none known) */
} rill_replay_header_t;

/* Writes the header into buffer (no allocation: it is on the broker's
 * replay path). Returns its length, or 0 when size is too small
 * (RILL_REPLAY_HEADER_MAX always suffices). */
#define RILL_REPLAY_HEADER_MAX 160
size_t rill_replay_header_encode(const rill_replay_header_t *header, char *buffer, size_t size);
int rill_replay_header_decode(const void *bytes, size_t length, rill_replay_header_t *header);

/* The most credit a worker may grant (HELLO "credit"), and so the most jobs
 * a HELLO may report. */
#define RILL_MESSAGE_CREDIT_MAX 1000000

/* HELLO: a worker joins, or joins again with the jobs it still runs. */
typedef struct {
    const char *id;
    const char *kind;
    const char *source; /* NULL on encode: the kind */
    const char *who;    /* NULL: none */
    uint64_t attempt;
    uint64_t seq;   /* the last seq it gave a part of this attempt (the BATCH's seq when none yet) */
    uint64_t first; /* the seq of the oldest part it still holds; seq + 1 when it holds none */
} rill_hello_job_t;

typedef struct {
    json_t *root;       /* decode only */
    const char *name;   /* 1..256 bytes */
    const char *host;   /* at most 256 bytes; "" when none */
    int64_t pid;
    size_t kind_count;  /* 1..RILL_CONFIG_MAX_KINDS */
    const char *kinds[RILL_CONFIG_MAX_KINDS];
    uint64_t credit;    /* the jobs it may hold at once, in all (not what is left) */
    const char *session; /* 32 lower-case hex digits, drawn once per worker process */
    rill_hello_job_t *jobs;
    size_t job_count;
} rill_hello_t;

char *rill_hello_encode(const rill_hello_t *hello);
/* Refuses (-1, error says what, "HELLO: ..." for the broker's log) a HELLO
 * whose name, host, pid, kinds, credit, session or any job is malformed;
 * a missing "jobs" is none. */
int rill_hello_decode(const void *bytes, size_t length, rill_hello_t *hello, char *error, size_t error_size);
void rill_hello_release(rill_hello_t *hello);

/* WELCOME: the broker's answer to HELLO; what became of the jobs it listed. */
typedef struct {
    const char *id;
    uint64_t last_seq; /* the job's last seq the broker has: re-send the held parts after it */
} rill_welcome_job_t;

typedef struct {
    json_t *root;       /* decode only */
    const char *broker; /* the broker's instance id */
    uint64_t heartbeat_ms;
    rill_welcome_job_t *adopted; /* the jobs to go on with */
    size_t adopted_count;
    const char **cancelled;      /* the jobs to stop, without telling the broker */
    size_t cancelled_count;
} rill_welcome_t;

char *rill_welcome_encode(const rill_welcome_t *welcome);
/* Refuses a WELCOME without a broker id of 1..63 bytes, or with an adopted
 * entry or a cancelled id that is not a job id and a count. Missing
 * "adopted" and "cancelled" are empty; a missing heartbeat_ms is 0. */
int rill_welcome_decode(const void *bytes, size_t length, rill_welcome_t *welcome, char *error,
                        size_t error_size);
void rill_welcome_release(rill_welcome_t *welcome);

#endif
