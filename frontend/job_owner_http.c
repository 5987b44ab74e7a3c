/*
 * job_owner_http.c - see job_owner_http.h.
 */
#include "job_owner_http.h"

#include "http_reply.h"

#include <jansson.h>
#include <string.h>

typedef struct {
    rill_broker_link_t *broker;
    h2o_req_t *req;
    rill_access_grant_t *grant;
    const char *const *ids;
    size_t count;
    size_t next;
    rill_job_owner_then_fn then;
    void *data;
    rill_broker_call_t *call;
} owner_check_t;

static void check_dispose(void *data)
{
    owner_check_t *check = data;
    rill_broker_link_cancel(check->broker, &check->call);
}

static void ask_next(owner_check_t *check);

/* Is the STATUS json's who the grant's sub's? */
static int status_owned(const rill_access_grant_t *grant, rill_frame_t status)
{
    json_error_t error;
    json_t *job = json_loadb((const char *)status.data, status.size, 0, &error);
    const json_t *who = json_object_get(job, "who");
    int owned = json_is_string(who) && rill_access_owns(grant, json_string_value(who), json_string_length(who));
    json_decref(job);
    return owned;
}

static void on_status(void *owner, rill_call_outcome_t outcome, const rill_message_t *message,
                      const rill_replay_header_t *replay)
{
    (void)replay;
    owner_check_t *check = owner;
    check->call = NULL;
    h2o_req_t *req = check->req;
    if (outcome != RILL_CALL_REPLIED) {
        rill_http_reply_unanswered(req, outcome == RILL_CALL_TIMEOUT);
        return;
    }
    if (message->command == RILL_COMMAND_ERROR) {
        if (message->argument_count >= 2 && rill_frame_equals(message->arguments[1], "not_found"))
            rill_http_reply_error(req, 404, "not_found", "no such job");
        else
            rill_http_reply_broker_error(req, message);
        return;
    }
    if (message->command != RILL_COMMAND_STATUS || message->argument_count < 2) {
        rill_http_reply_error(req, 502, "bad_gateway", "unexpected reply from the broker");
        return;
    }
    if (!status_owned(check->grant, message->arguments[1])) {
        rill_http_reply_error(req, 403, "forbidden",
                              "this job is not the token's sub's, and the token's rill.jobs claim does not name it");
        return;
    }
    check->next++;
    ask_next(check);
}

static void ask_next(owner_check_t *check)
{
    if (check->next == check->count) {
        check->grant->jobs_verified = 1;
        check->then(check->req, check->data);
        return;
    }
    rill_frame_t arguments[1] = {rill_frame_from_string(check->ids[check->next])};
    check->call = rill_broker_link_call(check->broker, RILL_COMMAND_STATUS, arguments, 1, on_status, check);
    if (check->call == NULL)
        rill_http_reply_error(check->req, 503, "unavailable", "the broker cannot be reached");
}

void rill_job_owner_check(rill_broker_link_t *broker, h2o_req_t *req, rill_access_grant_t *grant,
                          const char *const *ids, size_t count, rill_job_owner_then_fn then, void *data)
{
    if (grant->sub[0] == '\0') {
        rill_http_reply_error(req, 403, "forbidden", "the token has no sub and its rill.jobs claim does not name this job");
        return;
    }
    if (!rill_broker_link_takes_calls(broker)) {
        rill_http_reply_error(req, 503, "unavailable", "no broker");
        return;
    }
    owner_check_t *check = h2o_mem_alloc_shared(&req->pool, sizeof(*check), check_dispose);
    memset(check, 0, sizeof(*check));
    check->broker = broker;
    check->req = req;
    check->grant = grant;
    check->ids = ids;
    check->count = count;
    check->then = then;
    check->data = data;
    ask_next(check);
}
