/*
 * rill_messages.c - encode and decode of the JSON frames SUBMIT, SUBMITTED,
 * BATCH, the REPLAY header, HELLO and WELCOME (docs/PROTOCOL.md). It owns their shape: the
 * process that builds a frame and the one that reads it share this code, so
 * the two cannot drift apart.
 *
 * The texts are byte for byte what rill wrote before this file existed
 * (compact JSON, keys in the order of rill_messages.h), and the decoders are
 * as lenient or as strict as the readers they replace: a SUBMIT is checked
 * field by field with the broker's messages (it comes from a client through
 * the frontend); a BATCH, a SUBMITTED and a REPLAY header come from rill's
 * own broker and only what their reader needs is required.
 *
 * Allocation follows rill_alloc.h: it aborts, so the encoders never fail.
 * Strings given to an encoder are valid UTF-8 (they come from a decoded
 * frame, a JSON body or the configuration); one that is not is written as
 * null, which the matching decoder refuses, rather than as invalid JSON.
 */
#include "rill_messages.h"

#include "rill_alloc.h"
#include "rill_config.h"
#include "rill_json_compact.h"
#include "rill_json_text.h"
#include "rill_protocol.h"
#include "rill_submit_fast.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *error, size_t error_size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes the reason (when the caller wants one) and returns -1. */
static int fail(char *error, size_t error_size, const char *format, ...)
{
    if (error != NULL && error_size > 0) {
        va_list arguments;
        va_start(arguments, format);
        vsnprintf(error, error_size, format, arguments);
        va_end(arguments);
    }
    return -1;
}

/* A string value, or null for NULL (and for text that is not UTF-8). */
static json_t *text_or_null(const char *text)
{
    json_t *value = text != NULL ? json_string(text) : NULL;
    return value != NULL ? value : json_null();
}

/* The compact text of a document built by an encoder; consumes it. jansson
 * reports running out of memory as NULL here, and rill_alloc.h's policy for
 * that is to abort. */
static char *dump(json_t *document)
{
    char *text = document != NULL ? json_dumps(document, JSON_COMPACT) : NULL;
    json_decref(document);
    if (text == NULL) {
        fprintf(stderr, "rill: out of memory encoding a message\n");
        abort();
    }
    return text;
}

/* ---- hand-written encoders: the broker's per-job messages ----------------
 *
 * SUBMITTED and BATCH go out for every job, so they are written straight
 * into a buffer (the same bytes json_dumps(JSON_COMPACT) gives) rather than
 * built as a jansson tree and dumped: a fraction of the instructions and
 * allocations (docs/DESIGN.md, "The path of one part"). */

static void append(rill_buffer_t *out, const char *text)
{
    (void)rill_buffer_append(out, text, strlen(text));
}

/* A JSON string, or null for NULL. Printable ASCII without '"' or '\\'
 * (ids, kinds, most sources) needs no escaping: copied in one go. */
static void append_text(rill_buffer_t *out, const char *text)
{
    if (text == NULL) {
        append(out, "null");
        return;
    }
    size_t length = 0;
    while (text[length] >= 0x20 && text[length] < 0x7f && text[length] != '"' && text[length] != '\\')
        length++;
    if (text[length] != '\0') {
        (void)rill_json_append_string(out, text, strlen(text));
        return;
    }
    (void)rill_buffer_append(out, "\"", 1);
    (void)rill_buffer_append(out, text, length);
    (void)rill_buffer_append(out, "\"", 1);
}

static void append_number(rill_buffer_t *out, uint64_t value)
{
    char digits[24];
    (void)rill_buffer_append(out, digits, rill_u64_to_text(value, digits));
}

/* The buffer's text, NUL-terminated, for the caller to free. */
static char *finish(rill_buffer_t *out)
{
    if (rill_buffer_append(out, "", 1) != 0) {
        fprintf(stderr, "rill: out of memory encoding a message\n");
        abort();
    }
    return out->data;
}

/* The string of value when it is one without a NUL inside, else NULL. */
static const char *plain_string(json_t *value, size_t *length)
{
    if (!json_is_string(value))
        return NULL;
    const char *text = json_string_value(value);
    size_t size = json_string_length(value);
    if (memchr(text, '\0', size) != NULL)
        return NULL;
    if (length != NULL)
        *length = size;
    return text;
}

static int is_job_id(json_t *value)
{
    size_t length;
    const char *text = plain_string(value, &length);
    return text != NULL && rill_job_id_is_valid((const uint8_t *)text, length);
}

/* A non-negative JSON integer into *number. 0, or -1 when value is not one. */
static int read_count(json_t *value, uint64_t *number)
{
    if (!json_is_integer(value) || json_integer_value(value) < 0)
        return -1;
    *number = (uint64_t)json_integer_value(value);
    return 0;
}

/* ---- SUBMIT (written in rill_submit_fast.c) ---------------------------- */

/* source, key and who: absent or null is none; else a string of at most
 * RILL_MESSAGE_TEXT_MAX bytes. 0, or -1 when it is neither. */
static int optional_text(json_t *job, const char *field, const char **value)
{
    json_t *item = json_object_get(job, field);
    *value = NULL;
    if (item == NULL || json_is_null(item))
        return 0;
    size_t length;
    const char *text = plain_string(item, &length);
    if (text == NULL || length > RILL_MESSAGE_TEXT_MAX)
        return -1;
    *value = text;
    return 0;
}

/* Checks job number index of a SUBMIT into *out; the broker's own messages
 * (docs/PROTOCOL.md, SUBMIT). */
static int decode_submit_job(json_t *job, size_t index, rill_submit_job_t *out, json_t **args_out,
                             char *error, size_t error_size)
{
    if (!json_is_object(job))
        return fail(error, error_size, "job %zu is not a JSON object", index);
    json_t *id = json_object_get(job, "id");
    if (!is_job_id(id))
        return fail(error, error_size, "job %zu: \"id\" must be 32 lower-case hex digits", index);
    size_t kind_length;
    const char *kind = plain_string(json_object_get(job, "kind"), &kind_length);
    if (kind == NULL || kind_length == 0 || kind_length >= RILL_CONFIG_KIND_NAME_MAX)
        return fail(error, error_size, "job %zu: \"kind\" must be a string of 1 to %d bytes", index,
                    RILL_CONFIG_KIND_NAME_MAX - 1);
    if (optional_text(job, "source", &out->source) != 0 || optional_text(job, "key", &out->key) != 0 ||
        optional_text(job, "who", &out->who) != 0)
        return fail(error, error_size,
                    "job %zu: \"source\", \"key\" and \"who\" must be strings of at most %d bytes",
                    index, RILL_MESSAGE_TEXT_MAX);
    json_t *args = json_object_get(job, "args");
    if (args != NULL && !json_is_object(args) && !json_is_null(args))
        return fail(error, error_size, "job %zu: \"args\" must be a JSON object", index);
    json_t *detach = json_object_get(job, "detach");
    if (detach != NULL && !json_is_boolean(detach) && !json_is_null(detach))
        return fail(error, error_size, "job %zu: \"detach\" must be a boolean", index);
    memcpy(out->id, json_string_value(id), RILL_ID_TEXT_SIZE);
    out->kind = kind;
    *args_out = json_is_object(args) ? args : NULL;
    out->detach = json_is_true(detach);
    return 0;
}

/* The jobs' args as compact text, one after another in submit->args_text
 * (args[i] NULL: none). */
static void dump_args(rill_submit_t *submit, json_t **args)
{
    rill_buffer_t out;
    rill_buffer_init(&out);
    size_t *starts = rill_xcalloc(submit->count, sizeof(*starts));
    for (size_t i = 0; i < submit->count; i++) {
        starts[i] = out.length;
        if (args[i] != NULL)
            rill_json_compact_dump(&out, args[i]);
        submit->jobs[i].args_length = out.length - starts[i];
    }
    submit->args_text = finish(&out);
    for (size_t i = 0; i < submit->count; i++)
        submit->jobs[i].args = args[i] != NULL ? submit->args_text + starts[i] : NULL;
    free(starts);
}

int rill_submit_decode(const void *bytes, size_t length, rill_submit_t *submit, char *error,
                       size_t error_size)
{
    /* What every frontend sends: read without a parser (rill_submit_fast.h). */
    if (rill_submit_decode_fast(bytes, length, submit) == 1)
        return 0;
    json_error_t parse_error;
    json_t *root = json_loadb(bytes, length, JSON_REJECT_DUPLICATES, &parse_error);
    if (root == NULL)
        return fail(error, error_size, "jobs are not valid JSON: %s", parse_error.text);
    size_t count = json_is_array(root) ? json_array_size(root) : 0;
    if (count == 0) {
        json_decref(root);
        return fail(error, error_size, "jobs must be an array of 1 or more job objects");
    }
    rill_submit_job_t *jobs = rill_xcalloc(count, sizeof(*jobs));
    json_t **args = rill_xcalloc(count, sizeof(*args));
    /* The ids seen so far, as keys: a hash, so a long request costs no
     * quadratic search. */
    json_t *seen = json_object();
    int result = 0;
    for (size_t i = 0; i < count && result == 0; i++) {
        result = decode_submit_job(json_array_get(root, i), i, &jobs[i], &args[i], error, error_size);
        if (result == 0 && json_object_get(seen, jobs[i].id) != NULL) {
            fail(error, error_size, "job %s appears twice in the request", jobs[i].id);
            result = -2; /* a conflict, not a bad shape: rill_messages.h */
        }
        if (result == 0)
            json_object_set_new_nocheck(seen, jobs[i].id, json_null());
    }
    json_decref(seen);
    if (result != 0) {
        free(args);
        free(jobs);
        json_decref(root);
        return result;
    }
    submit->root = root;
    submit->jobs = jobs;
    submit->count = count;
    dump_args(submit, args);
    free(args);
    return 0;
}

void rill_submit_release(rill_submit_t *submit)
{
    free(submit->jobs);
    free(submit->text);
    free(submit->args_text);
    json_decref(submit->root);
    memset(submit, 0, sizeof(*submit));
}

/* ---- SUBMITTED --------------------------------------------------------- */

/* SUBMITTED and BATCH are objects with a "jobs" array: the document (the
 * caller's to release) and *jobs, or NULL with the reason in error. */
static json_t *load_with_jobs(const void *bytes, size_t length, const char *frame, json_t **jobs,
                              char *error, size_t error_size)
{
    json_error_t parse_error;
    json_t *root = json_loadb(bytes, length, 0, &parse_error);
    if (root == NULL) {
        fail(error, error_size, "%s is not valid JSON: %s", frame, parse_error.text);
        return NULL;
    }
    *jobs = json_object_get(root, "jobs");
    if (!json_is_array(*jobs)) {
        fail(error, error_size, "%s has no \"jobs\" array", frame);
        json_decref(root);
        return NULL;
    }
    return root;
}

char *rill_submitted_encode(const char (*ids)[RILL_ID_TEXT_SIZE], const uint64_t *flush_ms,
                            size_t count)
{
    rill_buffer_t out;
    rill_buffer_init(&out);
    append(&out, "{\"jobs\":[");
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            append(&out, ",");
        append_text(&out, ids[i]);
    }
    append(&out, "],\"flush_ms\":[");
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            append(&out, ",");
        append_number(&out, flush_ms[i]);
    }
    append(&out, "]}");
    return finish(&out);
}

int rill_submitted_decode(const void *bytes, size_t length, rill_submitted_t *submitted, char *error,
                          size_t error_size)
{
    /* What rill-broker writes: read without a parser (rill_submit_fast.h). */
    if (rill_submitted_decode_fast(bytes, length, submitted) == 1)
        return 0;
    json_t *jobs;
    json_t *root = load_with_jobs(bytes, length, "SUBMITTED", &jobs, error, error_size);
    if (root == NULL)
        return -1;
    size_t count = json_array_size(jobs);
    for (size_t i = 0; i < count; i++) {
        if (!is_job_id(json_array_get(jobs, i))) {
            json_decref(root);
            return fail(error, error_size, "SUBMITTED: job %zu is not a job id", i);
        }
    }
    submitted->ids = rill_xcalloc(count, sizeof(*submitted->ids));
    submitted->flush_ms = rill_xcalloc(count, sizeof(*submitted->flush_ms));
    submitted->count = count;
    /* flush_ms is advice (how long the pipeline may hold parts): an entry
     * that is missing or not a count reads as 0, as from an older broker. */
    json_t *flush = json_object_get(root, "flush_ms");
    for (size_t i = 0; i < count; i++) {
        memcpy(submitted->ids[i], json_string_value(json_array_get(jobs, i)), RILL_ID_TEXT_SIZE);
        if (read_count(json_array_get(flush, i), &submitted->flush_ms[i]) != 0)
            submitted->flush_ms[i] = 0;
    }
    json_decref(root);
    return 0;
}

void rill_submitted_release(rill_submitted_t *submitted)
{
    free(submitted->ids);
    free(submitted->flush_ms);
    memset(submitted, 0, sizeof(*submitted));
}

/* ---- BATCH ------------------------------------------------------------- */

char *rill_batch_encode(const char *batch_id, int ordered, const rill_batch_job_t *jobs, size_t count)
{
    rill_buffer_t out;
    rill_buffer_init(&out);
    append(&out, "{\"batch\":");
    append_text(&out, batch_id);
    append(&out, ",\"jobs\":[");
    for (size_t i = 0; i < count; i++) {
        const rill_batch_job_t *job = &jobs[i];
        append(&out, i > 0 ? ",{\"id\":" : "{\"id\":");
        append_text(&out, job->id);
        append(&out, ",\"kind\":");
        append_text(&out, job->kind);
        append(&out, ",\"source\":");
        append_text(&out, job->source != NULL ? job->source : job->kind);
        append(&out, ",\"args\":");
        if (job->args_text != NULL)
            (void)rill_buffer_append(&out, job->args_text, job->args_text_length);
        else if (job->args != NULL)
            rill_json_compact_dump(&out, job->args);
        else
            append(&out, "{}");
        append(&out, ",\"attempt\":");
        append_number(&out, job->attempt);
        append(&out, ",\"who\":");
        append_text(&out, job->who != NULL ? job->who : "");
        append(&out, ",\"seq\":");
        append_number(&out, job->seq);
        append(&out, "}");
    }
    append(&out, "]");
    if (ordered) /* rill/3: run one after another, in this order */
        append(&out, ",\"ordered\":true");
    append(&out, "}");
    return finish(&out);
}

/* One entry: valid when its id is a job id and its kind a string; the rest
 * is optional (who NULL, attempt 0, source NULL, args NULL). */
static void decode_batch_job(json_t *entry, rill_batch_job_t *job)
{
    memset(job, 0, sizeof(*job));
    json_t *id = json_object_get(entry, "id");
    job->kind = plain_string(json_object_get(entry, "kind"), NULL);
    job->valid = is_job_id(id) && job->kind != NULL;
    if (!job->valid) {
        job->kind = NULL;
        return;
    }
    job->id = json_string_value(id);
    job->source = plain_string(json_object_get(entry, "source"), NULL);
    job->who = plain_string(json_object_get(entry, "who"), NULL);
    json_t *args = json_object_get(entry, "args");
    job->args = json_is_object(args) ? args : NULL;
    if (read_count(json_object_get(entry, "attempt"), &job->attempt) != 0)
        job->attempt = 0;
    if (read_count(json_object_get(entry, "seq"), &job->seq) != 0)
        job->seq = 0;
}

int rill_batch_decode(const void *bytes, size_t length, rill_batch_t *batch, char *error,
                      size_t error_size)
{
    memset(batch, 0, sizeof(*batch));
    json_t *jobs;
    json_t *root = load_with_jobs(bytes, length, "BATCH", &jobs, error, error_size);
    if (root == NULL)
        return -1;
    batch->root = root;
    batch->batch_id = plain_string(json_object_get(root, "batch"), NULL);
    batch->ordered = json_is_true(json_object_get(root, "ordered")); /* absent, or not true: parallel */
    batch->count = json_array_size(jobs);
    batch->jobs = rill_xcalloc(batch->count, sizeof(*batch->jobs));
    for (size_t i = 0; i < batch->count; i++)
        decode_batch_job(json_array_get(jobs, i), &batch->jobs[i]);
    return 0;
}

void rill_batch_release(rill_batch_t *batch)
{
    free(batch->jobs);
    json_decref(batch->root);
    memset(batch, 0, sizeof(*batch));
}

/* ---- REPLAY header ----------------------------------------------------- */

size_t rill_replay_header_encode(const rill_replay_header_t *header, char *buffer, size_t size)
{
    int epoch = rill_topic_epoch_is_valid(header->epoch, strlen(header->epoch));
    int length = snprintf(buffer, size,
                          "{\"first\":%llu,\"last\":%llu,\"ended\":%s,\"final\":%s,\"flush_ms\":%llu%s%s%s}",
                          (unsigned long long)header->first, (unsigned long long)header->last,
                          header->ended ? "true" : "false", header->final ? "true" : "false",
                          (unsigned long long)header->flush_ms, epoch ? ",\"epoch\":\"" : "",
                          epoch ? header->epoch : "", epoch ? "\"" : "");
    if (length < 0 || (size_t)length >= size) {
        if (size > 0)
            buffer[0] = '\0';
        return 0;
    }
    return (size_t)length;
}

/* Only "last" is required (the frontend's fetch needs it). A header that
 * cannot be read leaves final = 1: the replay is over, and its reader
 * reports the bad reply (docs/PROTOCOL.md, FETCH). */
int rill_replay_header_decode(const void *bytes, size_t length, rill_replay_header_t *header)
{
    memset(header, 0, sizeof(*header));
    header->final = 1;
    json_t *root = json_loadb(bytes, length, 0, NULL);
    uint64_t last;
    if (read_count(json_object_get(root, "last"), &last) != 0) {
        json_decref(root);
        return -1;
    }
    header->last = last;
    if (read_count(json_object_get(root, "first"), &header->first) != 0)
        header->first = last + 1;
    if (read_count(json_object_get(root, "flush_ms"), &header->flush_ms) != 0)
        header->flush_ms = 0;
    header->ended = json_is_true(json_object_get(root, "ended"));
    header->final = !json_is_false(json_object_get(root, "final"));
    /* rill/6: optional; one that is not an epoch reads as none. */
    const char *epoch = json_string_value(json_object_get(root, "epoch"));
    if (epoch != NULL && rill_topic_epoch_is_valid(epoch, strlen(epoch)))
        memcpy(header->epoch, epoch, RILL_TOPIC_EPOCH_LENGTH + 1);
    json_decref(root);
    return 0;
}

/* ---- HELLO --------------------------------------------------------------- */

char *rill_hello_encode(const rill_hello_t *hello)
{
    json_t *kinds = json_array();
    for (size_t i = 0; i < hello->kind_count; i++)
        json_array_append_new(kinds, text_or_null(hello->kinds[i]));
    json_t *jobs = json_array();
    for (size_t i = 0; i < hello->job_count; i++) {
        const rill_hello_job_t *job = &hello->jobs[i];
        json_t *entry = json_object();
        json_object_set_new(entry, "id", text_or_null(job->id));
        json_object_set_new(entry, "kind", text_or_null(job->kind));
        json_object_set_new(entry, "source", text_or_null(job->source != NULL ? job->source : job->kind));
        json_object_set_new(entry, "who", text_or_null(job->who));
        json_object_set_new(entry, "attempt", json_integer((json_int_t)job->attempt));
        json_object_set_new(entry, "seq", json_integer((json_int_t)job->seq));
        json_object_set_new(entry, "first", json_integer((json_int_t)job->first));
        json_array_append_new(jobs, entry);
    }
    json_t *document = json_object();
    json_object_set_new(document, "name", text_or_null(hello->name));
    json_object_set_new(document, "host", text_or_null(hello->host != NULL ? hello->host : ""));
    json_object_set_new(document, "pid", json_integer((json_int_t)hello->pid));
    json_object_set_new(document, "kinds", kinds);
    json_object_set_new(document, "credit", json_integer((json_int_t)hello->credit));
    json_object_set_new(document, "session", text_or_null(hello->session));
    json_object_set_new(document, "jobs", jobs);
    return dump(document);
}

/* A non-empty string of fewer than limit bytes, or NULL. */
static const char *short_text(json_t *value, size_t limit)
{
    size_t length;
    const char *text = plain_string(value, &length);
    return text != NULL && length > 0 && length < limit ? text : NULL;
}

/* One job of a HELLO: what the broker needs to adopt it (docs/PROTOCOL.md). */
static int decode_hello_job(json_t *entry, size_t index, rill_hello_job_t *job, char *error, size_t error_size)
{
    memset(job, 0, sizeof(*job));
    if (!json_is_object(entry) || !is_job_id(json_object_get(entry, "id")))
        return fail(error, error_size, "HELLO: job %zu has no job id", index);
    job->id = json_string_value(json_object_get(entry, "id"));
    job->kind = short_text(json_object_get(entry, "kind"), RILL_CONFIG_KIND_NAME_MAX);
    if (job->kind == NULL)
        return fail(error, error_size, "HELLO: job %zu: \"kind\" must be a string of 1 to %d bytes", index,
                    RILL_CONFIG_KIND_NAME_MAX - 1);
    if (optional_text(entry, "source", &job->source) != 0 || optional_text(entry, "who", &job->who) != 0)
        return fail(error, error_size, "HELLO: job %zu: \"source\" and \"who\" must be strings of at most %d bytes",
                    index, RILL_MESSAGE_TEXT_MAX);
    if (read_count(json_object_get(entry, "attempt"), &job->attempt) != 0 || job->attempt == 0 ||
        read_count(json_object_get(entry, "seq"), &job->seq) != 0)
        return fail(error, error_size, "HELLO: job %zu: \"attempt\" (from 1) and \"seq\" must be counts", index);
    json_t *first = json_object_get(entry, "first");
    if (first == NULL)
        job->first = job->seq + 1;
    else if (read_count(first, &job->first) != 0 || job->first == 0 || job->first > job->seq + 1)
        return fail(error, error_size, "HELLO: job %zu: \"first\" must be a count from 1 to seq + 1", index);
    return 0;
}

/* The fields of a HELLO besides its jobs (the checks the broker made
 * before this codec, with its messages). */
static int decode_hello_worker(json_t *root, rill_hello_t *hello, char *error, size_t error_size)
{
    hello->name = plain_string(json_object_get(root, "name"), NULL);
    if (hello->name == NULL || hello->name[0] == '\0' || strlen(hello->name) > RILL_MESSAGE_TEXT_MAX)
        return fail(error, error_size, "HELLO: \"name\" must be a string of 1 to 256 bytes");
    json_t *host = json_object_get(root, "host");
    hello->host = host != NULL ? plain_string(host, NULL) : "";
    if (hello->host == NULL || strlen(hello->host) > RILL_MESSAGE_TEXT_MAX)
        return fail(error, error_size, "HELLO: \"host\" must be a string of at most 256 bytes");
    json_t *pid = json_object_get(root, "pid");
    if (pid != NULL && (!json_is_integer(pid) || json_integer_value(pid) < 0))
        return fail(error, error_size, "HELLO: \"pid\" must be a non-negative integer");
    hello->pid = pid != NULL ? (int64_t)json_integer_value(pid) : 0;
    json_t *kinds = json_object_get(root, "kinds");
    if (!json_is_array(kinds) || json_array_size(kinds) == 0 || json_array_size(kinds) > RILL_CONFIG_MAX_KINDS)
        return fail(error, error_size, "HELLO: \"kinds\" must be an array of 1 to %d names", RILL_CONFIG_MAX_KINDS);
    for (size_t i = 0; i < json_array_size(kinds); i++) {
        hello->kinds[i] = short_text(json_array_get(kinds, i), RILL_CONFIG_KIND_NAME_MAX);
        if (hello->kinds[i] == NULL)
            return fail(error, error_size, "HELLO: each kind must be a string of 1 to %d bytes",
                        RILL_CONFIG_KIND_NAME_MAX - 1);
    }
    hello->kind_count = json_array_size(kinds);
    if (read_count(json_object_get(root, "credit"), &hello->credit) != 0 || hello->credit > RILL_MESSAGE_CREDIT_MAX)
        return fail(error, error_size, "HELLO: \"credit\" must be an integer from 0 to %d", RILL_MESSAGE_CREDIT_MAX);
    json_t *session = json_object_get(root, "session");
    if (!is_job_id(session))
        return fail(error, error_size, "HELLO: \"session\" must be 32 lower-case hex digits");
    hello->session = json_string_value(session);
    return 0;
}

int rill_hello_decode(const void *bytes, size_t length, rill_hello_t *hello, char *error, size_t error_size)
{
    memset(hello, 0, sizeof(*hello));
    json_error_t parse_error;
    json_t *root = json_loadb(bytes, length, JSON_REJECT_DUPLICATES, &parse_error);
    if (!json_is_object(root)) {
        json_decref(root);
        return fail(error, error_size, "HELLO: not a JSON object");
    }
    hello->root = root;
    json_t *jobs = json_object_get(root, "jobs");
    size_t count = json_is_array(jobs) ? json_array_size(jobs) : 0;
    int result = decode_hello_worker(root, hello, error, error_size);
    if (result == 0 && jobs != NULL && (!json_is_array(jobs) || count > RILL_MESSAGE_CREDIT_MAX))
        result = fail(error, error_size, "HELLO: \"jobs\" must be an array of at most %d jobs",
                      RILL_MESSAGE_CREDIT_MAX);
    if (result == 0 && count > 0) {
        hello->jobs = rill_xcalloc(count, sizeof(*hello->jobs));
        hello->job_count = count;
    }
    for (size_t i = 0; i < count && result == 0; i++)
        result = decode_hello_job(json_array_get(jobs, i), i, &hello->jobs[i], error, error_size);
    if (result != 0)
        rill_hello_release(hello);
    return result;
}

void rill_hello_release(rill_hello_t *hello)
{
    free(hello->jobs);
    json_decref(hello->root);
    memset(hello, 0, sizeof(*hello));
}

/* ---- WELCOME --------------------------------------------------------------- */

char *rill_welcome_encode(const rill_welcome_t *welcome)
{
    json_t *adopted = json_object();
    for (size_t i = 0; i < welcome->adopted_count; i++)
        json_object_set_new(adopted, welcome->adopted[i].id, json_integer((json_int_t)welcome->adopted[i].last_seq));
    json_t *cancelled = json_array();
    for (size_t i = 0; i < welcome->cancelled_count; i++)
        json_array_append_new(cancelled, text_or_null(welcome->cancelled[i]));
    json_t *document = json_object();
    json_object_set_new(document, "broker", text_or_null(welcome->broker));
    json_object_set_new(document, "heartbeat_ms", json_integer((json_int_t)welcome->heartbeat_ms));
    json_object_set_new(document, "adopted", adopted);
    json_object_set_new(document, "cancelled", cancelled);
    return dump(document);
}

/* The adopted object and the cancelled array into welcome. */
static int decode_welcome_jobs(json_t *adopted, json_t *cancelled, rill_welcome_t *welcome, char *error,
                               size_t error_size)
{
    if ((adopted != NULL && !json_is_object(adopted)) || (cancelled != NULL && !json_is_array(cancelled)))
        return fail(error, error_size, "WELCOME: \"adopted\" must be an object, \"cancelled\" an array");
    size_t count = json_object_size(adopted);
    welcome->adopted = rill_xcalloc(count > 0 ? count : 1, sizeof(*welcome->adopted));
    const char *id;
    json_t *last_seq;
    json_object_foreach(adopted, id, last_seq)
    {
        rill_welcome_job_t *job = &welcome->adopted[welcome->adopted_count];
        if (!rill_job_id_is_valid((const uint8_t *)id, strlen(id)) || read_count(last_seq, &job->last_seq) != 0)
            return fail(error, error_size, "WELCOME: an adopted job is not a job id with its last seq");
        job->id = id;
        welcome->adopted_count++;
    }
    count = json_array_size(cancelled);
    welcome->cancelled = rill_xcalloc(count > 0 ? count : 1, sizeof(*welcome->cancelled));
    for (size_t i = 0; i < count; i++) {
        if (!is_job_id(json_array_get(cancelled, i)))
            return fail(error, error_size, "WELCOME: cancelled job %zu is not a job id", i);
        welcome->cancelled[welcome->cancelled_count++] = json_string_value(json_array_get(cancelled, i));
    }
    return 0;
}

int rill_welcome_decode(const void *bytes, size_t length, rill_welcome_t *welcome, char *error,
                        size_t error_size)
{
    memset(welcome, 0, sizeof(*welcome));
    json_t *root = json_loadb(bytes, length, JSON_REJECT_DUPLICATES, NULL);
    welcome->root = root;
    welcome->broker = short_text(json_object_get(root, "broker"), 64);
    int result = 0;
    if (welcome->broker == NULL)
        result = fail(error, error_size, "WELCOME: \"broker\" must be a string of 1 to 63 bytes");
    if (result == 0 && read_count(json_object_get(root, "heartbeat_ms"), &welcome->heartbeat_ms) != 0)
        welcome->heartbeat_ms = 0;
    if (result == 0)
        result = decode_welcome_jobs(json_object_get(root, "adopted"), json_object_get(root, "cancelled"), welcome,
                                     error, error_size);
    if (result != 0)
        rill_welcome_release(welcome);
    return result;
}

void rill_welcome_release(rill_welcome_t *welcome)
{
    free(welcome->adopted);
    free((void *)welcome->cancelled);
    json_decref(welcome->root);
    memset(welcome, 0, sizeof(*welcome));
}
