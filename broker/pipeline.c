/*
 * pipeline.c - debounce, dedup, groups, buffers and batches in flight. See
 * pipeline.h for where a job is at each step and why this module is pure.
 */
#include "pipeline.h"
#include "rill_alloc.h"
#include "rill_job.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GROUP_KEY_MAX (RILL_CONFIG_KIND_NAME_MAX + RILL_CONFIG_SOURCE_MAX + 2)

struct rill_pipeline_group {
    char key[GROUP_KEY_MAX]; /* pipeline name, 0x1f, group value */
    rill_pipeline_config_t config; /* of the latest job that entered */
    rill_link_t buffer;      /* jobs, through queue_link, oldest first */
    uint64_t in_flight;      /* batches sent and not ended */
    size_t debouncing;       /* its jobs in the debounce list (they point at it) */
    rill_link_t link;        /* rill_pipelines_t.groups */
};

typedef struct rill_pipeline_batch {
    rill_pipeline_group_t *group;
    size_t remaining; /* jobs of it not ended */
    rill_link_t link; /* rill_pipelines_t.batches */
    rill_job_t **jobs; /* an ordered batch's jobs in order (NULL once ended), for a retry; else NULL */
    size_t count;
    size_t first;     /* jobs[] before it ended (they end in order, mostly) */
} rill_pipeline_batch_t;

struct rill_pipelines {
    zhashx_t *groups_by_key; /* key -> group (owned through the list) */
    rill_link_t groups;
    rill_link_t debouncing;  /* jobs, through queue_link */
    rill_link_t batches;     /* in flight (freed with the module at shutdown) */
    zhashx_t *debounced;     /* pipeline 0x1f identity -> debouncing job */
    zhashx_t *remembered;    /* pipeline 0x1f identity -> job (dedup) */
};

rill_pipelines_t *rill_pipelines_new(void)
{
    rill_pipelines_t *self = rill_xcalloc(1, sizeof(*self));
    rill_list_init(&self->groups);
    rill_list_init(&self->debouncing);
    rill_list_init(&self->batches);
    /* czmq aborts on ENOMEM (rill_alloc.h). */
    self->groups_by_key = zhashx_new();
    self->debounced = zhashx_new();
    self->remembered = zhashx_new();
    return self;
}

static void group_free(rill_pipelines_t *self, rill_pipeline_group_t *group)
{
    while (!rill_list_is_empty(&group->buffer)) {
        rill_job_t *job = rill_container_of(group->buffer.next, rill_job_t, queue_link);
        rill_list_remove(&job->queue_link);
        job->group = NULL;
    }
    rill_list_remove(&group->link);
    zhashx_delete(self->groups_by_key, group->key);
    free(group);
}

void rill_pipelines_destroy(rill_pipelines_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_pipelines_t *self = *self_p;
    while (!rill_list_is_empty(&self->groups))
        group_free(self, rill_container_of(self->groups.next, rill_pipeline_group_t, link));
    while (!rill_list_is_empty(&self->debouncing)) {
        rill_job_t *job = rill_container_of(self->debouncing.next, rill_job_t, queue_link);
        rill_list_remove(&job->queue_link);
        job->debouncing = 0;
    }
    /* Jobs still running at shutdown were freed without ending. */
    while (!rill_list_is_empty(&self->batches)) {
        rill_pipeline_batch_t *batch = rill_container_of(self->batches.next, rill_pipeline_batch_t, link);
        rill_list_remove(&batch->link);
        free(batch->jobs);
        free(batch);
    }
    zhashx_destroy(&self->groups_by_key);
    zhashx_destroy(&self->debounced);
    zhashx_destroy(&self->remembered);
    free(self);
    *self_p = NULL;
}

char *rill_pipelines_identity(const char *kind, const char *source, const char *key, json_t *args)
{
    if (key != NULL) {
        size_t length = strlen(key);
        char *text = rill_xmalloc(length + 5);
        snprintf(text, length + 5, "key\x1f%s", key);
        return text;
    }
    /* json_dumps of an object fails only when memory does, and the broker
     * gives jansson rill_xmalloc (main.c), which aborts first. */
    char *canonical = args != NULL ? json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    const char *shown = canonical != NULL ? canonical : "{}";
    source = rill_job_source(kind, source, args);
    size_t size = strlen(kind) + strlen(source) + strlen(shown) + 3;
    char *text = rill_xmalloc(size);
    snprintf(text, size, "%s\x1f%s\x1f%s", kind, source, shown);
    free(canonical);
    return text;
}

void rill_pipelines_adopt(rill_job_t *job, const rill_pipeline_config_t *pipeline, char *identity)
{
    free(job->pipeline);
    free(job->identity);
    job->pipeline = rill_xstrdup(pipeline->name);
    job->identity = identity;
    job->retain_ms = pipeline->retain_ms;
    job->retries = pipeline->retries;
    job->flush_ms = pipeline->flush_ms;
    rill_retention_set_capacity(job->retention, pipeline->retain_parts);
    if (pipeline->retain_bytes != 0) /* 0: a config not loaded (unit tests) */
        rill_retention_set_max_bytes(job->retention, pipeline->retain_bytes);
}

/* "pipeline 0x1f identity"; caller frees. */
static char *index_key(const char *pipeline, const char *identity)
{
    size_t size = strlen(pipeline) + strlen(identity) + 2;
    char *key = rill_xmalloc(size);
    snprintf(key, size, "%s\x1f%s", pipeline, identity);
    return key;
}

rill_job_t *rill_pipelines_find_join(rill_pipelines_t *self, const rill_pipeline_config_t *pipeline,
                                     const char *identity, uint64_t now_ms, const char **why)
{
    *why = NULL;
    if (identity == NULL || (pipeline->debounce_ms == 0 && !pipeline->dedup))
        return NULL;
    char *key = index_key(pipeline->name, identity);
    rill_job_t *job = NULL;
    if (pipeline->debounce_ms > 0) {
        job = zhashx_lookup(self->debounced, key);
        if (job != NULL && job->debouncing) {
            job->due_ms = now_ms + pipeline->debounce_ms; /* quiet again from now */
            *why = "debounce";
        } else {
            job = NULL;
        }
    }
    if (job == NULL && pipeline->dedup) {
        job = zhashx_lookup(self->remembered, key);
        /* Failed and cancelled jobs are not joined: a new submission runs. */
        if (job != NULL && (job->state == RILL_JOB_FAILED || job->state == RILL_JOB_CANCELLED))
            job = NULL;
        if (job != NULL)
            *why = "dedup";
    }
    free(key);
    return job;
}

static rill_pipeline_group_t *group_get(rill_pipelines_t *self, const rill_job_t *job,
                                        const rill_pipeline_config_t *pipeline)
{
    char key[GROUP_KEY_MAX];
    const char *value = pipeline->group_by == RILL_GROUP_BY_SOURCE ? job->source
                        : pipeline->group_by == RILL_GROUP_BY_KIND ? job->kind
                                                                   : "";
    snprintf(key, sizeof(key), "%s\x1f%s", pipeline->name, value);
    rill_pipeline_group_t *group = zhashx_lookup(self->groups_by_key, key);
    if (group == NULL) {
        group = rill_xcalloc(1, sizeof(*group));
        memcpy(group->key, key, sizeof(key));
        rill_list_init(&group->buffer);
        zhashx_update(self->groups_by_key, group->key, group);
        rill_list_push_back(&self->groups, &group->link);
    }
    group->config = *pipeline; /* new jobs bring the config in force (SIGHUP) */
    return group;
}

static void group_release_if_idle(rill_pipelines_t *self, rill_pipeline_group_t *group)
{
    if (group->in_flight == 0 && group->debouncing == 0 && rill_list_is_empty(&group->buffer))
        group_free(self, group);
}

static void buffer_push(rill_pipeline_group_t *group, rill_job_t *job, uint64_t now_ms)
{
    job->group = group;
    job->buffered_ms = now_ms;
    rill_list_push_back(&group->buffer, &job->queue_link);
}

/* job enters its pipeline: it debounces until due_ms when the pipeline
 * debounces it and due_ms is not 0, else it enters its group's buffer as
 * of buffered_ms. Remembered for dedup either way. */
static void enter(rill_pipelines_t *self, rill_job_t *job, const rill_pipeline_config_t *pipeline, uint64_t due_ms,
                  uint64_t buffered_ms)
{
    rill_pipeline_group_t *group = group_get(self, job, pipeline);
    char *key = job->identity != NULL ? index_key(pipeline->name, job->identity) : NULL;
    if (pipeline->debounce_ms > 0 && key != NULL && due_ms != 0) {
        zhashx_update(self->debounced, key, job);
        job->debouncing = 1;
        job->group = group;
        group->debouncing++;
        job->due_ms = due_ms;
        rill_list_push_back(&self->debouncing, &job->queue_link);
    } else {
        buffer_push(group, job, buffered_ms);
    }
    if (pipeline->dedup && key != NULL) {
        zhashx_update(self->remembered, key, job);
        job->remembered = 1;
    }
    free(key);
}

void rill_pipelines_submit(rill_pipelines_t *self, rill_job_t *job, const rill_pipeline_config_t *pipeline,
                           uint64_t now_ms)
{
    enter(self, job, pipeline, now_ms + pipeline->debounce_ms, now_ms);
}

void rill_pipelines_resubmit(rill_pipelines_t *self, rill_job_t *job, const rill_pipeline_config_t *pipeline,
                             uint64_t now_ms)
{
    uint64_t due_ms = job->due_ms, buffered_ms = job->buffered_ms;
    job->due_ms = 0;
    job->buffered_ms = 0;
    if (due_ms != 0) /* it was debouncing: the rest of its quiet period */
        enter(self, job, pipeline, due_ms, now_ms);
    else if (buffered_ms != 0) /* it was buffered: not debounced again */
        enter(self, job, pipeline, 0, buffered_ms < now_ms ? buffered_ms : now_ms);
    else
        rill_pipelines_submit(self, job, pipeline, now_ms);
}

/* The debounce entry of job, if it is still its own. */
static void debounce_forget(rill_pipelines_t *self, rill_job_t *job)
{
    rill_list_remove(&job->queue_link);
    job->debouncing = 0;
    if (job->group != NULL && job->group->debouncing > 0)
        job->group->debouncing--;
    char *key = job->pipeline != NULL && job->identity != NULL ? index_key(job->pipeline, job->identity)
                                                               : NULL;
    if (key != NULL && zhashx_lookup(self->debounced, key) == job)
        zhashx_delete(self->debounced, key);
    free(key);
}

size_t rill_pipelines_release_debounced(rill_pipelines_t *self, uint64_t now_ms)
{
    size_t moved = 0;
    rill_link_t *link = self->debouncing.next;
    while (link != &self->debouncing) {
        rill_link_t *next = link->next;
        rill_job_t *job = rill_container_of(link, rill_job_t, queue_link);
        if (job->due_ms <= now_ms && !job->held) {
            rill_pipeline_group_t *group = job->group;
            debounce_forget(self, job);
            buffer_push(group, job, now_ms);
            moved++;
        }
        link = next;
    }
    return moved;
}

void rill_pipelines_job_ended(rill_pipelines_t *self, rill_job_t *job)
{
    rill_pipeline_group_t *group = job->group;
    if (job->debouncing)
        debounce_forget(self, job);
    rill_list_remove(&job->queue_link);
    job->group = NULL;
    if (group != NULL)
        group_release_if_idle(self, group);
    rill_pipeline_batch_t *batch = job->pipeline_batch;
    job->pipeline_batch = NULL;
    if (batch != NULL) {
        for (size_t i = batch->first; batch->jobs != NULL && i < batch->count; i++) {
            if (batch->jobs[i] == job) {
                batch->jobs[i] = NULL;
                break;
            }
        }
        while (batch->jobs != NULL && batch->first < batch->count && batch->jobs[batch->first] == NULL)
            batch->first++;
        if (batch->remaining > 0)
            batch->remaining--;
        if (batch->remaining == 0) {
            rill_pipeline_group_t *owner = batch->group;
            rill_list_remove(&batch->link);
            free(batch->jobs);
            free(batch);
            if (owner->in_flight > 0)
                owner->in_flight--;
            group_release_if_idle(self, owner);
        }
    }
}

void rill_pipelines_remember(rill_pipelines_t *self, rill_job_t *job, const rill_pipeline_config_t *pipeline)
{
    if (pipeline == NULL || !pipeline->dedup || job->remembered || job->pipeline == NULL ||
        strcmp(job->pipeline, pipeline->name) != 0 || job->identity == NULL || job->state == RILL_JOB_FAILED ||
        job->state == RILL_JOB_CANCELLED)
        return;
    char *key = index_key(job->pipeline, job->identity);
    zhashx_update(self->remembered, key, job);
    job->remembered = 1;
    free(key);
}

void rill_pipelines_forget(rill_pipelines_t *self, rill_job_t *job)
{
    rill_pipelines_job_ended(self, job); /* safe when it has ended already */
    if (!job->remembered)
        return;
    job->remembered = 0;
    char *key = index_key(job->pipeline, job->identity);
    if (zhashx_lookup(self->remembered, key) == job)
        zhashx_delete(self->remembered, key);
    free(key);
}

static uint64_t room(const rill_pipeline_group_t *group)
{
    uint64_t limit = group->config.mode == RILL_PIPELINE_ORDERED ? 1 : group->config.concurrency;
    return group->in_flight < limit ? limit - group->in_flight : 0;
}

/* When the group's window closes (UINT64_MAX: never, nothing buffered). */
static uint64_t window_end(const rill_pipeline_group_t *group, size_t *ready_jobs)
{
    size_t count = 0;
    uint64_t first = UINT64_MAX;
    for (const rill_link_t *link = group->buffer.next; link != &group->buffer; link = link->next) {
        const rill_job_t *job = rill_container_of(link, rill_job_t, queue_link);
        if (job->held)
            continue;
        if (first == UINT64_MAX)
            first = job->buffered_ms;
        if (++count >= group->config.buffer_max)
            break;
    }
    *ready_jobs = count;
    if (count == 0)
        return UINT64_MAX;
    if (count >= group->config.buffer_max)
        return 0; /* full: now */
    return first + group->config.buffer_ms;
}

int rill_pipeline_group_is_ready(const rill_pipeline_group_t *group, uint64_t now_ms)
{
    size_t count;
    return room(group) > 0 && window_end(group, &count) <= now_ms;
}

uint64_t rill_pipelines_next_due(rill_pipelines_t *self, uint64_t after_ms)
{
    uint64_t due = UINT64_MAX;
    for (rill_link_t *link = self->debouncing.next; link != &self->debouncing; link = link->next) {
        rill_job_t *job = rill_container_of(link, rill_job_t, queue_link);
        if (!job->held && job->due_ms > after_ms && job->due_ms < due)
            due = job->due_ms;
    }
    for (rill_link_t *link = self->groups.next; link != &self->groups; link = link->next) {
        rill_pipeline_group_t *group = rill_container_of(link, rill_pipeline_group_t, link);
        size_t count;
        uint64_t end = room(group) > 0 ? window_end(group, &count) : UINT64_MAX;
        if (end > after_ms && end < due)
            due = end;
    }
    return due;
}

rill_pipeline_group_t *rill_pipelines_next_ready(rill_pipelines_t *self, rill_pipeline_group_t *group,
                                                 uint64_t now_ms)
{
    rill_link_t *link = group != NULL ? group->link.next : self->groups.next;
    for (; link != &self->groups; link = link->next) {
        rill_pipeline_group_t *candidate = rill_container_of(link, rill_pipeline_group_t, link);
        if (rill_pipeline_group_is_ready(candidate, now_ms))
            return candidate;
    }
    return NULL;
}

rill_pipeline_group_t *rill_pipelines_first_ready(rill_pipelines_t *self, uint64_t now_ms)
{
    return rill_pipelines_next_ready(self, NULL, now_ms);
}

const char *rill_pipeline_group_kind(const rill_pipeline_group_t *group)
{
    return group->config.kind;
}

int rill_pipeline_group_ordered(const rill_pipeline_group_t *group)
{
    return group->config.mode == RILL_PIPELINE_ORDERED;
}

size_t rill_pipeline_group_peek(rill_pipeline_group_t *group, rill_job_t **jobs, size_t max)
{
    size_t count = 0;
    if (max > group->config.buffer_max)
        max = group->config.buffer_max;
    for (rill_link_t *link = group->buffer.next; link != &group->buffer && count < max; link = link->next) {
        rill_job_t *job = rill_container_of(link, rill_job_t, queue_link);
        if (!job->held)
            jobs[count++] = job;
    }
    return count;
}

void rill_pipelines_start_batch(rill_pipelines_t *self, rill_pipeline_group_t *group, rill_job_t **jobs,
                                size_t count)
{
    if (count == 0)
        return;
    rill_pipeline_batch_t *batch = rill_xcalloc(1, sizeof(*batch));
    batch->group = group;
    batch->remaining = count;
    if (group->config.mode == RILL_PIPELINE_ORDERED && count > 1) {
        batch->jobs = rill_xcalloc(count, sizeof(*batch->jobs));
        memcpy(batch->jobs, jobs, count * sizeof(*jobs));
        batch->count = count;
    }
    rill_list_push_back(&self->batches, &batch->link);
    group->in_flight++;
    for (size_t i = 0; i < count; i++) {
        rill_list_remove(&jobs[i]->queue_link);
        jobs[i]->group = NULL;
        jobs[i]->pipeline_batch = batch;
    }
}

void rill_pipelines_resume_batch(rill_pipelines_t *self, const rill_pipeline_config_t *pipeline, rill_job_t **jobs,
                                 size_t count)
{
    if (count == 0)
        return;
    rill_pipelines_start_batch(self, group_get(self, jobs[0], pipeline), jobs, count);
}

rill_job_t **rill_pipelines_ordered_retry(const rill_job_t *job, size_t *count)
{
    const rill_pipeline_batch_t *batch = job->pipeline_batch;
    *count = 0;
    if (batch == NULL || batch->jobs == NULL)
        return NULL;
    rill_job_t **jobs = rill_xcalloc(batch->count, sizeof(*jobs));
    for (size_t i = batch->first; i < batch->count; i++) {
        rill_job_t *candidate = batch->jobs[i];
        if (candidate != NULL && candidate->state == RILL_JOB_QUEUED && !candidate->held)
            jobs[(*count)++] = candidate;
    }
    return jobs;
}

size_t rill_pipelines_group_count(const rill_pipelines_t *self)
{
    return rill_list_length(&self->groups);
}

size_t rill_pipelines_debouncing(const rill_pipelines_t *self)
{
    return rill_list_length(&self->debouncing);
}

void rill_pipelines_foreach_group(rill_pipelines_t *self,
                                  void (*visit)(void *argument, const rill_pipeline_group_view_t *view),
                                  void *argument)
{
    for (rill_link_t *link = self->groups.next; link != &self->groups; link = link->next) {
        rill_pipeline_group_t *group = rill_container_of(link, rill_pipeline_group_t, link);
        /* key: pipeline name, 0x1f, group value */
        char name[GROUP_KEY_MAX];
        snprintf(name, sizeof(name), "%s", group->key);
        char *separator = strchr(name, 0x1f);
        const char *value = "";
        if (separator != NULL) {
            *separator = '\0';
            value = separator + 1;
        }
        rill_pipeline_group_view_t view = {.pipeline = name, .group = value,
                                           .queued = rill_list_length(&group->buffer),
                                           .in_flight = group->in_flight, .debouncing = group->debouncing};
        visit(argument, &view);
    }
}
