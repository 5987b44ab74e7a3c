/*
 * http_api.c - see http_api.h.
 *
 * Every request is answered with JSON (errors included) except the event
 * streams, /metrics and the dashboard page (GET /, dashboard_http.c). A
 * request waiting for the broker keeps its state in its own pool
 * (h2o_mem_alloc_shared with a dispose callback): when the client vanishes
 * the pool goes, and the dispose drops the pending broker call, so a late
 * reply finds nothing and no freed request is ever touched.
 */
#include "http_api.h"

#include "http_reply.h"
#include "http_request.h"

#include "access.h"

#include "cursor.h"
#include "dashboard_http.h"
#include "event_format.h"
#include "metrics_http.h"
#include "rill_id.h"
#include "rill_job.h"
#include "rill_log.h"
#include "router.h"
#include "stream.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    h2o_handler_t super;
    rill_frontend_t *frontend;
} api_handler_t;

/* A POST /v1/jobs waiting for SUBMITTED. */
typedef struct {
    rill_frontend_t *frontend;
    h2o_req_t *req;
    rill_broker_call_t *call;
    rill_stream_t *stream; /* NULL when detached */
    size_t job_count;
    char (*ids)[RILL_ID_TEXT_SIZE];
    char token[1 + RILL_ID_TEXT_SIZE]; /* "s<token>" while subscribed, else "" */
    char who[64];
} submit_t;

/* A request whose answer is the broker's reply (status, cancel, publish). */
typedef struct {
    rill_frontend_t *frontend;
    h2o_req_t *req;
    rill_broker_call_t *call;
} job_call_t;

/* ---- POST /v1/jobs ---------------------------------------------------- */

static void submit_unsubscribe_token(submit_t *submit)
{
    if (submit->token[0] != '\0') {
        rill_broker_link_unsubscribe(submit->frontend->broker, submit->token,
                                     strlen(submit->token));
        submit->token[0] = '\0';
    }
}

static void submit_dispose(void *data)
{
    submit_t *submit = data;
    rill_broker_link_cancel(submit->frontend->broker, &submit->call);
    submit_unsubscribe_token(submit);
}

static void submit_fail(submit_t *submit)
{
    submit_unsubscribe_token(submit);
    if (submit->stream != NULL) {
        rill_stream_abandon(submit->stream);
        submit->stream = NULL;
    }
}

/* The ids the broker answered, when they are well formed and as many; the
 * stream (if any) learns each job's flush_ms. */
static json_t *submitted_ids(const rill_message_t *message, size_t expected, rill_stream_t *stream)
{
    json_error_t error;
    json_t *reply = json_loadb((const char *)message->arguments[1].data,
                               message->arguments[1].size, 0, &error);
    json_t *jobs = json_object_get(reply, "jobs");
    json_t *flush = json_object_get(reply, "flush_ms");
    for (size_t i = 0; stream != NULL && json_is_array(flush) && i < json_array_size(flush); i++) {
        json_t *value = json_array_get(flush, i);
        if (json_is_integer(value) && json_integer_value(value) >= 0)
            rill_stream_note_flush_ms(stream, (uint64_t)json_integer_value(value));
    }
    if (!json_is_array(jobs) || json_array_size(jobs) != expected) {
        json_decref(reply);
        return NULL;
    }
    size_t index;
    json_t *id;
    json_array_foreach(jobs, index, id)
    {
        if (!json_is_string(id) ||
            !rill_job_id_is_valid((const uint8_t *)json_string_value(id), json_string_length(id))) {
            json_decref(reply);
            return NULL;
        }
    }
    json_incref(jobs);
    json_decref(reply);
    return jobs;
}

static void on_submit_reply(void *owner, rill_call_outcome_t outcome,
                            const rill_message_t *message)
{
    submit_t *submit = owner;
    h2o_req_t *req = submit->req;
    submit->call = NULL;
    if (outcome != RILL_CALL_REPLIED) {
        submit_fail(submit);
        rill_http_reply_unanswered(req, outcome == RILL_CALL_TIMEOUT);
        return;
    }
    if (message->command == RILL_COMMAND_ERROR) {
        submit_fail(submit);
        rill_http_reply_broker_error(req, message);
        return;
    }
    if (message->command != RILL_COMMAND_SUBMITTED) {
        submit_fail(submit);
        rill_http_reply_error(req, 502, "bad_gateway", "unexpected reply from the broker");
        return;
    }
    submit_unsubscribe_token(submit);
    json_t *ids = submitted_ids(message, submit->job_count, submit->stream);
    if (ids == NULL)
        rill_log_warn(submit->who, "SUBMITTED without a usable id list; keeping ours");
    for (size_t i = 0; ids != NULL && i < submit->job_count; i++) {
        const char *id = json_string_value(json_array_get(ids, i));
        if (strcmp(id, submit->ids[i]) == 0)
            continue;
        /* The broker joined the job to an identical one (dedup). */
        rill_log_info(submit->who, "job %s joined %s", submit->ids[i], id);
        if (submit->stream != NULL &&
            rill_stream_replace_job(submit->stream, submit->ids[i], id) != 0)
            rill_log_warn(submit->who, "cannot follow joined job %s", id);
        memcpy(submit->ids[i], id, RILL_ID_TEXT_SIZE);
    }
    json_decref(ids);
    if (submit->stream != NULL && rill_stream_fetch_joined(submit->stream) != 0)
        rill_log_warn(submit->who, "cannot fetch the joined jobs' events so far");
    if (submit->stream != NULL) {
        rill_log_info(submit->who, "%zu job(s) submitted, streaming", submit->job_count);
        rill_stream_start(submit->stream);
        submit->stream = NULL;
        return;
    }
    /* Detached: 202 {"jobs":[...]} */
    size_t capacity = 16 + submit->job_count * (RILL_ID_TEXT_SIZE + 3);
    char *body = h2o_mem_alloc_pool(&req->pool, capacity);
    size_t at = 0;
    at += (size_t)snprintf(body, capacity, "{\"jobs\":[");
    for (size_t i = 0; i < submit->job_count; i++) {
        if (i > 0)
            body[at++] = ',';
        body[at++] = '"';
        memcpy(body + at, submit->ids[i], RILL_ID_TEXT_SIZE - 1);
        at += RILL_ID_TEXT_SIZE - 1;
        body[at++] = '"';
    }
    memcpy(body + at, "]}\n", 3);
    at += 3;
    rill_log_info(submit->who, "%zu detached job(s) submitted", submit->job_count);
    rill_http_reply_json(req, 202, body, at);
}

/* Checks the body; on error answers and returns NULL. Else the job list. */
static json_t *parse_jobs(rill_frontend_t *frontend, h2o_req_t *req)
{
    const rill_config_t *config = &frontend->config;
    if (req->entity.base == NULL || req->entity.len == 0) {
        rill_http_reply_error(req, 400, "bad_json", "the body must be a job object or an array of them");
        return NULL;
    }
    if (req->entity.len > config->max_body_bytes) {
        char message[128];
        snprintf(message, sizeof(message), "the body is over %llu bytes",
                 (unsigned long long)config->max_body_bytes);
        rill_http_reply_error(req, 413, "body_too_large", message);
        return NULL;
    }
    json_error_t error;
    json_t *body = json_loadb(req->entity.base, req->entity.len, JSON_DECODE_ANY, &error);
    if (body == NULL) {
        char message[256];
        snprintf(message, sizeof(message), "malformed JSON at line %d column %d: %s", error.line,
                 error.column, error.text);
        rill_http_reply_error(req, 400, "bad_json", message);
        return NULL;
    }
    json_t *jobs;
    int is_array = json_is_array(body);
    if (is_array) {
        jobs = body;
    } else {
        jobs = json_array();
        if (jobs == NULL || json_array_append_new(jobs, body) != 0) {
            json_decref(jobs);
            json_decref(body);
            rill_http_reply_error(req, 500, "internal", "out of memory");
            return NULL;
        }
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
    return jobs;
}

/* The SUBMIT payload: [{"id","kind","source","args","key","who","detach"}]. */
static char *submit_payload(json_t *jobs, submit_t *submit, int detach)
{
    json_t *out = json_array();
    if (out == NULL)
        return NULL;
    int failed = 0;
    for (size_t i = 0; i < submit->job_count && !failed; i++) {
        json_t *job = json_array_get(jobs, i);
        json_t *kind = json_object_get(job, "kind");
        json_t *source = json_object_get(job, "source");
        json_t *args = json_object_get(job, "args");
        json_t *key = json_object_get(job, "key");
        json_t *item = json_object();
        failed |= item == NULL;
        failed |= json_object_set_new(item, "id", json_string(submit->ids[i])) != 0;
        failed |= json_object_set(item, "kind", kind) != 0;
        failed |= json_object_set(item, "source", source != NULL ? source : kind) != 0;
        failed |= json_object_set_new(item, "args", args != NULL ? json_incref(args) : json_object()) != 0;
        failed |= json_object_set_new(item, "key", key != NULL ? json_incref(key) : json_null()) != 0;
        failed |= json_object_set_new(item, "who", json_string(submit->who)) != 0;
        failed |= json_object_set_new(item, "detach", json_boolean(detach)) != 0;
        failed |= json_array_append_new(out, item) != 0;
    }
    char *text = failed ? NULL : json_dumps(out, JSON_COMPACT);
    json_decref(out);
    return text;
}

static void handle_submit(rill_frontend_t *frontend, h2o_req_t *req)
{
    size_t query_length;
    const char *query = rill_http_request_query(req, &query_length);
    int detach = rill_query_flag(query, query_length, "detach");
    rill_stream_format_t format;
    /* A format= of neither sse nor ndjson is NDJSON here, as it always was. */
    (void)rill_http_request_stream_format(req, &format);

    json_t *jobs = parse_jobs(frontend, req);
    if (jobs == NULL)
        return;
    if (!rill_broker_link_is_connected(frontend->broker)) {
        json_decref(jobs);
        rill_http_reply_error(req, 503, "unavailable", "no broker");
        return;
    }
    submit_t *submit = h2o_mem_alloc_shared(&req->pool, sizeof(*submit), submit_dispose);
    memset(submit, 0, sizeof(*submit));
    submit->frontend = frontend;
    submit->req = req;
    submit->job_count = json_array_size(jobs);
    submit->ids = h2o_mem_alloc_pool(&req->pool, submit->job_count * sizeof(*submit->ids));
    rill_http_request_client(req, submit->who, sizeof(submit->who));
    for (size_t i = 0; i < submit->job_count; i++) {
        if (rill_id_generate(submit->ids[i]) != 0) {
            json_decref(jobs);
            rill_http_reply_error(req, 500, "internal", "no randomness for job ids");
            return;
        }
    }
    char *payload = submit_payload(jobs, submit, detach);
    json_decref(jobs);
    if (payload == NULL) {
        rill_http_reply_error(req, 500, "internal", "out of memory");
        return;
    }
    char token[RILL_ID_TEXT_SIZE] = "";
    if (!detach) {
        /* Subjects first, then the barrier token: PROTOCOL.md, The barrier. */
        submit->stream = rill_stream_new(frontend, req, format, submit->who);
        if (submit->stream == NULL)
            goto unavailable;
        for (size_t i = 0; i < submit->job_count; i++) {
            if (rill_stream_add_job(submit->stream, submit->ids[i]) != 0)
                goto unavailable;
        }
        if (rill_id_generate(token) != 0)
            goto unavailable;
        submit->token[0] = 's';
        memcpy(submit->token + 1, token, RILL_ID_TEXT_SIZE);
        if (rill_broker_link_subscribe(frontend->broker, submit->token, strlen(submit->token)) != 0) {
            submit->token[0] = '\0';
            goto unavailable;
        }
    }
    rill_frame_t arguments[2] = {rill_frame_from_string(token), rill_frame_from_string(payload)};
    submit->call = rill_broker_link_call(frontend->broker, RILL_COMMAND_SUBMIT, arguments, 2,
                                         on_submit_reply, submit);
    free(payload);
    payload = NULL;
    if (submit->call == NULL)
        goto unavailable;
    rill_log_debug(submit->who, "SUBMIT of %zu job(s) sent", submit->job_count);
    return;

unavailable:
    free(payload);
    submit_fail(submit);
    rill_http_reply_error(req, 503, "unavailable", "the broker cannot be reached");
}

/* ---- GET / DELETE /v1/jobs/{id} --------------------------------------- */

static void job_call_dispose(void *data)
{
    job_call_t *call = data;
    rill_broker_link_cancel(call->frontend->broker, &call->call);
}

/* Answers a call whose reply the client gets as it is: the broker's JSON
 * frame (arguments[1] of the expected command) with the given status, or the
 * mapped error. */
static void relay_reply(void *owner, rill_call_outcome_t outcome, const rill_message_t *message,
                        rill_command_t expected, int status)
{
    job_call_t *call = owner;
    call->call = NULL;
    h2o_req_t *req = call->req;
    if (outcome != RILL_CALL_REPLIED) {
        rill_http_reply_unanswered(req, outcome == RILL_CALL_TIMEOUT);
        return;
    }
    if (message->command == RILL_COMMAND_ERROR) {
        rill_http_reply_broker_error(req, message);
        return;
    }
    if (message->command != expected) {
        rill_http_reply_error(req, 502, "bad_gateway", "unexpected reply from the broker");
        return;
    }
    rill_frame_t answer = message->arguments[1];
    char *body = h2o_mem_alloc_pool(&req->pool, answer.size + 1);
    memcpy(body, answer.data, answer.size);
    body[answer.size] = '\n';
    rill_http_reply_json(req, status, body, answer.size + 1);
}

static void on_job_reply(void *owner, rill_call_outcome_t outcome, const rill_message_t *message)
{
    relay_reply(owner, outcome, message, RILL_COMMAND_STATUS, 200);
}

/* Sends one call to the broker on req's behalf; the reply callback answers
 * the client. A client that goes away meanwhile drops the call (dispose). */
static void call_broker(rill_frontend_t *frontend, h2o_req_t *req, rill_command_t command,
                        const rill_frame_t *arguments, size_t count, rill_broker_reply_fn on_reply)
{
    if (!rill_broker_link_is_connected(frontend->broker)) {
        rill_http_reply_error(req, 503, "unavailable", "no broker");
        return;
    }
    job_call_t *call = h2o_mem_alloc_shared(&req->pool, sizeof(*call), job_call_dispose);
    memset(call, 0, sizeof(*call));
    call->frontend = frontend;
    call->req = req;
    call->call = rill_broker_link_call(frontend->broker, command, arguments, count, on_reply, call);
    if (call->call == NULL)
        rill_http_reply_error(req, 503, "unavailable", "the broker cannot be reached");
}

static void handle_job(rill_frontend_t *frontend, h2o_req_t *req, const rill_route_t *route)
{
    int cancel = req->method.len == 6 && memcmp(req->method.base, "DELETE", 6) == 0;
    rill_frame_t arguments[1] = {rill_frame_from_string(route->job_id)};
    call_broker(frontend, req, cancel ? RILL_COMMAND_CANCEL : RILL_COMMAND_STATUS, arguments, 1, on_job_reply);
}

/* ---- GET /healthz ------------------------------------------------------ */

static void handle_healthz(rill_frontend_t *frontend, h2o_req_t *req)
{
    if (!rill_broker_link_is_connected(frontend->broker)) {
        rill_http_reply_error(req, 503, "unavailable", "no broker");
        return;
    }
    long workers = rill_broker_link_workers(frontend->broker);
    if (workers < 1) {
        rill_http_reply_error(req, 503, "unavailable", "no live worker");
        return;
    }
    const char *broker = rill_broker_link_broker_id(frontend->broker);
    size_t capacity = 64 + 6 * strlen(broker);
    char *body = h2o_mem_alloc_pool(&req->pool, capacity);
    size_t at = (size_t)snprintf(body, capacity, "{\"status\":\"ok\",\"broker\":");
    at += rill_json_escape(body + at, capacity - at, broker, strlen(broker));
    at += (size_t)snprintf(body + at, capacity - at, ",\"workers\":%ld}\n", workers);
    rill_http_reply_json(req, 200, body, at);
}

/* ---- GET /v1/stream, GET /v1/topics/{name} ------------------------------ */

typedef struct {
    int is_topic;
    size_t length;
    char name[RILL_TOPIC_NAME_MAX + 1];
} stream_subject_t;

/* Percent-decodes a query value into the pool; NULL when malformed. */
static char *decode_value(h2o_req_t *req, const char *value, size_t length, size_t *decoded)
{
    char *out = h2o_mem_alloc_pool(&req->pool, length + 1);
    long used = rill_percent_decode(value, length, out);
    if (used < 0)
        return NULL;
    out[used] = '\0';
    *decoded = (size_t)used;
    return out;
}

static int is_name(const char *name, size_t length, const char *literal)
{
    return length == strlen(literal) && memcmp(name, literal, length) == 0;
}

/* Streams the jobs and topics the query names (or the one topic of the
 * path), resuming from ?since= or Last-Event-ID. */
static void handle_stream(rill_frontend_t *frontend, h2o_req_t *req, const char *path_topic)
{
    size_t query_length, at = 0, name_length, value_length, count = 0;
    const char *query = rill_http_request_query(req, &query_length);
    const char *name, *value;
    size_t max_subjects = (size_t)frontend->config.max_jobs_per_request;
    while (rill_query_next(query, query_length, &at, &name, &name_length, &value, &value_length))
        count += is_name(name, name_length, "job") || is_name(name, name_length, "topic");
    if (path_topic != NULL)
        count = 1;
    if (count > max_subjects) {
        char message[128];
        snprintf(message, sizeof(message), "%zu jobs and topics in one stream; at most %zu", count,
                 max_subjects);
        rill_http_reply_error(req, 413, "too_many_subjects", message);
        return;
    }
    if (count == 0) {
        rill_http_reply_error(req, 400, "bad_request", "name at least one job= or topic=");
        return;
    }
    stream_subject_t *subjects = h2o_mem_alloc_pool(&req->pool, count * sizeof(*subjects));
    size_t used = 0;
    const char *cursor_text = NULL;
    size_t cursor_length = 0;
    rill_stream_format_t format;
    if (path_topic != NULL) {
        subjects[0].is_topic = 1;
        subjects[0].length = strlen(path_topic);
        memcpy(subjects[0].name, path_topic, subjects[0].length + 1);
        used = 1;
    }
    at = 0;
    while (rill_query_next(query, query_length, &at, &name, &name_length, &value, &value_length)) {
        int is_job = is_name(name, name_length, "job");
        int is_topic = is_name(name, name_length, "topic");
        size_t length = 0;
        if ((is_job || is_topic) && path_topic != NULL)
            continue; /* /v1/topics/{name} streams that topic alone */
        if (is_job || is_topic) {
            char *decoded = decode_value(req, value, value_length, &length);
            if (is_job && (decoded == NULL || !rill_job_id_is_valid((const uint8_t *)decoded, length))) {
                rill_http_reply_error(req, 404, "not_found", "no such job (a job id is 32 hex digits)");
                return;
            }
            if (is_topic && (decoded == NULL || !rill_topic_name_is_valid(decoded, length))) {
                rill_http_reply_error(req, 400, "bad_topic", "a topic name matches [A-Za-z0-9._-]{1,128}");
                return;
            }
            subjects[used].is_topic = is_topic;
            subjects[used].length = length;
            memcpy(subjects[used].name, decoded, length + 1);
            used++;
        } else if (is_name(name, name_length, "since")) {
            cursor_text = decode_value(req, value, value_length, &cursor_length);
            if (cursor_text == NULL) {
                rill_http_reply_error(req, 400, "bad_cursor", "since= is not a valid cursor");
                return;
            }
        }
    }
    if (rill_http_request_stream_format(req, &format) != 0) {
        rill_http_reply_error(req, 400, "bad_request", "format= is sse or ndjson");
        return;
    }
    /* A reconnecting EventSource names where it stopped: newer than since=. */
    ssize_t last_id = h2o_find_header_by_str(&req->headers, H2O_STRLIT("last-event-id"), -1);
    if (last_id != -1) {
        cursor_text = req->headers.entries[last_id].value.base;
        cursor_length = req->headers.entries[last_id].value.len;
    }
    rill_cursor_t cursor = {0, NULL};
    const char *cursor_error = NULL;
    if (cursor_text != NULL &&
        rill_cursor_parse(cursor_text, cursor_length, max_subjects, &cursor, &cursor_error) != 0) {
        char message[160];
        snprintf(message, sizeof(message), "%s %s", last_id != -1 ? "Last-Event-ID:" : "since:",
                 cursor_error);
        rill_http_reply_error(req, 400, "bad_cursor", message);
        return;
    }
    if (!rill_broker_link_is_connected(frontend->broker)) {
        rill_cursor_free(&cursor);
        rill_http_reply_error(req, 503, "unavailable", "no broker");
        return;
    }
    char who[64];
    rill_http_request_client(req, who, sizeof(who));
    rill_stream_t *stream = rill_stream_new(frontend, req, format, who);
    if (stream == NULL) {
        rill_http_reply_error(req, 500, "internal", "out of memory");
        return;
    }
    int failed = 0;
    for (size_t i = 0; i < used && !failed; i++) {
        uint64_t since = 0;
        /* Subjects of the cursor that the query does not name are ignored. */
        int has_since = rill_cursor_find(&cursor, subjects[i].name, subjects[i].length, &since);
        failed = rill_stream_add_subject(stream, subjects[i].is_topic, subjects[i].name,
                                         subjects[i].length, has_since, since) != 0;
    }
    rill_cursor_free(&cursor);
    if (failed) {
        rill_stream_abandon(stream);
        rill_http_reply_error(req, 500, "internal", "the stream's subjects could not be subscribed");
        return;
    }
    if (rill_stream_open(stream) != 0) {
        rill_stream_abandon(stream);
        rill_http_reply_error(req, 503, "unavailable", "the broker cannot be reached");
        return;
    }
    rill_log_debug(who, "stream of %zu subject(s) opening%s", used,
                   cursor_text != NULL ? ", resuming" : "");
}

/* ---- POST /v1/topics/{name} --------------------------------------------- */

/* valid JSON text without the whitespace between its tokens (an event is
 * one line). out holds length bytes. Returns the bytes written. */
static size_t compact_json(const char *text, size_t length, char *out)
{
    size_t used = 0;
    int in_string = 0, escaped = 0;
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        if (in_string) {
            if (escaped)
                escaped = 0;
            else if (c == '\\')
                escaped = 1;
            else if (c == '"')
                in_string = 0;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            continue;
        } else if (c == '"') {
            in_string = 1;
        }
        out[used++] = c;
    }
    return used;
}

static void on_publish_reply(void *owner, rill_call_outcome_t outcome, const rill_message_t *message)
{
    relay_reply(owner, outcome, message, RILL_COMMAND_PUBLISHED, 202);
}

static void handle_publish(rill_frontend_t *frontend, h2o_req_t *req, const char *topic)
{
    const rill_config_t *config = &frontend->config;
    if (req->entity.base == NULL || req->entity.len == 0) {
        rill_http_reply_error(req, 400, "bad_json", "the body must be a JSON text");
        return;
    }
    if (req->entity.len > config->max_body_bytes) {
        char message[128];
        snprintf(message, sizeof(message), "the body is over %llu bytes",
                 (unsigned long long)config->max_body_bytes);
        rill_http_reply_error(req, 413, "body_too_large", message);
        return;
    }
    json_error_t error;
    json_t *body = json_loadb(req->entity.base, req->entity.len,
                              JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &error);
    if (body == NULL) {
        char message[256];
        snprintf(message, sizeof(message), "malformed JSON at line %d column %d: %s", error.line,
                 error.column, error.text);
        rill_http_reply_error(req, 400, "bad_json", message);
        return;
    }
    json_decref(body);
    /* Kept byte for byte (numbers are not re-printed), minus line breaks. */
    char *data = h2o_mem_alloc_pool(&req->pool, req->entity.len);
    size_t data_length = compact_json(req->entity.base, req->entity.len, data);
    rill_frame_t arguments[2] = {rill_frame_from_string(topic), {(const uint8_t *)data, data_length}};
    call_broker(frontend, req, RILL_COMMAND_PUBLISH, arguments, 2, on_publish_reply);
}

/* ---- routing -------------------------------------------------------------- */

static int on_request(h2o_handler_t *handler, h2o_req_t *req)
{
    rill_frontend_t *frontend = ((api_handler_t *)handler)->frontend;
    rill_route_t route;
    rill_route_match(req->method.base, req->method.len, req->path_normalized.base,
                     req->path_normalized.len, &route);
    if (route.status == 404) {
        rill_http_reply_error(req, 404, "not_found", "no such resource");
        return 0;
    }
    if (route.status == 400) {
        rill_http_reply_error(req, 400, "bad_topic", "a topic name matches [A-Za-z0-9._-]{1,128}");
        return 0;
    }
    if (rill_access_check(frontend, req, &route))
        return 0;
    if (route.status == 405) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, route.allow,
                       strlen(route.allow));
        char message[96];
        snprintf(message, sizeof(message), "allowed: %s", route.allow);
        rill_http_reply_error(req, 405, "method_not_allowed", message);
        return 0;
    }
    if (frontend->shutting_down) {
        req->http1_is_persistent = 0;
        rill_http_reply_error(req, 503, "unavailable", "the frontend is shutting down");
        return 0;
    }
    switch (route.id) {
    case RILL_ROUTE_JOBS:
        handle_submit(frontend, req);
        break;
    case RILL_ROUTE_JOB:
        handle_job(frontend, req, &route);
        break;
    case RILL_ROUTE_HEALTHZ:
        handle_healthz(frontend, req);
        break;
    case RILL_ROUTE_STREAM:
        handle_stream(frontend, req, NULL);
        break;
    case RILL_ROUTE_TOPIC:
        if (req->method.len == 4 && memcmp(req->method.base, "POST", 4) == 0)
            handle_publish(frontend, req, route.topic);
        else
            handle_stream(frontend, req, route.topic);
        break;
    case RILL_ROUTE_METRICS:
        rill_metrics_http_handle(frontend, req);
        break;
    case RILL_ROUTE_DASHBOARD:
        rill_dashboard_http_handle(frontend, req);
        break;
    default:
        rill_http_reply_error(req, 404, "not_found", "no such resource");
        break;
    }
    return 0;
}

int rill_http_api_register(rill_frontend_t *frontend, h2o_pathconf_t *pathconf)
{
    api_handler_t *handler = (api_handler_t *)h2o_create_handler(pathconf, sizeof(*handler));
    if (handler == NULL)
        return -1;
    handler->super.on_req = on_request;
    handler->frontend = frontend;
    return 0;
}
