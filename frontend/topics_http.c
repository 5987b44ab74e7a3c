/*
 * topics_http.c - see topics_http.h. The request waits for the broker's
 * reply in its own pool (broker_call_http.h).
 */
#include "topics_http.h"

#include "broker_call_http.h"

#include <string.h>

void rill_topics_http_delete(rill_broker_link_t *broker, h2o_req_t *req, const char *topic)
{
    rill_frame_t arguments[1] = {rill_frame_from_string(topic)};
    rill_http_call_broker(broker, req, RILL_COMMAND_TOPIC_DELETE, arguments, 1, RILL_COMMAND_TOPIC_DELETED, 200,
                          "no such topic");
}
