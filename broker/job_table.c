/*
 * job_table.c - jobs by id, their states and counters, deadline and expiry
 * orders, and the status JSON. See job_table.h.
 */
#include "job_table.h"
#include "id_index.h"
#include "rill_alloc.h"
#include "rill_clock.h"

#include <stdlib.h>
#include <string.h>

struct rill_job_table {
    rill_id_index_t *jobs; /* by id (id_index.h); the table owns the jobs */
    rill_link_t deadlines; /* not ended, deadline ascending */
    rill_link_t expiries;  /* ended, expiry ascending */
    size_t ended;          /* jobs in expiries */
    size_t max_ended;      /* 0 = no bound (docs/CONFIG.md max_retained_jobs) */
    rill_counters_t *counters;
    uint64_t serial; /* the last job's serial */
    void (*on_expire)(void *argument, rill_job_t *job);
    void *on_expire_argument;
    /* The job the last lookup found: a worker's PARTS carries a job's parts
     * one after the other, then its DONE, and a lookup in a table of a
     * million retained jobs costs a cache miss or two. Cleared before a job
     * is freed. */
    rill_job_t *last_found;
};

/* Copies length bytes of text and a NUL at *cursor, and moves it past them. */
static char *place(char **cursor, const char *text, size_t length)
{
    char *at = *cursor;
    memcpy(at, text, length);
    at[length] = '\0';
    *cursor += length + 1;
    return at;
}

rill_job_t *rill_job_new(const rill_job_spec_t *spec)
{
    if (spec->id == NULL || strlen(spec->id) != RILL_ID_TEXT_SIZE - 1 || spec->kind == NULL)
        return NULL;
    rill_job_t *job = rill_xcalloc(1, sizeof(*job));
    memcpy(job->id, spec->id, RILL_ID_TEXT_SIZE);
    job->topic[0] = 'j';
    memcpy(job->topic + 1, spec->id, RILL_ID_TEXT_SIZE);
    const char *source = spec->source != NULL ? spec->source : spec->kind;
    size_t kind_length = strlen(spec->kind), source_length = strlen(source);
    size_t key_length = spec->key != NULL ? strlen(spec->key) : 0;
    size_t who_length = spec->who != NULL ? strlen(spec->who) : 0;
    size_t args_length = spec->args != NULL ? spec->args_length : 0;
    job->strings = rill_xmalloc(kind_length + source_length + key_length + who_length + args_length + 5);
    char *cursor = job->strings;
    job->kind = place(&cursor, spec->kind, kind_length);
    job->source = place(&cursor, source, source_length);
    job->key = spec->key != NULL ? place(&cursor, spec->key, key_length) : NULL;
    job->who = spec->who != NULL ? place(&cursor, spec->who, who_length) : NULL;
    if (spec->args != NULL) {
        job->args = place(&cursor, spec->args, args_length);
        job->args_length = args_length;
    }
    job->retention = rill_retention_new(spec->retain_parts);
    if (spec->retain_bytes != 0)
        rill_retention_set_max_bytes(job->retention, spec->retain_bytes);
    job->detached = spec->detached;
    job->state = RILL_JOB_QUEUED;
    job->attempt = 1;
    job->worker_pid = -1;
    return job;
}

int rill_job_flow_mark(rill_job_t *job, const uint8_t *routing, size_t size, int paused)
{
    for (size_t i = 0; i < job->flow_pauser_count; i++) {
        if (job->flow_pauser_sizes[i] != size || memcmp(job->flow_pausers[i], routing, size) != 0)
            continue;
        if (paused)
            return 0;
        free(job->flow_pausers[i]);
        job->flow_pauser_count--;
        job->flow_pausers[i] = job->flow_pausers[job->flow_pauser_count];
        job->flow_pauser_sizes[i] = job->flow_pauser_sizes[job->flow_pauser_count];
        return 1;
    }
    if (!paused)
        return 0;
    size_t count = job->flow_pauser_count + 1;
    job->flow_pausers = rill_xrealloc(job->flow_pausers, count * sizeof(*job->flow_pausers));
    job->flow_pauser_sizes = rill_xrealloc(job->flow_pauser_sizes, count * sizeof(*job->flow_pauser_sizes));
    job->flow_pausers[job->flow_pauser_count] = rill_xmemdup_text(routing, size);
    job->flow_pauser_sizes[job->flow_pauser_count] = size;
    job->flow_pauser_count = count;
    return 1;
}

void rill_job_flow_clear(rill_job_t *job)
{
    for (size_t i = 0; i < job->flow_pauser_count; i++)
        free(job->flow_pausers[i]);
    free(job->flow_pausers);
    free(job->flow_pauser_sizes);
    job->flow_pausers = NULL;
    job->flow_pauser_sizes = NULL;
    job->flow_pauser_count = 0;
}

void rill_job_destroy(rill_job_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_job_t *job = *self_p;
    rill_list_remove(&job->queue_link);
    rill_list_remove(&job->deadline_link);
    rill_list_remove(&job->expiry_link);
    rill_list_remove(&job->worker_link);
    rill_list_remove(&job->orphan_link);
    rill_list_remove(&job->active_link);
    rill_list_remove(&job->mirror_link);
    rill_job_flow_clear(job);
    rill_followers_clear(&job->followers);
    free(job->strings);
    free(job->worker_name); /* and worker_host with it */
    free(job->pipeline);
    free(job->identity);
    rill_retention_destroy(&job->retention);
    free(job);
    *self_p = NULL;
}

int rill_job_is_ended(const rill_job_t *job)
{
    return job->state == RILL_JOB_DONE || job->state == RILL_JOB_FAILED ||
           job->state == RILL_JOB_CANCELLED;
}

void rill_job_set_worker_info(rill_job_t *job, const char *name, const char *host, int64_t pid)
{
    free(job->worker_name); /* the host's text is in the same block */
    job->worker_name = job->worker_host = NULL;
    if (name != NULL) {
        size_t name_length = strlen(name), host_length = host != NULL ? strlen(host) : 0;
        char *cursor = rill_xmalloc(name_length + host_length + 2);
        job->worker_name = place(&cursor, name, name_length);
        job->worker_host = host != NULL ? place(&cursor, host, host_length) : NULL;
    }
    job->worker_pid = name != NULL ? pid : -1;
}

const char *rill_job_state_name(const rill_job_t *job, int kind_served)
{
    switch (job->state) {
    case RILL_JOB_QUEUED:
        return kind_served ? "queued" : "waiting";
    case RILL_JOB_RUNNING:
        return "running";
    case RILL_JOB_DONE:
        return "done";
    case RILL_JOB_FAILED:
        return "failed";
    case RILL_JOB_CANCELLED:
        return "cancelled";
    }
    return "unknown";
}

static json_t *optional_string(const char *text)
{
    return text != NULL ? json_string(text) : json_null();
}

static json_t *optional_time(uint64_t ms)
{
    return ms != 0 ? json_integer((json_int_t)ms) : json_null();
}

char *rill_job_status_json(const rill_job_t *job, uint64_t subscribers, int kind_served)
{
    json_t *worker = json_null();
    if (job->worker_name != NULL)
        worker = json_pack("{s:s, s:s?, s:I}", "name", job->worker_name, "host", job->worker_host,
                           "pid", (json_int_t)job->worker_pid);
    json_t *timings = json_pack("{s:o, s:o, s:o}", "submitted_ms", optional_time(job->submitted_ms),
                                "started_ms", optional_time(job->started_ms), "ended_ms",
                                optional_time(job->ended_ms));
    /* json_pack's "o" steals its argument even on failure: no leak below. */
    json_t *status = json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:b, s:o, s:o}", "id", job->id, "kind",
        job->kind, "source", job->source, "state", rill_job_state_name(job, kind_served), "parts",
        (json_int_t)job->parts, "subscribers", (json_int_t)subscribers, "attempt",
        (json_int_t)job->attempt, "who", optional_string(job->who), "batch",
        job->batch[0] != '\0' ? json_string(job->batch) : json_null(), "pipeline",
        optional_string(job->pipeline), "detached",
        job->detached, "worker", worker, "timings", timings);
    if (status == NULL)
        return NULL;
    char *text = json_dumps(status, JSON_COMPACT);
    json_decref(status);
    return text;
}

static const char *job_id_of(const void *item)
{
    return ((const rill_job_t *)item)->id;
}

rill_job_table_t *rill_job_table_new(rill_counters_t *counters)
{
    rill_job_table_t *self = rill_xcalloc(1, sizeof(*self));
    self->jobs = rill_id_index_new(job_id_of);
    rill_list_init(&self->deadlines);
    rill_list_init(&self->expiries);
    self->counters = counters;
    return self;
}

/* Gauges of a state: queued and running are counted while in them. */
static void count_state(rill_job_table_t *self, const rill_job_t *job, rill_job_state_t state, int delta)
{
    rill_kind_counters_t *kind = rill_counters_kind(self->counters, job->kind);
    rill_counters_t *all = self->counters;
    switch (state) {
    case RILL_JOB_QUEUED:
        all->jobs_queued += (uint64_t)delta;
        if (kind != NULL)
            kind->queued += (uint64_t)delta;
        break;
    case RILL_JOB_RUNNING:
        all->jobs_running += (uint64_t)delta;
        if (kind != NULL)
            kind->running += (uint64_t)delta;
        break;
    case RILL_JOB_DONE:
        if (delta > 0) {
            all->jobs_done++;
            if (kind != NULL)
                kind->done++;
        }
        break;
    case RILL_JOB_FAILED:
        if (delta > 0) {
            all->jobs_failed++;
            if (kind != NULL)
                kind->failed++;
        }
        break;
    case RILL_JOB_CANCELLED:
        if (delta > 0) {
            all->jobs_cancelled++;
            if (kind != NULL)
                kind->cancelled++;
        }
        break;
    }
}

void rill_job_table_destroy(rill_job_table_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_job_table_t *self = *self_p;
    size_t position = 0;
    rill_job_t *job;
    while ((job = rill_id_index_next(self->jobs, &position)) != NULL)
        rill_job_destroy(&job);
    rill_id_index_destroy(&self->jobs);
    free(self);
    *self_p = NULL;
}

/* Inserts link into a list sorted by the uint64 at offset in rill_job_t,
 * searching from the end: times mostly arrive in order, so this is O(1). */
static void insert_sorted(rill_link_t *head, rill_job_t *job, rill_link_t *link, size_t link_offset,
                          size_t time_offset)
{
    uint64_t time = *(uint64_t *)((char *)job + time_offset);
    rill_link_t *position = head->prev;
    while (position != head) {
        rill_job_t *other = (rill_job_t *)((char *)position - link_offset);
        if (*(uint64_t *)((char *)other + time_offset) <= time)
            break;
        position = position->prev;
    }
    rill_list_insert_before(position->next, link);
}

void rill_job_table_set_serial(rill_job_table_t *self, rill_job_t *job, uint64_t serial)
{
    job->serial = serial;
    if (serial > self->serial)
        self->serial = serial;
}

int rill_job_table_insert(rill_job_table_t *self, rill_job_t *job, uint64_t deadline_ms)
{
    if (rill_id_index_insert(self->jobs, job) != 0)
        return -1;
    job->serial = ++self->serial;
    rill_retention_set_totals(job->retention, &self->counters->retention);
    job->deadline_ms = deadline_ms;
    if (deadline_ms != 0)
        insert_sorted(&self->deadlines, job, &job->deadline_link, offsetof(rill_job_t, deadline_link),
                      offsetof(rill_job_t, deadline_ms));
    self->counters->jobs_submitted++;
    self->counters->jobs_retained++;
    rill_kind_counters_t *kind = rill_counters_kind(self->counters, job->kind);
    if (kind != NULL)
        kind->submitted++;
    count_state(self, job, job->state, +1);
    return 0;
}

void rill_job_table_on_expire(rill_job_table_t *self, void (*callback)(void *argument, rill_job_t *job),
                              void *argument)
{
    self->on_expire = callback;
    self->on_expire_argument = argument;
}

/* id is the text of a job id (RILL_ID_TEXT_SIZE - 1 characters, no NUL
 * needed); the last job found, or the table's. */
static rill_job_t *find_id(rill_job_table_t *self, const char *id)
{
    if (self->last_found != NULL && memcmp(self->last_found->id, id, RILL_ID_TEXT_SIZE - 1) == 0)
        return self->last_found;
    rill_job_t *job = rill_id_index_find(self->jobs, id, RILL_ID_TEXT_SIZE - 1);
    if (job != NULL)
        self->last_found = job;
    return job;
}

rill_job_t *rill_job_table_find(rill_job_table_t *self, const char *id)
{
    if (strnlen(id, RILL_ID_TEXT_SIZE) == RILL_ID_TEXT_SIZE - 1)
        return find_id(self, id);
    return rill_id_index_find(self->jobs, id, strlen(id));
}

rill_job_t *rill_job_table_find_frame(rill_job_table_t *self, const uint8_t *id, size_t length)
{
    if (length != RILL_ID_TEXT_SIZE - 1)
        return NULL;
    return find_id(self, (const char *)id);
}

void rill_job_table_prefetch(rill_job_table_t *self, const uint8_t *id, size_t length)
{
    rill_id_index_prefetch(self->jobs, (const char *)id, length);
}

size_t rill_job_table_size(rill_job_table_t *self)
{
    return rill_id_index_size(self->jobs);
}

void rill_job_table_set_state(rill_job_table_t *self, rill_job_t *job, rill_job_state_t state,
                              uint64_t now_ms, uint64_t retain_ms)
{
    if (job->state == state || rill_job_is_ended(job))
        return;
    count_state(self, job, job->state, -1);
    job->state = state;
    count_state(self, job, state, +1);
    if (rill_job_is_ended(job)) {
        job->ended_ms = rill_clock_wall_ms();
        rill_list_remove(&job->deadline_link);
        job->expires_ms = now_ms + retain_ms;
        insert_sorted(&self->expiries, job, &job->expiry_link, offsetof(rill_job_t, expiry_link),
                      offsetof(rill_job_t, expires_ms));
        self->ended++;
    }
}

rill_job_t *rill_job_table_pop_overdue(rill_job_table_t *self, uint64_t now_ms)
{
    if (rill_list_is_empty(&self->deadlines))
        return NULL;
    rill_job_t *job = rill_container_of(self->deadlines.next, rill_job_t, deadline_link);
    if (job->deadline_ms > now_ms)
        return NULL;
    rill_list_remove(&job->deadline_link);
    return job;
}

/* The job still going whose oldest retained event is the oldest; NULL when
 * none retains anything. A scan: it runs only while ended jobs hold
 * nothing more to evict. */
static rill_job_t *oldest_going(rill_job_table_t *self)
{
    rill_job_t *oldest = NULL;
    uint64_t oldest_ms = 0;
    size_t position = 0;
    rill_job_t *job;
    while ((job = rill_id_index_next(self->jobs, &position)) != NULL) {
        rill_retained_event_t *event = rill_retention_at(job->retention, 0);
        if (rill_job_is_ended(job) || event == NULL)
            continue;
        if (oldest == NULL || event->at_ms < oldest_ms) {
            oldest = job;
            oldest_ms = event->at_ms;
        }
    }
    return oldest;
}

size_t rill_job_table_evict(rill_job_table_t *self, uint64_t max_bytes)
{
    size_t evicted = 0;
    rill_retention_totals_t *totals = &self->counters->retention;
    rill_link_t *link = self->expiries.next;
    while (totals->bytes > max_bytes && link != &self->expiries) {
        rill_job_t *job = rill_container_of(link, rill_job_t, expiry_link);
        if (rill_retention_count(job->retention) == 0) {
            link = link->next;
            continue;
        }
        rill_retention_evict_oldest(job->retention);
        evicted++;
    }
    while (totals->bytes > max_bytes) {
        rill_job_t *job = oldest_going(self);
        if (job == NULL)
            break;
        rill_retention_evict_oldest(job->retention);
        evicted++;
    }
    return evicted;
}

void rill_job_table_set_bound(rill_job_table_t *self, size_t max_ended)
{
    self->max_ended = max_ended;
}

/* Removes and frees job, telling on_expire first. */
static void remove_job(rill_job_table_t *self, rill_job_t *job)
{
    if (rill_link_is_linked(&job->expiry_link))
        self->ended--;
    if (self->on_expire != NULL)
        self->on_expire(self->on_expire_argument, job);
    if (job == self->last_found)
        self->last_found = NULL;
    (void)rill_id_index_remove(self->jobs, job);
    rill_job_destroy(&job); /* unlinks it everywhere */
    self->counters->jobs_retained--;
}

/* Removes and frees the ended job that expires first. */
static void expire_first(rill_job_table_t *self)
{
    remove_job(self, rill_container_of(self->expiries.next, rill_job_t, expiry_link));
}

size_t rill_job_table_expire(rill_job_table_t *self, uint64_t now_ms)
{
    size_t removed = 0;
    while (!rill_list_is_empty(&self->expiries)) {
        rill_job_t *job = rill_container_of(self->expiries.next, rill_job_t, expiry_link);
        if (job->expires_ms > now_ms)
            break;
        expire_first(self);
        self->counters->jobs_expired++;
        removed++;
    }
    /* Past the bound, the ones that would expire first go now: a job's
     * record costs ~1 KiB however few events it keeps (docs/CONFIG.md). */
    while (self->max_ended != 0 && self->ended > self->max_ended) {
        expire_first(self);
        self->counters->jobs_expired_early++;
        removed++;
    }
    return removed;
}

void rill_job_table_forget(rill_job_table_t *self, rill_job_t *job)
{
    count_state(self, job, job->state, -1);
    remove_job(self, job);
    self->counters->jobs_expired++;
}

void rill_job_table_foreach(rill_job_table_t *self, void (*visit)(void *argument, rill_job_t *job),
                            void *argument)
{
    size_t position = 0;
    rill_job_t *job;
    while ((job = rill_id_index_next(self->jobs, &position)) != NULL)
        visit(argument, job);
}
