/*
 * rill_worker_kind.h - the interface a job kind implements inside rill-worker.
 *
 * A new kind is one C file in workers/ that fills a rill_worker_kind_t and is
 * listed in workers/kinds.c. The worker core owns jobs, sockets and credit;
 * the kind only starts work, emits parts, and ends each job exactly once.
 *
 * Ownership: the core allocates every rill_worker_job_t and frees it after
 * the kind ended it (rill_worker_job_done / _fail) or after cancel() returned.
 * After either, the kind must not touch the job again.
 */
#ifndef RILL_WORKER_KIND_H
#define RILL_WORKER_KIND_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rill_worker_job rill_worker_job_t;

typedef struct {
    const char *name;
    /* Starts a batch of jobs of this kind (a pipeline may group several into
     * one batch). Returns 0; on -1 the core fails every job of the batch. */
    int (*start)(rill_worker_job_t **jobs, size_t count);
    /* Stops one job at once and releases what the kind holds for it. */
    void (*cancel)(rill_worker_job_t *job);
} rill_worker_kind_t;

const char *rill_worker_job_id(const rill_worker_job_t *job);
const char *rill_worker_job_who(const rill_worker_job_t *job);
json_t *rill_worker_job_args(const rill_worker_job_t *job); /* borrowed; may be NULL */
void *rill_worker_job_state(const rill_worker_job_t *job);
void rill_worker_job_set_state(rill_worker_job_t *job, void *state);

/* Publishes one part: data is a JSON text. Returns 0 or -1 (the part could not
 * be queued; the job should fail). */
int rill_worker_publish_part(rill_worker_job_t *job, const char *data, size_t length);
void rill_worker_job_done(rill_worker_job_t *job);
void rill_worker_job_fail(rill_worker_job_t *job, const char *code, const char *message);

/* One-shot timer on the worker's loop. The caller owns the storage (embed it
 * in the job's state): starting and stopping allocate nothing. Zero it before
 * first use. Starting an active timer re-arms it. */
typedef void (*rill_worker_timer_callback_t)(void *argument);
typedef struct {
    uint64_t due_ns;
    size_t heap_index; /* 0 = not armed; else position + 1 in the loop's heap */
    rill_worker_timer_callback_t callback;
    void *argument;
} rill_worker_timer_t;

int rill_worker_timer_start(rill_worker_timer_t *timer, uint64_t delay_ms,
                            rill_worker_timer_callback_t callback, void *argument);
void rill_worker_timer_stop(rill_worker_timer_t *timer);

#endif
