/*
 * topics_http.h - DELETE /v1/topics/{name} (rill/3, docs/API.md): the
 * broker forgets the topic (TOPIC_DELETE, docs/PROTOCOL.md "Topics"), its
 * subscribers get a topic_deleted notice (topic_streams.h). The answer is
 * the broker's: 200 {"topic":"<name>","last":N}, or 404 not_found.
 */
#ifndef RILL_FRONTEND_TOPICS_HTTP_H
#define RILL_FRONTEND_TOPICS_HTTP_H

#include "broker_link.h"

#include <h2o.h>

void rill_topics_http_delete(rill_broker_link_t *broker, h2o_req_t *req, const char *topic);

#endif
