/*
 * job_registry.h - the jobs one worker holds, from BATCH to their end.
 *
 * This is the only code that creates, starts, ends or frees a
 * rill_worker_job_t: a BATCH's valid new jobs become held jobs and are handed
 * to their kind (one by one, or as a whole for a kind with start_batch:
 * rill_worker_kind.h); a kind ends each with done or fail, the broker may
 * cancel one, and a draining or restarted worker cancels them all. Every
 * end tells the broker (DONE, FAIL, RETURN) over the link, which gives the
 * job's credit back, except when the broker itself is gone.
 */
#ifndef RILL_WORKER_JOB_REGISTRY_H
#define RILL_WORKER_JOB_REGISTRY_H

#include "rill_messages.h"
#include "rill_worker_kind.h"
#include "worker_link.h"

#include <czmq.h>
#include <stddef.h>

#define RILL_WORKER_MAX_KINDS 16

typedef struct {
    zhashx_t *jobs; /* id -> rill_worker_job_t *, owned */
    const rill_worker_kind_t *served[RILL_WORKER_MAX_KINDS];
    size_t served_count;
    rill_worker_link_t *link;
    rill_worker_context_t *context; /* what the kinds are handed */
} rill_job_registry_t;

void rill_job_registry_init(rill_job_registry_t *self, rill_worker_link_t *link, rill_worker_context_t *context);
/* Cancels every job (the broker is not told), then lets each served kind
 * release what it shares (its shutdown). */
void rill_job_registry_release(rill_job_registry_t *self);
/* Serves the built-in kinds named in list (comma-separated; NULL: all).
 * Returns 0, or -1 when it names none (logged). */
int rill_job_registry_serve(rill_job_registry_t *self, const char *list);

size_t rill_job_registry_count(const rill_job_registry_t *self);
rill_worker_job_t *rill_job_registry_find(const rill_job_registry_t *self, const char *id);

/* The jobs of one BATCH. A malformed entry is dropped (counted on the
 * link), a job already held is ignored, one of a kind not served is refused
 * (FAIL unknown_kind); while draining every job goes back at once (RETURN).
 * The others are held and started. */
void rill_job_registry_start(rill_job_registry_t *self, const rill_batch_job_t *entries, size_t count, int draining);

/* Ends of a job; after each, the job is freed. */
void rill_job_registry_done(rill_job_registry_t *self, rill_worker_job_t *job);
void rill_job_registry_fail(rill_job_registry_t *self, rill_worker_job_t *job, const char *code, const char *message);
void rill_job_registry_cancel(rill_job_registry_t *self, rill_worker_job_t *job);
/* Cancels every held job, first telling the broker tell_broker for each
 * (RETURN when draining) unless it is RILL_COMMAND_INVALID. */
void rill_job_registry_cancel_all(rill_job_registry_t *self, rill_command_t tell_broker);

int rill_job_registry_publish(rill_job_registry_t *self, rill_worker_job_t *job, const char *data, size_t length);

#endif
