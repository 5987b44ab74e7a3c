/*
 * events.c - seqs, retention, publishing, sync events and replay of the
 * responses subject. See events.h; every send goes through the outbox.
 */
#include "events.h"
#include "follower_batches.h"
#include "rill_alloc.h"
#include "rill_messages.h"
#include "rill_clock.h"
#include "rill_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_EVENTS_PER_MESSAGE 16

/* Builds the one-frame event (rill_event_encode) and publishes it through
 * the outbox; when retention is given, it keeps a copy of the data first
 * (retention.h). Returns 0, or -1 (the event is gone). */
static int publish_event(rill_broker_t *self, const char *subject, size_t subject_length, rill_event_type_t type,
                         uint64_t seq, const void *bytes, size_t size, uint64_t accepted_ns,
                         rill_retention_t *retention, uint64_t at_ms, int *retained)
{
    zmq_msg_t event;
    size_t offset;
    if (rill_event_encode(&event, subject, subject_length, type, seq, accepted_ns, bytes, size, &offset) != 0) {
        if (retained != NULL)
            *retained = 0;
        return -1;
    }
    if (retention != NULL) {
        int kept = rill_retention_push_bytes(retention, type, seq, bytes, size, at_ms) == 0;
        if (retained != NULL)
            *retained = kept;
    }
    if (self->outbox.publish(self->outbox.context, &event) != 0) {
        zmq_msg_close(&event);
        return -1;
    }
    self->counters->event_messages++;
    return 0;
}

/* ---- follower batches (rill/4) ---------------------------------------------
 *
 * A followed job's event goes to its follower as an entry of that follow
 * subject's batch (follower_batches.h): the XPUB, libzmq's I/O thread and
 * the kernel cost per message, not per byte. A batch lives for one pass of
 * the loop at most: rill_events_flush sends it before main.c polls again. */

/* The most entry bytes a batch holds: RILL_EVENT_BATCH_MAX_BYTES, and the
 * whole message never above max_message_bytes (receivers drop larger). */
static size_t batch_limit(const rill_broker_t *self)
{
    uint64_t most = self->config.max_message_bytes;
    if (most <= RILL_EVENT_BATCH_HEADER_MAX)
        return 0;
    most -= RILL_EVENT_BATCH_HEADER_MAX;
    return most < RILL_EVENT_BATCH_MAX_BYTES ? (size_t)most : RILL_EVENT_BATCH_MAX_BYTES;
}

/* follower_batches.h's send: a failure is what a failed publish is:
 * counted, and followers repair it (the seq jump, or the syncs
 * events_at_risk_ms turns on). */
static void send_batch(void *context, const char *follow, zmq_msg_t *message, size_t events)
{
    rill_broker_t *self = context;
    if (message != NULL && self->outbox.publish(self->outbox.context, message) == 0) {
        self->counters->event_messages++;
        return;
    }
    if (message != NULL)
        zmq_msg_close(message);
    self->events_at_risk_ms = rill_clock_monotonic_ms();
    self->counters->publish_failures++;
    rill_log_warn(NULL, "%s: publishing a batch of %zu events failed: %s", follow, events, zmq_strerror(errno));
}

static int batch_append(rill_broker_t *self, const char *follow, size_t follow_length, const char *header,
                        size_t header_length, const void *bytes, size_t size)
{
    if (self->follower_batches == NULL)
        self->follower_batches = rill_follower_batches_new();
    return rill_follower_batches_add(self->follower_batches, follow, follow_length, header, header_length, bytes,
                                     size, batch_limit(self), send_batch, self);
}

void rill_events_flush(rill_broker_t *self)
{
    if (self->follower_batches != NULL)
        rill_follower_batches_flush(self->follower_batches, send_batch, self);
}

/* A job's event goes into each follower's batch (above), and to its
 * subject ("j<id>") when a frontend subscribed it; retention keeps a copy
 * of the data. A batch entry is the event's header and data copied
 * straight in: a job only followed (the usual case: its submitter's
 * stream) builds no message of its own, so a part costs no allocation
 * here. An event too large for a batch goes to its follower alone, as
 * "d<token>/j<id> rill/4 ..." (rill/4's single form). */
static int publish_job_event(rill_broker_t *self, rill_job_t *job, rill_event_type_t type, uint64_t seq,
                             const void *bytes, size_t size, uint64_t accepted_ns, rill_retention_t *retention,
                             uint64_t at_ms, int *retained)
{
    const size_t job_topic_length = RILL_JOB_ID_LENGTH + 1;
    if (job->followers.count == 0)
        return publish_event(self, job->topic, job_topic_length, type, seq, bytes, size, accepted_ns, retention,
                             at_ms, retained);
    char header[RILL_EVENT_HEADER_MAX];
    if (accepted_ns != self->accepted_text_ns || self->accepted_text_length == 0) {
        self->accepted_text_length = rill_u64_to_text(accepted_ns, self->accepted_text);
        self->accepted_text_ns = accepted_ns;
    }
    size_t header_length = rill_event_header_encode_text(header, job->topic, job_topic_length, type, seq,
                                                         self->accepted_text, self->accepted_text_length);
    if (header_length == 0) {
        if (retained != NULL)
            *retained = 0;
        return -1;
    }
    if (retention != NULL) {
        int kept = rill_retention_push_bytes(retention, type, seq, bytes, size, at_ms) == 0;
        if (retained != NULL)
            *retained = kept;
    }
    int failed = 0;
    for (size_t i = 0; i < job->followers.count; i++) {
        const char *follow = job->followers.subjects[i].text;
        size_t follow_length = job->followers.subjects[i].length;
        if (batch_append(self, follow, follow_length, header, header_length, bytes, size) == 0)
            continue;
        char topic[RILL_FOLLOW_SUBJECT_MAX + RILL_ID_TEXT_SIZE + 1];
        memcpy(topic, follow, follow_length);
        memcpy(topic + follow_length, job->topic, job_topic_length);
        failed |= publish_event(self, topic, follow_length + job_topic_length, type, seq, bytes, size, accepted_ns,
                                NULL, 0, NULL) != 0;
    }
    if (job->subscribed > 0)
        failed |= publish_event(self, job->topic, job_topic_length, type, seq, bytes, size, accepted_ns, NULL, 0,
                                NULL) != 0;
    return failed ? -1 : 0;
}

int rill_events_publish(rill_broker_t *self, rill_job_t *job, rill_event_type_t type, zmq_msg_t *data)
{
    return rill_events_publish_at(self, job, type, job->last_seq + 1, data);
}

int rill_events_publish_at(rill_broker_t *self, rill_job_t *job, rill_event_type_t type, uint64_t seq,
                           zmq_msg_t *data)
{
    int published = rill_events_publish_bytes(self, job, type, seq, zmq_msg_data(data), zmq_msg_size(data));
    zmq_msg_close(data);
    zmq_msg_init(data);
    return published;
}

int rill_events_publish_bytes(rill_broker_t *self, rill_job_t *job, rill_event_type_t type, uint64_t seq,
                              const void *bytes, size_t size)
{
    /* Acceptance time: frontends on this host observe delivery - accepted. */
    uint64_t accepted_ns = self->accepting_ns != 0 ? self->accepting_ns : rill_clock_monotonic_ns();
    job->last_seq = seq;
    job->last_event_ms = accepted_ns / 1000000u;
    rill_mirror_mark_job(self->mirror, job, 0);
    rill_events_list_recent(self, job);
    if (type == RILL_EVENT_PART) {
        job->parts++;
        self->counters->parts++;
        self->counters->part_bytes += size;
    }
    int retained = 0;
    int failed = publish_job_event(self, job, type, seq, bytes, size, accepted_ns, job->retention,
                                   job->last_event_ms, &retained) != 0;
    if (!retained && rill_retention_capacity(job->retention) > 0)
        rill_log_warn(job->who, "job %s: out of memory retaining event %llu", job->id,
                      (unsigned long long)seq);
    /* All jobs' retention is bounded too: what goes is what a FETCH
     * reports as a gap (the REPLAY header's first moves past it). Down to
     * 15/16 of the limit, as a low-water mark: the walk over the jobs then
     * runs once per limit/16 bytes published, not once per part. */
    uint64_t limit = self->config.retain_total_bytes;
    if (self->counters->retention.bytes > limit)
        rill_job_table_evict(self->jobs, limit - limit / 16);
    const char *event = rill_event_type_name(type);
    if (failed) {
        self->events_at_risk_ms = rill_clock_monotonic_ms();
        self->counters->publish_failures++;
        rill_log_warn(job->who, "job %s: publishing %s %llu failed: %s", job->id, event,
                      (unsigned long long)seq, zmq_strerror(errno));
        return -1;
    }
    self->counters->events_published++;
    rill_log_debug(job->who, "hop: job %s %s seq %llu accepted, published (%zu bytes)", job->id,
                   event, (unsigned long long)seq, size);
    return 0;
}

int rill_events_publish_json(rill_broker_t *self, rill_job_t *job, rill_event_type_t type, json_t *value)
{
    return rill_events_publish_json_at(self, job, type, job->last_seq + 1, value);
}

int rill_events_publish_json_at(rill_broker_t *self, rill_job_t *job, rill_event_type_t type, uint64_t seq,
                                json_t *value)
{
    /* NULL only for a value jansson refused to build (json_pack of text
     * that is not UTF-8): still publish, so the seq and the event are not
     * lost. */
    char *text = value != NULL ? json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(value);
    if (text == NULL)
        text = rill_xstrdup("{}");
    int published = rill_events_publish_bytes(self, job, type, seq, text, strlen(text));
    free(text);
    return published;
}

/* One topic message, as a part event with the topic's next seq. data is
 * consumed. Returns the seq (a send the XPUB refused is logged: receivers
 * see the gap and FETCH it). */
static uint64_t publish_topic(rill_broker_t *self, rill_topic_t *topic, zmq_msg_t *data)
{
    uint64_t accepted_ns = rill_clock_monotonic_ns();
    uint64_t now = rill_clock_monotonic_ms();
    rill_topic_expire(topic, now, self->config.topic_retain_ms);
    int retained = 0;
    uint64_t seq = rill_topic_table_append(self->topics, topic, data, now,
                                           (size_t)self->config.topic_retain_messages, &retained);
    topic->last_event_ms = now;
    rill_mirror_mark_topic(self->mirror, topic);
    if (!retained && self->config.topic_retain_messages > 0)
        rill_log_warn(NULL, "topic %s: out of memory retaining message %llu", topic->subject,
                      (unsigned long long)seq);
    size_t size = zmq_msg_size(data);
    int failed = publish_event(self, topic->subject, topic->subject_length, RILL_EVENT_PART, seq,
                               zmq_msg_data(data), size, accepted_ns, NULL, 0, NULL) != 0;
    zmq_msg_close(data);
    if (failed) {
        self->counters->publish_failures++;
        rill_log_warn(NULL, "topic %s: publishing seq %llu failed: %s", topic->subject,
                      (unsigned long long)seq, zmq_strerror(errno));
        return seq;
    }
    self->counters->events_published++;
    rill_log_debug(NULL, "hop: topic %s part seq %llu accepted, published (%zu bytes)",
                   topic->subject, (unsigned long long)seq, size);
    return seq;
}

int rill_events_publish_message(rill_broker_t *self, const char *name, size_t name_length,
                                const void *bytes, size_t size, uint64_t *seq)
{
    rill_topic_t *topic = rill_topic_table_get(self->topics, name, name_length);
    return topic != NULL ? rill_events_publish_on_topic(self, topic, bytes, size, seq) : -1;
}

int rill_events_publish_on_topic(rill_broker_t *self, rill_topic_t *topic, const void *bytes, size_t size,
                                 uint64_t *seq)
{
    zmq_msg_t data;
    if (zmq_msg_init_size(&data, size) != 0)
        return -1;
    if (size > 0)
        memcpy(zmq_msg_data(&data), bytes, size);
    *seq = publish_topic(self, topic, &data);
    return 0;
}

/* ---- sync: a drop at the very end of a subject is noticed too -------------
 *
 * A receiver finds a dropped event by the seq of the next one. When the
 * dropped events are a subject's last (a frontend stalled through a burst,
 * then silence), there is no next one. So on every heartbeat the broker
 * publishes, for each subject that had an event in the last SYNC_WINDOW_MS
 * and that someone listens to, a `sync` event carrying its last seq;
 * receivers never deliver it, they FETCH what they find missing. */

#define SYNC_WINDOW_MS 10000

typedef struct {
    rill_broker_t *broker;
    uint64_t now_ms;
} sync_pass_t;

/* epoch: a topic's (rill/6: {"epoch":"…"}, so a receiver that met the
 * topic live, with no REPLAY header, learns its numbering), or NULL. */
static void send_sync(rill_broker_t *self, const char *subject, size_t subject_length, uint64_t last_seq,
                      const char *epoch)
{
    char data[32];
    int length = epoch != NULL ? snprintf(data, sizeof(data), "{\"epoch\":\"%s\"}", epoch)
                               : snprintf(data, sizeof(data), "{}");
    if (publish_event(self, subject, subject_length, RILL_EVENT_SYNC, last_seq, data, (size_t)length,
                      rill_clock_monotonic_ns(), NULL, 0, NULL) != 0)
        return; /* the next heartbeat tries again */
    self->counters->syncs_published++;
}

static int recently_active(uint64_t last_seq, uint64_t last_event_ms, uint64_t now_ms)
{
    return last_seq > 0 && last_event_ms + SYNC_WINDOW_MS >= now_ms;
}

void rill_events_list_recent(rill_broker_t *self, rill_job_t *job)
{
    rill_list_remove(&job->active_link);
    int followed_only = job->subscribed == 0 && job->followers.count > 0;
    rill_list_push_back(followed_only ? &self->followed_jobs : &self->active_jobs, &job->active_link);
}

/* Drops from the front of a sync list the jobs whose last event left the window. */
static void trim_sync_list(rill_link_t *head, uint64_t now_ms)
{
    while (!rill_list_is_empty(head)) {
        rill_job_t *oldest = rill_container_of(head->next, rill_job_t, active_link);
        if (recently_active(oldest->last_seq, oldest->last_event_ms, now_ms))
            break;
        rill_list_remove(&oldest->active_link);
    }
}

/* The jobs: only those on the sync lists (an event in the window, and
 * listened to at the last heartbeat), not every job the table holds; each
 * list is in order of their last event, so those that left the window are
 * at its front. */
static void sync_list(rill_broker_t *self, rill_link_t *head, uint64_t now_ms, int followers_at_risk)
{
    trim_sync_list(head, now_ms);
    /* One nobody listens to leaves the list too: a frontend that comes
     * later FETCHes what the job has, and the job's next event puts it
     * back. So a job costs one look-up after its last event, not one per
     * heartbeat of the window.
     *
     * One only followed (rill/4) gets no sync while no event can have been
     * lost in the window (events_at_risk_ms): a streamed submit's job stays
     * followed until it expires, so it would get one every heartbeat for
     * the whole window after its end (at 18k jobs/s, 180k syncs a second);
     * its frontend's subscription per job used to end with the job. */
    for (rill_link_t *link = head->next, *next; link != head; link = next) {
        next = link->next;
        rill_job_t *job = rill_container_of(link, rill_job_t, active_link);
        if (!recently_active(job->last_seq, job->last_event_ms, now_ms)) {
            rill_list_remove(&job->active_link); /* moved here out of order (listeners.c) */
            continue;
        }
        if (job->subscribed == 0 && job->followers.count > 0 && !followers_at_risk)
            continue; /* it stays listed: should a loss come within the window, it is synced */
        if (rill_broker_listeners(self, job) == 0)
            rill_list_remove(&job->active_link);
        else if (publish_job_event(self, job, RILL_EVENT_SYNC, job->last_seq, "{}", 2, rill_clock_monotonic_ns(),
                                   NULL, 0, NULL) == 0)
            self->counters->syncs_published++;
    }
}

/* Jobs only followed sit on a list of their own: at 45k jobs a second the
 * window holds ~450k of them, which a walk every heartbeat touched only to
 * skip (4 % of the broker's CPU at capacity). It is walked only while an
 * event can have been lost (events_at_risk_ms); a job that gets a
 * subscriber moves to the other list (listeners.c). */
static void sync_jobs(rill_broker_t *self, uint64_t now_ms)
{
    int followers_at_risk = self->events_at_risk_ms != 0 && self->events_at_risk_ms + SYNC_WINDOW_MS >= now_ms;
    sync_list(self, &self->active_jobs, now_ms, followers_at_risk);
    if (followers_at_risk)
        sync_list(self, &self->followed_jobs, now_ms, 1);
    else
        trim_sync_list(&self->followed_jobs, now_ms);
}

static void sync_topic(void *argument, rill_topic_t *topic)
{
    sync_pass_t *pass = argument;
    if (recently_active(topic->last_seq, topic->last_event_ms, pass->now_ms) &&
        (rill_interest_count(pass->broker->interest, topic->subject) > 0 ||
         rill_interest_pattern_count(pass->broker->interest, topic->subject + 1, topic->subject_length - 2) > 0))
        send_sync(pass->broker, topic->subject, topic->subject_length, topic->last_seq, topic->epoch);
}

void rill_events_sync_job(rill_broker_t *self, rill_job_t *job)
{
    /* On its subject only: its followers have their own repair (the
     * follow subject's return, listeners.c). */
    if (job->last_seq > 0)
        send_sync(self, job->topic, RILL_JOB_ID_LENGTH + 1, job->last_seq, NULL);
}

void rill_events_publish_syncs(rill_broker_t *self, uint64_t now_ms)
{
    sync_pass_t pass = {self, now_ms};
    sync_jobs(self, now_ms);
    rill_topic_table_foreach(self->topics, sync_topic, &pass);
}

/* ---- replay ---------------------------------------------------------------- */

/* REPLAY req subject header (event seq data)*: up to
 * REPLAY_EVENTS_PER_MESSAGE events a message (docs/PROTOCOL.md). */
static int send_replay(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t req,
                       rill_frame_t subject, rill_frame_t header, const rill_frame_t *events,
                       size_t event_frames)
{
    rill_frame_t arguments[3 + 3 * REPLAY_EVENTS_PER_MESSAGE];
    arguments[0] = req;
    arguments[1] = subject;
    arguments[2] = header;
    for (size_t i = 0; i < event_frames; i++)
        arguments[3 + i] = events[i];
    return rill_broker_reply(self, routing, RILL_COMMAND_REPLAY, arguments, 3 + event_frames);
}

void rill_events_replay(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t req,
                        const char *subject_text, uint64_t after)
{
    rill_frame_t subject = rill_frame_from_string(subject_text);
    rill_replay_header_t header = {0};
    rill_retention_t *retention;
    const char *who = NULL;
    if (subject_text[0] == RILL_SUBJECT_TOPIC) {
        /* A topic nobody published to yet is made here, with its epoch
         * (a stream resuming on it later compares it): nothing retained,
         * last 0. Past max_topics it may not be: then no epoch. Aged
         * messages go before they could be replayed. */
        rill_topic_t *topic = rill_topic_table_get(self->topics, subject_text + 1, strlen(subject_text) - 2);
        if (topic != NULL) {
            rill_topic_expire(topic, rill_clock_monotonic_ms(), self->config.topic_retain_ms);
            memcpy(header.epoch, topic->epoch, sizeof(header.epoch)); /* rill/6 */
        }
        retention = topic != NULL ? topic->retention : NULL;
        header.last = topic != NULL ? topic->last_seq : 0;
    } else {
        rill_job_t *job = rill_job_table_find(self->jobs, subject_text + 1);
        if (job == NULL && rill_broker_recovering(self, rill_clock_monotonic_ms())) {
            /* A worker may still report it (docs/PROTOCOL.md, "Broker restart"). */
            rill_broker_reply_error(self, routing, req, "unavailable", "recovering");
            return;
        }
        if (job == NULL) {
            rill_broker_reply_error(self, routing, req, "not_found", "no such job");
            return;
        }
        retention = job->retention;
        header.last = job->last_seq;
        header.ended = rill_job_is_ended(job);
        who = job->who;
        header.flush_ms = job->flush_ms;
    }
    size_t retained = retention != NULL ? rill_retention_count(retention) : 0;
    header.first = retained > 0 ? rill_retention_at(retention, 0)->seq : header.last + 1;
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
            events[3 * n + 2].data = rill_retained_data(event);
            events[3 * n + 2].size = rill_retained_size(event);
        }
        header.final = index >= retained;
        char text[RILL_REPLAY_HEADER_MAX];
        rill_frame_t header_frame = {(const uint8_t *)text,
                                     rill_replay_header_encode(&header, text, sizeof(text))};
        if (send_replay(self, routing, req, subject, header_frame, events, 3 * n) != 0)
            return;
    } while (index < retained);
    rill_log_debug(who, "%s: replayed after seq %llu (retained %llu..%llu)", subject_text,
                   (unsigned long long)after, (unsigned long long)header.first,
                   (unsigned long long)header.last);
}
