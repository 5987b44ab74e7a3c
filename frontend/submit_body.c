/*
 * submit_body.c - a POST /v1/jobs body into a SUBMIT's jobs. See
 * submit_body.h.
 *
 * Two readers. The fast one takes a body of job objects whose members are
 * "kind", "source", "key" (strings without escapes) and "args" (an object),
 * each at most once: it checks the whole text once (rill_json_check), ends
 * the strings in place in a copy, and parses nothing but a built-in kind's
 * args (its check needs a tree). It accepts only jobs that pass every check
 * and whose args it can copy as jansson would write them; otherwise it
 * steps aside and the full reader loads the body with jansson and checks it
 * as it always did: it answers every refusal, with the words it always used.
 */
#include "submit_body.h"

#include "http_reply.h"
#include "http_request.h"
#include "rill_alloc.h"
#include "rill_job.h"
#include "rill_json_check.h"
#include "rill_json_compact.h"
#include "rill_json_cursor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the full reader -------------------------------------------------- */

/* Checks the body; on error answers and returns NULL. Else the job list. */
static json_t *parse_jobs(const rill_config_t *config, h2o_req_t *req)
{
    json_t *body = rill_http_request_json_body(req, config->max_body_bytes, JSON_DECODE_ANY,
                                               "the body must be a job object or an array of them");
    if (body == NULL)
        return NULL;
    int is_array = json_is_array(body);
    json_t *jobs = body;
    if (!is_array) {
        jobs = json_array();
        json_array_append_new(jobs, body);
    }
    size_t count = json_array_size(jobs);
    if (count == 0) {
        rill_http_reply_error(req, 422, "invalid_job", "the job array is empty");
        json_decref(jobs);
        return NULL;
    }
    if (count > config->max_jobs_per_request) {
        char message[128];
        snprintf(message, sizeof(message), "%zu jobs in one request; at most %llu", count,
                 (unsigned long long)config->max_jobs_per_request);
        rill_http_reply_error(req, 413, "too_many_jobs", message);
        json_decref(jobs);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        rill_job_error_t job_error;
        memset(&job_error, 0, sizeof(job_error));
        if (rill_job_validate(config, json_array_get(jobs, i), &job_error) != 0) {
            char message[320];
            if (is_array)
                snprintf(message, sizeof(message), "job %zu: %s", i, job_error.message);
            else
                snprintf(message, sizeof(message), "%s", job_error.message);
            int status = job_error.status >= 400 && job_error.status < 500 ? job_error.status : 422;
            rill_http_reply_error(req, status, job_error.code != NULL ? job_error.code : "invalid_job",
                                  message);
            json_decref(jobs);
            return NULL;
        }
    }
    rill_job_error_t budget_error;
    if (rill_job_request_budget(config, jobs, &budget_error) != 0) {
        rill_http_reply_error(req, budget_error.status, budget_error.code, budget_error.message);
        json_decref(jobs);
        return NULL;
    }
    return jobs;
}

/* Each job's args as compact text into body->args: the client's own text
 * (found in the body) without its whitespace, when that is what jansson
 * would write (rill_json_compact.h), else the tree dumped as before. */
static void args_texts(rill_submit_body_t *body, h2o_req_t *req, size_t *starts)
{
    const char *text = req->entity.base;
    size_t *found_starts = rill_xcalloc(body->count, sizeof(*found_starts));
    size_t *found_lengths = rill_xcalloc(body->count, sizeof(*found_lengths));
    long found = rill_json_compact_find_members(text, req->entity.len, "args", body->count, found_starts,
                                                found_lengths);
    for (size_t i = 0; i < body->count; i++) {
        json_t *args = json_object_get(json_array_get(body->tree, i), "args");
        starts[i] = body->args.length;
        if (args != NULL && !(found == (long)body->count && found_lengths[i] > 0 &&
            rill_json_compact_append(&body->args, text + found_starts[i], found_lengths[i]) == 0))
            rill_json_compact_dump(&body->args, args);
        body->jobs[i].args_length = body->args.length - starts[i];
    }
    free(found_starts);
    free(found_lengths);
}

static int read_full(h2o_req_t *req, const rill_config_t *config, rill_submit_body_t *body)
{
    body->tree = parse_jobs(config, req);
    if (body->tree == NULL)
        return -1;
    body->count = json_array_size(body->tree);
    body->jobs = rill_xcalloc(body->count, sizeof(*body->jobs));
    size_t *starts = rill_xcalloc(body->count, sizeof(*starts));
    args_texts(body, req, starts);
    for (size_t i = 0; i < body->count; i++) {
        json_t *job = json_array_get(body->tree, i);
        body->jobs[i].kind = json_string_value(json_object_get(job, "kind"));
        body->jobs[i].source = json_string_value(json_object_get(job, "source"));
        body->jobs[i].key = json_string_value(json_object_get(job, "key"));
        if (json_object_get(job, "args") != NULL)
            body->jobs[i].args = body->args.data + starts[i];
    }
    free(starts);
    return 0;
}

/* ---- the fast reader ------------------------------------------------------ */

static void skip_space(rill_json_cursor_t *c)
{
    while (c->at < c->end && (*c->at == ' ' || *c->at == '\n' || *c->at == '\r' || *c->at == '\t'))
        c->at++;
}

/* A string without escapes, NUL-terminated in place over its closing quote
 * (the text is valid JSON: rill_json_check). NULL when it is not one. */
static const char *plain_string(rill_json_cursor_t *c, size_t *length)
{
    if (c->at >= c->end || *c->at != '"')
        return NULL;
    char *start = ++c->at;
    while (c->at < c->end && *c->at != '"' && *c->at != '\\')
        c->at++;
    if (c->at >= c->end || *c->at != '"')
        return NULL;
    *c->at++ = '\0';
    *length = (size_t)(c->at - 1 - start);
    return start;
}


/* A job object's fields; args_start NULL when it has none. */
typedef struct {
    const char *kind, *source, *key, *args_start;
    size_t source_length, key_length, args_length;
} fields_t;

/* One job object at the cursor, in the shape the fast reader takes. */
static int read_job(rill_json_cursor_t *c, fields_t *job)
{
    memset(job, 0, sizeof(*job));
    if (c->at >= c->end || *c->at != '{')
        return -1;
    c->at++;
    for (;;) {
        skip_space(c);
        size_t length;
        const char *name = plain_string(c, &length);
        if (name == NULL)
            return -1;
        skip_space(c);
        if (c->at >= c->end || *c->at++ != ':')
            return -1;
        skip_space(c);
        size_t kind_length; /* a kind too long is not declared: check_job */
        if (strcmp(name, "kind") == 0 && job->kind == NULL)
            job->kind = plain_string(c, &kind_length);
        else if (strcmp(name, "source") == 0 && job->source == NULL)
            job->source = plain_string(c, &job->source_length);
        else if (strcmp(name, "key") == 0 && job->key == NULL)
            job->key = plain_string(c, &job->key_length);
        else if (strcmp(name, "args") == 0 && job->args_start == NULL)
            (void)rill_json_cursor_object(c, &job->args_start, &job->args_length);
        else
            return -1; /* a field unknown or twice: the full reader's to refuse */
        if ((strcmp(name, "kind") == 0 && job->kind == NULL) ||
            (strcmp(name, "source") == 0 && job->source == NULL) ||
            (strcmp(name, "key") == 0 && job->key == NULL) ||
            (strcmp(name, "args") == 0 && job->args_start == NULL))
            return -1;
        skip_space(c);
        if (c->at < c->end && *c->at == ',') {
            c->at++;
            continue;
        }
        if (c->at < c->end && *c->at == '}') {
            c->at++;
            return job->kind != NULL ? 0 : -1;
        }
        return -1;
    }
}

/* The end of a string without escapes whose opening quote is at, or NULL. */
static const char *string_end(const char *at, const char *end)
{
    for (at++; at < end && *at != '"'; at++) {
        if (*at == '\\')
            return NULL;
    }
    return at < end ? at + 1 : NULL;
}

static const char *skip_blank(const char *at, const char *end)
{
    while (at < end && (*at == ' ' || *at == '\n' || *at == '\r' || *at == '\t'))
        at++;
    return at;
}

/* One member value of a flat object: an integer of at most 18 digits, a
 * string without escapes, true, false or null; NULL for anything else. */
static json_t *flat_value(const char **at, const char *end)
{
    const char *p = *at;
    if (*p == '"') {
        const char *close = string_end(p, end);
        if (close == NULL)
            return NULL;
        *at = close;
        return json_stringn_nocheck(p + 1, (size_t)(close - 1 - (p + 1)));
    }
    if (*p == '-' || (*p >= '0' && *p <= '9')) {
        int negative = *p == '-';
        const char *digits = p + negative;
        for (p = digits; p < end && *p >= '0' && *p <= '9'; p++)
            ;
        if (p == digits || p - digits > 18 || (p < end && (*p == '.' || *p == 'e' || *p == 'E')))
            return NULL; /* counted first: 18 digits cannot overflow */
        json_int_t value = 0;
        for (const char *digit = digits; digit < p; digit++)
            value = value * 10 + (*digit - '0');
        *at = p;
        return json_integer(negative ? -value : value);
    }
    static const struct {
        const char *word;
        size_t length;
    } words[] = {{"true", 4}, {"false", 5}, {"null", 4}};
    for (size_t i = 0; i < 3; i++) {
        if ((size_t)(end - p) >= words[i].length && memcmp(p, words[i].word, words[i].length) == 0) {
            *at = p + words[i].length;
            return i == 0 ? json_true() : i == 1 ? json_false() : json_null();
        }
    }
    return NULL;
}

/* A flat args object (text already valid JSON) as a tree, built without
 * jansson's parser, which costs several times more for the few members
 * args usually have. NULL when args are not flat (nested, a real, an
 * escape): they are parsed then. */
static json_t *flat_args(const char *start, size_t length)
{
    const char *end = start + length, *at = skip_blank(start + 1, end);
    json_t *object = json_object();
    if (at < end && *at == '}')
        return object;
    while (object != NULL && at < end && *at == '"') {
        const char *key_end = string_end(at, end);
        if (key_end == NULL)
            break;
        const char *key = at + 1;
        at = skip_blank(key_end, end);
        if (at >= end || *at != ':')
            break;
        at = skip_blank(at + 1, end);
        json_t *value = at < end ? flat_value(&at, end) : NULL;
        if (value == NULL ||
            json_object_setn_new_nocheck(object, key, (size_t)(key_end - 1 - key), value) != 0)
            break;
        at = skip_blank(at, end);
        if (at < end && *at == '}')
            return at + 1 == end ? object : (json_decref(object), NULL);
        if (at >= end || *at != ',')
            break;
        at = skip_blank(at + 1, end);
    }
    json_decref(object);
    return NULL;
}

/* What rill_job_validate and the budget check of one job: 0 when it
 * passes (*bytes: the part bytes it asks for), else -1. */
static int check_job(const rill_config_t *config, const fields_t *job, uint64_t *bytes)
{
    *bytes = 0;
    if (!rill_config_declares_kind(config, job->kind) ||
        (job->source != NULL && (job->source_length == 0 || job->source_length > RILL_JOB_TEXT_MAX)) ||
        (job->key != NULL && (job->key_length == 0 || job->key_length > RILL_JOB_TEXT_MAX)))
        return -1;
    const rill_kind_t *builtin = rill_kind_find(job->kind);
    if (builtin == NULL)
        return 0;
    json_t *args = NULL;
    if (job->args_start != NULL) {
        args = flat_args(job->args_start, job->args_length);
        if (args == NULL)
            args = json_loadb(job->args_start, job->args_length, 0, NULL);
        if (!json_is_object(args)) {
            json_decref(args);
            return -1;
        }
    }
    rill_job_error_t error;
    int result = builtin->validate(config, args, &error);
    if (result == 0 && builtin->request_bytes != NULL)
        *bytes = builtin->request_bytes(config, args);
    json_decref(args);
    return result;
}

/* 1 with body filled, or 0 (body left empty) for the full reader. */
static int read_fast(h2o_req_t *req, const rill_config_t *config, rill_submit_body_t *body)
{
    size_t length = req->entity.len;
    if (req->entity.base == NULL || length == 0 || length > config->max_body_bytes ||
        rill_json_check(req->entity.base, length, NULL) != 0)
        return 0;
    body->text = rill_xmalloc(length);
    memcpy(body->text, req->entity.base, length);
    rill_json_cursor_t c = {body->text, body->text + length};
    skip_space(&c);
    int is_array = c.at < c.end && *c.at == '[';
    if (is_array) {
        c.at++;
        skip_space(&c);
    }
    size_t capacity = 0;
    fields_t *jobs = NULL;
    uint64_t total = 0;
    int ok = 1;
    while (ok) {
        if (body->count == capacity) {
            capacity = capacity > 0 ? capacity * 2 : 4;
            jobs = rill_xrealloc(jobs, capacity * sizeof(*jobs));
        }
        uint64_t bytes = 0;
        ok = body->count < config->max_jobs_per_request && read_job(&c, &jobs[body->count]) == 0 &&
             check_job(config, &jobs[body->count], &bytes) == 0;
        total += bytes; /* each is at most max_request_bytes (its own check): no overflow */
        ok = ok && total <= config->max_request_bytes;
        if (!ok)
            break;
        body->count++;
        skip_space(&c);
        if (!is_array || (c.at < c.end && *c.at == ']'))
            break;
        ok = c.at < c.end && *c.at++ == ',';
        skip_space(&c);
    }
    if (is_array)
        c.at++; /* the ']' */
    skip_space(&c);
    body->jobs = ok && c.at == c.end ? rill_xcalloc(body->count, sizeof(*body->jobs)) : NULL;
    size_t *starts = body->jobs != NULL ? rill_xcalloc(body->count, sizeof(*starts)) : NULL;
    for (size_t i = 0; body->jobs != NULL && i < body->count; i++) {
        starts[i] = body->args.length;
        body->jobs[i].kind = jobs[i].kind;
        body->jobs[i].source = jobs[i].source;
        body->jobs[i].key = jobs[i].key;
        if (jobs[i].args_start != NULL &&
            rill_json_compact_append(&body->args, jobs[i].args_start, jobs[i].args_length) != 0)
            ok = 0; /* args jansson would write otherwise */
        body->jobs[i].args_length = body->args.length - starts[i];
    }
    for (size_t i = 0; ok && body->jobs != NULL && i < body->count; i++) {
        if (jobs[i].args_start != NULL)
            body->jobs[i].args = body->args.data + starts[i];
    }
    free(starts);
    free(jobs);
    if (body->jobs == NULL || !ok) {
        rill_submit_body_release(body);
        return 0;
    }
    return 1;
}

int rill_submit_body_read(h2o_req_t *req, const rill_config_t *config, rill_submit_body_t *body)
{
    memset(body, 0, sizeof(*body));
    if (read_fast(req, config, body) == 1)
        return 0;
    if (read_full(req, config, body) == 0)
        return 0;
    rill_submit_body_release(body);
    return -1;
}

void rill_submit_body_release(rill_submit_body_t *body)
{
    free(body->jobs);
    free(body->text);
    json_decref(body->tree);
    rill_buffer_release(&body->args);
    memset(body, 0, sizeof(*body));
}
