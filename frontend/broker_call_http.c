/*
 * broker_call_http.c - see broker_call_http.h.
 */
#include "broker_call_http.h"

#include "http_reply.h"

#include <string.h>

typedef struct {
    rill_broker_link_t *broker;
    h2o_req_t *req;
    rill_broker_call_t *call;
    rill_topic_publish_t *publish; /* a publish's, instead of call */
    rill_command_t expected;
    int status;
    const char *not_found_message;
} broker_call_t;

static void broker_call_dispose(void *data)
{
    broker_call_t *call = data;
    if (call->call != NULL)
        rill_broker_link_cancel(call->broker, &call->call);
    rill_topic_leases_cancel(&call->publish);
}

static void on_reply(void *owner, rill_call_outcome_t outcome, const rill_message_t *message,
                     const rill_replay_header_t *replay)
{
    (void)replay;
    broker_call_t *call = owner;
    call->call = NULL;
    call->publish = NULL;
    h2o_req_t *req = call->req;
    if (outcome != RILL_CALL_REPLIED) {
        rill_http_reply_unanswered(req, outcome == RILL_CALL_TIMEOUT);
        return;
    }
    if (message->command == RILL_COMMAND_ERROR) {
        if (call->not_found_message != NULL && message->argument_count >= 2 &&
            rill_frame_equals(message->arguments[1], "not_found"))
            rill_http_reply_error(req, 404, "not_found", call->not_found_message);
        else
            rill_http_reply_broker_error(req, message);
        return;
    }
    if (message->command != call->expected || message->argument_count < 2) {
        rill_http_reply_error(req, 502, "bad_gateway", "unexpected reply from the broker");
        return;
    }
    rill_frame_t answer = message->arguments[1];
    char *body = h2o_mem_alloc_pool(&req->pool, answer.size + 1);
    memcpy(body, answer.data, answer.size);
    body[answer.size] = '\n';
    rill_http_reply_json(req, call->status, body, answer.size + 1);
}

void rill_http_call_broker(rill_broker_link_t *broker, h2o_req_t *req, rill_command_t command,
                           const rill_frame_t *arguments, size_t count, rill_command_t expected,
                           int status, const char *not_found_message)
{
    if (!rill_broker_link_takes_calls(broker)) {
        rill_http_reply_error(req, 503, "unavailable", "no broker");
        return;
    }
    broker_call_t *call = h2o_mem_alloc_shared(&req->pool, sizeof(*call), broker_call_dispose);
    memset(call, 0, sizeof(*call));
    call->broker = broker;
    call->req = req;
    call->expected = expected;
    call->status = status;
    call->not_found_message = not_found_message;
    call->call = rill_broker_link_call(broker, command, arguments, count, on_reply, call);
    if (call->call == NULL)
        rill_http_reply_error(req, 503, "unavailable", "the broker cannot be reached");
}

void rill_http_publish(rill_topic_leases_t *leases, h2o_req_t *req, const char *topic, const void *data,
                       size_t size, const char *key, size_t key_length)
{
    broker_call_t *call = h2o_mem_alloc_shared(&req->pool, sizeof(*call), broker_call_dispose);
    memset(call, 0, sizeof(*call));
    call->req = req;
    call->expected = RILL_COMMAND_PUBLISHED;
    call->status = 202;
    call->publish = leases != NULL ? rill_topic_leases_publish(leases, topic, strlen(topic), data, size, key, key_length,
                                                                         on_reply, call)
                                   : NULL;
    if (call->publish == NULL)
        rill_http_reply_error(req, 503, "unavailable", "no broker");
}
