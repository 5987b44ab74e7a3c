/*
 * stream_http.c - see stream_http.h.
 */
#include "stream_http.h"

#include "cursor.h"
#include "http_reply.h"
#include "job_owner_http.h"
#include "http_request.h"
#include "request_bytes.h"
#include "rill_log.h"
#include "router.h"
#include "rill_topic_pattern.h"
#include "topic_patterns.h"
#include "topic_streams.h"
#include "ws_conn.h"
#include "ws_session.h"

#include <stdio.h>
#include <string.h>

typedef rill_named_subject_t named_subject_t; /* alerts.*: rill/3, topic_patterns.h */

/* Percent-decodes a query value into the pool; NULL when malformed. */
static char *decode_value(h2o_req_t *req, const char *value, size_t length, size_t *decoded)
{
    char *out = h2o_mem_alloc_pool(&req->pool, length + 1);
    long used = rill_percent_decode(value, length, out);
    if (used < 0)
        return NULL;
    out[used] = '\0';
    *decoded = (size_t)used;
    return out;
}

static int is_name(const char *name, size_t length, const char *literal)
{
    return length == strlen(literal) && memcmp(name, literal, length) == 0;
}

/* ?last=N (rill/3): topics without since start with their last N retained
 * messages; N is 0 to bound (topic_retain_messages). On error answers, -1. */
static int read_last(h2o_req_t *req, const char *value, size_t length, uint64_t bound, uint64_t *last_n)
{
    rill_frame_t frame = {(const uint8_t *)value, length};
    if (rill_frame_to_u64(frame, last_n) != 0 || *last_n > bound) {
        char message[128];
        snprintf(message, sizeof(message), "last= is a number of messages from 0 to %llu (topic_retain_messages)",
                 (unsigned long long)bound);
        rill_http_reply_error(req, 400, "bad_request", message);
        return -1;
    }
    return 0;
}

/* The subjects and the cursor text the query names, into subjects (count
 * entries) and *cursor_text; on error answers and returns -1. */
static int read_query(h2o_req_t *req, const char *path_topic, named_subject_t *subjects,
                      size_t *used, const char **cursor_text, size_t *cursor_length,
                      uint64_t last_bound, uint64_t *last_n)
{
    size_t query_length, at = 0, name_length, value_length;
    const char *query = rill_http_request_query(req, &query_length);
    const char *name, *value;
    while (rill_query_next(query, query_length, &at, &name, &name_length, &value, &value_length)) {
        int is_job = is_name(name, name_length, "job");
        int is_topic = is_name(name, name_length, "topic");
        size_t length = 0;
        if ((is_job || is_topic) && path_topic != NULL)
            continue; /* /v1/topics/{name} streams that topic alone */
        if (is_job || is_topic) {
            char *decoded = decode_value(req, value, value_length, &length);
            if (is_job && (decoded == NULL || !rill_job_id_is_valid((const uint8_t *)decoded, length))) {
                rill_http_reply_error(req, 404, "not_found", "no such job (a job id is 32 hex digits)");
                return -1;
            }
            int is_pattern = is_topic && decoded != NULL && rill_topic_pattern_is_valid(decoded, length);
            if (is_topic && !is_pattern && (decoded == NULL || !rill_topic_name_is_valid(decoded, length))) {
                rill_http_reply_error(req, 400, "bad_topic",
                                      "a topic name matches [A-Za-z0-9._-]{1,128}; a wildcard is a name "
                                      "prefix ending with '.' and then '*' (alerts.*)");
                return -1;
            }
            subjects[*used].is_topic = is_topic;
            subjects[*used].is_pattern = is_pattern;
            subjects[*used].length = length;
            memcpy(subjects[*used].name, decoded, length + 1);
            (*used)++;
        } else if (is_name(name, name_length, "last") &&
                   read_last(req, value, value_length, last_bound, last_n) != 0) {
            return -1;
        } else if (is_name(name, name_length, "since")) {
            *cursor_text = decode_value(req, value, value_length, cursor_length);
            if (*cursor_text == NULL) {
                rill_http_reply_error(req, 400, "bad_cursor", "since= is not a valid cursor");
                return -1;
            }
        }
    }
    return 0;
}

/* Subscribes the stream to every subject, each resumed where the cursor
 * says (subjects of the cursor the query does not name are ignored), and
 * opens it. On error answers (the stream abandoned) and returns -1. */
static int open_stream(h2o_req_t *req, rill_stream_t *stream, const named_subject_t *subjects,
                       size_t used, const rill_cursor_t *cursor)
{
    for (size_t i = 0; i < used; i++) {
        uint64_t since = 0;
        int has_since = rill_cursor_find(cursor, subjects[i].name, subjects[i].length, &since);
        int failed = subjects[i].is_pattern
                         ? rill_stream_add_pattern(stream, subjects[i].name, subjects[i].length, cursor)
                         : rill_stream_add_subject(stream, subjects[i].is_topic, subjects[i].name,
                                                   subjects[i].length, has_since, since,
                                                   rill_cursor_epoch(cursor, subjects[i].name, subjects[i].length));
        if (failed != 0) {
            rill_stream_abandon(stream);
            rill_http_reply_error(req, 500, "internal", "the stream's subjects could not be subscribed");
            return -1;
        }
    }
    if (rill_stream_open(stream) != 0) {
        rill_stream_abandon(stream);
        rill_http_reply_error(req, 503, "unavailable", "the broker cannot be reached");
        return -1;
    }
    return 0;
}

typedef struct {
    const rill_config_t *config;
    rill_broker_link_t *broker;
    rill_streams_t *streams;
    char *path_topic;
    rill_access_grant_t *grant;
} stream_resume_t;

static void resume_stream(h2o_req_t *req, void *data)
{
    stream_resume_t *resume = data;
    rill_stream_http_handle(req, resume->config, resume->broker, resume->streams, resume->path_topic,
                            resume->grant);
}

/* JWT access (access.h): 0 when the grant allows every subject; else -1,
 * the request answered (403) or waiting for its jobs' owners (then the
 * handler runs again, with grant->jobs_verified). */
static int check_grant(h2o_req_t *req, const rill_config_t *config, rill_broker_link_t *broker,
                       rill_streams_t *streams, const char *path_topic, rill_access_grant_t *grant,
                       const named_subject_t *subjects, size_t used)
{
    if (grant == NULL || grant->everything)
        return 0;
    const char **ids = NULL;
    size_t id_count = 0;
    for (size_t i = 0; i < used; i++) {
        if (subjects[i].is_topic) {
            if (!rill_access_may_subscribe(grant, subjects[i].name, subjects[i].length)) {
                rill_http_reply_error(req, 403, "forbidden", "the token's rill.subscribe claim does not name this topic");
                return -1;
            }
        } else if (!grant->jobs_verified && !rill_access_may_read_job_by_claim(grant, subjects[i].name)) {
            if (ids == NULL)
                ids = h2o_mem_alloc_pool(&req->pool, used * sizeof(*ids));
            ids[id_count++] = subjects[i].name;
        }
    }
    if (id_count == 0)
        return 0;
    stream_resume_t *resume = h2o_mem_alloc_pool(&req->pool, sizeof(*resume));
    resume->config = config;
    resume->broker = broker;
    resume->streams = streams;
    resume->path_topic = path_topic != NULL ? h2o_strdup(&req->pool, path_topic, SIZE_MAX).base : NULL;
    resume->grant = grant;
    rill_job_owner_check(broker, req, grant, ids, id_count, resume_stream, resume);
    return -1;
}

void rill_stream_http_handle(h2o_req_t *req, const rill_config_t *config,
                             rill_broker_link_t *broker, rill_streams_t *streams,
                             const char *path_topic, rill_access_grant_t *grant)
{
    size_t query_length, at = 0, name_length, value_length, count = 0;
    const char *query = rill_http_request_query(req, &query_length);
    const char *name, *value;
    size_t max_subjects = (size_t)config->max_jobs_per_request;
    while (rill_query_next(query, query_length, &at, &name, &name_length, &value, &value_length))
        count += is_name(name, name_length, "job") || is_name(name, name_length, "topic");
    if (path_topic != NULL)
        count = 1;
    /* Upgrade: websocket (HTTP/1.1): the same query, then frames (ws_session.h). */
    const char *ws_key = NULL;
    int websocket = rill_ws_conn_is_handshake(req, &ws_key);
    if (websocket < 0) {
        rill_http_reply_error(req, 400, "bad_request", "Sec-WebSocket-Key is not 24 characters");
        return;
    }
    if (count > max_subjects) {
        char message[128];
        snprintf(message, sizeof(message), "%zu jobs and topics in one stream; at most %zu", count,
                 max_subjects);
        rill_http_reply_error(req, 413, "too_many_subjects", message);
        return;
    }
    if (count == 0 && !websocket) {
        rill_http_reply_error(req, 400, "bad_request", "name at least one job= or topic=");
        return;
    }
    named_subject_t *subjects = h2o_mem_alloc_pool(&req->pool, (count + 1) * sizeof(*subjects));
    size_t used = 0;
    if (path_topic != NULL) {
        subjects[0].is_topic = 1;
        subjects[0].length = strlen(path_topic);
        subjects[0].is_pattern = rill_topic_pattern_is_valid(path_topic, subjects[0].length);
        memcpy(subjects[0].name, path_topic, subjects[0].length + 1);
        used = 1;
    }
    const char *cursor_text = NULL;
    size_t cursor_length = 0;
    uint64_t last_n = 0;
    if (read_query(req, path_topic, subjects, &used, &cursor_text, &cursor_length,
                   config->topic_retain_messages, &last_n) != 0)
        return;
    if (check_grant(req, config, broker, streams, path_topic, grant, subjects, used) != 0)
        return;
    rill_stream_format_t format;
    if (rill_http_request_stream_format(req, &format) != 0) {
        rill_http_reply_error(req, 400, "bad_request", "format= is sse or ndjson");
        return;
    }
    /* A reconnecting EventSource names where it stopped: newer than since=. */
    ssize_t last_id = h2o_find_header_by_str(&req->headers, H2O_STRLIT("last-event-id"), -1);
    if (last_id != -1) {
        cursor_text = req->headers.entries[last_id].value.base;
        cursor_length = req->headers.entries[last_id].value.len;
    }
    rill_cursor_t cursor = {0, NULL};
    const char *cursor_error = NULL;
    if (cursor_text != NULL &&
        rill_cursor_parse(cursor_text, cursor_length, max_subjects, &cursor, &cursor_error) != 0) {
        char message[160];
        snprintf(message, sizeof(message), "%s %s", last_id != -1 ? "Last-Event-ID:" : "since:",
                 cursor_error);
        rill_http_reply_error(req, 400, "bad_cursor", message);
        return;
    }
    if (!rill_broker_link_is_connected(broker)) {
        rill_cursor_free(&cursor);
        rill_http_reply_error(req, 503, "unavailable", "no broker");
        return;
    }
    if (websocket) {
        rill_ws_session_start(req, ws_key, streams, broker, subjects, used, &cursor, last_n, grant);
        rill_cursor_free(&cursor);
        return;
    }
    char who[64];
    rill_http_request_client(req, who, sizeof(who));
    rill_stream_t *stream = rill_stream_new(streams, req, format, who);
    rill_stream_set_last_n(stream, last_n);
    int failed = open_stream(req, stream, subjects, used, &cursor);
    rill_cursor_free(&cursor);
    if (failed)
        return;
    rill_log_debug(who, "stream of %zu subject(s) opening%s", used,
                   cursor_text != NULL ? ", resuming" : "");
    /* Everything of the request is read: its bytes leave h2o's read buffer
     * now, before the broker answers, so a burst of connections reuses one
     * buffer instead of holding one each (request_bytes.h). */
    (void)rill_request_bytes_shrink(req);
}
