/*
 * ws_session.h - a WebSocket client of the streams (docs/API.md
 * "WebSocket"): GET /v1/stream or /v1/topics/{name} upgraded on HTTP/1.1.
 *
 * A session is one socket (ws_conn.h) and its subscriptions. Each
 * subscription - a subject of the upgrade's query, or one the client asks
 * for on the open socket ({"op":"subscribe",…}) - is a stream of its own
 * (stream.h), opened, replayed and followed exactly as GET /v1/stream's,
 * whose output queue writes through this session (an output sink:
 * output_queue.h) instead of h2o_send: every NDJSON line becomes one text
 * frame, and the slow-client limits, drops and gaps stay the queue's. The
 * session answers the client's messages (subscribe, unsubscribe, publish)
 * with a notice or an error frame each, and pings instead of heartbeats.
 *
 * A session lives in malloc'd memory, not in a request's pool: the request
 * is gone once the socket is upgraded. Whatever ends it - a close frame,
 * a vanished peer, missed pings, a slow client, shutdown - it is freed once,
 * from the context's zero timeout, never inside a callback.
 */
#ifndef RILL_FRONTEND_WS_SESSION_H
#define RILL_FRONTEND_WS_SESSION_H

#include "access_claims.h"
#include "broker_link.h"
#include "cursor.h"
#include "stream.h"

#include <h2o.h>

/* A subject named by the upgrade's query (stream_http.c reads it). */
typedef struct {
    int is_topic;
    int is_pattern; /* a wildcard topic, alerts.* (topic_patterns.h) */
    size_t length;
    char name[RILL_TOPIC_NAME_MAX + 1];
} rill_named_subject_t;

/* req is a WebSocket handshake (ws_conn.h, key its Sec-WebSocket-Key) whose
 * query was checked as GET /v1/stream's: answers 101 - or 401 for a bearer
 * token that does not match auth_token - and opens one subscription per
 * subject, resumed from cursor, topics starting with their last last_n. */
void rill_ws_session_start(h2o_req_t *req, const char *key, rill_streams_t *streams, rill_broker_link_t *broker,
                           const rill_named_subject_t *subjects, size_t count, const rill_cursor_t *cursor,
                           uint64_t last_n, const rill_access_grant_t *grant);

/* Shutdown (streams.h): every session closes with 1001 once its
 * subscriptions have sent their closing notices. */
void rill_ws_sessions_close_all(h2o_linklist_t *sessions);

#endif
