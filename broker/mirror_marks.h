/*
 * mirror_marks.h - what changed since the active broker of a standby pair
 * last told its passive (rill/6, docs/PROTOCOL.md "Standby broker").
 *
 * The broker changes its state in a few places (a job inserted, started,
 * re-queued, adopted, followed, ended; an event published; a topic's
 * message; a job forgotten; a topic deleted). Each of them marks here what
 * changed, and once per pass of the loop mirror_out.c sends the passive
 * what is marked, as ONE message: the marked jobs' records and their
 * events after the last seq mirrored, the marked topics' messages, and the
 * ids of what was forgotten. A snapshot is the same walk with every job
 * and topic marked and every mirrored seq set back to 0.
 *
 * Without a pair the broker has no marks (NULL): every hook is one branch,
 * no allocation, no cost.
 */
#ifndef RILL_BROKER_MIRROR_MARKS_H
#define RILL_BROKER_MIRROR_MARKS_H

#include "job_table.h"
#include "list.h"
#include "rill_buffer.h"
#include "topic_table.h"

typedef struct {
    rill_link_t jobs;    /* rill_job_t.mirror_link, in the order they changed */
    rill_link_t topics;  /* rill_topic_t.mirror_link */
    rill_buffer_t gone;  /* "forgotten" records (mirror_codec.h), in order */
    int on;              /* a passive listens: mark (else nothing is kept) */
} rill_mirror_marks_t;

rill_mirror_marks_t *rill_mirror_marks_new(void);
void rill_mirror_marks_destroy(rill_mirror_marks_t **self_p);
/* Unmarks everything (the passive went, or a snapshot starts over). */
void rill_mirror_marks_clear(rill_mirror_marks_t *self);

/* The job changed: record 1 when more than its events did (state,
 * worker, attempt, followers). */
static inline void rill_mirror_mark_job(rill_mirror_marks_t *self, rill_job_t *job, int record)
{
    if (self == NULL || !self->on)
        return;
    job->mirror_record |= record;
    if (!rill_link_is_linked(&job->mirror_link))
        rill_list_push_back(&self->jobs, &job->mirror_link);
}

static inline void rill_mirror_mark_topic(rill_mirror_marks_t *self, rill_topic_t *topic)
{
    if (self != NULL && self->on && !rill_link_is_linked(&topic->mirror_link))
        rill_list_push_back(&self->topics, &topic->mirror_link);
}

/* The job is about to be freed (its retention ended). */
void rill_mirror_mark_forgotten_job(rill_mirror_marks_t *self, const char *id);
/* The topic (its subject "t<name>/") is about to be forgotten (TOPIC_DELETE). */
void rill_mirror_mark_deleted_topic(rill_mirror_marks_t *self, const char *subject, size_t length);

#endif
