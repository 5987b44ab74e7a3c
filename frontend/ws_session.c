/*
 * ws_session.c - see ws_session.h. The client's messages and their
 * answers (docs/API.md, "WebSocket"):
 *
 *   {"op":"subscribe","topic":"t"|"job":"<id>"[,"since":…][,"last":N]}
 *       -> {"event":"subscribed","data":{"topic":"t"}} ahead of its events
 *   {"op":"unsubscribe","topic":"t"|"job":"<id>"}
 *       -> {"event":"unsubscribed","data":{"topic":"t","reason":"request"}}
 *   {"op":"publish","topic":"t","data":<any JSON>}
 *       -> {"event":"published","data":{"topic":"t","seq":N}}
 *
 * and {"event":"error","data":{"code":…,"message":…}} for anything refused;
 * an "id" in a message comes back in its answer's data.
 */
#include "ws_session.h"

#include "access.h"
#include "http_reply.h"
#include "http_request.h"
#include "rill_alloc.h"
#include "rill_log.h"
#include "rill_topic_pattern.h"
#include "router.h"
#include "topic_patterns.h"
#include "topic_streams.h"
#include "topic_leases.h"
#include "ws_conn.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ENVELOPE_BYTES 4096 /* a message's room beyond max_body_bytes of data */
#define MAX_PUBLISHES 64    /* publishes waiting for the broker; past it no message is read */

typedef struct ws_session ws_session_t;

/* One subscription: a stream of one subject (or wildcard) in a pool of its own. */
typedef struct ws_sub {
    h2o_mem_pool_t pool;
    ws_session_t *session;
    rill_stream_t *stream;
    struct ws_sub *next;
    int is_topic;
    size_t length;
    char name[RILL_TOPIC_NAME_MAX + 1];
    json_t *id;          /* the subscribe message's "id", or NULL */
    unsigned sending : 1; /* its queue's send is in the socket's queue */
    unsigned ended : 1;   /* over: freed by the next reap */
} ws_sub_t;

/* A publish waiting for the broker's answer. */
typedef struct ws_publish {
    ws_session_t *session;
    rill_topic_publish_t *call; /* through the leases (topic_leases.h) */
    json_t *id;
    struct ws_publish *next;
} ws_publish_t;

struct ws_session {
    rill_ws_conn_t *conn;
    rill_streams_t *streams;
    rill_broker_link_t *broker;
    h2o_context_t *context;   /* its zero_timeout runs the reap */
    ws_sub_t *subs;
    ws_publish_t *publishes;
    size_t publishing;        /* publishes waiting */
    h2o_timeout_entry_t tick; /* streams->outputs.heartbeat_timeout: pings */
    h2o_timeout_entry_t reap;
    h2o_linklist_t link;      /* streams->websockets */
    char who[64];
    int may_publish;
    /* What the upgrade's token allows (JWT access, access_claims.h; its
     * payload held here): the open socket's subscribe and publish are
     * checked against it. everything=1 without JWT access. */
    rill_access_grant_t grant;
    uint16_t close_code;      /* close once every subscription is out (shutdown) */
    unsigned closed : 1;      /* the socket is gone */
};

static void schedule_reap(ws_session_t *self)
{
    if (!h2o_timeout_is_linked(&self->reap))
        h2o_timeout_link(self->context->loop, &self->context->zero_timeout, &self->reap);
}

/* ---- frames the session writes itself ----------------------------------- */

/* data gets the message's id (when it had one); both are released. */
static rill_chunk_t *notice_line(const char *type, json_t *data, json_t *id)
{
    if (id != NULL)
        json_object_set(data, "id", id);
    char *text = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(data);
    if (text == NULL)
        return NULL;
    rill_chunk_t *line = rill_event_format_notice(type, text, strlen(text));
    free(text);
    return line;
}

static void send_line(ws_session_t *self, rill_chunk_t *line)
{
    if (line == NULL || self->closed)
        return;
    size_t length = line->length;
    if (length > 0 && line->bytes[length - 1] == '\n')
        length--; /* a frame is the NDJSON line without its newline */
    (void)rill_ws_conn_send_text(self->conn, line->bytes, length);
    rill_ws_conn_flush(self->conn);
}

static void reply(ws_session_t *self, const char *type, json_t *data, json_t *id)
{
    rill_chunk_t *line = notice_line(type, data, id);
    send_line(self, line);
    rill_chunk_unref(&line);
}

static void reply_error(ws_session_t *self, const char *op, json_t *id, const char *code, const char *message)
{
    json_t *data = json_pack("{s:s,s:s}", "code", code, "message", message);
    if (op != NULL)
        json_object_set_new(data, "op", json_string(op));
    reply(self, "error", data, id);
}

static json_t *subject_data(const ws_sub_t *sub)
{
    json_t *data = json_object();
    json_object_set_new(data, sub->is_topic ? "topic" : "job", json_stringn(sub->name, sub->length));
    return data;
}

/* ---- the subscriptions' output sink -------------------------------------- */

static void sink_start(rill_output_queue_t *queue)
{
    ws_sub_t *sub = queue->sink_data;
    rill_chunk_t *line = notice_line("subscribed", subject_data(sub), sub->id);
    if (line != NULL)
        rill_output_queue_push_notice_first(queue, "subscribed", line);
    rill_chunk_unref(&line);
}

static void sink_send(rill_output_queue_t *queue, const h2o_iovec_t *iov, size_t count, int final)
{
    ws_sub_t *sub = queue->sink_data;
    ws_session_t *self = sub->session;
    int queued = 0;
    for (size_t i = 0; i < count && !self->closed; i++) {
        size_t length = iov[i].len;
        if (length > 0 && iov[i].base[length - 1] == '\n')
            length--;
        queued += rill_ws_conn_send_text(self->conn, iov[i].base, length) == 0;
    }
    if (final) {
        sub->ended = 1;
        schedule_reap(self);
        if (queue->overflowed) {
            rill_ws_conn_close(self->conn, RILL_WS_CLOSE_POLICY, "slow client");
        } else if (queue->closes) {
            self->close_code = RILL_WS_CLOSE_GOING_AWAY; /* once every subscription said closing */
        } else {
            json_t *data = subject_data(sub);
            json_object_set_new(data, "reason", json_string("ended"));
            reply(self, "unsubscribed", data, NULL);
        }
    }
    if (queued == 0 || final) {
        rill_output_queue_sent(queue); /* nothing to wait for: the frames are wslay's copies */
        if (queued > 0 && !self->closed)
            rill_ws_conn_flush(self->conn);
        return;
    }
    sub->sending = 1;
    rill_ws_conn_flush(self->conn);
}

static void sink_refuse(rill_output_queue_t *queue, int status, const char *code, const char *message)
{
    ws_sub_t *sub = queue->sink_data;
    sub->ended = 1;
    schedule_reap(sub->session);
    json_t *data = subject_data(sub);
    if (status == 204) { /* resumed past the end of the job: nothing to say */
        json_object_set_new(data, "reason", json_string("ended"));
        reply(sub->session, "unsubscribed", data, sub->id);
        return;
    }
    json_object_set_new(data, "code", json_string(code));
    json_object_set_new(data, "message", json_string(message));
    json_object_set_new(data, "op", json_string("subscribe"));
    reply(sub->session, "error", data, sub->id);
}

/* broker_unavailable and broker_available are about the process: of all
 * the socket's subscriptions, the newest started one carries them. Any
 * other notice (closing with its cursor, topic_deleted) is its own. */
static int sink_keep_notice(rill_output_queue_t *queue, const char *type)
{
    ws_sub_t *sub = queue->sink_data;
    if (strncmp(type, "broker_", 7) != 0)
        return 1;
    ws_sub_t *carrier = sub->session->subs;
    while (carrier != NULL && (carrier->ended || !carrier->stream->output.started))
        carrier = carrier->next;
    return carrier == sub;
}

static const rill_output_sink_t sink = {
    .keep_notice = sink_keep_notice,
    .send = sink_send,
    .start = sink_start,
    .refuse = sink_refuse,
};

/* ---- subscriptions ------------------------------------------------------- */

static ws_sub_t *find_sub(ws_session_t *self, int is_topic, const char *name, size_t length)
{
    for (ws_sub_t *sub = self->subs; sub != NULL; sub = sub->next)
        if (!sub->ended && sub->is_topic == is_topic && sub->length == length && memcmp(sub->name, name, length) == 0)
            return sub;
    return NULL;
}

static size_t live_subs(ws_session_t *self)
{
    size_t count = 0;
    for (ws_sub_t *sub = self->subs; sub != NULL; sub = sub->next)
        count += !sub->ended;
    return count;
}

/* Opens one subscription, replayed and followed as GET /v1/stream's: from
 * since + 1 (has_since), or where cursor says, else as without since. Its
 * answer (subscribed, or an error) comes when the broker has answered. */
static void sub_open(ws_session_t *self, const rill_named_subject_t *subject, const rill_cursor_t *cursor,
                     int has_since, uint64_t since, uint64_t last_n, json_t *id)
{
    ws_sub_t *sub = rill_xcalloc(1, sizeof(*sub));
    h2o_mem_init_pool(&sub->pool);
    sub->session = self;
    sub->is_topic = subject->is_topic;
    sub->length = subject->length;
    memcpy(sub->name, subject->name, subject->length);
    sub->id = id != NULL ? json_incref(id) : NULL;
    sub->next = self->subs;
    self->subs = sub;
    rill_stream_t *stream = rill_stream_new_in(self->streams, &sub->pool, NULL, RILL_STREAM_NDJSON, self->who);
    rill_output_queue_set_sink(&stream->output, &sink, sub);
    sub->stream = stream;
    rill_stream_set_last_n(stream, last_n);
    const char *epoch = NULL; /* a numeric "since" has none; the upgrade's cursor may */
    if (!has_since && cursor != NULL && !subject->is_pattern) {
        has_since = rill_cursor_find(cursor, subject->name, subject->length, &since);
        epoch = rill_cursor_epoch(cursor, subject->name, subject->length);
    }
    int failed = subject->is_pattern
                     ? rill_stream_add_pattern(stream, subject->name, subject->length, cursor)
                     : rill_stream_add_subject(stream, subject->is_topic, subject->name, subject->length,
                                               has_since, since, epoch);
    if (failed == 0 && rill_broker_link_is_connected(self->broker))
        failed = rill_stream_open(stream);
    else
        failed = -1;
    if (failed != 0) {
        rill_stream_abandon(stream);
        sub->ended = 1;
        schedule_reap(self);
        json_t *data = subject_data(sub);
        json_object_set_new(data, "code", json_string("unavailable"));
        json_object_set_new(data, "message", json_string("the broker cannot be reached"));
        json_object_set_new(data, "op", json_string("subscribe"));
        reply(self, "error", data, id);
    }
}

/* The subject a message names ("job" or "topic"); on error answers and
 * returns -1. */
static int read_subject(ws_session_t *self, json_t *message, const char *op, json_t *id, int allow_pattern,
                        rill_named_subject_t *subject)
{
    json_t *job = json_object_get(message, "job");
    json_t *topic = json_object_get(message, "topic");
    json_t *named = job != NULL ? job : topic;
    if ((job == NULL) == (topic == NULL) || !json_is_string(named)) {
        reply_error(self, op, id, "bad_request", "name one \"job\" or one \"topic\" (a string)");
        return -1;
    }
    const char *name = json_string_value(named);
    size_t length = json_string_length(named);
    memset(subject, 0, sizeof(*subject));
    subject->is_topic = topic != NULL;
    if (job != NULL && !rill_job_id_is_valid((const uint8_t *)name, length)) {
        reply_error(self, op, id, "not_found", "no such job (a job id is 32 hex digits)");
        return -1;
    }
    subject->is_pattern = topic != NULL && allow_pattern && rill_topic_pattern_is_valid(name, length);
    if (topic != NULL && !subject->is_pattern && !rill_topic_name_is_valid(name, length)) {
        reply_error(self, op, id, "bad_topic",
                    allow_pattern ? "a topic name matches [A-Za-z0-9._-]{1,128}; a wildcard is a name prefix "
                                    "ending with '.' and then '*' (alerts.*)"
                                  : "a topic name matches [A-Za-z0-9._-]{1,128}");
        return -1;
    }
    subject->length = length;
    memcpy(subject->name, name, length);
    return 0;
}

static void op_subscribe(ws_session_t *self, json_t *message, json_t *id)
{
    const rill_config_t *config = self->streams->config;
    rill_named_subject_t subject;
    if (read_subject(self, message, "subscribe", id, 1, &subject) != 0)
        return;
    if (subject.is_topic ? !rill_access_may_subscribe(&self->grant, subject.name, subject.length)
                         : !rill_access_may_read_job_by_claim(&self->grant, subject.name)) {
        reply_error(self, "subscribe", id, "forbidden",
                    subject.is_topic ? "the token's claims do not allow this topic (rill.subscribe)"
                                     : "the token's claims do not name this job (rill.jobs); a job of your own: "
                                       "name it on the upgrade request, where its owner is checked");
        return;
    }
    if (find_sub(self, subject.is_topic, subject.name, subject.length) != NULL) {
        reply_error(self, "subscribe", id, "conflict", "already subscribed");
        return;
    }
    if (self->streams->shutting_down || self->close_code != 0) {
        reply_error(self, "subscribe", id, "unavailable", "the frontend is shutting down");
        return;
    }
    if (live_subs(self) >= config->max_jobs_per_request) {
        reply_error(self, "subscribe", id, "too_many_subjects", "at most max_jobs_per_request subscriptions");
        return;
    }
    json_t *since = json_object_get(message, "since");
    json_t *last = json_object_get(message, "last");
    uint64_t seq = 0, last_n = 0;
    rill_cursor_t cursor = {0, NULL};
    const char *cursor_error = NULL;
    if (json_is_integer(since) && json_integer_value(since) >= 0) {
        seq = (uint64_t)json_integer_value(since);
    } else if (json_is_string(since)) {
        if (rill_cursor_parse(json_string_value(since), json_string_length(since), config->max_jobs_per_request,
                              &cursor, &cursor_error) != 0) {
            reply_error(self, "subscribe", id, "bad_cursor", cursor_error != NULL ? cursor_error : "bad cursor");
            return;
        }
    } else if (since != NULL) {
        reply_error(self, "subscribe", id, "bad_cursor", "since is a seq (a number) or a cursor (a string)");
        return;
    }
    if (last != NULL) {
        if (!json_is_integer(last) || json_integer_value(last) < 0 ||
            (uint64_t)json_integer_value(last) > config->topic_retain_messages) {
            rill_cursor_free(&cursor);
            reply_error(self, "subscribe", id, "bad_request", "last is a number of messages, 0 to topic_retain_messages");
            return;
        }
        last_n = (uint64_t)json_integer_value(last);
    }
    sub_open(self, &subject, json_is_string(since) ? &cursor : NULL, json_is_integer(since), seq, last_n, id);
    rill_cursor_free(&cursor);
}

static void op_unsubscribe(ws_session_t *self, json_t *message, json_t *id)
{
    rill_named_subject_t subject;
    if (read_subject(self, message, "unsubscribe", id, 1, &subject) != 0)
        return;
    ws_sub_t *sub = find_sub(self, subject.is_topic, subject.name, subject.length);
    if (sub == NULL) {
        reply_error(self, "unsubscribe", id, "not_found", "not subscribed");
        return;
    }
    sub->ended = 1;
    schedule_reap(self);
    /* As a client that leaves: its jobs nobody else follows are released. */
    rill_output_queue_client_gone(&sub->stream->output);
    json_t *data = subject_data(sub);
    json_object_set_new(data, "reason", json_string("request"));
    reply(self, "unsubscribed", data, id);
}

/* ---- publish ---------------------------------------------------------------- */

static void publish_forget(ws_publish_t *publish)
{
    ws_publish_t **link = &publish->session->publishes;
    while (*link != publish)
        link = &(*link)->next;
    *link = publish->next;
    ws_session_t *self = publish->session;
    if (self->publishing-- == MAX_PUBLISHES && !self->closed)
        rill_ws_conn_hold_reading(self->conn, 0);
    json_decref(publish->id);
    free(publish);
}

static void on_publish_reply(void *owner, rill_call_outcome_t outcome, const rill_message_t *message,
                             const rill_replay_header_t *replay)
{
    (void)replay;
    ws_publish_t *publish = owner;
    ws_session_t *self = publish->session;
    publish->call = NULL;
    if (outcome != RILL_CALL_REPLIED) {
        reply_error(self, "publish", publish->id, outcome == RILL_CALL_TIMEOUT ? "timeout" : "unavailable",
                    outcome == RILL_CALL_TIMEOUT ? "the broker did not answer" : "the frontend is shutting down");
    } else if (message->command == RILL_COMMAND_ERROR && message->argument_count >= 3) {
        char *code = rill_xmemdup_text(message->arguments[1].data, message->arguments[1].size);
        char *text = rill_xmemdup_text(message->arguments[2].data, message->arguments[2].size);
        reply_error(self, "publish", publish->id, code, text);
        free(code);
        free(text);
    } else {
        json_t *data = message->command == RILL_COMMAND_PUBLISHED && message->argument_count >= 2
                           ? json_loadb((const char *)message->arguments[1].data, message->arguments[1].size, 0, NULL)
                           : NULL;
        if (json_is_object(data)) {
            reply(self, "published", data, publish->id); /* takes data */
        } else {
            json_decref(data);
            reply_error(self, "publish", publish->id, "bad_gateway", "unexpected reply from the broker");
        }
    }
    publish_forget(publish);
}

/* Checked as POST /v1/topics/{name}: the token, the name, the size. */
static void op_publish(ws_session_t *self, json_t *message, json_t *id)
{
    const rill_config_t *config = self->streams->config;
    if (!self->may_publish) {
        reply_error(self, "publish", id, "unauthorized",
                    "publishing needs the bearer token: \"Authorization: Bearer <token>\" or "
                    "access_token=<token> on the upgrade request");
        return;
    }
    rill_named_subject_t subject;
    if (read_subject(self, message, "publish", id, 0, &subject) != 0)
        return;
    if (!subject.is_topic) {
        reply_error(self, "publish", id, "bad_request", "publish names a \"topic\"");
        return;
    }
    if (!rill_access_may_publish(&self->grant, subject.name, subject.length)) {
        reply_error(self, "publish", id, "forbidden", "the token's claims do not allow publishing here (rill.publish)");
        return;
    }
    json_t *data = json_object_get(message, "data");
    if (data == NULL) {
        reply_error(self, "publish", id, "bad_json", "\"data\" is the message: any JSON value");
        return;
    }
    /* rill/10: "key", as POST's Idempotency-Key. */
    json_t *key = json_object_get(message, "key");
    if (key != NULL && (!json_is_string(key) ||
                        !rill_publish_key_is_valid(json_string_value(key), json_string_length(key), 0))) {
        reply_error(self, "publish", id, "bad_request", "\"key\" must match [A-Za-z0-9._:-]{1,128}");
        return;
    }
    char *text = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == NULL || strlen(text) > config->max_body_bytes) {
        free(text);
        reply_error(self, "publish", id, "body_too_large", "the message is over max_body_bytes");
        return;
    }
    ws_publish_t *publish = rill_xcalloc(1, sizeof(*publish));
    publish->session = self;
    publish->id = id != NULL ? json_incref(id) : NULL;
    publish->next = self->publishes;
    self->publishes = publish;
    if (++self->publishing == MAX_PUBLISHES)
        rill_ws_conn_hold_reading(self->conn, 1); /* a client faster than the broker waits */
    if (self->streams->leases != NULL)
        publish->call = rill_topic_leases_publish(self->streams->leases, subject.name, subject.length, text,
                                                  strlen(text), key != NULL ? json_string_value(key) : NULL,
                                                  key != NULL ? json_string_length(key) : 0, on_publish_reply, publish);
    free(text);
    if (publish->call == NULL) {
        reply_error(self, "publish", id, "unavailable", "no broker");
        publish_forget(publish);
    }
}

/* ---- the socket's events --------------------------------------------------- */

static void on_message(void *data, const char *bytes, size_t length)
{
    ws_session_t *self = data;
    json_t *message = json_loadb(bytes, length, 0, NULL);
    if (!json_is_object(message)) {
        json_decref(message);
        reply_error(self, NULL, NULL, "bad_json", "a message is one JSON object with an \"op\"");
        return;
    }
    json_t *id = json_object_get(message, "id");
    const char *op = json_string_value(json_object_get(message, "op"));
    if (op != NULL && strcmp(op, "subscribe") == 0)
        op_subscribe(self, message, id);
    else if (op != NULL && strcmp(op, "unsubscribe") == 0)
        op_unsubscribe(self, message, id);
    else if (op != NULL && strcmp(op, "publish") == 0)
        op_publish(self, message, id);
    else
        reply_error(self, op, id, "bad_request", "unknown op: subscribe, unsubscribe or publish");
    json_decref(message);
}

/* What the socket wrote: every subscription waiting on it sends again. */
static void on_drained(void *data)
{
    ws_session_t *self = data;
    for (ws_sub_t *sub = self->subs, *next; sub != NULL; sub = next) {
        next = sub->next;
        if (!sub->sending || sub->ended)
            continue;
        sub->sending = 0;
        rill_output_queue_sent(&sub->stream->output);
    }
}

static void on_closed(void *data)
{
    ws_session_t *self = data;
    self->closed = 1;
    schedule_reap(self);
}

static const rill_ws_conn_events_t conn_events = {
    .on_message = on_message,
    .on_drained = on_drained,
    .on_closed = on_closed,
};

/* The upgrade's JWT has passed its exp (and the leeway). An HTTP stream is
 * authorized once, for the subjects it named; an open socket keeps taking
 * subscribe and publish messages on the token's authority, so that
 * authority ends with the token (docs/API.md "WebSocket"). */
static int token_expired(const ws_session_t *self)
{
    const char *why = NULL;
    return self->grant.payload != NULL &&
           rill_access_claims_check_time(self->grant.payload, (int64_t)time(NULL),
                                         self->streams->config->jwt.leeway_s, &why) != 0;
}

static void on_tick(h2o_timeout_entry_t *entry)
{
    ws_session_t *self = H2O_STRUCT_FROM_MEMBER(ws_session_t, tick, entry);
    if (self->closed)
        return;
    if (token_expired(self)) {
        rill_log_info(self->who, "websocket closed: its token expired");
        reply_error(self, NULL, NULL, "token_expired", "the token has expired: connect again with a fresh one");
        rill_ws_conn_close(self->conn, RILL_WS_CLOSE_TOKEN_EXPIRED, "token expired");
        return;
    }
    rill_ws_conn_tick(self->conn);
    if (!self->closed)
        h2o_timeout_link(self->context->loop, &self->streams->outputs.heartbeat_timeout, &self->tick);
}

/* Frees what is over: ended subscriptions, and with a closed socket the
 * whole session (its subscriptions end as a client that left). */
static void on_reap(h2o_timeout_entry_t *entry)
{
    ws_session_t *self = H2O_STRUCT_FROM_MEMBER(ws_session_t, reap, entry);
    ws_sub_t **link = &self->subs;
    while (*link != NULL) {
        ws_sub_t *sub = *link;
        if (!sub->ended && !self->closed) {
            link = &sub->next;
            continue;
        }
        *link = sub->next;
        if (!sub->ended)
            rill_output_queue_client_gone(&sub->stream->output);
        h2o_mem_clear_pool(&sub->pool); /* the stream's dispose: its subjects, its queue */
        json_decref(sub->id);
        free(sub);
    }
    if (!self->closed && self->close_code != 0 && self->subs == NULL)
        rill_ws_conn_close(self->conn, self->close_code, "the frontend is shutting down");
    if (!self->closed)
        return;
    while (self->publishes != NULL) {
        rill_topic_leases_cancel(&self->publishes->call);
        publish_forget(self->publishes);
    }
    if (h2o_timeout_is_linked(&self->tick))
        h2o_timeout_unlink(&self->tick);
    if (h2o_timeout_is_linked(&self->reap))
        h2o_timeout_unlink(&self->reap);
    h2o_linklist_unlink(&self->link);
    rill_log_debug(self->who, "websocket closed");
    rill_ws_conn_destroy(&self->conn);
    rill_access_grant_clear(&self->grant);
    free(self);
}

void rill_ws_sessions_close_all(h2o_linklist_t *sessions)
{
    for (h2o_linklist_t *node = sessions->next; node != sessions; node = node->next) {
        ws_session_t *self = H2O_STRUCT_FROM_MEMBER(ws_session_t, link, node);
        self->close_code = RILL_WS_CLOSE_GOING_AWAY;
        schedule_reap(self);
    }
}

/* ---- the upgrade ------------------------------------------------------------- */

/* The bearer token of the upgrade request: its Authorization header, or
 * access_token= (a browser's WebSocket cannot set headers). 1: it may
 * publish; 0: no token given; -1: a token that does not match. */
static int read_token(h2o_req_t *req, const rill_config_t *config)
{
    if (config->auth_token[0] == '\0')
        return 1;
    ssize_t index = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (index >= 0) {
        h2o_iovec_t value = req->headers.entries[index].value;
        return rill_access_token_matches(config, value.base, value.len) ? 1 : -1;
    }
    size_t query_length, value_length;
    const char *query = rill_http_request_query(req, &query_length), *value;
    if (!rill_query_find(query, query_length, "access_token", &value, &value_length))
        return 0;
    char *authorization = h2o_mem_alloc_pool(&req->pool, value_length + 8);
    memcpy(authorization, "Bearer ", 7);
    long used = rill_percent_decode(value, value_length, authorization + 7);
    if (used < 0)
        return -1;
    return rill_access_token_matches(config, authorization, (size_t)used + 7) ? 1 : -1;
}

void rill_ws_session_start(h2o_req_t *req, const char *key, rill_streams_t *streams, rill_broker_link_t *broker,
                           const rill_named_subject_t *subjects, size_t count, const rill_cursor_t *cursor,
                           uint64_t last_n, const rill_access_grant_t *grant)
{
    const rill_config_t *config = streams->config;
    /* With JWT access the request's token was checked already (access.c)
     * and its grant decides, message by message; else the bearer token. */
    int jwt = config->jwt.key_count > 0 && grant != NULL;
    int token = jwt ? 1 : read_token(req, config);
    if (token < 0) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                       H2O_STRLIT("Bearer realm=\"rill\""));
        rill_http_reply_error(req, 401, "unauthorized", "the bearer token is not valid");
        return;
    }
    ws_session_t *self = rill_xcalloc(1, sizeof(*self));
    self->streams = streams;
    self->broker = broker;
    self->context = req->conn->ctx;
    self->may_publish = token == 1;
    if (jwt) {
        self->grant = *grant;
        json_incref(self->grant.payload); /* the arrays it points at live in it */
    } else {
        self->grant.everything = 1;
    }
    self->tick.cb = on_tick;
    self->reap.cb = on_reap;
    rill_http_request_client(req, self->who, sizeof(self->who));
    h2o_linklist_insert(&streams->websockets, &self->link);
    self->conn = rill_ws_conn_upgrade(req, key, config->max_body_bytes + ENVELOPE_BYTES, config->slow_client_soft_bytes,
                                      &conn_events, self);
    h2o_timeout_link(self->context->loop, &streams->outputs.heartbeat_timeout, &self->tick);
    rill_log_debug(self->who, "websocket open, %zu subject(s)%s", count, self->may_publish ? "" : ", no publish");
    /* The request is gone with the 101: nothing of it is read below. */
    for (size_t i = 0; i < count && !self->closed; i++)
        sub_open(self, &subjects[i], cursor, 0, 0, last_n, NULL);
}
