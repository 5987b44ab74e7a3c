/*
 * pipeline.h - the reactive operators of docs/CONFIG.md "Pipelines" between submission and
 * dispatch: debounce, dedup, group_by, buffer_with_time, ordered/parallel.
 *
 * Kept pure (no sockets, no worker choice) so the decisions can be tested
 * alone: dispatch.c asks this module which group has a batch ready, picks
 * the worker itself (worker_pool.h), and tells the module what it sent. A
 * job matched by no pipeline never comes here: it goes to the ready queue.
 *
 * Where a pipeline job is, at any time (its queue_link is in one list only):
 *   debouncing   - in the debounce list until no identical job arrived for
 *                  debounce_ms (identical: same pipeline and identity);
 *   buffered     - in its group's buffer, oldest first, until the group's
 *                  window closes (buffer_ms from the first buffered job) or
 *                  buffer_max jobs are there, and the group has room in
 *                  flight (ordered: 1 batch, parallel: concurrency);
 *   in a batch   - sent to a worker; the batch stays in flight until every
 *                  job of it ended (a retried job keeps its batch).
 * Groups are created on first use and freed when they hold nothing.
 */
#ifndef RILL_BROKER_PIPELINE_H
#define RILL_BROKER_PIPELINE_H

#include "job_table.h"
#include "rill_config.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The most jobs in one batch (buffer_max's maximum in rill_config.c). */
#define RILL_PIPELINE_BATCH_MAX 10000

typedef struct rill_pipelines rill_pipelines_t;
typedef struct rill_pipeline_group rill_pipeline_group_t;

rill_pipelines_t *rill_pipelines_new(void);
/* Jobs still linked are unlinked, not freed (the job table owns them). */
void rill_pipelines_destroy(rill_pipelines_t **self_p);

/* A job's identity for debounce and dedup: its key when it has one, else
 * kind, source (rill_job_source) and canonical args (sorted keys,
 * compact). Caller frees. */
char *rill_pipelines_identity(const char *kind, const char *source, const char *key, json_t *args);

/* Prepares a new job for pipeline (name copied, retention/deadline/retry
 * settings taken from it, identity stored when debounce or dedup need it).
 * identity (may be NULL) is consumed. */
void rill_pipelines_adopt(rill_job_t *job, const rill_pipeline_config_t *pipeline, char *identity);

/* The job an identical submission joins, or NULL: a debouncing one (its
 * quiet period starts again at now) when the pipeline debounces, else with
 * dedup one that is queued, running or ended done and still known. *why is
 * set to "debounce" or "dedup". */
rill_job_t *rill_pipelines_find_join(rill_pipelines_t *self, const rill_pipeline_config_t *pipeline,
                                     const char *identity, uint64_t now_ms, const char **why);

/* A new job of a pipeline enters: it debounces, or goes to its group's
 * buffer. It is also remembered for dedup. */
void rill_pipelines_submit(rill_pipelines_t *self, rill_job_t *job, const rill_pipeline_config_t *pipeline,
                           uint64_t now_ms);
/* The same at a standby's takeover (takeover.c), for a job the old active
 * had not sent: it keeps the times the old active gave it, mirrored into
 * the job (rill/12, mirror_job.c): job->due_ms, the end of its debounce
 * quiet period, or job->buffered_ms, when it entered its group's buffer
 * (a buffered job is not debounced again, and its group's window runs
 * from its first job's time). Neither known (both 0): as submit. */
void rill_pipelines_resubmit(rill_pipelines_t *self, rill_job_t *job, const rill_pipeline_config_t *pipeline,
                             uint64_t now_ms);
/* A job held for its submit barrier does not leave the debounce list nor
 * count in a batch window before this; a buffered held job is skipped. */
/* Moves debouncing jobs whose quiet period is over (and not held) to their
 * groups' buffers. Returns how many moved. */
size_t rill_pipelines_release_debounced(rill_pipelines_t *self, uint64_t now_ms);
/* The job ended (done, failed, cancelled) wherever it was: it leaves the
 * debounce list, the buffer, or counts down its batch. */
void rill_pipelines_job_ended(rill_pipelines_t *self, rill_job_t *job);
/* The job table forgets the job (retention over): no more dedup joins. */
void rill_pipelines_forget(rill_pipelines_t *self, rill_job_t *job);

/* The earliest monotonic ms after after_ms at which something may become
 * dispatchable without a message arriving (a quiet period or a window
 * ending), or UINT64_MAX. What was due by after_ms (the last dispatch) and
 * still waits, waits for credit: a worker's message triggers it, not time. */
uint64_t rill_pipelines_next_due(rill_pipelines_t *self, uint64_t after_ms);

/* Groups whose batch may go now: window closed or full, room in flight.
 * Iteration: the current group stays valid while start_batch is called. */
rill_pipeline_group_t *rill_pipelines_first_ready(rill_pipelines_t *self, uint64_t now_ms);
rill_pipeline_group_t *rill_pipelines_next_ready(rill_pipelines_t *self, rill_pipeline_group_t *group,
                                                 uint64_t now_ms);
int rill_pipeline_group_is_ready(const rill_pipeline_group_t *group, uint64_t now_ms);
const char *rill_pipeline_group_kind(const rill_pipeline_group_t *group);
/* 1 for an ordered pipeline's group: its batches run their jobs one after
 * another (the worker enforces it: docs/CONFIG.md "Pipelines"). */
int rill_pipeline_group_ordered(const rill_pipeline_group_t *group);
/* Fills jobs with the group's next batch, oldest first (at most max and
 * buffer_max jobs; jobs held by a barrier are skipped). Returns the count. */
size_t rill_pipeline_group_peek(rill_pipeline_group_t *group, rill_job_t **jobs, size_t max);
/* The first count jobs peeked were sent as one batch: they leave the
 * buffer and the group has one more batch in flight. */
void rill_pipelines_start_batch(rill_pipelines_t *self, rill_pipeline_group_t *group, rill_job_t **jobs,
                               size_t count);

/* A standby's takeover (takeover.c): jobs of pipeline that were in one
 * batch in flight on the old active (its mirrored batch id), not ended, in
 * their order: their group counts that batch in flight again, so an
 * ordered group sends no next batch before they end, and a lost ordered
 * batch goes again together (as if start_batch had sent them here). */
void rill_pipelines_resume_batch(rill_pipelines_t *self, const rill_pipeline_config_t *pipeline, rill_job_t **jobs,
                                 size_t count);

/* job is queued again (its worker was lost) and its batch was an ordered
 * one: the jobs of that batch queued again (job among them), in the
 * batch's order, to go together as one ordered batch again (caller frees;
 * *count of them). NULL (count 0) for a job of no ordered batch. */
rill_job_t **rill_pipelines_ordered_retry(const rill_job_t *job, size_t *count);

/* What GET /v1/pipelines shows of a group (broker/pipeline_listing.c). */
typedef struct {
    const char *pipeline; /* its pipeline's name */
    const char *group;    /* the group's value: a source, a kind, or "" (group_by none) */
    size_t queued;        /* jobs in its buffer */
    uint64_t in_flight;   /* its batches sent and not ended */
    size_t debouncing;    /* its jobs in a debounce quiet period */
} rill_pipeline_group_view_t;

/* Calls visit for every group there is now, in the order they appeared. */
void rill_pipelines_foreach_group(rill_pipelines_t *self,
                                  void (*visit)(void *argument, const rill_pipeline_group_view_t *view),
                                  void *argument);

/* Gauges for tests and logs. */
size_t rill_pipelines_group_count(const rill_pipelines_t *self);
size_t rill_pipelines_debouncing(const rill_pipelines_t *self);

/* A job made by a standby's mirror (mirror_job.c), which carries its
 * pipeline's name and its identity: remembered for dedup as if submitted
 * here, so an identical job submitted after a takeover joins it. Nothing
 * when its pipeline (config) has no dedup, it has no identity, or it failed
 * or was cancelled (those are never joined). */
void rill_pipelines_remember(rill_pipelines_t *self, rill_job_t *job, const rill_pipeline_config_t *pipeline);

#endif
