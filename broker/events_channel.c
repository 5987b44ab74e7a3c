/*
 * events_channel.c - the responses subject: the XPUB socket.
 *
 * Outgoing: every job event is published once as
 * [topic, "rill/1", event, seq, data, accepted_ns] and retained
 * (retention.h); accepted_ns is this host's CLOCK_MONOTONIC at acceptance,
 * for the frontends' latency histogram. A part's
 * data goes out as the very zmq_msg_t the worker's PART arrived in; the
 * retained copy is the only one (shared, not copied, when large): the hot
 * path never parses a part and copies it at most once.
 * Incoming: subscribe/unsubscribe messages feed interest.h; a job losing its
 * last subscriber is cancelled, a barrier token releases held work.
 */
#include "broker.h"
#include "rill_clock.h"
#include "rill_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One event on the responses subject: [topic] "rill/1" event seq data accepted_ns
 * (PROTOCOL.md). data is sent (and so released) on success. An XPUB never
 * blocks: at its HWM it drops the whole message, which the receivers detect
 * through the seq and repair with FETCH. */
static int send_event(rill_broker_t *self, const char *topic, size_t topic_length, const char *event,
                      uint64_t seq, zmq_msg_t *data, uint64_t accepted_ns)
{
    char seq_text[24];
    char accepted_text[24];
    size_t seq_length = rill_u64_to_text(seq, seq_text);
    size_t accepted_length = rill_u64_to_text(accepted_ns, accepted_text);
    int flags = ZMQ_DONTWAIT | ZMQ_SNDMORE;
    if (zmq_send(self->events, topic, topic_length, flags) < 0 ||
        zmq_send(self->events, RILL_PROTOCOL_VERSION, strlen(RILL_PROTOCOL_VERSION), flags) < 0 ||
        zmq_send(self->events, event, strlen(event), flags) < 0 ||
        zmq_send(self->events, seq_text, seq_length, flags) < 0 || zmq_msg_send(data, self->events, flags) < 0 ||
        zmq_send(self->events, accepted_text, accepted_length, ZMQ_DONTWAIT) < 0)
        return -1;
    return 0;
}

int rill_events_publish(rill_broker_t *self, rill_job_t *job, rill_event_type_t type, zmq_msg_t *data)
{
    /* Acceptance time: frontends on this host observe delivery - accepted. */
    uint64_t accepted_ns = rill_clock_monotonic_ns();
    uint64_t seq = ++job->last_seq;
    job->last_event_ms = accepted_ns / 1000000u;
    size_t size = zmq_msg_size(data);
    if (type == RILL_EVENT_PART) {
        job->parts++;
        self->counters->parts++;
        self->counters->part_bytes += zmq_msg_size(data);
    }
    if (rill_retention_push(job->retention, type, seq, data) != 0)
        rill_log_warn(job->who, "job %s: out of memory retaining event %llu", job->id,
                      (unsigned long long)seq);
    const char *event = rill_event_type_name(type);
    if (send_event(self, job->topic, RILL_JOB_ID_LENGTH + 1, event, seq, data, accepted_ns) != 0) {
        self->counters->publish_failures++;
        rill_log_warn(job->who, "job %s: publishing %s %llu failed: %s", job->id, event,
                      (unsigned long long)seq, zmq_strerror(errno));
        zmq_msg_close(data);
        return -1;
    }
    self->counters->events_published++;
    rill_log_debug(job->who, "hop: job %s %s seq %llu accepted, published (%zu bytes)", job->id,
                   event, (unsigned long long)seq, size);
    return 0;
}

static void free_dumped(void *data, void *hint)
{
    (void)hint;
    free(data);
}

int rill_events_publish_json(rill_broker_t *self, rill_job_t *job, rill_event_type_t type, json_t *value)
{
    char *text = value != NULL ? json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(value);
    zmq_msg_t data;
    if (text == NULL) {
        /* Out of memory: still publish, so the seq and the event are not lost. */
        if (zmq_msg_init_size(&data, 2) != 0)
            return -1;
        memcpy(zmq_msg_data(&data), "{}", 2);
    } else if (zmq_msg_init_data(&data, text, strlen(text), free_dumped, NULL) != 0) {
        free(text);
        return -1;
    }
    return rill_events_publish(self, job, type, &data);
}

static void interest_changed(rill_broker_t *self, const rill_interest_change_t *change)
{
    switch (change->kind) {
    case RILL_INTEREST_BARRIER:
        if (change->subscribe)
            rill_barrier_seen(self->barrier, change->subject + 1, rill_clock_monotonic_ms(),
                              rill_control_barrier_release, self);
        break;
    case RILL_INTEREST_JOB: {
        rill_job_t *job = rill_job_table_find(self->jobs, change->subject + 1);
        rill_log_debug(job != NULL ? job->who : NULL, "%s %s: %llu subscribers",
                       change->subscribe ? "subscribe" : "unsubscribe", change->subject,
                       (unsigned long long)change->count);
        if (!change->subscribe && change->previous == 1 && change->count == 0 && job != NULL &&
            !job->detached && !rill_job_is_ended(job)) {
            rill_broker_end_job(self, job, RILL_JOB_CANCELLED, "cancelled",
                                "no subscriber left", 1);
        }
        break;
    }
    case RILL_INTEREST_TOPIC:
        rill_log_debug(NULL, "%s %s: %llu subscribers", change->subscribe ? "subscribe" : "unsubscribe",
                       change->subject, (unsigned long long)change->count);
        break;
    case RILL_INTEREST_IGNORED:
        break;
    }
}

void rill_events_receive(rill_broker_t *self)
{
    for (int i = 0; i < RILL_BROKER_BURST; i++) {
        zmq_msg_t message;
        zmq_msg_init(&message);
        if (zmq_msg_recv(&message, self->events, ZMQ_DONTWAIT) < 0) {
            int saved = errno;
            zmq_msg_close(&message);
            if (saved != EAGAIN && saved != EINTR)
                rill_log_warn(NULL, "events socket receive failed: %s", zmq_strerror(saved));
            return;
        }
        int more = zmq_msg_more(&message);
        rill_interest_change_t change;
        rill_interest_apply(self->interest, zmq_msg_data(&message), zmq_msg_size(&message), &change);
        if (change.kind == RILL_INTEREST_IGNORED && zmq_msg_size(&message) > 0) {
            rill_log_debug(NULL, "ignored a subscription message of %zu bytes", zmq_msg_size(&message));
        } else {
            interest_changed(self, &change);
        }
        zmq_msg_close(&message);
        /* A subscription is one frame; drain any rest of a stray multipart. */
        while (more) {
            zmq_msg_init(&message);
            if (zmq_msg_recv(&message, self->events, 0) < 0) {
                zmq_msg_close(&message);
                break;
            }
            more = zmq_msg_more(&message);
            zmq_msg_close(&message);
        }
    }
}

uint64_t rill_events_publish_topic(rill_broker_t *self, rill_topic_t *topic, zmq_msg_t *data)
{
    uint64_t accepted_ns = rill_clock_monotonic_ns();
    uint64_t now = rill_clock_monotonic_ms();
    rill_topic_expire(topic, now, self->config.topic_retain_ms);
    int retained = 0;
    uint64_t seq = rill_topic_table_append(self->topics, topic, data, now,
                                           (size_t)self->config.topic_retain_messages, &retained);
    topic->last_event_ms = now;
    if (!retained && self->config.topic_retain_messages > 0)
        rill_log_warn(NULL, "topic %s: out of memory retaining message %llu", topic->subject,
                      (unsigned long long)seq);
    size_t size = zmq_msg_size(data);
    if (send_event(self, topic->subject, topic->subject_length, "part", seq, data, accepted_ns) != 0) {
        self->counters->publish_failures++;
        rill_log_warn(NULL, "topic %s: publishing seq %llu failed: %s", topic->subject,
                      (unsigned long long)seq, zmq_strerror(errno));
        zmq_msg_close(data);
        return seq;
    }
    self->counters->events_published++;
    rill_log_debug(NULL, "hop: topic %s part seq %llu accepted, published (%zu bytes)",
                   topic->subject, (unsigned long long)seq, size);
    return seq;
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

static void send_sync(rill_broker_t *self, const char *topic, size_t topic_length, uint64_t last_seq)
{
    zmq_msg_t data;
    if (zmq_msg_init_size(&data, 2) != 0)
        return;
    memcpy(zmq_msg_data(&data), "{}", 2);
    if (send_event(self, topic, topic_length, rill_event_type_name(RILL_EVENT_SYNC), last_seq, &data,
                   rill_clock_monotonic_ns()) != 0) {
        zmq_msg_close(&data);
        return; /* the next heartbeat tries again */
    }
    self->counters->syncs_published++;
}

static int recently_active(uint64_t last_seq, uint64_t last_event_ms, uint64_t now_ms)
{
    return last_seq > 0 && last_event_ms + SYNC_WINDOW_MS >= now_ms;
}

static void sync_job(void *argument, rill_job_t *job)
{
    sync_pass_t *pass = argument;
    if (recently_active(job->last_seq, job->last_event_ms, pass->now_ms) &&
        rill_interest_count(pass->broker->interest, job->topic) > 0)
        send_sync(pass->broker, job->topic, RILL_JOB_ID_LENGTH + 1, job->last_seq);
}

static void sync_topic(void *argument, rill_topic_t *topic)
{
    sync_pass_t *pass = argument;
    if (recently_active(topic->last_seq, topic->last_event_ms, pass->now_ms) &&
        rill_interest_count(pass->broker->interest, topic->subject) > 0)
        send_sync(pass->broker, topic->subject, topic->subject_length, topic->last_seq);
}

void rill_events_publish_syncs(rill_broker_t *self, uint64_t now_ms)
{
    sync_pass_t pass = {self, now_ms};
    rill_job_table_foreach(self->jobs, sync_job, &pass);
    rill_topic_table_foreach(self->topics, sync_topic, &pass);
}
