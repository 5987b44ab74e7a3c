/*
 * mirror_out.c - the active's side of a standby's mirror. See mirror_out.h.
 */
#include "mirror_out.h"
#include "mirror_codec.h"
#include "mirror_job.h"
#include "rill_clock.h"
#include "rill_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void mark_job(void *argument, rill_job_t *job)
{
    rill_broker_t *broker = argument;
    job->mirrored_seq = 0;
    rill_mirror_mark_job(broker->mirror, job, 1);
}

static void mark_topic(void *argument, rill_topic_t *topic)
{
    rill_broker_t *broker = argument;
    topic->mirrored_seq = 0;
    rill_mirror_mark_topic(broker->mirror, topic);
}

void rill_mirror_out_start(rill_mirror_out_t *self, rill_broker_t *broker)
{
    if (broker->mirror == NULL)
        broker->mirror = rill_mirror_marks_new();
    rill_mirror_marks_clear(broker->mirror);
    broker->mirror->on = 1;
    rill_job_table_foreach(broker->jobs, mark_job, broker);
    rill_topic_table_foreach(broker->topics, mark_topic, broker);
    rill_publish_keys_mirror_all(broker->publish_keys);
    self->begin_due = 1;
    self->snapshot_open = 1;
    self->out_of_sync = 0;
    self->snapshots++;
    broker->counters->mirror_snapshots++;
    self->started_ms = rill_clock_monotonic_ms();
    self->started_seq = self->seq;
    rill_log_info(NULL, "standby: sending the passive a snapshot (%zu jobs, %zu topics)",
                  rill_job_table_size(broker->jobs), rill_topic_table_size(broker->topics));
}

int rill_mirror_out_running(const rill_mirror_out_t *self, const rill_broker_t *broker)
{
    return self->out_of_sync || (broker->mirror != NULL && broker->mirror->on);
}

void rill_mirror_out_stop(rill_mirror_out_t *self, rill_broker_t *broker)
{
    if (broker->mirror != NULL) {
        rill_mirror_marks_clear(broker->mirror);
        broker->mirror->on = 0;
    }
    rill_publish_keys_mirror_none(broker->publish_keys);
    self->begin_due = 0;
    self->snapshot_open = 0;
    self->out_of_sync = 0;
}

/* How much one message may carry: the budget (more records wait for the
 * next pass once it is reached), and the most a message may ever be (the
 * passive's socket refuses a larger one: max_message_bytes). */
typedef struct {
    size_t budget;
    size_t most;
} limits_t;

/* 1: a record of size data bytes goes in this message; 0: the message is
 * full (the next pass); -1: it fits in no message (skipped: the passive's
 * FETCH then reports it as a gap). */
static int room(const rill_buffer_t *out, const limits_t *limits, size_t size)
{
    size_t need = size + RILL_TOPIC_NAME_MAX + 64 + RILL_MIRROR_RECORD_OVERHEAD;
    if (need > limits->most)
        return -1;
    if (out->length >= limits->budget || out->length + need > limits->most)
        return 0;
    return 1;
}

/* The job's record when it changed, or when events it published are not
 * retained (the passive learns its last seq from the record); then its
 * retained events after the last seq mirrored, while the budget lasts.
 * Returns 1 when all of it went, 0 when the budget ran out first. */
static int write_job(rill_buffer_t *out, rill_job_t *job, const limits_t *limits, uint64_t now_ms)
{
    rill_retention_t *retention = job->retention;
    size_t count = rill_retention_count(retention);
    size_t index = count > 0 ? rill_retention_find_after(retention, job->mirrored_seq) : 0;
    uint64_t first_kept = index < count ? rill_retention_at(retention, index)->seq : job->last_seq + 1;
    if (job->mirror_record || first_kept > job->mirrored_seq + 1) {
        char *record = rill_mirror_job_encode(job, now_ms);
        int fits = record != NULL ? room(out, limits, strlen(record)) : -1;
        if (fits == 0) {
            free(record);
            return 0;
        }
        if (fits > 0)
            (void)rill_mirror_record_append(out, RILL_MIRROR_JOB, job->id, RILL_JOB_ID_LENGTH, record, strlen(record));
        else
            rill_log_warn(job->who, "job %s: its mirror record could not be written", job->id);
        free(record);
        job->mirror_record = 0;
    }
    for (; index < count; index++) {
        rill_retained_event_t *event = rill_retention_at(retention, index);
        int fits = room(out, limits, rill_retained_size(event));
        if (fits == 0)
            return 0;
        job->mirrored_seq = event->seq;
        if (fits < 0)
            continue;
        char header[RILL_JOB_ID_LENGTH + 48];
        int length = snprintf(header, sizeof(header), "%s %s %llu", job->id, rill_event_type_name(event->type),
                              (unsigned long long)event->seq);
        (void)rill_mirror_record_append(out, RILL_MIRROR_EVENT, header, (size_t)length, rill_retained_data(event),
                                        rill_retained_size(event));
    }
    if (job->last_seq > job->mirrored_seq)
        job->mirrored_seq = job->last_seq;
    return 1;
}

static int write_topic(rill_buffer_t *out, rill_topic_t *topic, const limits_t *limits)
{
    const char *name = topic->subject + 1;
    size_t name_length = topic->subject_length - 2;
    char header[RILL_TOPIC_NAME_MAX + 48];
    int length = snprintf(header, sizeof(header), "%.*s %llu %s", (int)name_length, name,
                          (unsigned long long)topic->last_seq, topic->epoch);
    (void)rill_mirror_record_append(out, RILL_MIRROR_TOPIC, header, (size_t)length, NULL, 0);
    size_t count = topic->retention != NULL ? rill_retention_count(topic->retention) : 0;
    size_t index = count > 0 ? rill_retention_find_after(topic->retention, topic->mirrored_seq) : 0;
    for (; index < count; index++) {
        rill_retained_event_t *event = rill_retention_at(topic->retention, index);
        int fits = room(out, limits, rill_retained_size(event));
        if (fits == 0)
            return 0;
        topic->mirrored_seq = event->seq;
        if (fits < 0)
            continue;
        length = snprintf(header, sizeof(header), "%.*s %llu", (int)name_length, name, (unsigned long long)event->seq);
        (void)rill_mirror_record_append(out, RILL_MIRROR_MESSAGE, header, (size_t)length, rill_retained_data(event),
                                        rill_retained_size(event));
    }
    topic->mirrored_seq = topic->last_seq;
    return 1;
}

static limits_t limits_of(const rill_broker_t *broker)
{
    uint64_t half = broker->config.max_message_bytes / 2;
    limits_t limits = {half < RILL_MIRROR_BUDGET ? (size_t)half : RILL_MIRROR_BUDGET,
                       (size_t)(broker->config.max_message_bytes - broker->config.max_message_bytes / 16)};
    return limits;
}

/* Fills out from the marks, up to the budget. */
static void collect(rill_mirror_out_t *self, rill_broker_t *broker, rill_buffer_t *out, uint64_t now_ms)
{
    rill_mirror_marks_t *marks = broker->mirror;
    limits_t limits = limits_of(broker);
    if (self->begin_due) {
        char identity[128];
        int length = snprintf(identity, sizeof(identity), "{\"broker\":\"%s\",\"started_ms\":%llu}",
                              broker->instance_id, (unsigned long long)broker->started_wall_ms);
        (void)rill_mirror_record_append(out, RILL_MIRROR_BEGIN, identity, (size_t)length, NULL, 0);
        self->begin_due = 0;
    }
    if (marks->gone.length > 0) {
        (void)rill_buffer_append(out, marks->gone.data, marks->gone.length);
        rill_buffer_release(&marks->gone);
        rill_buffer_init(&marks->gone);
    }
    while (!rill_list_is_empty(&marks->jobs) && out->length < limits.budget) {
        rill_job_t *job = rill_container_of(marks->jobs.next, rill_job_t, mirror_link);
        if (!write_job(out, job, &limits, now_ms))
            return;
        rill_list_remove(&job->mirror_link);
    }
    while (!rill_list_is_empty(&marks->topics) && out->length < limits.budget) {
        rill_topic_t *topic = rill_container_of(marks->topics.next, rill_topic_t, mirror_link);
        if (!write_topic(out, topic, &limits))
            return;
        rill_list_remove(&topic->mirror_link);
    }
    /* Keys after the messages they name (every marked topic went above):
     * a passive that knows a key has its message. */
    rill_publish_key_t *key;
    while ((key = rill_publish_keys_next_unmirrored(broker->publish_keys)) != NULL && out->length < limits.budget) {
        if (key->expires_ms > now_ms) {
            char header[RILL_TOPIC_NAME_MAX + RILL_PUBLISH_KEY_MAX + 96];
            int length = snprintf(header, sizeof(header), "%.*s %llu %s %016llx %llu %s", (int)key->name_length,
                                  key->text, (unsigned long long)key->seq, key->epoch, (unsigned long long)key->hash,
                                  (unsigned long long)(key->expires_ms - now_ms), key->text + key->name_length + 1);
            (void)rill_mirror_record_append(out, RILL_MIRROR_PUBLISH_KEY, header, (size_t)length, NULL, 0);
        }
        rill_publish_keys_mirrored(broker->publish_keys, key);
    }
    if (self->snapshot_open && rill_list_is_empty(&marks->jobs) && rill_list_is_empty(&marks->topics)) {
        (void)rill_mirror_record_append(out, RILL_MIRROR_END, NULL, 0, NULL, 0);
        self->snapshot_open = 0;
        rill_log_info(NULL, "standby: the snapshot went in %llu messages",
                      (unsigned long long)(self->seq + 1 - self->started_seq));
    }
}

int rill_mirror_out_flush(rill_mirror_out_t *self, rill_broker_t *broker, rill_mirror_send_fn send, void *context,
                          uint64_t now_ms)
{
    if (self->out_of_sync && now_ms >= self->resync_at_ms)
        rill_mirror_out_start(self, broker);
    if (broker->mirror == NULL || !broker->mirror->on)
        return 0;
    rill_buffer_t out;
    rill_buffer_init(&out);
    collect(self, broker, &out, now_ms);
    int failed = out.failed;
    if (out.length > 0 && !failed) {
        char seq[24];
        rill_frame_t arguments[2] = {{(const uint8_t *)seq, rill_u64_to_text(self->seq + 1, seq)},
                                     {(const uint8_t *)out.data, out.length}};
        failed = send(context, arguments, 2) != 0;
        if (!failed) {
            self->seq++;
            self->messages++;
            broker->counters->mirror_messages++;
        }
    }
    rill_buffer_release(&out);
    if (failed) {
        /* The passive is too slow (its pipe is full) or gone: what it
         * missed comes in a new snapshot, a heartbeat from now. */
        rill_log_warn(NULL, "standby: the passive cannot take the mirror: it is out of sync, a snapshot follows");
        rill_mirror_out_stop(self, broker);
        self->out_of_sync = 1;
        self->resync_at_ms = now_ms + broker->config.heartbeat_ms;
        return 0;
    }
    return !rill_list_is_empty(&broker->mirror->jobs) || !rill_list_is_empty(&broker->mirror->topics) ||
           rill_publish_keys_next_unmirrored(broker->publish_keys) != NULL || self->snapshot_open;
}
