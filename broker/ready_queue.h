/*
 * ready_queue.h - the jobs no pipeline holds that are ready to go to a
 * worker, in order.
 *
 * A job matched by a declared pipeline (docs/CONFIG.md "Pipelines") waits in
 * that pipeline's debounce list or group buffer and leaves it in batches
 * (pipeline.h). Every other job waits here, FIFO, and goes as a batch of
 * one; so does a retried job, a pipeline's included (it keeps its batch in
 * flight, and goes to the front: it was submitted before the jobs behind
 * it). Which job goes next is decided here, which worker gets it in
 * worker_pool.h.
 */
#ifndef RILL_BROKER_READY_QUEUE_H
#define RILL_BROKER_READY_QUEUE_H

#include "job_table.h"

#include <stddef.h>

typedef struct rill_ready_queue rill_ready_queue_t;

rill_ready_queue_t *rill_ready_queue_new(void);
/* The queue must be empty (or its jobs already freed). */
void rill_ready_queue_destroy(rill_ready_queue_t **self_p);
/* New work goes to the back; work handed back (retries) to the front, so it
 * keeps its place ahead of jobs submitted after it. A job already queued stays. */
void rill_ready_queue_push_back(rill_ready_queue_t *self, rill_job_t *job);
void rill_ready_queue_push_front(rill_ready_queue_t *self, rill_job_t *job);
void rill_ready_queue_remove(rill_ready_queue_t *self, rill_job_t *job);
int rill_ready_queue_contains(const rill_job_t *job);
int rill_ready_queue_is_empty(const rill_ready_queue_t *self);
size_t rill_ready_queue_length(const rill_ready_queue_t *self);
/* Iteration in dispatch order; the current job may be removed while iterating
 * provided the next one was fetched first. */
rill_job_t *rill_ready_queue_first(rill_ready_queue_t *self);
rill_job_t *rill_ready_queue_next(rill_ready_queue_t *self, rill_job_t *job);

#endif
