/*
 * interest.c - per-subject subscriber counts from XPUB messages. See interest.h.
 */
#include "interest.h"
#include "rill_alloc.h"
#include "rill_protocol.h"
#include "rill_topic_pattern.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

struct rill_interest {
    zhashx_t *counts; /* topic -> uint64_t* */
    /* How many subjects in counts begin with each byte: a subject kind no
     * frontend subscribes to (a job's "j<id>" when every frontend follows
     * its jobs directly, rill/4) is answered without hashing it, and that
     * is asked of every job. */
    uint32_t by_first_byte[256];
};

static void free_count(void **item)
{
    free(*item);
    *item = NULL;
}

rill_interest_t *rill_interest_new(void)
{
    rill_interest_t *self = rill_xcalloc(1, sizeof(*self));
    self->counts = zhashx_new(); /* czmq aborts on ENOMEM (rill_alloc.h) */
    zhashx_set_destructor(self->counts, free_count);
    return self;
}

void rill_interest_destroy(rill_interest_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_interest_t *self = *self_p;
    zhashx_destroy(&self->counts);
    free(self);
    *self_p = NULL;
}

int rill_barrier_token_is_valid(const uint8_t *token, size_t size)
{
    if (size < 1 || size > RILL_BARRIER_TOKEN_MAX)
        return 0;
    for (size_t i = 0; i < size; i++) {
        if (token[i] < 0x21 || token[i] > 0x7e)
            return 0;
    }
    return 1;
}

static rill_interest_kind_t classify(const uint8_t *topic, size_t size)
{
    if (size < 2)
        return RILL_INTEREST_IGNORED;
    switch (topic[0]) {
    case RILL_SUBJECT_JOB:
        return rill_job_id_is_valid(topic + 1, size - 1) ? RILL_INTEREST_JOB : RILL_INTEREST_IGNORED;
    case RILL_SUBJECT_TOPIC:
        if (rill_topic_prefix_is_valid((const char *)topic + 1, size - 1))
            return RILL_INTEREST_PATTERN;
        return size >= 3 && topic[size - 1] == '/' &&
                       rill_topic_name_is_valid((const char *)topic + 1, size - 2)
                   ? RILL_INTEREST_TOPIC
                   : RILL_INTEREST_IGNORED;
    case RILL_SUBJECT_BARRIER:
        return rill_barrier_token_is_valid(topic + 1, size - 1) ? RILL_INTEREST_BARRIER
                                                                : RILL_INTEREST_IGNORED;
    case RILL_SUBJECT_FOLLOW:
        return rill_follow_subject_is_valid(topic, size) ? RILL_INTEREST_FOLLOW : RILL_INTEREST_IGNORED;
    default:
        return RILL_INTEREST_IGNORED;
    }
}

void rill_interest_apply(rill_interest_t *self, const uint8_t *message, size_t size,
                         rill_interest_change_t *change)
{
    memset(change, 0, sizeof(*change));
    if (size < 1 || (message[0] != 0 && message[0] != 1))
        return;
    const uint8_t *topic = message + 1;
    size_t topic_size = size - 1;
    rill_interest_kind_t kind = classify(topic, topic_size);
    if (kind == RILL_INTEREST_IGNORED || topic_size >= sizeof(change->subject))
        return;
    memcpy(change->subject, topic, topic_size);
    change->subject[topic_size] = '\0';
    change->subscribe = message[0] == 1;
    uint64_t *count = zhashx_lookup(self->counts, change->subject);
    change->previous = count != NULL ? *count : 0;
    if (change->subscribe) {
        if (count == NULL) {
            count = rill_xcalloc(1, sizeof(*count));
            zhashx_update(self->counts, change->subject, count);
            self->by_first_byte[(unsigned char)change->subject[0]]++;
        }
        (*count)++;
        change->count = *count;
    } else if (count != NULL) {
        (*count)--;
        change->count = *count;
        if (*count == 0) {
            zhashx_delete(self->counts, change->subject);
            self->by_first_byte[(unsigned char)change->subject[0]]--;
        }
    }
    change->kind = kind;
}

uint64_t rill_interest_count(rill_interest_t *self, const char *topic)
{
    if (self->by_first_byte[(unsigned char)topic[0]] == 0)
        return 0;
    uint64_t *count = zhashx_lookup(self->counts, topic);
    return count != NULL ? *count : 0;
}

size_t rill_interest_size(rill_interest_t *self)
{
    return zhashx_size(self->counts);
}

uint64_t rill_interest_pattern_count(rill_interest_t *self, const char *name, size_t length)
{
    char key[RILL_TOPIC_NAME_MAX + 2];
    uint64_t total = 0;
    if (length > RILL_TOPIC_NAME_MAX)
        return 0;
    key[0] = RILL_SUBJECT_TOPIC;
    /* Each dot with a byte after it ends a prefix that may be subscribed. */
    for (size_t i = 0; i + 1 < length; i++) {
        key[i + 1] = name[i];
        if (name[i] != '.')
            continue;
        key[i + 2] = '\0';
        total += rill_interest_count(self, key);
    }
    return total;
}
