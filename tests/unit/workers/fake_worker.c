/*
 * fake_worker.c - the kind API over a context with no broker and no loop.
 * See fake_worker.h.
 */
#include "fake_worker.h"

#include "timer_heap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_WORKER_JOBS_MAX 16

struct rill_worker_context {
    rill_config_t config;
    size_t misuses;
    rill_timer_heap_t timers;
    uint64_t last_due_ns; /* of the last timer armed */
    rill_worker_job_t *jobs[FAKE_WORKER_JOBS_MAX];
    size_t job_count;
};

rill_worker_context_t *fake_worker_new(void)
{
    rill_worker_context_t *self = calloc(1, sizeof(*self));
    rill_config_defaults(&self->config);
    rill_timer_heap_init(&self->timers);
    return self;
}

void fake_worker_destroy(rill_worker_context_t **self)
{
    if (*self == NULL)
        return;
    for (size_t i = 0; i < (*self)->job_count; i++) {
        json_decref((*self)->jobs[i]->args);
        free((*self)->jobs[i]->args_text);
        free((*self)->jobs[i]);
    }
    rill_timer_heap_release(&(*self)->timers);
    free(*self);
    *self = NULL;
}

rill_worker_job_t *fake_worker_job(rill_worker_context_t *self, const char *id, const char *args)
{
    if (self->job_count == FAKE_WORKER_JOBS_MAX)
        return NULL;
    rill_worker_job_t *job = calloc(1, sizeof(*job));
    snprintf(job->id, sizeof(job->id), "%s", id);
    job->args = args != NULL ? json_loads(args, 0, NULL) : NULL;
    job->args_text = args != NULL ? strdup(args) : NULL;
    self->jobs[self->job_count++] = job;
    return job;
}

size_t fake_worker_run_timers(rill_worker_context_t *self, size_t limit)
{
    size_t fired = 0;
    rill_worker_timer_t *timer;
    /* One at a time: a timer a callback arms fires in a later round. */
    while (fired < limit && (timer = rill_timer_heap_first(&self->timers)) != NULL) {
        rill_timer_heap_disarm(&self->timers, timer);
        fired++;
        timer->callback(timer->argument);
    }
    return fired;
}

size_t fake_worker_armed_timers(const rill_worker_context_t *self)
{
    return self->timers.count;
}

static int ended(const rill_worker_job_t *job)
{
    return job->done || job->fail_code[0] != '\0';
}

/* A breach of rill_worker_kind.h's rules by the kind under test. */
static void misuse(rill_worker_context_t *self, const char *what, const char *job_id)
{
    fprintf(stderr, "fake_worker: %s (job %s)\n", what, job_id);
    self->misuses++;
}

size_t fake_worker_misuses(const rill_worker_context_t *self)
{
    return self->misuses;
}

/* ---- rill_worker_kind.h ---- */

const rill_config_t *rill_worker_config(const rill_worker_context_t *context)
{
    return &context->config;
}

const char *rill_worker_run_dir(const rill_worker_context_t *context)
{
    (void)context;
    return "/nonexistent";
}

const char *rill_worker_job_id(const rill_worker_job_t *job)
{
    return job->id;
}

const char *rill_worker_job_who(const rill_worker_job_t *job)
{
    (void)job;
    return "test";
}

json_t *rill_worker_job_args(const rill_worker_job_t *job)
{
    ((rill_worker_job_t *)job)->args_asked++;
    return job->args;
}

const char *rill_worker_job_args_text(const rill_worker_job_t *job, size_t *length)
{
    *length = job->args_text != NULL ? strlen(job->args_text) : 0;
    return job->args_text;
}

void *rill_worker_job_state(const rill_worker_job_t *job)
{
    return job->state;
}

void rill_worker_job_set_state(rill_worker_job_t *job, void *state)
{
    job->state = state;
}

int rill_worker_publish_part(rill_worker_context_t *context, rill_worker_job_t *job, const char *data,
                             size_t length)
{
    if (ended(job))
        misuse(context, "published after its end", job->id);
    if (length >= FAKE_WORKER_PART_MAX)
        misuse(context, "a part too long for the fake", job->id);
    if (job->part_count < FAKE_WORKER_PARTS_MAX && length < FAKE_WORKER_PART_MAX) {
        memcpy(job->parts[job->part_count], data, length);
        job->parts[job->part_count][length] = '\0';
    }
    job->part_count++;
    return 0;
}

void rill_worker_job_done(rill_worker_context_t *context, rill_worker_job_t *job)
{
    if (ended(job))
        misuse(context, "ended twice", job->id);
    job->done = 1;
}

void rill_worker_job_fail(rill_worker_context_t *context, rill_worker_job_t *job, const char *code,
                          const char *message)
{
    if (ended(job))
        misuse(context, "ended twice", job->id);
    snprintf(job->fail_code, sizeof(job->fail_code), "%s", code);
    snprintf(job->fail_message, sizeof(job->fail_message), "%s", message);
}

void rill_worker_timer_start(rill_worker_context_t *context, rill_worker_timer_t *timer, uint64_t delay_ms,
                             rill_worker_timer_callback_t callback, void *argument)
{
    rill_timer_heap_start(&context->timers, timer, delay_ms, callback, argument);
}

void rill_worker_timer_start_at(rill_worker_context_t *context, rill_worker_timer_t *timer, uint64_t due_ns,
                                rill_worker_timer_callback_t callback, void *argument)
{
    rill_timer_heap_start_at(&context->timers, timer, due_ns, callback, argument);
    context->last_due_ns = due_ns;
}

uint64_t fake_worker_last_due_ns(const rill_worker_context_t *self)
{
    return self->last_due_ns;
}

void rill_worker_timer_stop(rill_worker_context_t *context, rill_worker_timer_t *timer)
{
    rill_timer_heap_disarm(&context->timers, timer);
}

/* No loop: a kind that watches fds or children needs the real core. */
void rill_worker_fd_watch(rill_worker_context_t *context, int fd, short events, rill_worker_fd_callback_t callback,
                          void *argument)
{
    (void)fd, (void)events, (void)callback, (void)argument;
    misuse(context, "an fd watch: fake_worker has no loop", "-");
}

void rill_worker_fd_unwatch(rill_worker_context_t *context, int fd)
{
    (void)context, (void)fd;
}

void rill_worker_child_watch(rill_worker_context_t *context, pid_t pid, rill_worker_child_callback_t callback,
                             void *argument)
{
    (void)pid, (void)callback, (void)argument;
    misuse(context, "a child watch: fake_worker has no loop", "-");
}

void rill_worker_child_terminate(rill_worker_context_t *context, pid_t pid)
{
    (void)context, (void)pid;
}
