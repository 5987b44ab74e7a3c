/*
 * takeover.c - a standby broker starts serving, or stops. See takeover.h.
 */
#include "takeover.h"
#include "events.h"
#include "job_life.h"
#include "pipeline.h"
#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_log.h"
#include "sockets.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    rill_job_t **jobs;
    size_t count;
} job_list_t;

/* The sync window of events.c: a job or topic with an event that recent
 * gets a sync each heartbeat while someone listens. */
#define RECENT_MS 10000

static void collect(void *argument, rill_job_t *job)
{
    job_list_t *list = argument;
    list->jobs[list->count++] = job;
}

/* Submission order: the serials the old active gave (mirror_job.c). */
static int by_serial(const void *a, const void *b)
{
    const rill_job_t *left = *(rill_job_t *const *)a, *right = *(rill_job_t *const *)b;
    return left->serial < right->serial ? -1 : left->serial > right->serial;
}

/* In-flight batches: by batch id, then submission order. */
static int by_batch(const void *a, const void *b)
{
    const rill_job_t *left = *(rill_job_t *const *)a, *right = *(rill_job_t *const *)b;
    int order = strcmp(left->batch, right->batch);
    return order != 0 ? order : by_serial(a, b);
}

/* The pipeline a mirrored job still goes through here: the one it was
 * submitted to, when the config in force still matches it there. */
static const rill_pipeline_config_t *pipeline_of(rill_broker_t *broker, const rill_job_t *job)
{
    const rill_pipeline_config_t *pipeline = rill_config_match_pipeline(&broker->config, job->kind, job->source);
    return pipeline != NULL && job->pipeline != NULL && strcmp(job->pipeline, pipeline->name) == 0 ? pipeline : NULL;
}

/* Pipeline jobs not ended that went in a batch on the old active: that
 * batch is still in flight (a batch ends with its last job), and their
 * group counts it so (pipeline.h). Returns how many batches. */
static size_t resume_batches(rill_broker_t *broker, const job_list_t *list)
{
    rill_job_t **batched = rill_xcalloc(list->count + 1, sizeof(*batched));
    size_t count = 0, batches = 0;
    for (size_t i = 0; i < list->count; i++) {
        rill_job_t *job = list->jobs[i];
        if (!rill_job_is_ended(job) && job->batch[0] != '\0' && pipeline_of(broker, job) != NULL)
            batched[count++] = job;
    }
    qsort(batched, count, sizeof(*batched), by_batch);
    for (size_t start = 0; start < count;) {
        size_t end = start + 1;
        while (end < count && strcmp(batched[end]->batch, batched[start]->batch) == 0)
            end++;
        rill_pipelines_resume_batch(broker->pipelines, pipeline_of(broker, batched[start]), batched + start,
                                    end - start);
        batches++;
        start = end;
    }
    free(batched);
    return batches;
}

/* How far a topic's seqs jump at a takeover when it had a message in the
 * moments before: the old active publishes a topic's message on the XPUB
 * as it takes it and mirrors it at the end of that pass of its loop, so a
 * pass it died in may have given followers seqs the mirror never had, up
 * to one burst of each client socket. Numbering on from the mirrored last
 * seq would give those seqs to other messages (a follower that had the old
 * one would drop the new one as a duplicate: lost silently); numbering on
 * after the jump makes the seqs between a gap its followers are told of. */
#define TOPIC_SEQ_JUMP (2 * RILL_BROKER_BURST)

typedef struct {
    uint64_t now_ms;
    uint64_t busy_since_ms; /* a topic mirrored since then may have lost a pass */
    size_t jumped;
} topic_pass_t;

/* The syncs a frontend needs to see what it missed over the takeover
 * (events.c): every job still going or ended lately, every topic. */
static void recent_topic(void *argument, rill_topic_t *topic)
{
    topic_pass_t *pass = argument;
    if (topic->last_seq == 0)
        return;
    if (topic->last_event_ms >= pass->busy_since_ms) {
        topic->last_seq += TOPIC_SEQ_JUMP;
        pass->jumped++;
    }
    topic->last_event_ms = pass->now_ms;
}

static void mark_recent(rill_broker_t *broker, rill_job_t *job, uint64_t now_ms, uint64_t wall_ms)
{
    if (job->last_seq == 0 || (rill_job_is_ended(job) && job->ended_ms + RECENT_MS < wall_ms))
        return;
    job->last_event_ms = now_ms;
    rill_events_list_recent(broker, job);
}

void rill_takeover_run(rill_broker_t *broker, const char *mirrored, uint64_t started_ms, uint64_t now_ms)
{
    int same = mirrored != NULL && strlen(mirrored) == RILL_ID_TEXT_SIZE - 1;
    if (same) {
        memcpy(broker->instance_id, mirrored, RILL_ID_TEXT_SIZE);
        broker->started_wall_ms = started_ms;
    } else {
        memcpy(broker->instance_id, broker->own_id, RILL_ID_TEXT_SIZE);
    }
    uint64_t window = 3 * broker->config.heartbeat_ms + RILL_BROKER_RECOVERY_EXTRA_MS;
    broker->recovery_until_ms = now_ms + window;
    broker->cut_hold_until_ms = now_ms + window;
    broker->last_tick_ms = now_ms; /* the passive's idle loop was no stall */
    /* The table cannot change while it is walked: the jobs first. */
    job_list_t list = {rill_xcalloc(rill_job_table_size(broker->jobs) + 1, sizeof(rill_job_t *)), 0};
    rill_job_table_foreach(broker->jobs, collect, &list);
    /* In the order they were submitted: a pipeline's buffer is. */
    qsort(list.jobs, list.count, sizeof(*list.jobs), by_serial);
    size_t batches = resume_batches(broker, &list);
    size_t running = 0, queued = 0, buffered = 0;
    uint64_t wall_ms = rill_clock_wall_ms();
    size_t remembered = 0;
    for (size_t i = 0; i < list.count; i++) {
        rill_job_t *job = list.jobs[i];
        mark_recent(broker, job, now_ms, wall_ms);
        const rill_pipeline_config_t *pipeline = pipeline_of(broker, job);
        /* Dedup: an identical job submitted from now joins this one, as it
         * would have on the old active (queued, running or retained). */
        rill_pipelines_remember(broker->pipelines, job, pipeline);
        remembered += job->remembered;
        if (rill_job_is_ended(job))
            continue;
        job->held = 0;
        if (job->state == RILL_JOB_RUNNING) {
            /* Its worker re-joins within the window and is adopted (the
             * attempt goes on from the mirrored last seq); else it is
             * retried after it, not counted. */
            rill_broker_retry_job(broker, job, "worker_lost", 0);
            running++;
        } else if (job->batch[0] == '\0' && pipeline != NULL) {
            /* Never sent: through its pipeline again (debounce, buffer,
             * its group's order), not straight to a worker, with the rest
             * of its quiet period or its buffer's window (rill/12). */
            rill_pipelines_resubmit(broker->pipelines, job, pipeline, now_ms);
            buffered++;
        } else if (!rill_ready_queue_contains(job)) {
            rill_ready_queue_push_back(broker->ready, job);
            queued++;
        }
        /* A grace the passive's XPUB started (a frontend left it) runs
         * from now, as every other. */
        rill_list_remove(&job->orphan_link);
        rill_broker_watch_orphan(broker, job, now_ms);
    }
    free(list.jobs);
    /* The peer was lost within 2 heartbeats of its last word (pair.h): a
     * topic mirrored within 3 may have had a message the mirror missed. */
    uint64_t busy = 3 * broker->config.heartbeat_ms;
    topic_pass_t topics = {now_ms, now_ms > busy ? now_ms - busy : 0, 0};
    rill_topic_table_foreach(broker->topics, recent_topic, &topics);
    broker->events_at_risk_ms = now_ms; /* followed jobs get their syncs too */
    broker->dispatch_needed = 1;
    rill_log_info(NULL, "standby: taking over as broker %s%s: %zu jobs were running (they wait %llu ms for their "
                  "workers), %zu queued, %zu in pipelines behind %zu batches in flight, %zu jobs and %zu topics "
                  "known (%zu busy ones number on %d further), %zu jobs a dedup pipeline joins to",
                  broker->instance_id, same ? " (the mirrored broker's identity)" : " (no complete mirror: a new identity)",
                  running, (unsigned long long)window, queued, buffered, batches, rill_job_table_size(broker->jobs),
                  rill_topic_table_size(broker->topics), topics.jumped, TOPIC_SEQ_JUMP, remembered);
}

void rill_takeover_yield(rill_broker_t *broker)
{
    rill_log_warn(NULL, "standby: broker %s stops serving: its state is dropped, the active peer's snapshot "
                  "replaces it", broker->instance_id);
    rill_broker_forget_state(broker);
}
