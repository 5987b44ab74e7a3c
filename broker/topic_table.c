/*
 * topic_table.c - topics by name, their seqs and retained messages. See
 * topic_table.h. A czmq zhashx keyed by the record's own name (no copy),
 * and a list of the records, least recently used first, for the bound.
 */
#include "topic_table.h"
#include "list.h"
#include "rill_alloc.h"
#include "rill_id.h"

#include <czmq.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct rill_topic_table {
    zhashx_t *topics; /* name -> rill_topic_t, owned */
    rill_link_t used; /* the records, least recently used first */
    uint64_t serial;  /* the last topic's serial */
    size_t max;       /* 0: no bound */
    rill_topic_listened_fn listened;
    rill_topic_evicted_fn evicted;
    void *bound_argument;
    char key[RILL_TOPIC_NAME_MAX + 1];
};

/* The record's name is its subject without the "t" and the "/". The hash
 * key is stored after the subject, so lookups need a NUL-terminated name. */
typedef struct {
    rill_topic_t topic;
    rill_link_t used;
    char name[RILL_TOPIC_NAME_MAX + 1];
} record_t;

/* How many records one creation looks at for an idle one to evict: the
 * busy ones it passes go to the end, so the next look starts further on. */
#define EVICTION_LOOK 64

static void record_free(void **item)
{
    if (item == NULL || *item == NULL)
        return;
    record_t *record = *item;
    rill_list_remove(&record->used);
    rill_retention_destroy(&record->topic.retention);
    rill_list_remove(&record->topic.mirror_link);
    rill_list_remove(&record->topic.lease.link);
    rill_topic_waiting_t *waiting = record->topic.lease.waiting;
    while (waiting != NULL) {
        rill_topic_waiting_t *next = waiting->next;
        free(waiting);
        waiting = next;
    }
    free(record);
    *item = NULL;
}

rill_topic_table_t *rill_topic_table_new(void)
{
    rill_topic_table_t *self = rill_xcalloc(1, sizeof(*self));
    self->topics = zhashx_new(); /* czmq aborts on ENOMEM (rill_alloc.h) */
    zhashx_set_key_duplicator(self->topics, NULL);
    zhashx_set_key_destructor(self->topics, NULL);
    zhashx_set_destructor(self->topics, record_free);
    rill_list_init(&self->used);
    return self;
}

void rill_topic_table_set_bound(rill_topic_table_t *self, size_t max, rill_topic_listened_fn listened,
                                rill_topic_evicted_fn evicted, void *argument)
{
    self->max = max;
    self->listened = listened;
    self->evicted = evicted;
    self->bound_argument = argument;
}

static void touch(rill_topic_table_t *self, record_t *record)
{
    rill_list_remove(&record->used);
    rill_list_push_back(&self->used, &record->used);
}

static int is_idle(rill_topic_table_t *self, const rill_topic_t *topic)
{
    if (topic->retention != NULL && rill_retention_count(topic->retention) > 0)
        return 0;
    return self->listened == NULL || !self->listened(self->bound_argument, topic);
}

/* Makes room for one more topic: 0, or -1 when none of the least recently
 * used ones is idle. */
static int make_room(rill_topic_table_t *self)
{
    if (self->max == 0 || zhashx_size(self->topics) < self->max)
        return 0;
    for (int looked = 0; looked < EVICTION_LOOK && !rill_list_is_empty(&self->used); looked++) {
        record_t *record = rill_container_of(self->used.next, record_t, used);
        if (is_idle(self, &record->topic)) {
            if (self->evicted != NULL)
                self->evicted(self->bound_argument, &record->topic);
            zhashx_delete(self->topics, record->name);
            if (zhashx_size(self->topics) < self->max)
                return 0;
        } else {
            touch(self, record);
        }
    }
    return -1;
}

void rill_topic_table_destroy(rill_topic_table_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_topic_table_t *self = *self_p;
    zhashx_destroy(&self->topics);
    free(self);
    *self_p = NULL;
}

static const char *key_of(rill_topic_table_t *self, const char *name, size_t length)
{
    if (!rill_topic_name_is_valid(name, length))
        return NULL;
    memcpy(self->key, name, length);
    self->key[length] = '\0';
    return self->key;
}

rill_topic_t *rill_topic_table_find(rill_topic_table_t *self, const char *name, size_t length)
{
    const char *key = key_of(self, name, length);
    if (key == NULL)
        return NULL;
    record_t *record = zhashx_lookup(self->topics, key);
    return record != NULL ? &record->topic : NULL;
}

rill_topic_t *rill_topic_table_get(rill_topic_table_t *self, const char *name, size_t length)
{
    rill_topic_t *topic = rill_topic_table_find(self, name, length);
    if (topic != NULL)
        return topic;
    if (!rill_topic_name_is_valid(name, length)) {
        errno = EINVAL;
        return NULL;
    }
    if (make_room(self) != 0) {
        errno = ENOSPC;
        return NULL;
    }
    record_t *record = rill_xcalloc(1, sizeof(*record));
    memcpy(record->name, name, length);
    record->name[length] = '\0';
    record->topic.subject[0] = RILL_SUBJECT_TOPIC;
    memcpy(record->topic.subject + 1, name, length);
    record->topic.subject[length + 1] = '/';
    record->topic.subject[length + 2] = '\0';
    record->topic.subject_length = length + 2;
    record->topic.serial = ++self->serial;
    /* A new numbering: a cursor of an earlier record of this name (deleted,
     * evicted, a restarted broker's) must not be read against it. Without
     * randomness (never seen) the serial and the clock still differ. */
    char id[RILL_ID_TEXT_SIZE];
    if (rill_id_generate(id) == 0)
        memcpy(record->topic.epoch, id, RILL_TOPIC_EPOCH_LENGTH);
    else
        snprintf(record->topic.epoch, sizeof(record->topic.epoch), "%08llx",
                 (unsigned long long)((self->serial * 2654435761u) ^ (uint64_t)time(NULL)) & 0xffffffffu);
    record->topic.epoch[RILL_TOPIC_EPOCH_LENGTH] = '\0';
    zhashx_update(self->topics, record->name, record);
    rill_list_push_back(&self->used, &record->used);
    return &record->topic;
}

/* The ring's slots of seconds that passed since rate_second are emptied. */
static void advance_rate(rill_topic_t *topic, uint64_t second)
{
    if (second <= topic->rate_second)
        return;
    uint64_t passed = second - topic->rate_second;
    if (passed > RILL_TOPIC_RATE_SECONDS)
        passed = RILL_TOPIC_RATE_SECONDS;
    for (uint64_t i = 1; i <= passed; i++)
        topic->rate_counts[(topic->rate_second + i) % RILL_TOPIC_RATE_SECONDS] = 0;
    topic->rate_second = second;
}

static void count_rate(rill_topic_t *topic, uint64_t now_ms)
{
    advance_rate(topic, now_ms / 1000);
    topic->rate_counts[topic->rate_second % RILL_TOPIC_RATE_SECONDS]++;
}

double rill_topic_rate(const rill_topic_t *topic, uint64_t now_ms)
{
    rill_topic_t copy = *topic;
    advance_rate(&copy, now_ms / 1000);
    uint64_t total = 0;
    for (size_t i = 0; i < RILL_TOPIC_RATE_SECONDS; i++)
        total += copy.rate_counts[i];
    return (double)total / RILL_TOPIC_RATE_SECONDS;
}

void rill_topic_table_remove(rill_topic_table_t *self, rill_topic_t *topic)
{
    /* The record's name follows its topic (record_t): the hash key. */
    record_t *record = (record_t *)topic;
    zhashx_delete(self->topics, record->name);
}

uint64_t rill_topic_table_append(rill_topic_table_t *self, rill_topic_t *topic, zmq_msg_t *data,
                                 uint64_t now_ms, size_t capacity, int *retained)
{
    touch(self, (record_t *)topic);
    uint64_t seq = ++topic->last_seq;
    count_rate(topic, now_ms);
    *retained = 0;
    if (capacity == 0) {
        rill_retention_destroy(&topic->retention);
        return seq;
    }
    if (topic->retention == NULL)
        topic->retention = rill_retention_new(capacity);
    if (rill_retention_capacity(topic->retention) != capacity)
        rill_retention_set_capacity(topic->retention, capacity); /* after a SIGHUP */
    *retained = rill_retention_push_at(topic->retention, RILL_EVENT_PART, seq, data, now_ms) == 0;
    return seq;
}

void rill_topic_expire(rill_topic_t *topic, uint64_t now_ms, uint64_t retain_ms)
{
    if (topic->retention == NULL)
        return;
    uint64_t cutoff = now_ms > retain_ms ? now_ms - retain_ms : 0;
    /* A message retained exactly retain_ms ago has had its time. */
    rill_retention_drop_before(topic->retention, cutoff + 1);
    if (rill_retention_count(topic->retention) == 0)
        rill_retention_destroy(&topic->retention);
}

void rill_topic_table_expire(rill_topic_table_t *self, uint64_t now_ms, uint64_t retain_ms)
{
    for (record_t *record = zhashx_first(self->topics); record != NULL;
         record = zhashx_next(self->topics))
        rill_topic_expire(&record->topic, now_ms, retain_ms);
}

uint64_t rill_topic_first_seq(const rill_topic_t *topic)
{
    if (topic->retention == NULL || rill_retention_count(topic->retention) == 0)
        return topic->last_seq + 1;
    return rill_retention_at(topic->retention, 0)->seq;
}

size_t rill_topic_table_size(rill_topic_table_t *self)
{
    return zhashx_size(self->topics);
}

size_t rill_topic_table_retained(rill_topic_table_t *self)
{
    size_t total = 0;
    for (record_t *record = zhashx_first(self->topics); record != NULL;
         record = zhashx_next(self->topics)) {
        if (record->topic.retention != NULL)
            total += rill_retention_count(record->topic.retention);
    }
    return total;
}

void rill_topic_table_foreach(rill_topic_table_t *self, void (*visit)(void *argument, rill_topic_t *topic),
                              void *argument)
{
    for (rill_topic_t *topic = zhashx_first(self->topics); topic != NULL; topic = zhashx_next(self->topics))
        visit(argument, topic);
}
