/*
 * submit_http.c - see submit_http.h. The request waiting for SUBMITTED
 * keeps its state in its own pool (h2o_mem_alloc_shared with a dispose
 * callback): when the client vanishes the pool goes, and the dispose drops
 * the pending broker call, so a late reply finds nothing and no freed
 * request is ever touched. A streamed submit's first line is the accepted
 * notice, as soon as SUBMITTED names the ids.
 */
#include "submit_http.h"

#include "http_reply.h"
#include "http_request.h"
#include "rill_alloc.h"
#include "rill_job.h"
#include "rill_log.h"
#include "rill_messages.h"
#include "router.h"
#include "submit_body.h"

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
    char who[256]; /* the client, and the owner's sub with JWT access (access_claims.h) */
} submit_t;

static void submit_dispose(void *data)
{
    submit_t *submit = data;
    rill_broker_link_cancel(submit->broker, &submit->call);
}

static void submit_fail(submit_t *submit)
{
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

/* The SUBMIT frame of the checked jobs (rill_messages.h). */
static char *submit_payload(rill_submit_body_t *body, const submit_t *submit, int detach)
{
    for (size_t i = 0; i < submit->job_count; i++) {
        memcpy(body->jobs[i].id, submit->ids[i], RILL_ID_TEXT_SIZE);
        body->jobs[i].who = submit->who;
        body->jobs[i].detach = detach;
    }
    return rill_submit_encode(body->jobs, submit->job_count);
}

/* The stream that answers a non-detached submit, following its jobs. -1
 * when the broker cannot be reached. */
static int open_stream(submit_t *submit, rill_streams_t *streams, rill_stream_format_t format)
{
    submit->stream = rill_stream_new(streams, submit->req, format, submit->who);
    /* rill/4: the jobs come through the link's follow subject, which the
     * SUBMIT names; the broker holds the jobs until it sees that
     * subscription (at once, but for a frontend just started), so no
     * barrier token either. */
    rill_stream_follow_directly(submit->stream);
    for (size_t i = 0; i < submit->job_count; i++) {
        if (rill_stream_add_job(submit->stream, submit->ids[i]) != 0)
            return -1;
    }
    return 0;
}

void rill_submit_http_handle(h2o_req_t *req, const rill_config_t *config,
                             rill_broker_link_t *broker, rill_streams_t *streams,
                             const rill_access_grant_t *grant)
{
    size_t query_length;
    const char *query = rill_http_request_query(req, &query_length);
    int detach = rill_query_flag(query, query_length, "detach");
    rill_stream_format_t format;
    /* A format= of neither sse nor ndjson is NDJSON here, as it always was. */
    (void)rill_http_request_stream_format(req, &format);
    rill_submit_body_t body;
    if (rill_submit_body_read(req, config, &body) != 0)
        return;
    if (!rill_broker_link_takes_calls(broker)) {
        rill_submit_body_release(&body);
        rill_http_reply_error(req, 503, "unavailable", "no broker");
        return;
    }
    submit_t *submit = h2o_mem_alloc_shared(&req->pool, sizeof(*submit), submit_dispose);
    memset(submit, 0, sizeof(*submit));
    submit->broker = broker;
    submit->req = req;
    submit->job_count = body.count;
    submit->ids = h2o_mem_alloc_pool(&req->pool, submit->job_count * sizeof(*submit->ids));
    char client[64];
    rill_http_request_client(req, client, sizeof(client));
    rill_access_owner_who(grant, client, submit->who, sizeof(submit->who));
    for (size_t i = 0; i < submit->job_count; i++) {
        if (rill_id_generate(submit->ids[i]) != 0) {
            rill_submit_body_release(&body);
            rill_http_reply_error(req, 500, "internal", "no randomness for job ids");
            return;
        }
    }
    char *payload = submit_payload(&body, submit, detach);
    rill_submit_body_release(&body);
    if (!detach && open_stream(submit, streams, format) != 0)
        goto unavailable;
    /* SUBMIT req token jobs follow: no barrier token; the follow subject
     * when streaming, "" when detached (docs/PROTOCOL.md). */
    const char *follow = detach ? "" : rill_broker_link_follow_subject(broker);
    rill_frame_t arguments[3] = {rill_frame_from_string(""), rill_frame_from_string(payload),
                                 rill_frame_from_string(follow)};
    submit->call = rill_broker_link_call(broker, RILL_COMMAND_SUBMIT, arguments, 3, on_submit_reply,
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
