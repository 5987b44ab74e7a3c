/*
 * ready_queue.c - the FIFO of jobs ready for dispatch. See ready_queue.h.
 */
#include "ready_queue.h"
#include "rill_alloc.h"

#include <stdlib.h>

struct rill_ready_queue {
    rill_link_t jobs; /* through rill_job_t.queue_link */
};

rill_ready_queue_t *rill_ready_queue_new(void)
{
    rill_ready_queue_t *self = rill_xcalloc(1, sizeof(*self));
    rill_list_init(&self->jobs);
    return self;
}

void rill_ready_queue_destroy(rill_ready_queue_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_ready_queue_t *self = *self_p;
    /* Unlink whatever is left so no job points into freed memory. */
    while (!rill_list_is_empty(&self->jobs))
        rill_list_remove(self->jobs.next);
    free(self);
    *self_p = NULL;
}

void rill_ready_queue_push_back(rill_ready_queue_t *self, rill_job_t *job)
{
    if (!rill_link_is_linked(&job->queue_link))
        rill_list_push_back(&self->jobs, &job->queue_link);
}

void rill_ready_queue_push_front(rill_ready_queue_t *self, rill_job_t *job)
{
    if (!rill_link_is_linked(&job->queue_link))
        rill_list_push_front(&self->jobs, &job->queue_link);
}

void rill_ready_queue_remove(rill_ready_queue_t *self, rill_job_t *job)
{
    (void)self;
    rill_list_remove(&job->queue_link);
}

int rill_ready_queue_contains(const rill_job_t *job)
{
    return rill_link_is_linked(&job->queue_link);
}

int rill_ready_queue_is_empty(const rill_ready_queue_t *self)
{
    return rill_list_is_empty(&self->jobs);
}

size_t rill_ready_queue_length(const rill_ready_queue_t *self)
{
    return rill_list_length(&self->jobs);
}

rill_job_t *rill_ready_queue_first(rill_ready_queue_t *self)
{
    if (rill_list_is_empty(&self->jobs))
        return NULL;
    return rill_container_of(self->jobs.next, rill_job_t, queue_link);
}

rill_job_t *rill_ready_queue_next(rill_ready_queue_t *self, rill_job_t *job)
{
    if (job->queue_link.next == NULL || job->queue_link.next == &self->jobs)
        return NULL;
    return rill_container_of(job->queue_link.next, rill_job_t, queue_link);
}
