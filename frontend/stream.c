/*
 * stream.c - see stream.h. Owns a stream's life (new, subjects, open,
 * start, abandon, end), what its FETCHes' ends mean to it, its notices,
 * and the fan-out of the SUB socket's events to every stream of the
 * process. What is in order is the sequencer's to say (sequencer.c); the
 * FETCHes are its subjects' (stream_subject.c); how bytes reach the client
 * is the output queue's (output_queue.c).
 */
#include "stream.h"

#include "cursor.h"
#include "flow.h"
#include "pool_place.h"
#include "rill_alloc.h"
#include "rill_log.h"
#include "sequencer.h"
#include "stream_subject.h"
#include "topic_patterns.h"
#include "topic_streams.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_OF(queue) H2O_STRUCT_FROM_MEMBER(rill_stream_t, output, queue)
#define SUBJECT_OF(sequencer_pointer) H2O_STRUCT_FROM_MEMBER(stream_subject_t, sequencer, sequencer_pointer)
#define OWNER_OF(record) ((rill_stream_t *)(record)->owner)

static void mark_dirty(rill_stream_t *self)
{
    rill_output_queue_mark_dirty(&self->output);
}

/* Whether the stream of a subscription is behind, or reads no more. */
static int subscription_behind(const rill_subscription_t *subscription)
{
    const stream_subject_t *record = subscription->owner;
    const rill_stream_t *stream = OWNER_OF(record);
    if (!rill_output_queue_is_open(&stream->output))
        return RILL_FLOW_LEAVING; /* about to go: it has no say (flow.h) */
    return stream->output.behind ? RILL_FLOW_BEHIND : RILL_FLOW_READING;
}

/* Drops one subject of the stream, with its FETCH if one is in flight.
 * client_left: the client went away; when it was this frontend's last
 * client of a job it had not seen end, the broker is told (RELEASE), so the
 * job is cancelled at once instead of waiting out its orphan grace for a
 * resume (docs/PROTOCOL.md, "Interest"). A stream the frontend ended
 * itself (slow client, shutdown) releases nothing: its client may resume. */
static void subject_forget(rill_stream_t *self, stream_subject_t *record, int client_left)
{
    rill_streams_t *streams = self->streams;
    rill_stream_subject_release(record);
    rill_subject_t *subject = record->subscription != NULL ? record->subscription->subject : NULL;
    int last = subject == NULL || subject->count <= 1;
    /* Told before the removal: the sequencer's topic is the subject's. */
    if (last && !streams->shutting_down)
        rill_stream_subject_left(record, streams->broker,
                                 subject != NULL && (subject->followed || subject->refollowed), client_left);
    rill_subject_registry_remove(streams->subjects, &record->subscription);
    if (!last)
        rill_flow_update(streams->broker, subject, subscription_behind); /* the others may all be behind */
    free(record);
}

static void release_subscriptions(rill_stream_t *self, int client_left)
{
    rill_broker_link_unsubscribe_barrier(self->streams->broker, self->token);
    stream_subject_t *record = self->subjects;
    while (record != NULL) {
        stream_subject_t *next = record->next;
        subject_forget(self, record, client_left);
        record = next;
    }
    self->subjects = NULL;
    self->subjects_tail = NULL;
    self->open_jobs = 0;
    self->topics = 0;
    rill_topic_patterns_release(self);
}

/* Releases everything but the pool memory itself; safe to call twice. */
static void stream_release(rill_stream_t *self, int client_left)
{
    rill_output_queue_stop(&self->output);
    release_subscriptions(self, client_left);
}

/* ---- the output queue's events ---------------------------------------- */

static void on_output_send(rill_output_queue_t *queue, int final)
{
    rill_stream_t *self = STREAM_OF(queue);
    for (stream_subject_t *record = self->subjects; record != NULL; record = record->next)
        rill_sequencer_sent(&record->sequencer);
    if (final)
        release_subscriptions(self, 0); /* nothing more will be sent */
}

static void on_output_drop(rill_output_queue_t *queue)
{
    rill_stream_t *self = STREAM_OF(queue);
    for (stream_subject_t *record = self->subjects; record != NULL; record = record->next)
        rill_sequencer_dropped_queued(&record->sequencer);
}

/* After a drop: each subject gets one gap event for what it lost. */
static void on_output_resume(rill_output_queue_t *queue)
{
    rill_stream_t *self = STREAM_OF(queue);
    for (stream_subject_t *record = self->subjects; record != NULL; record = record->next)
        rill_sequencer_report_dropped(&record->sequencer);
}

static void on_output_stop(rill_output_queue_t *queue)
{
    rill_stream_t *self = STREAM_OF(queue);
    if (queue->final_sent)
        rill_log_debug(self->who, "stream %llu: client gone after the end",
                       (unsigned long long)queue->serial);
    else
        rill_log_info(self->who, "stream %llu: client went away mid-stream (%u job(s) open)",
                      (unsigned long long)queue->serial, self->open_jobs);
    stream_release(self, 1);
}

/* The client closed its connection: its subjects go at once (RELEASE for
 * jobs it alone followed), and the queue ends the response. */
static void on_output_closed(rill_output_queue_t *queue)
{
    release_subscriptions(STREAM_OF(queue), 1);
}

/* The client fell behind or caught up: each job it follows may pause or
 * resume at its source (flow.h). */
static void on_output_behind(rill_output_queue_t *queue)
{
    rill_stream_t *self = STREAM_OF(queue);
    for (stream_subject_t *record = self->subjects; record != NULL; record = record->next)
        if (!record->sequencer.ended && record->subscription != NULL)
            rill_flow_update(self->streams->broker, record->subscription->subject, subscription_behind);
}

static const rill_output_events_t output_events = {
    .on_behind = on_output_behind,
    .on_send = on_output_send,
    .on_drop = on_output_drop,
    .on_resume = on_output_resume,
    .on_stop = on_output_stop,
    .on_closed = on_output_closed,
};

/* ---- what the sequencers ask ------------------------------------------ */

/* Queues one event line (borrowed) of a subject, in the stream's format. */
static void enqueue_event(rill_stream_t *self, stream_subject_t *record, uint64_t seq,
                          const char *type, rill_chunk_t *line)
{
    rill_output_queue_t *output = &self->output;
    if (output->dropping) {
        rill_sequencer_dropped(&record->sequencer, seq);
        return;
    }
    rill_sequencer_queued(&record->sequencer, seq);
    if (output->format != RILL_STREAM_SSE) {
        rill_output_queue_push(output, line);
        return;
    }
    size_t cursor_length = 0;
    char buffer[1024];
    char *cursor = rill_stream_build_cursor(self, record, seq, buffer, sizeof(buffer), &cursor_length);
    rill_output_queue_push_sse(output, type, cursor, cursor_length, line);
    if (cursor != buffer)
        free(cursor);
}

static int sequencer_is_open(rill_sequencer_t *sequencer)
{
    return rill_output_queue_is_open(&OWNER_OF(SUBJECT_OF(sequencer))->output);
}

static void sequencer_deliver(rill_sequencer_t *sequencer, uint64_t seq, rill_event_type_t type,
                              rill_chunk_t *line)
{
    stream_subject_t *record = SUBJECT_OF(sequencer);
    enqueue_event(OWNER_OF(record), record, seq, rill_event_type_name(type), line);
    mark_dirty(OWNER_OF(record));
}

static void sequencer_overflow(rill_sequencer_t *sequencer)
{
    rill_output_queue_overflow(&OWNER_OF(SUBJECT_OF(sequencer))->output);
}

static int sequencer_repair(rill_sequencer_t *sequencer, uint64_t after)
{
    (void)after; /* the sequencer's FETCH carries it */
    return rill_stream_subject_repair(SUBJECT_OF(sequencer));
}

static void sequencer_ended(rill_sequencer_t *sequencer)
{
    rill_stream_t *self = OWNER_OF(SUBJECT_OF(sequencer));
    if (self->open_jobs > 0)
        self->open_jobs--;
    if (self->open_jobs == 0 && self->topics == 0)
        rill_output_queue_end(&self->output, 0);
    mark_dirty(self);
}

static const rill_sequencer_sink_t sequencer_sink = {
    .is_open = sequencer_is_open,
    .deliver = sequencer_deliver,
    .overflow = sequencer_overflow,
    .repair = sequencer_repair,
    .ended = sequencer_ended,
};

/* ---- FETCH answers ----------------------------------------------------- */

/* Every opening FETCH has answered: start the stream, or answer the error
 * (an unknown job makes the whole request 404). */
static void opening_done(rill_stream_t *self)
{
    if (self->opening > 0)
        self->opening--;
    if (self->opening > 0)
        return;
    rill_broker_link_unsubscribe_barrier(self->streams->broker, self->token);
    if (self->open_status == 0 && self->open_jobs == 0 && self->topics == 0 &&
        self->output.pending.count == 0) {
        self->open_status = 204; /* resumed past every job's end: EventSource then stops */
        snprintf(self->open_message, sizeof(self->open_message), "every job ended");
    }
    if (self->open_status != 0) {
        rill_log_info(self->who, "stream %llu refused: %d %s",
                      (unsigned long long)self->output.serial, self->open_status, self->open_message);
        rill_stream_abandon(self);
        rill_output_queue_refuse(&self->output, self->open_status, self->open_code, self->open_message);
        return;
    }
    rill_log_info(self->who, "stream %llu: replayed, streaming (%u job(s), %u topic(s))",
                  (unsigned long long)self->output.serial, self->open_jobs, self->topics);
    rill_stream_start(self);
}

/* A joined job's replay is in: the barrier token goes with the last one. */
static void joining_done(rill_stream_t *self)
{
    if (self->joining > 0 && --self->joining == 0)
        rill_broker_link_unsubscribe_barrier(self->streams->broker, self->token);
}

/* An opening FETCH failed: the first failure answers the request, a 404
 * over any other (an unknown job refuses the whole stream). */
static void on_fetch_refused(stream_subject_t *record, int status, const char *code, const char *message)
{
    rill_stream_opening_refused(OWNER_OF(record), status, code, message);
}

static void on_fetch_done(stream_subject_t *record, rill_fetch_purpose_t purpose)
{
    rill_stream_t *self = OWNER_OF(record);
    if (purpose == RILL_FETCH_OPENING)
        opening_done(self);
    else if (purpose == RILL_FETCH_JOINING)
        joining_done(self);
}

static void on_fetch_flush_ms(stream_subject_t *record, uint64_t flush_ms)
{
    rill_stream_note_flush_ms(OWNER_OF(record), flush_ms);
}

static void on_fetch_replied(void *context)
{
    rill_streams_flush(context);
}

static const rill_fetch_events_t fetch_events = {
    .refused = on_fetch_refused,
    .done = on_fetch_done,
    .flush_ms = on_fetch_flush_ms,
    .replied = on_fetch_replied,
};

/* ---- a stream's life ---------------------------------------------------- */

static void on_dispose(void *data)
{
    rill_stream_t *self = data;
    /* Subjects still here: the request went with neither an end nor a stop
     * (a connection closed before the response started). */
    stream_release(self, 1);
    rill_output_queue_dispose(&self->output);
    if (h2o_linklist_is_linked(&self->link))
        h2o_linklist_unlink(&self->link);
}

rill_stream_t *rill_stream_new(rill_streams_t *streams, h2o_req_t *req, rill_stream_format_t format,
                               const char *who)
{
    return rill_stream_new_in(streams, &req->pool, req, format, who);
}

rill_stream_t *rill_stream_new_in(rill_streams_t *streams, h2o_mem_pool_t *pool, h2o_req_t *req,
                                  rill_stream_format_t format, const char *who)
{
    rill_stream_t *self = rill_pool_place(pool, sizeof(*self), on_dispose);
    memset(self, 0, sizeof(*self));
    self->streams = streams;
    snprintf(self->who, sizeof(self->who), "%s", who != NULL ? who : "");
    h2o_linklist_insert(&streams->all, &self->link);
    rill_output_queue_init(&self->output, &streams->outputs, req, &output_events, format, self->who,
                           ++streams->opened);
    return self;
}

/* Subscribes the stream to topic and appends the subject; NULL when the
 * registry refuses it. */
static stream_subject_t *subject_add(rill_stream_t *self, const char *topic, size_t length)
{
    stream_subject_t *record = rill_xcalloc(1, sizeof(*record));
    rill_stream_subject_init(record, &self->streams->fetches, self);
    /* A job of a streamed submit comes by the follow subject (rill/4). */
    record->subscription = self->follows_directly && topic[0] == RILL_SUBJECT_JOB
                               ? rill_subject_registry_add_followed(self->streams->subjects, topic, length, record)
                               : rill_subject_registry_add(self->streams->subjects, topic, length, record);
    if (record->subscription == NULL) {
        free(record);
        return NULL;
    }
    rill_subject_t *subject = record->subscription->subject;
    rill_flow_update(self->streams->broker, subject, subscription_behind); /* one more that reads */
    rill_sequencer_init(&record->sequencer, &sequencer_sink, subject->topic, subject->topic_length,
                        self->who, &self->streams->config->slow_client_hard_bytes);
    if (self->subjects_tail != NULL)
        self->subjects_tail->next = record;
    else
        self->subjects = record;
    self->subjects_tail = record;
    return record;
}

void rill_stream_follow_directly(rill_stream_t *self)
{
    self->follows_directly = self->streams->broker != NULL;
}

int rill_stream_add_job(rill_stream_t *self, const char *job_id)
{
    char topic[1 + RILL_JOB_ID_LENGTH];
    size_t length = strlen(job_id);
    if (length != RILL_JOB_ID_LENGTH || self->output.stopped)
        return -1;
    topic[0] = RILL_SUBJECT_JOB;
    memcpy(topic + 1, job_id, length);
    if (subject_add(self, topic, length + 1) == NULL)
        return -1;
    self->open_jobs++;
    return 0;
}

int rill_stream_add_subject(rill_stream_t *self, int is_topic, const char *name, size_t length,
                            int has_since, uint64_t since, const char *epoch)
{
    char topic[RILL_SUBJECT_TOPIC_MAX + 1];
    if (self->output.stopped || self->output.started || length == 0 || length > RILL_TOPIC_NAME_MAX)
        return -1;
    topic[0] = is_topic ? RILL_SUBJECT_TOPIC : RILL_SUBJECT_JOB;
    memcpy(topic + 1, name, length);
    size_t topic_length = length + 1;
    if (is_topic)
        topic[topic_length++] = '/';
    if (rill_stream_find_subject(self, topic, topic_length) != NULL)
        return 0; /* named twice: followed once */
    stream_subject_t *record = subject_add(self, topic, topic_length);
    if (record == NULL)
        return -1;
    int last_n = is_topic && !has_since && self->last_n > 0; /* since wins (rill/3) */
    uint64_t after = has_since || last_n ? since : is_topic ? RILL_FETCH_AFTER_LATEST : 0;
    rill_fetch_t *fetch = rill_sequencer_fetch_begin(&record->sequencer, RILL_FETCH_OPENING, after);
    fetch->live_only = is_topic && !has_since && !last_n;
    fetch->last_n = last_n ? self->last_n : 0;
    record->sequencer.next_seq = has_since ? since + 1 : 1;
    if (is_topic && has_since && epoch != NULL)
        memcpy(record->sequencer.epoch, epoch, RILL_TOPIC_EPOCH_LENGTH); /* rill/6: the cursor's numbering */
    if (is_topic)
        self->topics++;
    else
        self->open_jobs++;
    return 0;
}

int rill_stream_open(rill_stream_t *self)
{
    if (self->output.stopped || (self->subjects == NULL && self->patterns == NULL))
        return -1;
    /* Subjects first (rill_stream_add_subject), then the barrier token, then
     * the FETCHes: PROTOCOL.md, "The barrier". */
    if (rill_broker_link_subscribe_barrier(self->streams->broker, self->token) != 0)
        return -1;
    /* Topics that start live first: the broker answers in order, so their
     * positions are known before any replayed event needs a cursor. */
    for (int pass = 0; pass < 2; pass++) {
        for (stream_subject_t *record = self->subjects; record != NULL; record = record->next) {
            const rill_fetch_t *fetch = record->sequencer.fetch;
            if (fetch == NULL || fetch->purpose != RILL_FETCH_OPENING ||
                (fetch->live_only || fetch->last_n != 0) != (pass == 0))
                continue;
            if (rill_stream_subject_fetch(record, self->token + 1) != 0)
                return -1; /* the caller abandons the stream: calls sent are cancelled */
            self->opening++;
        }
    }
    if (rill_topic_patterns_open(self) != 0) /* wildcards: TOPIC_MATCH each */
        return -1;
    rill_log_debug(self->who, "stream %llu: %u FETCH(es) sent",
                   (unsigned long long)self->output.serial, self->opening);
    return 0;
}

static int is_job(const stream_subject_t *record, const char *job_id)
{
    const rill_sequencer_t *sequencer = &record->sequencer;
    return sequencer->topic_length == 1 + RILL_JOB_ID_LENGTH &&
           sequencer->topic[0] == RILL_SUBJECT_JOB &&
           memcmp(sequencer->topic + 1, job_id, RILL_JOB_ID_LENGTH) == 0;
}

int rill_stream_replace_job(rill_stream_t *self, const char *old_id, const char *new_id)
{
    if (strlen(new_id) != RILL_JOB_ID_LENGTH)
        return -1;
    stream_subject_t *previous = NULL;
    for (stream_subject_t *record = self->subjects; record != NULL;
         previous = record, record = record->next) {
        if (!is_job(record, old_id))
            continue;
        /* Subscribe the new one first so a shared subject never drops; two
         * jobs joined into one are followed once. */
        stream_subject_t *joined = self->subjects;
        while (joined != NULL && !is_job(joined, new_id))
            joined = joined->next;
        if (joined == NULL) {
            if (rill_stream_add_job(self, new_id) != 0)
                return -1;
            /* Its events so far come by FETCH (rill_stream_fetch_joined). */
            rill_sequencer_fetch_begin(&self->subjects_tail->sequencer, RILL_FETCH_JOINING, 0);
        }
        if (previous != NULL)
            previous->next = record->next;
        else
            self->subjects = record->next;
        if (self->subjects_tail == record)
            self->subjects_tail = previous;
        if (!record->sequencer.ended && self->open_jobs > 0)
            self->open_jobs--;
        subject_forget(self, record, 0); /* the broker knows the joined id only */
        return 0;
    }
    return -1;
}

int rill_stream_fetch_joined(rill_stream_t *self)
{
    uint32_t waiting = 0;
    for (stream_subject_t *record = self->subjects; record != NULL; record = record->next) {
        const rill_fetch_t *fetch = record->sequencer.fetch;
        waiting += fetch != NULL && fetch->purpose == RILL_FETCH_JOINING && record->call == NULL;
    }
    if (waiting == 0)
        return 0;
    if (self->output.stopped || self->token[0] != '\0')
        return -1;
    /* Subjects are subscribed; now the token, then the FETCHes. */
    if (rill_broker_link_subscribe_barrier(self->streams->broker, self->token) != 0)
        return -1;
    for (stream_subject_t *record = self->subjects; record != NULL; record = record->next) {
        const rill_fetch_t *fetch = record->sequencer.fetch;
        if (fetch == NULL || fetch->purpose != RILL_FETCH_JOINING || record->call != NULL)
            continue;
        if (rill_stream_subject_fetch(record, self->token + 1) != 0) {
            rill_sequencer_fetch_failed(&record->sequencer, NULL);
            continue;
        }
        self->joining++;
    }
    if (self->joining == 0)
        rill_broker_link_unsubscribe_barrier(self->streams->broker, self->token);
    return 0;
}

void rill_stream_note_flush_ms(rill_stream_t *self, uint64_t flush_ms)
{
    rill_output_queue_note_flush_ms(&self->output, flush_ms);
}

void rill_stream_start(rill_stream_t *self)
{
    rill_output_queue_start(&self->output, self->streams->shutting_down);
}

void rill_stream_abandon(rill_stream_t *self)
{
    stream_release(self, 0);
    if (h2o_linklist_is_linked(&self->link))
        h2o_linklist_unlink(&self->link);
}

/* ---- for the topic files (stream_state.h: rill_stream_calls_t) ----------------- */

static stream_subject_t *topic_add(rill_stream_t *self, const char *topic, size_t length)
{
    stream_subject_t *record = subject_add(self, topic, length);
    self->topics += record != NULL;
    return record;
}

static void topic_drop(rill_stream_t *self, stream_subject_t *record)
{
    stream_subject_t **link = &self->subjects, *previous = NULL;
    while (*link != NULL && *link != record)
        previous = *link, link = &(*link)->next;
    if (*link == NULL)
        return;
    *link = record->next;
    if (self->subjects_tail == record)
        self->subjects_tail = previous;
    subject_forget(self, record, 0);
    if (self->topics > 0 && --self->topics == 0 && self->open_jobs == 0)
        rill_output_queue_end(&self->output, 0);
    mark_dirty(self);
}

static const rill_stream_calls_t stream_calls = {
    .topic_add = topic_add,
    .topic_drop = topic_drop,
    .opening_done = opening_done,
};

/* ---- every stream: fan-out and the process's events --------------------- */

static int subscribe_subject(void *context, const char *topic, size_t length)
{
    rill_streams_t *self = context;
    return rill_broker_link_subscribe(self->broker, topic, length);
}

static void unsubscribe_subject(void *context, const char *topic, size_t length)
{
    rill_streams_t *self = context;
    if (self->broker != NULL)
        rill_broker_link_unsubscribe(self->broker, topic, length);
}

rill_streams_t *rill_streams_new(h2o_loop_t *loop, const rill_config_t *config,
                                 rill_broker_link_t *broker, rill_frontend_metrics_t *metrics)
{
    rill_streams_t *self = rill_xcalloc(1, sizeof(*self));
    self->broker = broker;
    self->config = config;
    self->subjects = rill_subject_registry_new(subscribe_subject, unsubscribe_subject, self);
    self->calls = &stream_calls;
    rill_outputs_init(&self->outputs, loop, config, metrics);
    rill_fetches_init(&self->fetches, loop, broker, &fetch_events, self);
    h2o_linklist_init_anchor(&self->all);
    h2o_linklist_init_anchor(&self->websockets);
    return self;
}

void rill_streams_destroy(rill_streams_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_streams_t *self = *self_p;
    *self_p = NULL;
    rill_subject_registry_destroy(&self->subjects);
    rill_outputs_dispose(&self->outputs);
    rill_fetches_dispose(&self->fetches);
    free(self);
}

/* The "received" hop line (--log debug). Its who is the client of the
 * subject's oldest local stream: for a job submitted here, its submitter. */
static void log_received(rill_subject_t *subject, const rill_event_t *event)
{
    const char *who = NULL;
    for (rill_subscription_t *s = subject != NULL ? subject->head : NULL; s != NULL; s = s->next)
        who = OWNER_OF((stream_subject_t *)s->owner)->who;
    rill_log_debug(who, "hop: %s %.*s %s seq %llu received from broker%s",
                   event->subject_kind == RILL_SUBJECT_TOPIC ? "topic" : "job",
                   (int)event->subject.size, (const char *)event->subject.data,
                   rill_event_type_name(event->type), (unsigned long long)event->seq,
                   subject == NULL ? " (no local stream wants it)" : "");
}

void rill_streams_on_event(rill_streams_t *self, const rill_event_t *event)
{
    self->events_received++;
    rill_subject_t *subject = rill_subject_registry_find(
        self->subjects, (const char *)event->topic.data, event->topic.size);
    if (rill_log_enabled(RILL_LOG_DEBUG))
        log_received(subject, event);
    if (event->subject_kind == RILL_SUBJECT_TOPIC && rill_topic_streams_on_event(self, event, &subject))
        return; /* a deleted topic (topic_streams.h) */
    if (subject == NULL)
        return; /* a late event for a subject nobody here wants any more */
    int is_topic = event->subject_kind == RILL_SUBJECT_TOPIC;
    rill_chunk_t *line = NULL; /* formatted once, on first need */
    for (rill_subscription_t *s = subject->head; s != NULL;) {
        rill_subscription_t *next = s->next;
        stream_subject_t *record = s->owner;
        rill_stream_t *stream = OWNER_OF(record);
        s = next;
        if (record->sequencer.ended || !rill_output_queue_is_open(&stream->output))
            continue;
        if (event->type == RILL_EVENT_SYNC) {
            if (stream->output.started) {
                rill_sequencer_on_sync(&record->sequencer, event->seq);
                if (is_topic)
                    rill_sequencer_on_sync_data(&record->sequencer, event->data.data, event->data.size);
                mark_dirty(stream);
            }
            continue;
        }
        /* A duplicate (a leased message's echo: topic_leases.h) costs no line. */
        if (record->sequencer.fetch == NULL &&
            rill_sequencer_accept(&record->sequencer, event->seq) == RILL_ACCEPT_DUPLICATE)
            continue;
        if (line == NULL) {
            line = rill_event_format_line(is_topic, (const char *)event->subject.data,
                                          event->subject.size, event->seq,
                                          rill_event_type_name(event->type),
                                          (const char *)event->data.data, event->data.size);
            if (line == NULL) {
                rill_output_queue_overflow(&stream->output);
                continue;
            }
            line->accepted_ns = event->accepted_ns; /* latency: frontend/metrics.h */
        }
        rill_sequencer_on_event(&record->sequencer, event->seq, event->type, line);
    }
    rill_chunk_unref(&line);
}

void rill_streams_flush(rill_streams_t *self)
{
    rill_outputs_flush(&self->outputs);
}

/* ---- what the process's events do to one stream (streams.c) ------------ */

rill_stream_t *rill_stream_at(h2o_linklist_t *node)
{
    return H2O_STRUCT_FROM_MEMBER(rill_stream_t, link, node);
}

void rill_stream_broker_changed(rill_stream_t *self, int restarted)
{
    if (!rill_output_queue_is_open(&self->output))
        return;
    for (stream_subject_t *record = self->subjects; record != NULL; record = record->next)
        (restarted ? rill_stream_subject_broker_restarted : rill_stream_subject_broker_switched)(record);
    mark_dirty(self);
}

void rill_stream_notice(rill_stream_t *self, const char *type, rill_chunk_t *line)
{
    if (self->output.started && rill_output_queue_is_open(&self->output))
        rill_output_queue_push_notice(&self->output, type, line);
}

void rill_stream_notice_first(rill_stream_t *self, const char *type, rill_chunk_t *line)
{
    rill_output_queue_push_notice_first(&self->output, type, line);
}

/* The closing notice: {"cursor":"<the stream's cursor>"}, to resume from. */
static void push_closing(rill_stream_t *self)
{
    size_t cursor_length = 0;
    char buffer[1024];
    char *cursor = rill_stream_build_cursor(self, NULL, 0, buffer, sizeof(buffer), &cursor_length);
    rill_chunk_t *line = rill_event_format_closing(cursor, cursor_length);
    if (line != NULL)
        rill_stream_notice(self, "closing", line);
    rill_chunk_unref(&line);
    if (cursor != buffer)
        free(cursor);
}

void rill_stream_close(rill_stream_t *self)
{
    if (self->output.stopped || self->output.final_sent)
        return;
    push_closing(self);
    rill_output_queue_end(&self->output, 1);
    mark_dirty(self);
}
