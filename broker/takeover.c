/*
 * takeover.c - a standby broker starts serving, or stops. See takeover.h.
 */
#include "takeover.h"
#include "job_life.h"
#include "rill_alloc.h"
#include "rill_log.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    rill_job_t **jobs;
    size_t count;
} job_list_t;

static void collect(void *argument, rill_job_t *job)
{
    job_list_t *list = argument;
    if (!rill_job_is_ended(job))
        list->jobs[list->count++] = job;
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
    size_t running = 0, queued = 0;
    for (size_t i = 0; i < list.count; i++) {
        rill_job_t *job = list.jobs[i];
        job->held = 0;
        if (job->state == RILL_JOB_RUNNING) {
            /* Its worker re-joins within the window and is adopted (the
             * attempt goes on from the mirrored last seq); else it is
             * retried after it, not counted. */
            rill_broker_retry_job(broker, job, "worker_lost", 0);
            running++;
        } else if (!rill_ready_queue_contains(job)) {
            rill_ready_queue_push_back(broker->ready, job);
            queued++;
        }
        rill_broker_watch_orphan(broker, job, now_ms);
    }
    free(list.jobs);
    broker->dispatch_needed = 1;
    rill_log_info(NULL, "standby: taking over as broker %s%s: %zu jobs were running (they wait %llu ms for their "
                  "workers), %zu queued, %zu jobs and %zu topics known",
                  broker->instance_id, same ? " (the mirrored broker's identity)" : " (no complete mirror: a new identity)",
                  running, (unsigned long long)window, queued, rill_job_table_size(broker->jobs),
                  rill_topic_table_size(broker->topics));
}

void rill_takeover_yield(rill_broker_t *broker)
{
    rill_log_warn(NULL, "standby: broker %s stops serving: its state is dropped, the active peer's snapshot "
                  "replaces it", broker->instance_id);
    rill_broker_forget_state(broker);
}
