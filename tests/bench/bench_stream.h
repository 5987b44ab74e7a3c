/*
 * bench_stream.h - one streamed answer of POST /v1/jobs, read by rill-bench
 * as it arrives: status line and headers, the chunked body, its NDJSON lines,
 * and the check that each job of the request delivered every one of its parts
 * exactly once and then a `done` that counts them.
 *
 * Two dialects share the event lines {"job":…,"event":"part","data":{"i":n,
 * "mono_ns":…}} and {"job":…,"event":"done","data":{"parts":K}}: rill numbers
 * parts from 1 and opens the stream with an `accepted` notice; the reference
 * stack (Flask + gevent + RxPY) numbers them from 0 and opens with a blank
 * line. Lines naming no job (notices, heartbeats, blank lines) are skipped.
 */
#ifndef BENCH_STREAM_H
#define BENCH_STREAM_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char id[72];
    int parts_seen;
    int duplicates;
    int done;       /* a done event came */
    int done_parts; /* its "parts" */
    int failed;     /* an error, retry or gap event came, or a part out of range */
    uint8_t *seen;  /* one byte per expected part index */
} bench_job_t;

typedef struct {
    /* a part of a job: its emission time (mono_ns) */
    void (*on_part)(void *context, uint64_t mono_ns, uint64_t received_ns);
    /* a job of the response ended (done or error): complete = every part once, done.parts right */
    void (*on_job_end)(void *context, int complete, uint64_t received_ns);
    void *context;
} bench_stream_callbacks_t;

typedef struct {
    int state;
    int status;
    size_t remaining; /* bytes left in the current chunk, or of a Content-Length body */
    char *input;      /* bytes read and not yet parsed */
    size_t input_length, input_capacity;
    char *line; /* a line split across chunks or reads */
    size_t line_length, line_capacity;
    bench_job_t *jobs;
    int job_count, jobs_expected, parts_expected, first_index;
    /* counters over every response this stream read */
    uint64_t http_errors;   /* a status other than 200 */
    uint64_t stream_errors; /* an error line naming no job, an unknown job id, a malformed body */
    uint64_t jobs_complete, jobs_incomplete;
} bench_stream_t;

/* The bytes of POST /v1/jobs with `count` demo jobs (one object, or an array
 * when count > 1) of `parts` parts `interval_ms` apart (and `size` bytes of
 * pad when > 0); malloc'd, its length in *length, or NULL. */
char *bench_stream_request(const char *host, int count, int parts, int interval_ms, int size, size_t *length);

/* Starts reading the answer to a request of jobs_expected jobs of
 * parts_expected parts each, numbered from first_index (rill 1, reference 0). */
int bench_stream_begin(bench_stream_t *stream, int jobs_expected, int parts_expected, int first_index);

/* Parses data read at received_ns. Returns 1 when the response has ended (the
 * connection may carry the next request), 0 when more is to come, -1 when the
 * bytes are no HTTP/1.1 response (the caller closes the connection). */
int bench_stream_feed(bench_stream_t *stream, const char *data, size_t length, uint64_t received_ns,
                      const bench_stream_callbacks_t *callbacks);

/* The connection broke mid-response: every job not yet ended counts as incomplete. */
void bench_stream_abort(bench_stream_t *stream, uint64_t received_ns, const bench_stream_callbacks_t *callbacks);

/* 1 while a response is being read (begun and not ended). */
int bench_stream_active(const bench_stream_t *stream);

void bench_stream_free(bench_stream_t *stream);

/* Canned answers of both dialects (good, a doubled part, a missing done, a
 * 4xx) fed whole and split at every byte: 0 when every count is right. */
int bench_stream_self_test(void);

#endif
