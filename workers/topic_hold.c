/*
 * topic_hold.c - see topic_hold.h. A FIFO of copies, and per topic that
 * lost messages past the bound a count (a short list: the topics of the
 * worker's relaying jobs).
 */
#include "topic_hold.h"
#include "rill_alloc.h"
#include "rill_protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    struct entry *next;
    char job_id[RILL_JOB_ID_LENGTH + 1];
    char topic[RILL_TOPIC_NAME_MAX + 1];
    size_t length;
    char data[]; /* length bytes */
} entry_t;

typedef struct loss {
    struct loss *next;
    char job_id[RILL_JOB_ID_LENGTH + 1]; /* the job whose message went first */
    char topic[RILL_TOPIC_NAME_MAX + 1];
    uint64_t messages;
} loss_t;

struct rill_topic_hold {
    entry_t *head;
    entry_t **tail;
    size_t count;
    uint64_t bytes;
    loss_t *losses;
    uint64_t dropped;
};

rill_topic_hold_t *rill_topic_hold_new(void)
{
    rill_topic_hold_t *self = rill_xcalloc(1, sizeof(*self));
    self->tail = &self->head;
    return self;
}

static void clear(rill_topic_hold_t *self)
{
    while (self->head != NULL) {
        entry_t *entry = self->head;
        self->head = entry->next;
        free(entry);
    }
    self->tail = &self->head;
    self->count = 0;
    self->bytes = 0;
    while (self->losses != NULL) {
        loss_t *loss = self->losses;
        self->losses = loss->next;
        free(loss);
    }
    self->dropped = 0;
}

void rill_topic_hold_destroy(rill_topic_hold_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    clear(*self_p);
    free(*self_p);
    *self_p = NULL;
}

static loss_t *loss_of(rill_topic_hold_t *self, const char *topic)
{
    for (loss_t *loss = self->losses; loss != NULL; loss = loss->next) {
        if (strcmp(loss->topic, topic) == 0)
            return loss;
    }
    return NULL;
}

static void drop_oldest(rill_topic_hold_t *self)
{
    entry_t *entry = self->head;
    self->head = entry->next;
    if (self->head == NULL)
        self->tail = &self->head;
    self->count--;
    self->bytes -= entry->length;
    self->dropped++;
    loss_t *loss = loss_of(self, entry->topic);
    if (loss == NULL) {
        loss = rill_xcalloc(1, sizeof(*loss));
        memcpy(loss->job_id, entry->job_id, sizeof(loss->job_id));
        memcpy(loss->topic, entry->topic, sizeof(loss->topic));
        loss->next = self->losses;
        self->losses = loss;
    }
    loss->messages++;
    free(entry);
}

void rill_topic_hold_add(rill_topic_hold_t *self, const char *job_id, const char *topic, const char *data,
                         size_t length, uint64_t max_messages, uint64_t max_bytes)
{
    entry_t *entry = rill_xmalloc(sizeof(*entry) + length);
    entry->next = NULL;
    snprintf(entry->job_id, sizeof(entry->job_id), "%s", job_id);
    snprintf(entry->topic, sizeof(entry->topic), "%s", topic);
    entry->length = length;
    if (length > 0)
        memcpy(entry->data, data, length);
    *self->tail = entry;
    self->tail = &entry->next;
    self->count++;
    self->bytes += length;
    while (self->head != NULL && (self->count > max_messages || self->bytes > max_bytes))
        drop_oldest(self);
}

size_t rill_topic_hold_count(const rill_topic_hold_t *self)
{
    return self->count;
}

uint64_t rill_topic_hold_dropped(const rill_topic_hold_t *self)
{
    return self->dropped;
}

static void send_marker(loss_t *loss, const char *job_id, rill_topic_hold_send_fn send, void *argument)
{
    char marker[128];
    int length = snprintf(marker, sizeof(marker),
                          "{\"worker\":\"dropped\",\"messages\":%llu,\"reason\":\"no broker joined\"}",
                          (unsigned long long)loss->messages);
    send(argument, job_id, loss->topic, marker, (size_t)length);
    loss->messages = 0; /* told */
}

size_t rill_topic_hold_send(rill_topic_hold_t *self, rill_topic_hold_send_fn send, void *argument)
{
    size_t sent = 0;
    for (entry_t *entry = self->head; entry != NULL; entry = entry->next) {
        loss_t *loss = self->losses != NULL ? loss_of(self, entry->topic) : NULL;
        if (loss != NULL && loss->messages > 0) {
            send_marker(loss, entry->job_id, send, argument);
            sent++;
        }
        send(argument, entry->job_id, entry->topic, entry->data, entry->length);
        sent++;
    }
    for (loss_t *loss = self->losses; loss != NULL; loss = loss->next) {
        if (loss->messages > 0) {
            send_marker(loss, loss->job_id, send, argument);
            sent++;
        }
    }
    clear(self);
    return sent;
}
