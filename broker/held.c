/*
 * held.c - held SUBMITs, FETCHes and TOPIC_MATCHes: one allocation per
 * item, released into the ready queue or answered (a replay, a list). See
 * held.h.
 */
#include "held.h"
#include "events.h"
#include "topic_admin.h"
#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { HELD_SUBMIT, HELD_FETCH, HELD_MATCH } held_kind_t;

static const char *const held_names[] = {"submitted jobs", "fetch", "topic match"};

typedef struct {
    held_kind_t kind;
    char token[RILL_BARRIER_TOKEN_MAX + 1];
    /* FETCH, TOPIC_MATCH: who asked, and what */
    uint8_t routing[RILL_ROUTING_ID_MAX];
    size_t routing_size;
    char subject[RILL_SUBJECT_MAX + 1]; /* TOPIC_MATCH: the prefix */
    size_t subject_length;
    uint64_t after;
    size_t req_size;
    /* SUBMIT */
    size_t job_count;
    /* FETCH, TOPIC_MATCH: the req frame's bytes; SUBMIT: job_count ids of RILL_ID_TEXT_SIZE */
    char bytes[];
} held_t;

int rill_held_token_ready(rill_broker_t *self, const char *token)
{
    char topic[RILL_BARRIER_TOKEN_MAX + 2];
    snprintf(topic, sizeof(topic), "%c%s", RILL_SUBJECT_BARRIER, token);
    return rill_interest_count(self->interest, topic) > 0 || rill_barrier_was_seen(self->barrier, token);
}

static held_t *held_new(const char *token, size_t bytes)
{
    held_t *held = rill_xcalloc(1, sizeof(*held) + bytes);
    snprintf(held->token, sizeof(held->token), "%s", token);
    return held;
}

void rill_held_submit(rill_broker_t *self, const char *token, const char (*ids)[RILL_ID_TEXT_SIZE],
                      size_t count)
{
    held_t *held = held_new(token, count * RILL_ID_TEXT_SIZE);
    held->job_count = count;
    memcpy(held->bytes, ids, count * RILL_ID_TEXT_SIZE);
    rill_barrier_hold(self->barrier, token, rill_clock_monotonic_ms() + RILL_BARRIER_WAIT_MS, held);
}

/* A request answered later: who asked (a ROUTER's routing id) and its req. */
static held_t *held_request(held_kind_t kind, const rill_frame_t *routing, rill_frame_t req, const char *token)
{
    held_t *held = held_new(token, req.size);
    held->kind = kind;
    memcpy(held->routing, routing->data, routing->size);
    held->routing_size = routing->size;
    if (req.size > 0)
        memcpy(held->bytes, req.data, req.size);
    held->req_size = req.size;
    return held;
}

/* Answer now? A ROUTER's routing ids are at most 255 bytes: the size test
 * is for a caller that got one elsewhere. */
static int answers_now(rill_broker_t *self, const rill_frame_t *routing, const char *token)
{
    return token[0] == '\0' || rill_held_token_ready(self, token) || routing->size > RILL_ROUTING_ID_MAX;
}

void rill_held_fetch(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t req, const char *token,
                     const char *subject, uint64_t after)
{
    if (answers_now(self, routing, token)) {
        rill_events_replay(self, routing, req, subject, after);
        return;
    }
    held_t *held = held_request(HELD_FETCH, routing, req, token);
    snprintf(held->subject, sizeof(held->subject), "%s", subject);
    held->after = after;
    rill_barrier_hold(self->barrier, token, rill_clock_monotonic_ms() + RILL_BARRIER_WAIT_MS, held);
}

void rill_held_match(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t req, const char *token,
                     const char *prefix, size_t prefix_length)
{
    if (answers_now(self, routing, token) || prefix_length >= sizeof(((held_t *)NULL)->subject)) {
        rill_topic_admin_match_answer(self, routing, req, prefix, prefix_length);
        return;
    }
    held_t *held = held_request(HELD_MATCH, routing, req, token);
    memcpy(held->subject, prefix, prefix_length);
    held->subject_length = prefix_length;
    rill_barrier_hold(self->barrier, token, rill_clock_monotonic_ms() + RILL_BARRIER_WAIT_MS, held);
}

/* The jobs of a held SUBMIT may go now. */
static void release_submitted(rill_broker_t *self, const held_t *held)
{
    const char(*ids)[RILL_ID_TEXT_SIZE] = (const char(*)[RILL_ID_TEXT_SIZE])held->bytes;
    for (size_t i = 0; i < held->job_count; i++) {
        rill_job_t *job = ids[i][0] != '\0' ? rill_job_table_find(self->jobs, ids[i]) : NULL;
        if (job == NULL || !job->held)
            continue;
        job->held = 0;
        /* A pipeline job waits in its debounce list or group buffer already. */
        if (job->state == RILL_JOB_QUEUED && job->pipeline == NULL)
            rill_ready_queue_push_back(self->ready, job);
    }
    self->dispatch_needed = 1;
}

void rill_held_release(void *item, int timed_out, void *argument)
{
    rill_broker_t *self = argument;
    held_t *held = item;
    if (timed_out) {
        self->counters->barrier_timeouts++;
        rill_log_warn(NULL, "barrier %s not seen within %d ms: releasing the %s anyway", held->token,
                      RILL_BARRIER_WAIT_MS, held_names[held->kind]);
    }
    rill_frame_t routing = {held->routing, held->routing_size};
    rill_frame_t req = {(const uint8_t *)held->bytes, held->req_size};
    if (held->kind == HELD_FETCH)
        rill_events_replay(self, &routing, req, held->subject, held->after);
    else if (held->kind == HELD_MATCH)
        rill_topic_admin_match_answer(self, &routing, req, held->subject, held->subject_length);
    else
        release_submitted(self, held);
    free(held);
}
