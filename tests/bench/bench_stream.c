/*
 * bench_stream.c - reads a streamed POST /v1/jobs answer for rill-bench and
 * checks it (see bench_stream.h). A small state machine over the bytes as
 * they come: headers, then chunks (or a Content-Length body, for an error
 * answer), then NDJSON lines. It owns only the per-response bookkeeping; the
 * latency and rate counters are the caller's, reached through callbacks.
 */
#include "bench_stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { STATE_IDLE, STATE_HEAD, STATE_CHUNK_SIZE, STATE_CHUNK_DATA, STATE_CHUNK_END, STATE_TRAILER,
       STATE_BODY, STATE_DONE };

static int grow(char **buffer, size_t *capacity, size_t needed)
{
    if (needed <= *capacity)
        return 0;
    size_t size = *capacity ? *capacity : 4096;
    while (size < needed)
        size *= 2;
    char *grown = realloc(*buffer, size);
    if (grown == NULL)
        return -1;
    *buffer = grown;
    *capacity = size;
    return 0;
}

static void free_jobs(bench_stream_t *stream)
{
    for (int j = 0; j < stream->job_count; j++)
        free(stream->jobs[j].seen);
    free(stream->jobs);
    stream->jobs = NULL;
    stream->job_count = 0;
}

char *bench_stream_request(const char *host, int count, int parts, int interval_ms, int size, size_t *length)
{
    char job[256];
    int job_length = size > 0
        ? snprintf(job, sizeof(job), "{\"kind\":\"demo\",\"args\":{\"parts\":%d,\"interval_ms\":%d,\"size\":%d}}",
                   parts, interval_ms, size)
        : snprintf(job, sizeof(job), "{\"kind\":\"demo\",\"args\":{\"parts\":%d,\"interval_ms\":%d}}", parts,
                   interval_ms);
    size_t body_length = count == 1 ? (size_t)job_length : (size_t)count * ((size_t)job_length + 1) + 1;
    size_t capacity = 512 + body_length;
    char *request = malloc(capacity);
    if (request == NULL)
        return NULL;
    int header = snprintf(request, capacity, "POST /v1/jobs HTTP/1.1\r\nHost: %s\r\n"
                          "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", host, body_length);
    size_t at = (size_t)header;
    for (int j = 0; j < count; j++) {
        if (count > 1)
            request[at++] = j ? ',' : '[';
        memcpy(request + at, job, (size_t)job_length);
        at += (size_t)job_length;
    }
    if (count > 1)
        request[at++] = ']';
    *length = at;
    return request;
}

int bench_stream_begin(bench_stream_t *stream, int jobs_expected, int parts_expected, int first_index)
{
    free_jobs(stream);
    stream->jobs = calloc((size_t)jobs_expected, sizeof(*stream->jobs));
    if (stream->jobs == NULL)
        return -1;
    stream->state = STATE_HEAD;
    stream->status = 0;
    stream->remaining = 0;
    stream->input_length = 0;
    stream->line_length = 0;
    stream->jobs_expected = jobs_expected;
    stream->parts_expected = parts_expected;
    stream->first_index = first_index;
    return 0;
}

int bench_stream_active(const bench_stream_t *stream)
{
    return stream->state != STATE_IDLE && stream->state != STATE_DONE;
}

/* The value after "key": in line (an unsigned integer), or -1. */
static long long number_after(const char *line, size_t length, const char *key)
{
    size_t key_length = strlen(key);
    const char *found = memmem(line, length, key, key_length);
    if (found == NULL)
        return -1;
    const char *p = found + key_length, *end = line + length;
    if (p == end || *p < '0' || *p > '9')
        return -1;
    long long value = 0;
    while (p < end && *p >= '0' && *p <= '9')
        value = value * 10 + (*p++ - '0');
    return value;
}

/* The string after "key":" in line, copied into out; 0 if found. */
static int string_after(const char *line, size_t length, const char *key, char *out, size_t size)
{
    size_t key_length = strlen(key);
    const char *found = memmem(line, length, key, key_length);
    if (found == NULL)
        return -1;
    const char *p = found + key_length, *end = line + length;
    const char *close = memchr(p, '"', (size_t)(end - p));
    if (close == NULL || (size_t)(close - p) >= size)
        return -1;
    memcpy(out, p, (size_t)(close - p));
    out[close - p] = '\0';
    return 0;
}

static bench_job_t *find_job(bench_stream_t *stream, const char *id)
{
    for (int j = 0; j < stream->job_count; j++) {
        if (strcmp(stream->jobs[j].id, id) == 0)
            return &stream->jobs[j];
    }
    if (stream->job_count == stream->jobs_expected)
        return NULL; /* a job this request did not submit */
    bench_job_t *job = &stream->jobs[stream->job_count];
    job->seen = calloc((size_t)stream->parts_expected + 1, 1);
    if (job->seen == NULL)
        return NULL;
    stream->job_count++;
    strcpy(job->id, id);
    return job;
}

static void end_job(bench_stream_t *stream, bench_job_t *job, uint64_t received_ns,
                    const bench_stream_callbacks_t *callbacks)
{
    int complete = !job->failed && job->done && job->done_parts == stream->parts_expected &&
                   job->parts_seen == stream->parts_expected && job->duplicates == 0;
    if (complete)
        stream->jobs_complete++;
    else
        stream->jobs_incomplete++;
    callbacks->on_job_end(callbacks->context, complete, received_ns);
}

static void handle_line(bench_stream_t *stream, const char *line, size_t length, uint64_t received_ns,
                        const bench_stream_callbacks_t *callbacks)
{
    char event[32], id[sizeof(stream->jobs[0].id)];
    if (string_after(line, length, "\"event\":\"", event, sizeof(event)) != 0)
        return; /* a blank line (the reference stack's first) */
    if (string_after(line, length, "\"job\":\"", id, sizeof(id)) != 0) {
        if (strcmp(event, "error") == 0)
            stream->stream_errors++; /* a stream-level error (slow_client, ...) */
        return;                      /* notices (accepted, closing, ...), heartbeats */
    }
    bench_job_t *job = find_job(stream, id);
    if (job == NULL) {
        stream->stream_errors++;
        return;
    }
    if (job->done)
        return; /* nothing follows a job's end */
    const char *data = memmem(line, length, "\"data\":", 7);
    size_t data_length = data ? length - (size_t)(data - line) : 0;
    if (strcmp(event, "part") == 0) {
        long long index = data ? number_after(data, data_length, "\"i\":") : -1;
        long long mono_ns = data ? number_after(data, data_length, "\"mono_ns\":") : -1;
        if (mono_ns >= 0)
            callbacks->on_part(callbacks->context, (uint64_t)mono_ns, received_ns);
        index -= stream->first_index;
        if (index < 0 || index >= stream->parts_expected) {
            job->failed = 1;
            return;
        }
        if (job->seen[index])
            job->duplicates++;
        job->seen[index] = 1;
        job->parts_seen++;
    } else if (strcmp(event, "done") == 0) {
        job->done = 1;
        job->done_parts = data ? (int)number_after(data, data_length, "\"parts\":") : -1;
        end_job(stream, job, received_ns, callbacks);
    } else if (strcmp(event, "error") == 0) {
        job->failed = 1;
        job->done = 1; /* ended */
        end_job(stream, job, received_ns, callbacks);
    } else {
        job->failed = 1; /* retry, gap: the parts were not delivered once, in one attempt */
    }
}

/* Body bytes of a 200 answer: split into lines. */
static int feed_lines(bench_stream_t *stream, const char *data, size_t length, uint64_t received_ns,
                      const bench_stream_callbacks_t *callbacks)
{
    if (stream->status != 200)
        return 0;
    while (length > 0) {
        const char *newline = memchr(data, '\n', length);
        size_t piece = newline ? (size_t)(newline - data) : length;
        if (newline != NULL && stream->line_length == 0) {
            handle_line(stream, data, piece, received_ns, callbacks);
        } else {
            if (grow(&stream->line, &stream->line_capacity, stream->line_length + piece) != 0)
                return -1;
            memcpy(stream->line + stream->line_length, data, piece);
            stream->line_length += piece;
            if (newline != NULL) {
                handle_line(stream, stream->line, stream->line_length, received_ns, callbacks);
                stream->line_length = 0;
            }
        }
        if (newline == NULL)
            break;
        data += piece + 1;
        length -= piece + 1;
    }
    return 0;
}

/* The response ended: jobs that never ended (or never appeared) are incomplete. */
static void finish(bench_stream_t *stream, uint64_t received_ns, const bench_stream_callbacks_t *callbacks)
{
    if (stream->status == 200) {
        for (int j = 0; j < stream->job_count; j++) {
            if (!stream->jobs[j].done)
                end_job(stream, &stream->jobs[j], received_ns, callbacks);
        }
        for (int j = stream->job_count; j < stream->jobs_expected; j++) {
            stream->jobs_incomplete++;
            callbacks->on_job_end(callbacks->context, 0, received_ns);
        }
    } else {
        stream->http_errors++;
        for (int j = 0; j < stream->jobs_expected; j++) {
            stream->jobs_incomplete++;
            callbacks->on_job_end(callbacks->context, 0, received_ns);
        }
    }
    stream->state = STATE_DONE;
}

void bench_stream_abort(bench_stream_t *stream, uint64_t received_ns, const bench_stream_callbacks_t *callbacks)
{
    if (!bench_stream_active(stream))
        return;
    stream->stream_errors++;
    if (stream->status == 0)
        stream->status = 200; /* no answer at all: count each job as incomplete once */
    finish(stream, received_ns, callbacks);
}

/* The line ending at "\r\n" at the start of the input, or NULL. */
static char *crlf(bench_stream_t *stream, size_t offset)
{
    return memmem(stream->input + offset, stream->input_length - offset, "\r\n", 2);
}

int bench_stream_feed(bench_stream_t *stream, const char *data, size_t length, uint64_t received_ns,
                      const bench_stream_callbacks_t *callbacks)
{
    if (!bench_stream_active(stream))
        return length == 0 ? 1 : -1; /* bytes nobody asked for */
    if (grow(&stream->input, &stream->input_capacity, stream->input_length + length) != 0)
        return -1;
    memcpy(stream->input + stream->input_length, data, length);
    stream->input_length += length;
    size_t at = 0;
    int result = 0;
    while (result == 0 && at < stream->input_length) {
        char *end;
        switch (stream->state) {
        case STATE_HEAD: {
            end = memmem(stream->input + at, stream->input_length - at, "\r\n\r\n", 4);
            if (end == NULL)
                goto keep;
            size_t head_length = (size_t)(end - (stream->input + at)) + 4;
            if (head_length < 12 || strncmp(stream->input + at, "HTTP/1.", 7) != 0)
                return -1;
            stream->status = atoi(stream->input + at + 9);
            char saved = *end;
            *end = '\0';
            const char *head = stream->input + at;
            const char *encoding = strcasestr(head, "\ntransfer-encoding:");
            const char *content = strcasestr(head, "\ncontent-length:");
            int chunked = encoding != NULL &&
                          strncasecmp(encoding + 19 + strspn(encoding + 19, " "), "chunked", 7) == 0;
            *end = saved;
            at += head_length;
            if (chunked) {
                stream->state = STATE_CHUNK_SIZE;
            } else if (content != NULL) {
                stream->remaining = strtoul(content + 16, NULL, 10);
                stream->state = STATE_BODY;
                if (stream->remaining == 0) {
                    finish(stream, received_ns, callbacks);
                    result = 1;
                }
            } else {
                return -1; /* a body to the end of the connection: not what either server sends */
            }
            break;
        }
        case STATE_CHUNK_SIZE:
            end = crlf(stream, at);
            if (end == NULL)
                goto keep;
            stream->remaining = strtoul(stream->input + at, NULL, 16);
            at = (size_t)(end - stream->input) + 2;
            stream->state = stream->remaining ? STATE_CHUNK_DATA : STATE_TRAILER;
            break;
        case STATE_CHUNK_DATA: {
            size_t take = stream->input_length - at;
            if (take > stream->remaining)
                take = stream->remaining;
            if (feed_lines(stream, stream->input + at, take, received_ns, callbacks) != 0)
                return -1;
            at += take;
            stream->remaining -= take;
            if (stream->remaining == 0)
                stream->state = STATE_CHUNK_END;
            break;
        }
        case STATE_CHUNK_END:
            if (stream->input_length - at < 2)
                goto keep;
            if (memcmp(stream->input + at, "\r\n", 2) != 0)
                return -1;
            at += 2;
            stream->state = STATE_CHUNK_SIZE;
            break;
        case STATE_TRAILER:
            end = crlf(stream, at);
            if (end == NULL)
                goto keep;
            if (end == stream->input + at) {
                finish(stream, received_ns, callbacks);
                result = 1;
            }
            at = (size_t)(end - stream->input) + 2;
            break;
        case STATE_BODY: {
            size_t take = stream->input_length - at;
            if (take > stream->remaining)
                take = stream->remaining;
            at += take;
            stream->remaining -= take;
            if (stream->remaining == 0) {
                finish(stream, received_ns, callbacks);
                result = 1;
            }
            break;
        }
        default:
            return -1;
        }
    }
keep:
    if (result == 1 && at < stream->input_length)
        return -1; /* bytes after the response: pipelining is not what we asked */
    memmove(stream->input, stream->input + at, stream->input_length - at);
    stream->input_length -= at;
    return result;
}

void bench_stream_free(bench_stream_t *stream)
{
    free_jobs(stream);
    free(stream->input);
    free(stream->line);
    stream->input = NULL;
    stream->line = NULL;
}

/* --- self-test: canned answers, fed whole and split at every byte --- */

static uint64_t test_parts;
static void test_on_part(void *context, uint64_t mono_ns, uint64_t received_ns)
{
    (void)context;
    (void)mono_ns;
    (void)received_ns;
    test_parts++;
}
static void test_on_job_end(void *context, int complete, uint64_t received_ns)
{
    (void)context;
    (void)complete;
    (void)received_ns;
}

/* Chunked body of the given lines, each line its own chunk but the first two together. */
static size_t test_answer(char *out, size_t size, const char *status, const char *const *lines)
{
    size_t at = (size_t)snprintf(out, size, "HTTP/1.1 %s\r\nServer: t\r\nTransfer-Encoding: chunked\r\n\r\n", status);
    for (int i = 0; lines[i] != NULL; i++) {
        char chunk[512];
        int length = i == 0 && lines[1] != NULL ? snprintf(chunk, sizeof(chunk), "%s\n%s\n", lines[0], lines[1])
                                                : snprintf(chunk, sizeof(chunk), "%s\n", lines[i]);
        if (i == 0 && lines[1] != NULL)
            i++;
        at += (size_t)snprintf(out + at, size - at, "%x\r\n%s\r\n", (unsigned)length, chunk);
    }
    at += (size_t)snprintf(out + at, size - at, "0\r\n\r\n");
    return at;
}

/* Feeds answer in pieces of `piece` bytes; 0 when it ended on its last byte with the counts expected. */
static int test_feed(const char *answer, size_t length, size_t piece, int first_index, uint64_t complete,
                     uint64_t incomplete, uint64_t http_errors)
{
    bench_stream_t stream = {0};
    bench_stream_callbacks_t callbacks = {test_on_part, test_on_job_end, NULL};
    int result = bench_stream_begin(&stream, 2, 2, first_index) == 0 ? 0 : -1;
    for (size_t at = 0; result == 0 && at < length; at += piece) {
        size_t take = length - at < piece ? length - at : piece;
        result = bench_stream_feed(&stream, answer + at, take, 1, &callbacks);
        if (result == 1 && at + take != length)
            result = -1; /* ended early */
    }
    int ok = result == 1 && stream.jobs_complete == complete && stream.jobs_incomplete == incomplete &&
             stream.http_errors == http_errors && stream.stream_errors == 0;
    bench_stream_free(&stream);
    return ok ? 0 : -1;
}

int bench_stream_self_test(void)
{
    static const char *const good[] = {
        "{\"event\":\"accepted\",\"data\":{\"jobs\":[\"a\",\"b\"]}}",
        "{\"job\":\"a\",\"seq\":1,\"event\":\"part\",\"data\":{\"i\":1,\"mono_ns\":5}}",
        "{\"job\":\"b\",\"seq\":1,\"event\":\"part\",\"data\":{\"i\":1,\"mono_ns\":6}}",
        "{\"event\":\"heartbeat\"}",
        "{\"job\":\"a\",\"seq\":2,\"event\":\"part\",\"data\":{\"i\":2,\"mono_ns\":7,\"pad\":\"xx\"}}",
        "{\"job\":\"a\",\"seq\":3,\"event\":\"done\",\"data\":{\"parts\":2}}",
        "{\"job\":\"b\",\"seq\":2,\"event\":\"part\",\"data\":{\"i\":2,\"mono_ns\":8}}",
        "{\"job\":\"b\",\"seq\":3,\"event\":\"done\",\"data\":{\"parts\":2}}", NULL};
    static const char *const seed[] = {
        "", "{\"job\":\"j1\",\"seq\":0,\"event\":\"part\",\"data\":{\"i\":0,\"mono_ns\":5}}",
        "{\"job\":\"j2\",\"seq\":0,\"event\":\"part\",\"data\":{\"i\":0,\"mono_ns\":6}}",
        "{\"job\":\"j1\",\"seq\":1,\"event\":\"part\",\"data\":{\"i\":1,\"mono_ns\":7}}",
        "{\"job\":\"j2\",\"seq\":1,\"event\":\"part\",\"data\":{\"i\":1,\"mono_ns\":8}}",
        "{\"job\":\"j2\",\"seq\":2,\"event\":\"done\",\"data\":{\"parts\":2}}",
        "{\"job\":\"j1\",\"seq\":2,\"event\":\"done\",\"data\":{\"parts\":2}}", NULL};
    static const char *const doubled[] = { /* b's part 1 twice, its part 2 never */
        "{\"job\":\"a\",\"seq\":1,\"event\":\"part\",\"data\":{\"i\":1,\"mono_ns\":5}}",
        "{\"job\":\"a\",\"seq\":2,\"event\":\"part\",\"data\":{\"i\":2,\"mono_ns\":5}}",
        "{\"job\":\"b\",\"seq\":1,\"event\":\"part\",\"data\":{\"i\":1,\"mono_ns\":6}}",
        "{\"job\":\"b\",\"seq\":2,\"event\":\"part\",\"data\":{\"i\":1,\"mono_ns\":6}}",
        "{\"job\":\"a\",\"seq\":3,\"event\":\"done\",\"data\":{\"parts\":2}}",
        "{\"job\":\"b\",\"seq\":3,\"event\":\"done\",\"data\":{\"parts\":2}}", NULL};
    static const char *const short_done[] = { /* b never ends, a's done miscounts */
        "{\"job\":\"a\",\"seq\":1,\"event\":\"part\",\"data\":{\"i\":1,\"mono_ns\":5}}",
        "{\"job\":\"a\",\"seq\":2,\"event\":\"part\",\"data\":{\"i\":2,\"mono_ns\":5}}",
        "{\"job\":\"a\",\"seq\":3,\"event\":\"done\",\"data\":{\"parts\":3}}", NULL};
    static const char refused[] = "HTTP/1.1 422 Unprocessable\r\ncontent-length: 20\r\n\r\n{\"error\":\"x\",\"m\":1}\n";
    char answer[4096];
    struct {
        const char *const *lines;
        const char *status;
        int first_index;
        uint64_t complete, incomplete, http_errors, parts;
    } cases[] = {{good, "200 OK", 1, 2, 0, 0, 4}, {seed, "200 OK", 0, 2, 0, 0, 4},
                 {doubled, "200 OK", 1, 1, 1, 0, 4}, {short_done, "200 OK", 1, 0, 2, 0, 2},
                 {NULL, NULL, 1, 0, 2, 1, 0}};
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        size_t length = cases[c].lines ? test_answer(answer, sizeof(answer), cases[c].status, cases[c].lines)
                                       : sizeof(refused) - 1;
        const char *bytes = cases[c].lines ? answer : refused;
        for (size_t piece = 1; piece <= length; piece++) {
            test_parts = 0;
            if (test_feed(bytes, length, piece, cases[c].first_index, cases[c].complete, cases[c].incomplete,
                          cases[c].http_errors) != 0 || test_parts != cases[c].parts) {
                fprintf(stderr, "bench_stream self-test: case %zu fed %zu bytes at a time failed\n", c, piece);
                return -1;
            }
        }
    }
    return 0;
}
