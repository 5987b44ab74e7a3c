/*
 * stream_http.h - GET /v1/stream and GET /v1/topics/{name} (docs/API.md
 * "Streams"): the request side of a stream.
 *
 * Reads which jobs and topics the query names (or the one topic of the
 * path), the format, and where to resume (?since= or Last-Event-ID, a
 * cursor: cursor.h); then the stream (stream.h) replays and follows them,
 * and answers the request by itself.
 */
#ifndef RILL_FRONTEND_STREAM_HTTP_H
#define RILL_FRONTEND_STREAM_HTTP_H

#include "access_claims.h"
#include "broker_link.h"
#include "rill_config.h"
#include "stream.h"

#include <h2o.h>

/* path_topic: the topic of /v1/topics/{name}, or NULL for /v1/stream.
 * grant (access.h): the query's topics need its subscribe claim, and its
 * jobs its jobs claim or its sub's ownership (asked of the broker first). */
void rill_stream_http_handle(h2o_req_t *req, const rill_config_t *config,
                             rill_broker_link_t *broker, rill_streams_t *streams,
                             const char *path_topic, rill_access_grant_t *grant);

#endif
