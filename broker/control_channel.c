/*
 * control_channel.c - the ROUTER socket frontends talk to.
 *
 * Answers PING, SUBMIT, CANCEL, STATUS, FETCH and PUBLISH (docs/PROTOCOL.md,
 * "Frontend ⇄ broker"). A SUBMIT is checked whole before anything changes:
 * either every job is registered or none is. SUBMIT and FETCH carrying a
 * barrier token are held in barrier.h until the token's subscription shows
 * up on the XPUB (or 2 s pass); the held work is described by a
 * held_request_t, released by rill_control_barrier_release.
 */
#include "broker.h"
#include "metrics.h"
#include "rill_clock.h"
#include "rill_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define REPLAY_EVENTS_PER_MESSAGE 16
#define SUBMIT_TEXT_MAX 256
#define SUBJECT_MAX (RILL_TOPIC_NAME_MAX + 2)

typedef struct {
    int is_fetch;
    uint8_t routing[RILL_ROUTING_ID_MAX];
    size_t routing_size;
    uint8_t *req;
    size_t req_size;
    char token[RILL_BARRIER_TOKEN_MAX + 1];
    /* SUBMIT */
    size_t job_count;
    char (*job_ids)[RILL_ID_TEXT_SIZE];
    /* FETCH */
    char subject[SUBJECT_MAX + 1];
    uint64_t after;
} held_request_t;

void rill_control_barrier_item_free(void *item)
{
    held_request_t *held = item;
    if (held == NULL)
        return;
    free(held->req);
    free(held->job_ids);
    free(held);
}

static void reply(rill_broker_t *self, const rill_frame_t *routing, rill_command_t command,
                  const rill_frame_t *arguments, size_t count)
{
    if (rill_protocol_send_command(self->control, routing, command, arguments, count, ZMQ_DONTWAIT) != 0) {
        self->counters->reply_failures++;
        rill_log_debug(NULL, "cannot send %s to a frontend: %s", rill_command_name(command),
                       zmq_strerror(errno));
    }
}

static void reply_error(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t req,
                        const char *code, const char *message)
{
    rill_frame_t arguments[3] = {req, rill_frame_from_string(code), rill_frame_from_string(message)};
    reply(self, routing, RILL_COMMAND_ERROR, arguments, 3);
}

/* Replies command req json(value); value is consumed. */
static void reply_json(rill_broker_t *self, const rill_frame_t *routing, rill_command_t command,
                       rill_frame_t req, json_t *value)
{
    char *text = value != NULL ? json_dumps(value, JSON_COMPACT) : NULL;
    json_decref(value);
    if (text == NULL) {
        reply_error(self, routing, req, "internal", "out of memory");
        return;
    }
    rill_frame_t arguments[2] = {req, rill_frame_from_string(text)};
    reply(self, routing, command, arguments, 2);
    free(text);
}

static void reply_status(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t req,
                         const rill_job_t *job)
{
    char *text = rill_broker_job_status(self, job);
    if (text == NULL) {
        reply_error(self, routing, req, "internal", "out of memory");
        return;
    }
    rill_frame_t arguments[2] = {req, rill_frame_from_string(text)};
    reply(self, routing, RILL_COMMAND_STATUS, arguments, 2);
    free(text);
}

static void handle_ping(rill_broker_t *self, const rill_frame_t *routing)
{
    json_t *kinds = json_object();
    json_int_t workers = 0;
    for (rill_worker_t *w = rill_worker_pool_first(self->pool); w != NULL;
         w = rill_worker_pool_next(self->pool, w)) {
        if (!rill_worker_is_available(w))
            continue;
        workers++;
        for (size_t i = 0; i < w->kind_count && kinds != NULL; i++) {
            json_t *n = json_object_get(kinds, w->kinds[i]);
            json_object_set_new(kinds, w->kinds[i], json_integer(n != NULL ? json_integer_value(n) + 1 : 1));
        }
    }
    json_t *pong = json_pack("{s:s, s:I, s:o}", "broker", self->instance_id, "workers", workers,
                             "kinds", kinds);
    char *text = pong != NULL ? json_dumps(pong, JSON_COMPACT) : NULL;
    json_decref(pong);
    if (text == NULL)
        return;
    rill_frame_t frame = rill_frame_from_string(text);
    reply(self, routing, RILL_COMMAND_PONG, &frame, 1);
    free(text);
}

/* One job of a SUBMIT, checked. Strings point into the parsed JSON. */
typedef struct {
    rill_job_spec_t spec;
    const rill_pipeline_config_t *pipeline; /* the first that matches, or NULL */
} submitted_job_t;

static int optional_string(json_t *job, const char *field, const char **value)
{
    json_t *item = json_object_get(job, field);
    *value = NULL;
    if (item == NULL || json_is_null(item))
        return 0;
    if (!json_is_string(item) || json_string_length(item) > SUBMIT_TEXT_MAX ||
        strlen(json_string_value(item)) != json_string_length(item))
        return -1;
    *value = json_string_value(item);
    return 0;
}

/* Checks every job; on error fills code/message and returns -1. */
static int check_jobs(rill_broker_t *self, json_t *array, submitted_job_t *jobs, const char **code,
                      char *message, size_t message_size)
{
    size_t index;
    json_t *job;
    json_array_foreach(array, index, job)
    {
        rill_job_spec_t *spec = &jobs[index].spec;
        memset(spec, 0, sizeof(*spec));
        *code = "bad_request";
        if (!json_is_object(job)) {
            snprintf(message, message_size, "job %zu is not a JSON object", index);
            return -1;
        }
        const char *id = json_string_value(json_object_get(job, "id"));
        if (id == NULL || !rill_job_id_is_valid((const uint8_t *)id, strlen(id))) {
            snprintf(message, message_size, "job %zu: \"id\" must be 32 lower-case hex digits", index);
            return -1;
        }
        const char *kind = json_string_value(json_object_get(job, "kind"));
        if (kind == NULL || kind[0] == '\0' || strlen(kind) >= RILL_CONFIG_KIND_NAME_MAX) {
            snprintf(message, message_size, "job %zu: \"kind\" must be a string of 1 to 63 bytes", index);
            return -1;
        }
        if (optional_string(job, "source", &spec->source) != 0 ||
            optional_string(job, "key", &spec->key) != 0 || optional_string(job, "who", &spec->who) != 0) {
            snprintf(message, message_size,
                     "job %zu: \"source\", \"key\" and \"who\" must be strings of at most %d bytes",
                     index, SUBMIT_TEXT_MAX);
            return -1;
        }
        json_t *args = json_object_get(job, "args");
        if (args != NULL && !json_is_object(args) && !json_is_null(args)) {
            snprintf(message, message_size, "job %zu: \"args\" must be a JSON object", index);
            return -1;
        }
        json_t *detach = json_object_get(job, "detach");
        if (detach != NULL && !json_is_boolean(detach) && !json_is_null(detach)) {
            snprintf(message, message_size, "job %zu: \"detach\" must be a boolean", index);
            return -1;
        }
        if (!rill_config_declares_kind(&self->config, kind)) {
            *code = "unknown_kind";
            snprintf(message, message_size, "job %zu: kind \"%.63s\" is not declared", index, kind);
            return -1;
        }
        *code = "conflict";
        if (rill_job_table_find(self->jobs, id) != NULL) {
            snprintf(message, message_size, "job %s exists already", id);
            return -1;
        }
        for (size_t other = 0; other < index; other++) {
            if (strcmp(jobs[other].spec.id, id) == 0) {
                snprintf(message, message_size, "job %s appears twice in the request", id);
                return -1;
            }
        }
        spec->id = id;
        spec->kind = kind;
        spec->args = json_is_object(args) ? args : NULL;
        spec->detached = json_is_true(detach);
        spec->retain_parts = self->config.retain_parts;
    }
    return 0;
}

static void release_submitted(rill_broker_t *self, const char (*ids)[RILL_ID_TEXT_SIZE], size_t count)
{
    for (size_t i = 0; i < count; i++) {
        rill_job_t *job = rill_job_table_find(self->jobs, ids[i]);
        if (job == NULL || !job->held)
            continue;
        job->held = 0;
        /* A pipeline job waits in its debounce list or group buffer already. */
        if (job->state == RILL_JOB_QUEUED && job->pipeline == NULL)
            rill_ready_queue_push_back(self->ready, job);
    }
    self->dispatch_needed = 1;
}

/* Is the token's subscription active (or seen recently)? */
static int token_ready(rill_broker_t *self, const char *token)
{
    char topic[RILL_BARRIER_TOKEN_MAX + 2];
    snprintf(topic, sizeof(topic), "s%s", token);
    return rill_interest_count(self->interest, topic) > 0 || rill_barrier_was_seen(self->barrier, token);
}

static held_request_t *held_new(const rill_frame_t *routing, rill_frame_t req, const char *token)
{
    held_request_t *held = calloc(1, sizeof(*held));
    if (held == NULL)
        return NULL;
    held->req = malloc(req.size);
    if (held->req == NULL || routing->size > RILL_ROUTING_ID_MAX) {
        rill_control_barrier_item_free(held);
        return NULL;
    }
    memcpy(held->req, req.data, req.size);
    held->req_size = req.size;
    memcpy(held->routing, routing->data, routing->size);
    held->routing_size = routing->size;
    snprintf(held->token, sizeof(held->token), "%s", token);
    return held;
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

static void handle_submit(rill_broker_t *self, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_frame_t req = message->arguments[0];
    char token[RILL_BARRIER_TOKEN_MAX + 1];
    if (read_token(message->arguments[1], token) != 0) {
        reply_error(self, routing, req, "bad_request", "the barrier token must be 1 to 128 printable bytes");
        return;
    }
    json_error_t parse_error;
    json_t *array = json_loadb((const char *)message->arguments[2].data, message->arguments[2].size,
                               JSON_REJECT_DUPLICATES, &parse_error);
    if (array == NULL) {
        char text[256];
        snprintf(text, sizeof(text), "jobs are not valid JSON: %s", parse_error.text);
        reply_error(self, routing, req, "bad_request", text);
        return;
    }
    size_t count = json_is_array(array) ? json_array_size(array) : 0;
    if (count == 0 || count > self->config.max_jobs_per_request) {
        char text[128];
        snprintf(text, sizeof(text), "jobs must be an array of 1 to %llu job objects",
                 (unsigned long long)self->config.max_jobs_per_request);
        reply_error(self, routing, req, "bad_request", text);
        json_decref(array);
        return;
    }
    submitted_job_t *jobs = calloc(count, sizeof(*jobs));
    rill_job_t **created = calloc(count, sizeof(*created));
    rill_job_t **accepted = calloc(count, sizeof(*accepted));
    held_request_t *held = token[0] != '\0' ? held_new(routing, req, token) : NULL;
    json_t *ids = json_array();
    if (jobs == NULL || created == NULL || accepted == NULL || ids == NULL || (token[0] != '\0' && held == NULL) ||
        (held != NULL && (held->job_ids = calloc(count, RILL_ID_TEXT_SIZE)) == NULL)) {
        reply_error(self, routing, req, "internal", "out of memory");
        goto out;
    }
    const char *code = "bad_request";
    char text[256];
    if (check_jobs(self, array, jobs, &code, text, sizeof(text)) != 0) {
        reply_error(self, routing, req, code, text);
        goto out;
    }
    /* All or nothing: create every job before registering any. */
    for (size_t i = 0; i < count; i++) {
        created[i] = rill_job_new(&jobs[i].spec);
        if (created[i] == NULL) {
            reply_error(self, routing, req, "internal", "out of memory");
            goto out;
        }
        const rill_pipeline_config_t *pipeline =
            rill_config_match_pipeline(&self->config, jobs[i].spec.kind, jobs[i].spec.source);
        jobs[i].pipeline = pipeline;
        created[i]->retain_ms = self->config.retain_ms;
        created[i]->retries = self->config.retries;
        if (pipeline != NULL) {
            char *identity = NULL;
            if (pipeline->debounce_ms > 0 || pipeline->dedup) {
                identity = rill_pipelines_identity(jobs[i].spec.kind, jobs[i].spec.source,
                                                   jobs[i].spec.key, jobs[i].spec.args);
                if (identity == NULL) {
                    reply_error(self, routing, req, "internal", "out of memory");
                    goto out;
                }
            }
            rill_pipelines_adopt(created[i], pipeline, identity);
        }
    }
    uint64_t now = rill_clock_monotonic_ms();
    uint64_t wall = rill_clock_wall_ms();
    int hold = held != NULL && !token_ready(self, token);
    for (size_t i = 0; i < count; i++) {
        rill_job_t *job = created[i];
        const rill_pipeline_config_t *pipeline = jobs[i].pipeline;
        /* Debounce and dedup: an identical job joins the one there is (an
         * earlier one of this very request included). */
        const char *why = NULL;
        rill_job_t *joined = pipeline != NULL ? rill_pipelines_find_join(self->pipelines, pipeline,
                                                                         job->identity, now, &why)
                                              : NULL;
        if (joined != NULL) {
            if (strcmp(why, "debounce") == 0)
                self->counters->debounced_jobs++;
            else
                self->counters->dedup_joins++;
            if (job->detached)
                joined->detached = 1; /* someone wants it to run regardless */
            rill_log_info(job->who, "job %s joined %s (%s, pipeline %s)", job->id, joined->id, why,
                          pipeline->name);
            rill_job_destroy(&created[i]);
            accepted[i] = joined;
            continue;
        }
        uint64_t timeout_ms = pipeline != NULL ? pipeline->timeout_ms : self->config.timeout_ms;
        uint64_t deadline = timeout_ms > 0 ? now + timeout_ms : 0;
        job->submitted_ms = wall;
        job->held = hold;
        int failed = rill_job_table_insert(self->jobs, job, deadline) != 0;
        if (!failed && pipeline != NULL)
            rill_pipelines_submit(self->pipelines, job, pipeline, now);
        if (failed) {
            /* Only on ENOMEM (ids were checked): end the ones in the table
             * so the reply's "none" stays true for the frontend. */
            for (size_t j = 0; j < i; j++) {
                if (created[j] == NULL)
                    continue; /* joined another */
                rill_ready_queue_remove(self->ready, created[j]);
                rill_broker_end_job(self, created[j], RILL_JOB_FAILED, "internal", "out of memory", 0);
                created[j] = NULL;
            }
            reply_error(self, routing, req, "internal", "out of memory");
            goto out;
        }
        accepted[i] = job;
        if (!hold && pipeline == NULL)
            rill_ready_queue_push_back(self->ready, job);
        if (held != NULL)
            memcpy(held->job_ids[i], job->id, RILL_ID_TEXT_SIZE);
        rill_log_info(job->who, "job %s submitted: kind %s, source %s%s%s%s%s", job->id, job->kind,
                      job->source, job->detached ? ", detached" : "",
                      hold ? ", held for its barrier" : "", pipeline != NULL ? ", pipeline " : "",
                      pipeline != NULL ? pipeline->name : "");
    }
    /* The table owns them now; accepted[i] is what job i became. */
    json_t *flush = json_array();
    int packed = flush != NULL;
    for (size_t i = 0; i < count; i++) {
        created[i] = NULL;
        packed = packed && json_array_append_new(ids, json_string(accepted[i]->id)) == 0 &&
                 json_array_append_new(flush, json_integer((json_int_t)accepted[i]->flush_ms)) == 0;
    }
    json_t *answer = packed ? json_pack("{s:O, s:O}", "jobs", ids, "flush_ms", flush) : NULL;
    json_decref(flush);
    reply_json(self, routing, RILL_COMMAND_SUBMITTED, req, answer);
    if (hold) {
        held->job_count = count;
        rill_barrier_hold(self->barrier, token, now + RILL_BARRIER_WAIT_MS, held);
        held = NULL; /* the barrier owns it */
    }
    self->dispatch_needed = 1;
out:
    if (created != NULL) {
        for (size_t i = 0; i < count; i++)
            rill_job_destroy(&created[i]);
    }
    free(created);
    free(accepted);
    free(jobs);
    rill_control_barrier_item_free(held);
    json_decref(ids);
    json_decref(array);
}

static void handle_cancel(rill_broker_t *self, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_frame_t req = message->arguments[0];
    rill_frame_t id = message->arguments[1];
    rill_job_t *job = rill_job_table_find_frame(self->jobs, id.data, id.size);
    if (job == NULL) {
        reply_error(self, routing, req, "not_found", "no such job");
        return;
    }
    if (rill_job_is_ended(job)) {
        char text[64];
        snprintf(text, sizeof(text), "the job has ended already (%s)", rill_job_state_name(job, 1));
        reply_error(self, routing, req, "conflict", text);
        return;
    }
    rill_broker_end_job(self, job, RILL_JOB_CANCELLED, "cancelled", "cancelled by request", 1);
    reply_status(self, routing, req, job);
}

static void handle_status(rill_broker_t *self, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_frame_t req = message->arguments[0];
    rill_frame_t id = message->arguments[1];
    rill_job_t *job = rill_job_table_find_frame(self->jobs, id.data, id.size);
    if (job == NULL)
        reply_error(self, routing, req, "not_found", "no such job");
    else
        reply_status(self, routing, req, job);
}

static int subject_is_valid(rill_frame_t subject)
{
    if (subject.size < 2 || subject.size > SUBJECT_MAX)
        return 0;
    if (subject.data[0] == RILL_SUBJECT_JOB)
        return rill_job_id_is_valid(subject.data + 1, subject.size - 1);
    if (subject.data[0] == RILL_SUBJECT_TOPIC)
        return subject.size >= 3 && subject.data[subject.size - 1] == '/' &&
               rill_topic_name_is_valid((const char *)subject.data + 1, subject.size - 2);
    return 0;
}

static int send_replay(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t req,
                       rill_frame_t subject, const char *header, const rill_frame_t *events,
                       size_t event_frames)
{
    rill_frame_t arguments[3 + 3 * REPLAY_EVENTS_PER_MESSAGE];
    arguments[0] = req;
    arguments[1] = subject;
    arguments[2] = rill_frame_from_string(header);
    for (size_t i = 0; i < event_frames; i++)
        arguments[3 + i] = events[i];
    if (rill_protocol_send_command(self->control, routing, RILL_COMMAND_REPLAY, arguments,
                                   3 + event_frames, ZMQ_DONTWAIT) != 0) {
        self->counters->reply_failures++;
        rill_log_debug(NULL, "cannot send REPLAY to a frontend: %s", zmq_strerror(errno));
        return -1;
    }
    return 0;
}

/* Answers a FETCH now: the retained events of subject with seq > after. */
static void reply_fetch(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t req,
                        const char *subject_text, uint64_t after)
{
    rill_frame_t subject = rill_frame_from_string(subject_text);
    char header[160];
    rill_retention_t *retention;
    uint64_t last_seq;
    const char *ended;
    const char *who = NULL;
    uint64_t flush_ms = 0;
    if (subject_text[0] == RILL_SUBJECT_TOPIC) {
        /* A topic nobody published to yet exists too: nothing retained,
         * last 0. Aged messages go before they could be replayed. */
        rill_topic_t *topic = rill_topic_table_find(self->topics, subject_text + 1,
                                                    strlen(subject_text) - 2);
        if (topic != NULL)
            rill_topic_expire(topic, rill_clock_monotonic_ms(), self->config.topic_retain_ms);
        retention = topic != NULL ? topic->retention : NULL;
        last_seq = topic != NULL ? topic->last_seq : 0;
        ended = "false";
    } else {
        rill_job_t *job = rill_job_table_find(self->jobs, subject_text + 1);
        if (job == NULL) {
            reply_error(self, routing, req, "not_found", "no such job");
            return;
        }
        retention = job->retention;
        last_seq = job->last_seq;
        ended = rill_job_is_ended(job) ? "true" : "false";
        who = job->who;
        flush_ms = job->flush_ms;
    }
    size_t retained = retention != NULL ? rill_retention_count(retention) : 0;
    uint64_t first = retained > 0 ? rill_retention_at(retention, 0)->seq : last_seq + 1;
    size_t index = retained > 0 ? rill_retention_find_after(retention, after) : 0;
    do {
        rill_frame_t events[3 * REPLAY_EVENTS_PER_MESSAGE];
        char seqs[REPLAY_EVENTS_PER_MESSAGE][24];
        size_t n = 0;
        for (; n < REPLAY_EVENTS_PER_MESSAGE && index < retained; n++, index++) {
            rill_retained_event_t *event = rill_retention_at(retention, index);
            events[3 * n] = rill_frame_from_string(rill_event_type_name(event->type));
            events[3 * n + 1].data = (const uint8_t *)seqs[n];
            events[3 * n + 1].size = rill_u64_to_text(event->seq, seqs[n]);
            events[3 * n + 2].data = zmq_msg_data(&event->data);
            events[3 * n + 2].size = zmq_msg_size(&event->data);
        }
        snprintf(header, sizeof(header),
                 "{\"first\":%llu,\"last\":%llu,\"ended\":%s,\"final\":%s,\"flush_ms\":%llu}",
                 (unsigned long long)first, (unsigned long long)last_seq, ended,
                 index >= retained ? "true" : "false", (unsigned long long)flush_ms);
        if (send_replay(self, routing, req, subject, header, events, 3 * n) != 0)
            return;
    } while (index < retained);
    rill_log_debug(who, "%s: replayed after seq %llu (retained %llu..%llu)", subject_text,
                   (unsigned long long)after, (unsigned long long)first,
                   (unsigned long long)last_seq);
}

static void handle_fetch(rill_broker_t *self, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_frame_t req = message->arguments[0];
    char token[RILL_BARRIER_TOKEN_MAX + 1];
    rill_frame_t subject = message->arguments[2];
    uint64_t after = 0;
    (void)rill_frame_to_u64(message->arguments[3], &after);
    if (read_token(message->arguments[1], token) != 0 || !subject_is_valid(subject)) {
        reply_error(self, routing, req, "bad_request", "bad barrier token or subject");
        return;
    }
    char subject_text[SUBJECT_MAX + 1];
    memcpy(subject_text, subject.data, subject.size);
    subject_text[subject.size] = '\0';
    if (token[0] == '\0' || token_ready(self, token)) {
        reply_fetch(self, routing, req, subject_text, after);
        return;
    }
    held_request_t *held = held_new(routing, req, token);
    if (held == NULL) {
        reply_error(self, routing, req, "internal", "out of memory");
        return;
    }
    held->is_fetch = 1;
    memcpy(held->subject, subject_text, subject.size + 1);
    held->after = after;
    rill_barrier_hold(self->barrier, token, rill_clock_monotonic_ms() + RILL_BARRIER_WAIT_MS, held);
}

/* PUBLISH req name data -> PUBLISHED req {"topic":name,"seq":N}; the message
 * goes out as a part event of "t<name>/" and is retained. */
static void handle_publish(rill_broker_t *self, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_frame_t req = message->arguments[0];
    rill_frame_t name = message->arguments[1];
    rill_frame_t data = message->arguments[2];
    if (!rill_topic_name_is_valid((const char *)name.data, name.size)) {
        reply_error(self, routing, req, "bad_request", "a topic name matches [A-Za-z0-9._-]{1,128}");
        return;
    }
    /* Events are one line each (NDJSON, SSE data): frontends send messages
     * compact, and the broker takes nothing else. */
    if (memchr(data.data, '\n', data.size) != NULL || memchr(data.data, '\r', data.size) != NULL) {
        reply_error(self, routing, req, "bad_request", "the message must be one line of JSON");
        return;
    }
    json_error_t parse_error;
    json_t *value = json_loadb((const char *)data.data, data.size,
                               JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &parse_error);
    if (value == NULL) {
        char text[256];
        snprintf(text, sizeof(text), "the message is not valid JSON: %s", parse_error.text);
        reply_error(self, routing, req, "bad_request", text);
        return;
    }
    json_decref(value);
    rill_topic_t *topic = rill_topic_table_get(self->topics, (const char *)name.data, name.size);
    zmq_msg_t message_data;
    if (topic == NULL || zmq_msg_init_size(&message_data, data.size) != 0) {
        reply_error(self, routing, req, "internal", "out of memory");
        return;
    }
    memcpy(zmq_msg_data(&message_data), data.data, data.size);
    uint64_t seq = rill_events_publish_topic(self, topic, &message_data);
    char answer[RILL_TOPIC_NAME_MAX + 64];
    snprintf(answer, sizeof(answer), "{\"topic\":\"%.*s\",\"seq\":%llu}", (int)name.size,
             (const char *)name.data, (unsigned long long)seq);
    rill_frame_t arguments[2] = {req, rill_frame_from_string(answer)};
    reply(self, routing, RILL_COMMAND_PUBLISHED, arguments, 2);
}

void rill_control_barrier_release(void *item, int timed_out, void *argument)
{
    rill_broker_t *self = argument;
    held_request_t *held = item;
    if (timed_out) {
        self->counters->barrier_timeouts++;
        rill_log_warn(NULL, "barrier %s not seen within %d ms: releasing the %s anyway", held->token,
                      RILL_BARRIER_WAIT_MS, held->is_fetch ? "fetch" : "submitted jobs");
    }
    if (held->is_fetch) {
        rill_frame_t routing = {held->routing, held->routing_size};
        rill_frame_t req = {held->req, held->req_size};
        reply_fetch(self, &routing, req, held->subject, held->after);
    } else {
        release_submitted(self, (const char(*)[RILL_ID_TEXT_SIZE])held->job_ids, held->job_count);
    }
    rill_control_barrier_item_free(held);
}

/* METRICS req -> METRICS req text (broker/metrics.c). */
static void handle_metrics(rill_broker_t *self, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_frame_t req = message->arguments[0];
    rill_buffer_t text;
    rill_buffer_init(&text);
    rill_broker_metrics_render(self->counters, &self->config, &text);
    if (text.failed) {
        rill_buffer_release(&text);
        reply_error(self, routing, req, "internal", "out of memory");
        return;
    }
    rill_frame_t arguments[2] = {req, {(const uint8_t *)text.data, text.length}};
    reply(self, routing, RILL_COMMAND_METRICS, arguments, 2);
    rill_buffer_release(&text);
}

static void handle_message(rill_broker_t *self, rill_received_t *received)
{
    rill_frame_t routing = received->frames[0];
    const rill_frame_t *frames = received->frames + 1;
    size_t count = received->count - 1;
    rill_message_t message;
    const char *reason = NULL;
    if (received->truncated) {
        rill_broker_malformed(self, "control", &routing, frames, count, "too many frames");
        return;
    }
    if (rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, frames, count, &message, &reason) != 0) {
        rill_broker_malformed(self, "control", &routing, frames, count, reason);
        return;
    }
    self->counters->requests++;
    switch (message.command) {
    case RILL_COMMAND_PING:
        handle_ping(self, &routing);
        break;
    case RILL_COMMAND_SUBMIT:
        handle_submit(self, &routing, &message);
        break;
    case RILL_COMMAND_CANCEL:
        handle_cancel(self, &routing, &message);
        break;
    case RILL_COMMAND_STATUS:
        handle_status(self, &routing, &message);
        break;
    case RILL_COMMAND_FETCH:
        handle_fetch(self, &routing, &message);
        break;
    case RILL_COMMAND_PUBLISH:
        handle_publish(self, &routing, &message);
        break;
    case RILL_COMMAND_METRICS:
        handle_metrics(self, &routing, &message);
        break;
    default:
        rill_broker_malformed(self, "control", &routing, frames, count, "command not for the broker");
        break;
    }
}

void rill_control_channel_receive(rill_broker_t *self)
{
    for (int i = 0; i < RILL_BROKER_BURST; i++) {
        rill_received_t received;
        int got = rill_protocol_receive(self->control, &received);
        if (got == 0)
            return;
        if (got < 0) {
            if (errno != EINTR && errno != EAGAIN)
                rill_log_warn(NULL, "control socket receive failed: %s", zmq_strerror(errno));
            return;
        }
        if (received.count >= 1)
            handle_message(self, &received);
        rill_received_close(&received);
    }
}
