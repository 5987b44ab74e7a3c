/*
 * kind_api.c - the worker side of rill_worker_kind.h: each call a kind makes
 * through its context, handed to the part of the worker that owns it. The
 * job accessors live with the job (job_registry.c).
 */
#include "rill_worker_kind.h"
#include "worker_context.h"

#include "rill_log.h"

const rill_config_t *rill_worker_config(const rill_worker_context_t *context)
{
    return &context->config;
}

const char *rill_worker_run_dir(const rill_worker_context_t *context)
{
    return context->options->endpoints.run_dir;
}

int rill_worker_publish_part(rill_worker_context_t *context, rill_worker_job_t *job, const char *data,
                             size_t length)
{
    /* A part over max_part_bytes is never sent: -1, and the job fails
     * part_too_large (rill_job_registry_refuse_part). */
    if (length > context->config.max_part_bytes) {
        rill_job_registry_refuse_part(&context->jobs, job, length, context->config.max_part_bytes);
        return -1;
    }
    return rill_job_registry_publish(&context->jobs, job, data, length);
}

int rill_worker_publish_topic(rill_worker_context_t *context, rill_worker_job_t *job, const char *topic,
                              const char *data, size_t length)
{
    if (length > context->config.max_part_bytes) {
        rill_job_registry_refuse_part(&context->jobs, job, length, context->config.max_part_bytes);
        return -1;
    }
    const char *id = rill_worker_job_id(job);
    if (!context->link.joined) {
        /* The broker numbers a topic's messages: one lost before it saw it
         * would leave no trace. Held until the next WELCOME (topic_hold.h). */
        if (rill_topic_hold_count(context->topic_hold) == 0)
            rill_log_info(rill_worker_job_who(job), "job %s: holding messages for topic %s until a broker is joined",
                          id, topic);
        rill_topic_hold_add(context->topic_hold, id, topic, data, length, context->config.worker_hold_parts,
                            context->config.worker_hold_bytes);
        return 0;
    }
    rill_frame_t frames[3] = {rill_frame_from_string(id), rill_frame_from_string(topic),
                              {(const uint8_t *)data, length}};
    rill_log_debug(rill_worker_job_who(job), "hop: job %s message for topic %s sent to broker (%zu bytes)", id, topic,
                   length);
    rill_worker_link_send(&context->link, RILL_COMMAND_TOPIC, frames, 3);
    return 0;
}

void rill_worker_job_done(rill_worker_context_t *context, rill_worker_job_t *job)
{
    rill_job_registry_done(&context->jobs, job);
}

void rill_worker_job_fail(rill_worker_context_t *context, rill_worker_job_t *job, const char *code,
                          const char *message)
{
    rill_job_registry_fail(&context->jobs, job, code, message);
}

void rill_worker_timer_start(rill_worker_context_t *context, rill_worker_timer_t *timer, uint64_t delay_ms,
                             rill_worker_timer_callback_t callback, void *argument)
{
    rill_timer_heap_start(&context->kind_timers, timer, delay_ms, callback, argument);
}

void rill_worker_timer_start_at(rill_worker_context_t *context, rill_worker_timer_t *timer, uint64_t due_ns,
                                rill_worker_timer_callback_t callback, void *argument)
{
    rill_timer_heap_start_at(&context->kind_timers, timer, due_ns, callback, argument);
}

void rill_worker_timer_stop(rill_worker_context_t *context, rill_worker_timer_t *timer)
{
    rill_timer_heap_disarm(&context->kind_timers, timer);
}

void rill_worker_fd_watch(rill_worker_context_t *context, int fd, short events, rill_worker_fd_callback_t callback,
                          void *argument)
{
    rill_fd_watches_watch(&context->fd_watches, fd, events, callback, argument);
}

void rill_worker_fd_unwatch(rill_worker_context_t *context, int fd)
{
    rill_fd_watches_unwatch(&context->fd_watches, fd);
}

void rill_worker_child_watch(rill_worker_context_t *context, pid_t pid, rill_worker_child_callback_t callback,
                             void *argument)
{
    rill_children_watch(&context->children, pid, callback, argument);
}

void rill_worker_child_terminate(rill_worker_context_t *context, pid_t pid)
{
    rill_children_terminate(&context->children, pid);
}
