/*
 * mirror_job.c - a job's mirror record, written and applied. See
 * mirror_job.h.
 */
#include "mirror_job.h"
#include "rill_alloc.h"
#include "rill_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *text_or_null(const char *text)
{
    return text != NULL ? json_string(text) : json_null();
}

char *rill_mirror_job_encode(const rill_job_t *job, uint64_t now_ms)
{
    json_t *worker = json_null();
    if (job->worker_name != NULL)
        worker = json_pack("{s:s, s:o, s:I}", "name", job->worker_name, "host", text_or_null(job->worker_host),
                           "pid", (json_int_t)job->worker_pid);
    json_t *follow = json_array();
    for (size_t i = 0; follow != NULL && i < job->followers.count; i++)
        json_array_append_new(follow, json_string(job->followers.subjects[i].text));
    uint64_t left = 0;
    if (job->deadline_ms != 0 && !rill_job_is_ended(job))
        left = job->deadline_ms > now_ms ? job->deadline_ms - now_ms : 1;
    /* rill/12: a retry still in its backoff (job_life.c) waits it out on
     * the new active too, from when the passive learned it. */
    uint64_t retry_left = 0;
    if (job->state == RILL_JOB_QUEUED && job->not_before_ms > now_ms)
        retry_left = job->not_before_ms - now_ms;
    /* rill/12: a job in its pipeline, never sent, keeps its times too: the
     * rest of its debounce quiet period (at least 1: due now), or how long
     * it has been in its group's buffer (pipeline.h, resubmit). */
    uint64_t debounce_left = 0, buffered_age = 0;
    int unsent = job->state == RILL_JOB_QUEUED && job->batch[0] == '\0';
    if (unsent && job->debouncing)
        debounce_left = job->due_ms > now_ms ? job->due_ms - now_ms : 1;
    else if (unsent && job->group != NULL && job->buffered_ms != 0)
        buffered_age = now_ms > job->buffered_ms ? now_ms - job->buffered_ms : 0;
    json_t *args = job->args != NULL ? json_stringn(job->args, job->args_length) : json_null();
    json_t *record = json_pack(
        "{s:s, s:s, s:o, s:o, s:o, s:b, s:o, s:I, s:I, s:I, s:I, s:i, s:I, s:I, s:I, s:b, s:o, s:o, s:o, s:I, "
        "s:I, s:I, s:I, s:I, s:s, s:o, s:I, s:I, s:I, s:I}",
        "kind", job->kind, "source", job->source, "args", args != NULL ? args : json_null(), "key",
        text_or_null(job->key), "who", text_or_null(job->who), "detached", job->detached, "pipeline",
        text_or_null(job->pipeline), "submitted_ms", (json_int_t)job->submitted_ms, "started_ms",
        (json_int_t)job->started_ms, "ended_ms", (json_int_t)job->ended_ms, "timeout_left_ms", (json_int_t)left,
        "state", (int)job->state, "attempt", (json_int_t)job->attempt, "dispatched_attempt",
        (json_int_t)job->dispatched_attempt, "losses", (json_int_t)job->losses, "loss_counted", job->loss_counted,
        "retry_reason", text_or_null(job->retry_reason), "worker", worker != NULL ? worker : json_null(), "follow",
        follow != NULL ? follow : json_array(), "last_seq", (json_int_t)job->last_seq, "parts",
        (json_int_t)job->parts, "retain_ms", (json_int_t)job->retain_ms, "retries", (json_int_t)job->retries,
        "flush_ms", (json_int_t)job->flush_ms, "batch", job->batch, "identity", text_or_null(job->identity),
        "serial", (json_int_t)job->serial, "retry_left_ms", (json_int_t)retry_left,
        "debounce_left_ms", (json_int_t)debounce_left, "buffered_age_ms", (json_int_t)buffered_age);
    char *text = record != NULL ? json_dumps(record, JSON_COMPACT) : NULL;
    json_decref(record);
    return text;
}

static const char *string_of(json_t *object, const char *key)
{
    json_t *value = json_object_get(object, key);
    return json_is_string(value) ? json_string_value(value) : NULL;
}

static uint64_t number_of(json_t *object, const char *key)
{
    json_t *value = json_object_get(object, key);
    return json_is_integer(value) && json_integer_value(value) > 0 ? (uint64_t)json_integer_value(value) : 0;
}

/* A retry reason is static text in a job (job_life.c). */
static const char *retry_reason(const char *text)
{
    if (text == NULL)
        return NULL;
    if (strcmp(text, "worker_left") == 0)
        return "worker_left";
    return "worker_lost";
}

static void replace_text(char **field, const char *text)
{
    free(*field);
    *field = text != NULL ? rill_xstrdup(text) : NULL;
}

static rill_job_t *create(rill_broker_t *self, const char *id, json_t *record, uint64_t now_ms)
{
    const char *args = string_of(record, "args");
    json_t *args_value = json_object_get(record, "args");
    rill_job_spec_t spec = {.id = id, .kind = string_of(record, "kind"), .source = string_of(record, "source"),
                            .key = string_of(record, "key"), .who = string_of(record, "who"),
                            .args = args, .args_length = args != NULL ? json_string_length(args_value) : 0,
                            .detached = json_is_true(json_object_get(record, "detached")),
                            .retain_parts = self->config.retain_parts, .retain_bytes = self->config.retain_bytes};
    rill_job_t *job = rill_job_new(&spec);
    if (job == NULL)
        return NULL;
    uint64_t left = number_of(record, "timeout_left_ms");
    job->submitted_ms = number_of(record, "submitted_ms");
    job->subscribed = rill_interest_count(self->interest, job->topic);
    replace_text(&job->pipeline, string_of(record, "pipeline"));
    /* Its dedup identity: an identical job submitted after a takeover joins
     * it (rill_takeover_run has the pipelines remember it). */
    replace_text(&job->identity, string_of(record, "identity"));
    if (rill_job_table_insert(self->jobs, job, left > 0 ? now_ms + left : 0) != 0) {
        rill_job_destroy(&job);
        return NULL;
    }
    return job;
}

static void set_followers(rill_job_t *job, json_t *follow)
{
    rill_followers_clear(&job->followers);
    size_t index;
    json_t *subject;
    json_array_foreach(follow, index, subject) {
        if (json_is_string(subject) &&
            rill_follow_subject_is_valid((const uint8_t *)json_string_value(subject), json_string_length(subject)))
            (void)rill_followers_add(&job->followers, json_string_value(subject), json_string_length(subject));
    }
}

int rill_mirror_job_apply(rill_broker_t *self, const char *id, const uint8_t *text, size_t size, uint64_t now_ms)
{
    json_t *record = json_loadb((const char *)text, size, 0, NULL);
    if (!json_is_object(record) || string_of(record, "kind") == NULL) {
        json_decref(record);
        return -1;
    }
    rill_job_t *job = rill_job_table_find(self->jobs, id);
    if (job == NULL && (job = create(self, id, record, now_ms)) == NULL) {
        json_decref(record);
        return -1;
    }
    json_t *state = json_object_get(record, "state");
    json_int_t state_value = json_is_integer(state) ? json_integer_value(state) : RILL_JOB_QUEUED;
    if (state_value >= RILL_JOB_QUEUED && state_value <= RILL_JOB_CANCELLED && !rill_job_is_ended(job)) {
        rill_job_table_set_state(self->jobs, job, (rill_job_state_t)state_value, now_ms,
                                 number_of(record, "retain_ms"));
        if (rill_job_is_ended(job) && number_of(record, "ended_ms") != 0)
            job->ended_ms = number_of(record, "ended_ms");
    }
    job->started_ms = number_of(record, "started_ms");
    job->attempt = number_of(record, "attempt") > 0 ? number_of(record, "attempt") : 1;
    job->dispatched_attempt = number_of(record, "dispatched_attempt");
    job->losses = number_of(record, "losses");
    job->loss_counted = json_is_true(json_object_get(record, "loss_counted"));
    job->retry_reason = retry_reason(string_of(record, "retry_reason"));
    json_t *worker = json_object_get(record, "worker");
    if (json_is_object(worker) && string_of(worker, "name") != NULL) {
        json_t *pid = json_object_get(worker, "pid");
        rill_job_set_worker_info(job, string_of(worker, "name"), string_of(worker, "host"),
                                 json_is_integer(pid) ? (int64_t)json_integer_value(pid) : -1);
    } else {
        rill_job_set_worker_info(job, NULL, NULL, -1);
    }
    set_followers(job, json_object_get(record, "follow"));
    uint64_t last_seq = number_of(record, "last_seq");
    if (last_seq > job->last_seq)
        job->last_seq = last_seq;
    job->parts = number_of(record, "parts");
    job->retain_ms = number_of(record, "retain_ms");
    job->retries = number_of(record, "retries");
    job->flush_ms = number_of(record, "flush_ms");
    const char *batch = string_of(record, "batch");
    snprintf(job->batch, sizeof(job->batch), "%s", batch != NULL ? batch : "");
    if (number_of(record, "serial") != 0) /* rill/10 */
        rill_job_table_set_serial(self->jobs, job, number_of(record, "serial"));
    uint64_t retry_left = number_of(record, "retry_left_ms"); /* rill/12 */
    job->not_before_ms = retry_left > 0 && job->state == RILL_JOB_QUEUED ? now_ms + retry_left : 0;
    /* Kept for a takeover's resubmit (pipeline.h); the passive's own
     * pipelines hold no job. */
    uint64_t debounce_left = number_of(record, "debounce_left_ms"), buffered_age = number_of(record, "buffered_age_ms");
    job->due_ms = debounce_left > 0 ? now_ms + debounce_left : 0;
    job->buffered_ms = buffered_age > 0 && buffered_age < now_ms ? now_ms - buffered_age : 0;
    json_decref(record);
    return 0;
}
