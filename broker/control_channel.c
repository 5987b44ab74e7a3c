/*
 * control_channel.c - the ROUTER socket frontends talk to.
 *
 * Answers PING, SUBMIT, CANCEL, STATUS, FETCH, PUBLISH, METRICS, LIST,
 * TOPIC_DELETE and TOPIC_MATCH, and takes RELEASE, FLOW, UNFOLLOW, PRESENCE
 * and REVOKED, which have no answer (docs/PROTOCOL.md, "Frontend ⇄ broker"):
 * each request is decoded here (SUBMIT by common/rill_messages.c), handed
 * to the one operation that decides it (job_life.h, held.h, events.h,
 * topic_admin.h, topic_lease.h), and its answer encoded. What
 * the broker may only know itself (is the kind declared, is the id taken,
 * is the barrier token's subscription there) is decided there, not here.
 */
#include "listeners.h"
#include "control_channel.h"
#include "events.h"
#include "held.h"
#include "job_life.h"
#include "listing.h"
#include "metrics.h"
#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_messages.h"
#include "sockets.h"
#include "rill_json_check.h"
#include "rill_topic_pattern.h"
#include "topic_admin.h"
#include "topic_lease.h"
#include "worker_metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rill_control_channel_reply(void *context, const rill_frame_t *routing, rill_command_t command,
                               const rill_frame_t *arguments, size_t count)
{
    rill_broker_sockets_t *sockets = context;
    return rill_protocol_send_command(sockets->control, routing, command, arguments, count, ZMQ_DONTWAIT);
}

/* command req text, or the error when text is NULL; frees text. */
static void reply_text(rill_broker_t *broker, const rill_frame_t *routing, rill_command_t command,
                       rill_frame_t req, char *text, const rill_broker_error_t *error)
{
    if (text == NULL) {
        rill_broker_reply_error(broker, routing, req, error->code, error->message);
        return;
    }
    rill_frame_t arguments[2] = {req, rill_frame_from_string(text)};
    (void)rill_broker_reply(broker, routing, command, arguments, 2);
    free(text);
}

static void handle_ping(rill_broker_t *broker, const rill_frame_t *routing)
{
    json_t *kinds = json_object();
    json_int_t workers = 0;
    for (rill_worker_t *w = rill_worker_pool_first(broker->pool); w != NULL;
         w = rill_worker_pool_next(broker->pool, w)) {
        if (!rill_worker_is_available(w))
            continue;
        workers++;
        for (size_t i = 0; i < w->kind_count; i++) {
            json_t *n = json_object_get(kinds, w->kinds[i]);
            json_object_set_new(kinds, w->kinds[i], json_integer(n != NULL ? json_integer_value(n) + 1 : 1));
        }
    }
    /* started_ms and recovering: a frontend tells a restarted broker, and
     * waits out its recovery before it trusts a not_found. */
    json_t *pong = json_pack("{s:s, s:I, s:o, s:I, s:b}", "broker", broker->instance_id, "workers", workers,
                             "kinds", kinds, "started_ms", (json_int_t)broker->started_wall_ms, "recovering",
                             rill_broker_recovering(broker, rill_clock_monotonic_ms()));
    char *text = pong != NULL ? json_dumps(pong, JSON_COMPACT) : NULL;
    json_decref(pong);
    if (text == NULL)
        return;
    rill_frame_t frame = rill_frame_from_string(text);
    (void)rill_broker_reply(broker, routing, RILL_COMMAND_PONG, &frame, 1);
    free(text);
}

/* The token frame: "" or a valid token copied into text. 0, or -1 if invalid. */
static int read_token(rill_frame_t frame, char *text)
{
    text[0] = '\0';
    if (frame.size == 0)
        return 0;
    if (!rill_barrier_token_is_valid(frame.data, frame.size))
        return -1;
    memcpy(text, frame.data, frame.size);
    text[frame.size] = '\0';
    return 0;
}

/* SUBMIT req token jobs [follow] -> SUBMITTED req {"jobs":[...],"flush_ms":[...]} */
static void handle_submit(rill_broker_t *broker, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_frame_t req = message->arguments[0];
    char token[RILL_BARRIER_TOKEN_MAX + 1];
    if (read_token(message->arguments[1], token) != 0) {
        rill_broker_reply_error(broker, routing, req, "bad_request",
                                "the barrier token must be 1 to 128 printable bytes");
        return;
    }
    /* rill/4: the frontend's follow subject, "" or left out for none. */
    char follow[RILL_FOLLOW_SUBJECT_MAX + 1] = "";
    if (message->argument_count > 3 && message->arguments[3].size > 0) {
        rill_frame_t frame = message->arguments[3];
        if (!rill_follow_subject_is_valid(frame.data, frame.size)) {
            rill_broker_reply_error(broker, routing, req, "bad_request",
                                    "the follow subject must be \"d\", 8 to 64 bytes of [0-9A-Za-z_-], \"/\"");
            return;
        }
        memcpy(follow, frame.data, frame.size);
        follow[frame.size] = '\0';
    }
    rill_submit_t submit;
    char reason[256];
    int decoded = rill_submit_decode(message->arguments[2].data, message->arguments[2].size, &submit, reason,
                                     sizeof(reason));
    if (decoded != 0) {
        rill_broker_reply_error(broker, routing, req, decoded == -2 ? "conflict" : "bad_request", reason);
        return;
    }
    char(*ids)[RILL_ID_TEXT_SIZE] = rill_xcalloc(submit.count, RILL_ID_TEXT_SIZE);
    uint64_t *flush_ms = rill_xcalloc(submit.count, sizeof(*flush_ms));
    rill_broker_error_t error;
    if (rill_broker_submit_followed(broker, submit.jobs, submit.count, token, follow, ids, flush_ms, &error) != 0) {
        rill_broker_reply_error(broker, routing, req, error.code, error.message);
    } else {
        char *text = rill_submitted_encode((const char(*)[RILL_ID_TEXT_SIZE])ids, flush_ms, submit.count);
        rill_frame_t arguments[2] = {req, rill_frame_from_string(text)};
        (void)rill_broker_reply(broker, routing, RILL_COMMAND_SUBMITTED, arguments, 2);
        free(text);
    }
    free(ids);
    free(flush_ms);
    rill_submit_release(&submit);
}

/* CANCEL req id -> STATUS req status */
static void handle_cancel(rill_broker_t *broker, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_broker_error_t error;
    char *status = rill_broker_cancel(broker, message->arguments[1], &error);
    reply_text(broker, routing, RILL_COMMAND_STATUS, message->arguments[0], status, &error);
}

/* STATUS req id -> STATUS req status */
static void handle_status(rill_broker_t *broker, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_broker_error_t error;
    char *status = rill_broker_status(broker, message->arguments[1], &error);
    reply_text(broker, routing, RILL_COMMAND_STATUS, message->arguments[0], status, &error);
}

static int subject_is_valid(rill_frame_t subject)
{
    if (subject.size < 2 || subject.size > RILL_SUBJECT_MAX)
        return 0;
    if (subject.data[0] == RILL_SUBJECT_JOB)
        return rill_job_id_is_valid(subject.data + 1, subject.size - 1);
    if (subject.data[0] == RILL_SUBJECT_TOPIC)
        return subject.size >= 3 && subject.data[subject.size - 1] == '/' &&
               rill_topic_name_is_valid((const char *)subject.data + 1, subject.size - 2);
    return 0;
}

/* FETCH req token subject after -> REPLAY req subject header events... */
static void handle_fetch(rill_broker_t *broker, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_frame_t req = message->arguments[0];
    char token[RILL_BARRIER_TOKEN_MAX + 1];
    rill_frame_t subject = message->arguments[2];
    uint64_t after = 0;
    (void)rill_frame_to_u64(message->arguments[3], &after);
    if (read_token(message->arguments[1], token) != 0 || !subject_is_valid(subject)) {
        rill_broker_reply_error(broker, routing, req, "bad_request", "bad barrier token or subject");
        return;
    }
    char subject_text[RILL_SUBJECT_MAX + 1];
    memcpy(subject_text, subject.data, subject.size);
    subject_text[subject.size] = '\0';
    rill_held_fetch(broker, routing, req, token, subject_text, after);
}

/* TOPIC_MATCH req prefix [token] (rill/3; the token rill/11) ->
 * TOPIC_MATCHED, at once or once the token's subscription is in (held.h);
 * ERROR bad_request for a prefix that is not a pattern's or a bad token. */
static void handle_topic_match(rill_broker_t *broker, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_frame_t req = message->arguments[0];
    rill_frame_t prefix = message->arguments[1];
    if (!rill_topic_prefix_is_valid((const char *)prefix.data, prefix.size)) {
        rill_broker_reply_error(broker, routing, req, "bad_request",
                                "a pattern's prefix is a topic name ending with '.'");
        return;
    }
    char token[RILL_BARRIER_TOKEN_MAX + 1] = "";
    if (message->argument_count > 2 && read_token(message->arguments[2], token) != 0) {
        rill_broker_reply_error(broker, routing, req, "bad_request",
                                "the barrier token must be 1 to 128 printable bytes");
        return;
    }
    rill_held_match(broker, routing, req, token, (const char *)prefix.data, prefix.size);
}

/* PUBLISH req name data [seq [key]] -> PUBLISHED req {"topic":name,"seq":N}
 * [lease]; the message goes out as a part event of "t<name>/" and is
 * retained. Checked here; numbered (or queued behind a lease: rill/8) by
 * topic_lease.c. */
static void handle_publish(rill_broker_t *broker, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_frame_t req = message->arguments[0];
    rill_frame_t name = message->arguments[1];
    rill_frame_t data = message->arguments[2];
    if (!rill_topic_name_is_valid((const char *)name.data, name.size)) {
        rill_broker_reply_error(broker, routing, req, "bad_request", "a topic name matches [A-Za-z0-9._-]{1,128}");
        return;
    }
    /* Events are one line each (NDJSON, SSE data): frontends send messages
     * compact, and the broker takes nothing else. */
    if (memchr(data.data, '\n', data.size) != NULL || memchr(data.data, '\r', data.size) != NULL) {
        rill_broker_reply_error(broker, routing, req, "bad_request", "the message must be one line of JSON");
        return;
    }
    rill_json_check_error_t why;
    if (rill_json_check(data.data, data.size, &why) != 0) {
        char text[256];
        snprintf(text, sizeof(text), "the message is not valid JSON: %s at byte %zu", why.reason, why.offset);
        rill_broker_reply_error(broker, routing, req, "bad_request", text);
        return;
    }
    rill_topic_lease_publish(broker, routing, message);
}

/* METRICS req -> METRICS req text processes (broker/metrics.c,
 * worker_metrics.h; the processes' stats since rill/5). */
static void handle_metrics(rill_broker_t *broker, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_frame_t req = message->arguments[0];
    rill_buffer_t text, processes;
    rill_buffer_init(&text);
    rill_buffer_init(&processes);
    rill_broker_metrics_render(broker->counters, &broker->config, &text);
    rill_worker_metrics_render(broker->pool, &text);
    rill_worker_metrics_processes_json(broker->pool, &processes);
    if (text.failed || processes.failed) {
        rill_buffer_release(&text);
        rill_buffer_release(&processes);
        rill_broker_reply_error(broker, routing, req, "internal", "out of memory");
        return;
    }
    rill_frame_t arguments[3] = {req, {(const uint8_t *)text.data, text.length},
                                 {(const uint8_t *)processes.data, processes.length}};
    (void)rill_broker_reply(broker, routing, RILL_COMMAND_METRICS, arguments, 3);
    rill_buffer_release(&text);
    rill_buffer_release(&processes);
}

/* LIST req what query -> LIST req json (listing.c). */
static void handle_list(rill_broker_t *broker, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_broker_error_t error;
    rill_frame_t what = message->arguments[1], query = message->arguments[2];
    char *text = rill_listing_answer(broker, (const char *)what.data, what.size, (const char *)query.data,
                                     query.size, &error);
    reply_text(broker, routing, RILL_COMMAND_LIST, message->arguments[0], text, &error);
}

/* PRESENCE json: no reply; presence.c keeps this frontend's report. */
static void handle_presence(rill_broker_t *broker, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_frame_t json = message->arguments[0];
    if (rill_presence_report(broker->presence, routing->data, routing->size, (const char *)json.data, json.size,
                             rill_clock_monotonic_ms()) != 0)
        rill_broker_malformed(broker, "control", routing, NULL, 0, "PRESENCE is not {\"interval_ms\",\"subjects\"}");
}

/* RELEASE id: no reply; job_life.c decides (orphan grace). */
static void handle_release(rill_broker_t *broker, const rill_message_t *message)
{
    rill_broker_release(broker, message->arguments[0]);
}

/* UNFOLLOW id follow 0|1 (rill/4): no reply; job_life.c decides. */
static void handle_unfollow(rill_broker_t *broker, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_frame_t follow = message->arguments[1];
    if (!rill_follow_subject_is_valid(follow.data, follow.size)) {
        rill_broker_malformed(broker, "control", routing, NULL, 0, "UNFOLLOW with a bad follow subject");
        return;
    }
    rill_broker_unfollow(broker, message->arguments[0], follow, message->arguments[2].data[0] == '1');
}

/* FLOW id 0|1: no reply; job_life.c decides whether the job pauses. */
static void handle_flow(rill_broker_t *broker, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_broker_flow(broker, routing, message->arguments[0], message->arguments[1].data[0] == '1');
}

static void handle_message(void *argument, rill_received_t *received)
{
    rill_broker_t *broker = argument;
    const rill_frame_t *routing = &received->frames[0];
    const rill_frame_t *frames = received->frames + 1;
    size_t count = received->count - 1;
    rill_message_t message;
    const char *reason = NULL;
    if (received->truncated) {
        rill_broker_malformed(broker, "control", routing, frames, count, "too many frames");
        return;
    }
    if (rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, frames, count, &message, &reason) != 0) {
        rill_broker_malformed(broker, "control", routing, frames, count, reason);
        return;
    }
    broker->counters->requests++;
    switch (message.command) {
    case RILL_COMMAND_PING:
        rill_topic_lease_heard(broker, routing, rill_clock_monotonic_ms());
        handle_ping(broker, routing);
        break;
    case RILL_COMMAND_SUBMIT:
        handle_submit(broker, routing, &message);
        break;
    case RILL_COMMAND_CANCEL:
        handle_cancel(broker, routing, &message);
        break;
    case RILL_COMMAND_STATUS:
        handle_status(broker, routing, &message);
        break;
    case RILL_COMMAND_FETCH:
        handle_fetch(broker, routing, &message);
        break;
    case RILL_COMMAND_PUBLISH:
        handle_publish(broker, routing, &message);
        break;
    case RILL_COMMAND_METRICS:
        handle_metrics(broker, routing, &message);
        break;
    case RILL_COMMAND_RELEASE:
        handle_release(broker, &message);
        break;
    case RILL_COMMAND_FLOW:
        handle_flow(broker, routing, &message);
        break;
    case RILL_COMMAND_UNFOLLOW:
        handle_unfollow(broker, routing, &message);
        break;
    case RILL_COMMAND_LIST:
        handle_list(broker, routing, &message);
        break;
    case RILL_COMMAND_PRESENCE:
        handle_presence(broker, routing, &message);
        break;
    case RILL_COMMAND_TOPIC_DELETE: /* rill/3: broker/topic_admin.c, after a lease (rill/8) */
        if (!rill_topic_lease_delete_waits(broker, routing, &message))
            rill_topic_admin_delete(broker, routing, &message);
        break;
    case RILL_COMMAND_REVOKED: /* rill/8 */
        rill_topic_lease_revoked(broker, routing, &message);
        break;
    case RILL_COMMAND_TOPIC_MATCH:
        handle_topic_match(broker, routing, &message);
        break;
    default:
        rill_broker_malformed(broker, "control", routing, frames, count, "command not for the broker");
        break;
    }
}

void rill_control_channel_receive(rill_broker_t *broker, void *socket)
{
    rill_broker_sockets_receive(socket, "control", handle_message, broker);
}
