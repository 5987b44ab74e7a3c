/*
 * topics_http.c - see topics_http.h. The request waits for the broker's
 * reply in its own pool: a client that goes away drops the call.
 */
#include "topics_http.h"

#include "http_reply.h"

#include <string.h>

typedef struct {
    rill_broker_link_t *broker;
    h2o_req_t *req;
    rill_broker_call_t *call;
} delete_call_t;

static void delete_call_dispose(void *data)
{
    delete_call_t *call = data;
    rill_broker_link_cancel(call->broker, &call->call);
}

static void on_deleted(void *owner, rill_call_outcome_t outcome, const rill_message_t *message,
                       const rill_replay_header_t *replay)
{
    (void)replay;
    delete_call_t *call = owner;
    call->call = NULL;
    h2o_req_t *req = call->req;
    if (outcome != RILL_CALL_REPLIED) {
        rill_http_reply_unanswered(req, outcome == RILL_CALL_TIMEOUT);
        return;
    }
    if (message->command == RILL_COMMAND_ERROR) {
        rill_frame_t code = message->arguments[1];
        if (rill_frame_equals(code, "not_found"))
            rill_http_reply_error(req, 404, "not_found", "no such topic");
        else
            rill_http_reply_broker_error(req, message);
        return;
    }
    if (message->command != RILL_COMMAND_TOPIC_DELETED) {
        rill_http_reply_error(req, 502, "bad_gateway", "unexpected reply from the broker");
        return;
    }
    rill_frame_t answer = message->arguments[1];
    char *body = h2o_mem_alloc_pool(&req->pool, answer.size + 1);
    memcpy(body, answer.data, answer.size);
    body[answer.size] = '\n';
    rill_http_reply_json(req, 200, body, answer.size + 1);
}

void rill_topics_http_delete(rill_broker_link_t *broker, h2o_req_t *req, const char *topic)
{
    if (!rill_broker_link_is_connected(broker)) {
        rill_http_reply_error(req, 503, "unavailable", "no broker");
        return;
    }
    delete_call_t *call = h2o_mem_alloc_shared(&req->pool, sizeof(*call), delete_call_dispose);
    memset(call, 0, sizeof(*call));
    call->broker = broker;
    call->req = req;
    rill_frame_t arguments[1] = {rill_frame_from_string(topic)};
    call->call = rill_broker_link_call(broker, RILL_COMMAND_TOPIC_DELETE, arguments, 1, on_deleted, call);
    if (call->call == NULL)
        rill_http_reply_error(req, 503, "unavailable", "the broker cannot be reached");
}
