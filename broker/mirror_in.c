/*
 * mirror_in.c - the passive's side of a standby's mirror. See mirror_in.h.
 */
#include "mirror_in.h"
#include "mirror_codec.h"
#include "mirror_job.h"
#include "rill_log.h"

#include <stdio.h>
#include <string.h>

/* "<a> <b>" (no NUL) into a, with b as a number: 0, or -1. */
static int split_number(const uint8_t *text, size_t size, char *a, size_t a_size, uint64_t *b)
{
    const uint8_t *space = memchr(text, ' ', size);
    if (space == NULL || (size_t)(space - text) >= a_size || space == text)
        return -1;
    memcpy(a, text, (size_t)(space - text));
    a[space - text] = '\0';
    rill_frame_t number = {space + 1, size - (size_t)(space - text) - 1};
    return rill_frame_to_u64(number, b);
}

static int begin(rill_mirror_in_t *self, rill_broker_t *broker, const rill_mirror_record_t *record)
{
    json_t *identity = json_loadb((const char *)record->header, record->header_size, 0, NULL);
    json_t *id = json_object_get(identity, "broker");
    json_t *started = json_object_get(identity, "started_ms");
    int good = json_is_string(id) && json_string_length(id) == RILL_ID_TEXT_SIZE - 1 && json_is_integer(started);
    if (good) {
        memcpy(self->broker, json_string_value(id), RILL_ID_TEXT_SIZE);
        self->started_ms = (uint64_t)json_integer_value(started);
    }
    json_decref(identity);
    if (!good)
        return -1;
    rill_broker_forget_state(broker);
    self->receiving = 1;
    self->complete = 0;
    rill_log_info(NULL, "standby: a snapshot of broker %s begins", self->broker);
    return 0;
}

static int event(rill_broker_t *broker, const rill_mirror_record_t *record, uint64_t now_ms)
{
    /* "<job id> <event> <seq>" */
    if (record->header_size < RILL_JOB_ID_LENGTH + 4 || record->header[RILL_JOB_ID_LENGTH] != ' ')
        return -1;
    rill_job_t *job = rill_job_table_find_frame(broker->jobs, record->header, RILL_JOB_ID_LENGTH);
    char name[16];
    uint64_t seq = 0;
    rill_event_type_t type;
    if (split_number(record->header + RILL_JOB_ID_LENGTH + 1, record->header_size - RILL_JOB_ID_LENGTH - 1, name,
                     sizeof(name), &seq) != 0 ||
        rill_event_type_from_name(name, strlen(name), &type) != 0)
        return -1;
    if (job == NULL)
        return 0; /* forgotten meanwhile */
    size_t count = rill_retention_count(job->retention);
    if (count > 0 && rill_retention_at(job->retention, count - 1)->seq >= seq)
        return 0; /* had it */
    (void)rill_retention_push_bytes(job->retention, type, seq, record->data, record->data_size, now_ms);
    if (seq > job->last_seq)
        job->last_seq = seq;
    uint64_t limit = broker->config.retain_total_bytes;
    if (broker->counters->retention.bytes > limit)
        rill_job_table_evict(broker->jobs, limit - limit / 16);
    return 0;
}

/* P "<name> <last seq> <epoch>", T "<name> <seq>". */
static int topic_record(rill_broker_t *broker, const rill_mirror_record_t *record, uint64_t now_ms, int message)
{
    char name[RILL_TOPIC_NAME_MAX + 1];
    uint64_t seq = 0;
    size_t size = record->header_size;
    const uint8_t *epoch = NULL;
    if (!message) {
        /* The epoch last: the seqs of the topic are in the active's numbering. */
        if (size < RILL_TOPIC_EPOCH_LENGTH + 2 || record->header[size - RILL_TOPIC_EPOCH_LENGTH - 1] != ' ')
            return -1;
        epoch = record->header + size - RILL_TOPIC_EPOCH_LENGTH;
        size -= RILL_TOPIC_EPOCH_LENGTH + 1;
    }
    if (split_number(record->header, size, name, sizeof(name), &seq) != 0 ||
        !rill_topic_name_is_valid(name, strlen(name)))
        return -1;
    rill_topic_t *topic = rill_topic_table_get(broker->topics, name, strlen(name));
    if (topic == NULL)
        return 0; /* past max_topics with none idle: bounded as the active is */
    if (!message) {
        memcpy(topic->epoch, epoch, RILL_TOPIC_EPOCH_LENGTH);
        topic->epoch[RILL_TOPIC_EPOCH_LENGTH] = '\0';
        if (seq > topic->last_seq)
            topic->last_seq = seq;
        return 0;
    }
    size_t count = topic->retention != NULL ? rill_retention_count(topic->retention) : 0;
    if (seq == 0 || (count > 0 && rill_retention_at(topic->retention, count - 1)->seq >= seq))
        return 0;
    zmq_msg_t data;
    if (zmq_msg_init_size(&data, record->data_size) != 0)
        return 0;
    if (record->data_size > 0)
        memcpy(zmq_msg_data(&data), record->data, record->data_size);
    uint64_t last = topic->last_seq;
    topic->last_seq = seq - 1;
    int retained = 0;
    (void)rill_topic_table_append(broker->topics, topic, &data, now_ms, (size_t)broker->config.topic_retain_messages,
                                  &retained);
    zmq_msg_close(&data);
    if (last > topic->last_seq)
        topic->last_seq = last;
    topic->last_event_ms = now_ms;
    return 0;
}

/* K "<name> <seq> <epoch> <hash, hex> <ms left> <key>" (rill/10). */
static int publish_key(rill_broker_t *broker, const rill_mirror_record_t *record, uint64_t now_ms)
{
    char text[RILL_TOPIC_NAME_MAX + RILL_PUBLISH_KEY_MAX + 96];
    char name[RILL_TOPIC_NAME_MAX + 1], epoch[RILL_TOPIC_EPOCH_LENGTH + 1], key[RILL_PUBLISH_KEY_MAX + 2];
    unsigned long long seq = 0, hash = 0, left = 0;
    if (record->header_size >= sizeof(text))
        return -1;
    memcpy(text, record->header, record->header_size);
    text[record->header_size] = '\0';
    if (sscanf(text, "%128s %llu %8s %16llx %llu %129s", name, &seq, epoch, &hash, &left, key) != 6 ||
        !rill_topic_name_is_valid(name, strlen(name)) || !rill_topic_epoch_is_valid(epoch, strlen(epoch)) ||
        !rill_publish_key_is_valid(key, strlen(key), 1) || left == 0)
        return -1;
    (void)rill_publish_keys_remember(broker->publish_keys, name, strlen(name), key, strlen(key), epoch, seq, hash,
                                     now_ms, left, 0);
    return 0;
}

static int forget_job(rill_broker_t *broker, const rill_mirror_record_t *record)
{
    rill_job_t *job = rill_job_table_find_frame(broker->jobs, record->header, record->header_size);
    if (job == NULL)
        return 0;
    rill_job_table_forget(broker->jobs, job); /* the active's retention of it ended */
    return 0;
}

static int apply(rill_mirror_in_t *self, rill_broker_t *broker, const rill_mirror_record_t *record, uint64_t now_ms)
{
    char id[RILL_ID_TEXT_SIZE];
    switch (record->tag) {
    case RILL_MIRROR_BEGIN:
        return begin(self, broker, record);
    case RILL_MIRROR_END:
        self->complete = 1;
        rill_log_info(NULL, "standby: the mirror of broker %s is complete: %zu jobs, %zu topics", self->broker,
                      rill_job_table_size(broker->jobs), rill_topic_table_size(broker->topics));
        return 0;
    case RILL_MIRROR_JOB:
        if (record->header_size != RILL_JOB_ID_LENGTH || !rill_job_id_is_valid(record->header, record->header_size))
            return -1;
        memcpy(id, record->header, RILL_JOB_ID_LENGTH);
        id[RILL_JOB_ID_LENGTH] = '\0';
        return rill_mirror_job_apply(broker, id, record->data, record->data_size, now_ms);
    case RILL_MIRROR_EVENT:
        return event(broker, record, now_ms);
    case RILL_MIRROR_TOPIC:
        return topic_record(broker, record, now_ms, 0);
    case RILL_MIRROR_MESSAGE:
        return topic_record(broker, record, now_ms, 1);
    case RILL_MIRROR_FORGET:
        return forget_job(broker, record);
    case RILL_MIRROR_PUBLISH_KEY:
        return publish_key(broker, record, now_ms);
    case RILL_MIRROR_TOPIC_DELETE: {
        rill_topic_t *topic = rill_topic_table_find(broker->topics, (const char *)record->header, record->header_size);
        if (topic != NULL && rill_topic_name_is_valid((const char *)record->header, record->header_size))
            rill_topic_table_remove(broker->topics, topic);
        return 0;
    }
    }
    return -1;
}

int rill_mirror_in_apply(rill_mirror_in_t *self, rill_broker_t *broker, uint64_t seq, rill_frame_t records,
                         uint64_t now_ms)
{
    size_t offset = 0;
    rill_mirror_record_t record;
    const char *why = NULL;
    /* A snapshot's first message starts with BEGIN: any seq goes then. */
    int starts = records.size > 0 && records.data[0] == RILL_MIRROR_BEGIN;
    if (!starts && (!self->receiving || seq != self->seq + 1)) {
        if (self->receiving)
            rill_log_warn(NULL, "standby: mirror message %llu came after %llu: a snapshot is needed",
                          (unsigned long long)seq, (unsigned long long)self->seq);
        self->receiving = 0;
        return -1;
    }
    self->seq = seq;
    int got;
    while ((got = rill_mirror_record_next(records.data, records.size, &offset, &record, &why)) == 1) {
        if (apply(self, broker, &record, now_ms) != 0) {
            why = "a record that does not apply";
            got = -1;
            break;
        }
        self->records++;
    }
    if (got < 0) {
        rill_log_warn(NULL, "standby: mirror message %llu is malformed (%s): a snapshot is needed",
                      (unsigned long long)seq, why != NULL ? why : "?");
        self->receiving = 0;
        return -1;
    }
    rill_log_debug(NULL, "standby: mirror message %llu applied", (unsigned long long)seq);
    return 0;
}

void rill_mirror_in_reset(rill_mirror_in_t *self)
{
    self->receiving = 0;
}
