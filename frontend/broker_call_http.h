/*
 * broker_call_http.h - a request answered by one call to the broker.
 *
 * Status, cancel, publish, the lists and a topic's DELETE all wait for one
 * broker reply and give the client its JSON frame as it is. The waiting
 * state lives in the request's pool with a dispose, so a client that goes
 * away first drops the call (rill_broker_link_cancel) and nothing answers
 * a request that is gone.
 */
#ifndef RILL_FRONTEND_BROKER_CALL_HTTP_H
#define RILL_FRONTEND_BROKER_CALL_HTTP_H

#include "broker_link.h"
#include "topic_leases.h"

#include <h2o.h>

/* Sends command with its arguments on req's behalf. The client gets the
 * reply's JSON frame (arguments[1]) with status when the reply is the
 * expected command; the broker's ERROR mapped to a status otherwise
 * (not_found_message, when not NULL, replaces the broker's text of a
 * not_found); 502 for any other reply; 503/504 when the broker is not
 * there or does not answer. */
void rill_http_call_broker(rill_broker_link_t *broker, h2o_req_t *req, rill_command_t command,
                           const rill_frame_t *arguments, size_t count, rill_command_t expected,
                           int status, const char *not_found_message);

/* POST /v1/topics/{name}: data (one line of JSON) published through
 * leases (topic_leases.h), with the client's publish key (NULL: none);
 * 202 with the broker's PUBLISHED frame. */
void rill_http_publish(rill_topic_leases_t *leases, h2o_req_t *req, const char *topic, const void *data,
                       size_t size, const char *key, size_t key_length);

#endif
