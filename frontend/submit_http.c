/*
 * submit_http.c - see submit_http.h. The request waiting for SUBMITTED
 * keeps its state in its own pool (h2o_mem_alloc_shared with a dispose
 * callback): when the client vanishes the pool goes, and the dispose drops
 * the pending broker call and the barrier token, so a late reply finds
 * nothing and no freed request is ever touched. A streamed submit's first
 * line is the accepted notice, as soon as SUBMITTED names the ids.
 */
#include "submit_http.h"

#include "http_reply.h"
#include "http_request.h"
#include "rill_alloc.h"
#include "rill_buffer.h"
#include "rill_job.h"
#include "rill_json_compact.h"
#include "rill_log.h"
#include "rill_messages.h"
#include "router.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A POST /v1/jobs waiting for SUBMITTED. */
typedef struct {
    rill_broker_link_t *broker;
    h2o_req_t *req;
    rill_broker_call_t *call;
    rill_stream_t *stream; /* NULL when detached, or handed over */
    size_t job_count;
    char (*ids)[RILL_ID_TEXT_SIZE];
    char token[RILL_BARRIER_TOKEN_SIZE]; /* the barrier token while subscribed, else "" */
    char who[64];
} submit_t;

static void submit_dispose(void *data)
{
    submit_t *submit = data;
    rill_broker_link_cancel(submit->broker, &submit->call);
    rill_broker_link_unsubscribe_barrier(submit->broker, submit->token);
}

static void submit_fail(submit_t *submit)
{
    rill_broker_link_unsubscribe_barrier(submit->broker, submit->token);
    if (submit->stream != NULL) {
        rill_stream_abandon(submit->stream);
        submit->stream = NULL;
    }
}

/* The ids the broker answered: a job that joined an identical one (dedup,
 * debounce) is followed under the id it joined. The stream learns each
 * job's flush_ms. */
static void follow_submitted(submit_t *submit, const rill_message_t *message)
{
    rill_submitted_t submitted;
    char error[128];
    if (rill_submitted_decode(message->arguments[1].data, message->arguments[1].size, &submitted,
                              error, sizeof(error)) != 0) {
        rill_log_warn(submit->who, "SUBMITTED without a usable id list (%s); keeping ours", error);
        return;
    }
    for (size_t i = 0; submit->stream != NULL && i < submitted.count; i++)
        rill_stream_note_flush_ms(submit->stream, submitted.flush_ms[i]);
    if (submitted.count != submit->job_count)
        rill_log_warn(submit->who, "SUBMITTED names %zu job(s), not %zu; keeping ours",
                      submitted.count, submit->job_count);
    for (size_t i = 0; submitted.count == submit->job_count && i < submit->job_count; i++) {
        const char *id = submitted.ids[i];
        if (strcmp(id, submit->ids[i]) == 0)
            continue;
        rill_log_info(submit->who, "job %s joined %s", submit->ids[i], id);
        if (submit->stream != NULL && rill_stream_replace_job(submit->stream, submit->ids[i], id) != 0)
            rill_log_warn(submit->who, "cannot follow joined job %s", id);
        memcpy(submit->ids[i], id, RILL_ID_TEXT_SIZE);
    }
    rill_submitted_release(&submitted);
}

/* Detached: 202 {"jobs":[...]} */
static void reply_detached(submit_t *submit)
{
    h2o_req_t *req = submit->req;
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

static void on_submit_reply(void *owner, rill_call_outcome_t outcome, const rill_message_t *message,
                            const rill_replay_header_t *replay)
{
    (void)replay;
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
    rill_broker_link_unsubscribe_barrier(submit->broker, submit->token);
    follow_submitted(submit, message);
    if (submit->stream == NULL) {
        reply_detached(submit);
        return;
    }
    if (rill_stream_fetch_joined(submit->stream) != 0)
        rill_log_warn(submit->who, "cannot fetch the joined jobs' events so far");
    /* The ids (as the broker named them) before any event: docs/API.md,
     * "Notices", accepted. */
    rill_chunk_t *accepted = rill_event_format_accepted(
        (const char(*)[RILL_ID_TEXT_SIZE])submit->ids, submit->job_count);
    if (accepted != NULL)
        rill_stream_notice_first(submit->stream, "accepted", accepted);
    rill_chunk_unref(&accepted);
    rill_log_info(submit->who, "%zu job(s) submitted, streaming", submit->job_count);
    rill_stream_start(submit->stream);
    submit->stream = NULL;
}

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

/* Each job's args as compact text into out: the client's own text (found
 * in the body, which jansson loaded already) without its whitespace, when
 * that is what jansson would write (rill_json_compact.h), else the tree
 * dumped as before. starts[i], lengths[i] say where job i's are; length 0:
 * none. */
static void args_texts(json_t *jobs, h2o_req_t *req, size_t count, rill_buffer_t *out, size_t *starts,
                       size_t *lengths)
{
    const char *body = req->entity.base;
    size_t *found_starts = rill_xcalloc(count, sizeof(*found_starts));
    size_t *found_lengths = rill_xcalloc(count, sizeof(*found_lengths));
    long found = rill_json_compact_find_members(body, req->entity.len, "args", count, found_starts, found_lengths);
    for (size_t i = 0; i < count; i++) {
        json_t *args = json_object_get(json_array_get(jobs, i), "args");
        starts[i] = out->length;
        if (args != NULL && !(found == (long)count && found_lengths[i] > 0 &&
                              rill_json_compact_append(out, body + found_starts[i], found_lengths[i]) == 0))
            rill_json_compact_dump(out, args);
        lengths[i] = out->length - starts[i];
    }
    free(found_starts);
    free(found_lengths);
}

/* The SUBMIT frame of the checked jobs (rill_messages.h). */
static char *submit_payload(json_t *jobs, const submit_t *submit, int detach)
{
    rill_submit_job_t *items = rill_xcalloc(submit->job_count, sizeof(*items));
    size_t *starts = rill_xcalloc(submit->job_count, sizeof(*starts));
    size_t *lengths = rill_xcalloc(submit->job_count, sizeof(*lengths));
    rill_buffer_t args;
    rill_buffer_init(&args);
    args_texts(jobs, submit->req, submit->job_count, &args, starts, lengths);
    for (size_t i = 0; i < submit->job_count; i++) {
        json_t *job = json_array_get(jobs, i);
        memcpy(items[i].id, submit->ids[i], RILL_ID_TEXT_SIZE);
        items[i].kind = json_string_value(json_object_get(job, "kind"));
        items[i].source = json_string_value(json_object_get(job, "source"));
        items[i].key = json_string_value(json_object_get(job, "key"));
        items[i].who = submit->who;
        items[i].args = lengths[i] > 0 ? args.data + starts[i] : NULL;
        items[i].args_length = lengths[i];
        items[i].detach = detach;
    }
    char *payload = rill_submit_encode(items, submit->job_count);
    rill_buffer_release(&args);
    free(starts);
    free(lengths);
    free(items);
    return payload;
}

/* The stream that answers a non-detached submit, subscribed to its jobs
 * and then to the barrier token. -1 when the broker cannot be reached. */
static int open_stream(submit_t *submit, rill_streams_t *streams, rill_stream_format_t format)
{
    submit->stream = rill_stream_new(streams, submit->req, format, submit->who);
    for (size_t i = 0; i < submit->job_count; i++) {
        if (rill_stream_add_job(submit->stream, submit->ids[i]) != 0)
            return -1;
    }
    return rill_broker_link_subscribe_barrier(submit->broker, submit->token);
}

void rill_submit_http_handle(h2o_req_t *req, const rill_config_t *config,
                             rill_broker_link_t *broker, rill_streams_t *streams)
{
    size_t query_length;
    const char *query = rill_http_request_query(req, &query_length);
    int detach = rill_query_flag(query, query_length, "detach");
    rill_stream_format_t format;
    /* A format= of neither sse nor ndjson is NDJSON here, as it always was. */
    (void)rill_http_request_stream_format(req, &format);
    json_t *jobs = parse_jobs(config, req);
    if (jobs == NULL)
        return;
    if (!rill_broker_link_is_connected(broker)) {
        json_decref(jobs);
        rill_http_reply_error(req, 503, "unavailable", "no broker");
        return;
    }
    submit_t *submit = h2o_mem_alloc_shared(&req->pool, sizeof(*submit), submit_dispose);
    memset(submit, 0, sizeof(*submit));
    submit->broker = broker;
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
    /* Subjects first, then the barrier token: PROTOCOL.md, The barrier. */
    if (!detach && open_stream(submit, streams, format) != 0)
        goto unavailable;
    /* The SUBMIT names the token without its 's'; "" when detached. */
    const char *barrier = submit->token[0] != '\0' ? submit->token + 1 : "";
    rill_frame_t arguments[2] = {rill_frame_from_string(barrier), rill_frame_from_string(payload)};
    submit->call = rill_broker_link_call(broker, RILL_COMMAND_SUBMIT, arguments, 2, on_submit_reply,
                                         submit);
    if (submit->call == NULL)
        goto unavailable;
    free(payload);
    rill_log_debug(submit->who, "SUBMIT of %zu job(s) sent", submit->job_count);
    return;

unavailable:
    free(payload);
    submit_fail(submit);
    rill_http_reply_error(req, 503, "unavailable", "the broker cannot be reached");
}
