/*
 * job_submit.c - SUBMIT: the jobs of one request enter the broker, or none
 * does. Each job's source is decided here (rill_job_source), its pipeline
 * matched, an identical job joined (debounce, dedup), or the new job queued.
 * Split from job_life.c (the state changes; job_life.h declares
 * rill_broker_submit), whose rill_broker_insert_job makes the job.
 */
#include "listeners.h"
#include "job_life.h"
#include "held.h"
#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_job.h"
#include "rill_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A job the broker knows by this id is this very job asked again when its
 * kind and args are the same (rill/9: a frontend sends a SUBMIT again to
 * the broker that answers after a switch or a restart, when the first one
 * got no answer, docs/PROTOCOL.md "Calls asked again"): the SUBMIT lists it
 * and makes nothing new. Ids are 128 random bits of the frontend's, so the
 * same id with another job in it is a frontend's bug: refused. */
static int is_asked_again(const rill_job_t *known, const rill_submit_job_t *job)
{
    size_t length = job->args != NULL ? job->args_length : 0;
    size_t known_length = known->args != NULL ? known->args_length : 0;
    if (strcmp(known->kind, job->kind) != 0)
        return 0;
    /* A job recovered from a worker's report (its SUBMIT, in flight to the
     * broker that died, asked again of the new one) has no args to compare. */
    return known->args_unknown ||
           (length == known_length && (length == 0 || memcmp(known->args, job->args, length) == 0));
}

/* What only the broker can check: the decoder (rill_submit_decode) checked
 * each job's shape already. Nothing changes before every job passed.
 * *asked_again: how many of them the broker knows (a request asked again). */
static int check_jobs(rill_broker_t *self, const rill_submit_job_t *jobs, size_t count, size_t *asked_again,
                      rill_broker_error_t *error)
{
    *asked_again = 0;
    if (count == 0 || count > self->config.max_jobs_per_request)
        return rill_broker_refuse(error, "bad_request", "jobs must be an array of 1 to %llu job objects",
                      (unsigned long long)self->config.max_jobs_per_request);
    for (size_t index = 0; index < count; index++) {
        const rill_submit_job_t *job = &jobs[index];
        if (!rill_config_declares_kind(&self->config, job->kind))
            return rill_broker_refuse(error, "unknown_kind", "job %zu: kind \"%.63s\" is not declared", index, job->kind);
        const rill_job_t *known = rill_job_table_find(self->jobs, job->id);
        if (known != NULL && !is_asked_again(known, job))
            return rill_broker_refuse(error, "conflict", "job %s exists already, with another kind or args",
                                      job->id);
        *asked_again += known != NULL;
        for (size_t other = 0; other < index; other++) {
            if (strcmp(jobs[other].id, job->id) == 0)
                return rill_broker_refuse(error, "conflict", "job %s appears twice in the request", job->id);
        }
    }
    return 0;
}

/* The job's args as a jansson tree, parsed on first use (*tree, the
 * caller's to release): only its source (http, subscribe) and a pipeline's
 * identity need one; the job keeps the text. NULL: no args (the decoder
 * checked the text is an object). */
static json_t *args_tree(const rill_submit_job_t *submitted, json_t **tree)
{
    if (*tree == NULL && submitted->args != NULL)
        *tree = json_loadb(submitted->args, submitted->args_length, 0, NULL);
    return *tree;
}

/* The job's source (rill_job_source), looking into its args only when it
 * has to: an http or subscribe job without a source of its own. */
static const char *job_source(const rill_submit_job_t *submitted, json_t **tree)
{
    int needs_args = (submitted->source == NULL || submitted->source[0] == '\0') &&
                     (strcmp(submitted->kind, "http") == 0 || strcmp(submitted->kind, "subscribe") == 0);
    return rill_job_source(submitted->kind, submitted->source, needs_args ? args_tree(submitted, tree) : NULL);
}

/* One checked job enters. Returns the job it became: itself, or the
 * identical one it joined (*created says which). */
static rill_job_t *enter_job(rill_broker_t *self, const rill_submit_job_t *submitted, int hold,
                             uint64_t now, uint64_t wall, int *created)
{
    /* Its source, decided once, here: what matching, dedup, grouping and
     * its status see. */
    json_t *tree = NULL; /* the args, parsed only if needed */
    const char *source = job_source(submitted, &tree);
    const rill_pipeline_config_t *pipeline = rill_config_match_pipeline(&self->config, submitted->kind, source);
    char *identity = NULL;
    if (pipeline != NULL && (pipeline->debounce_ms > 0 || pipeline->dedup))
        identity = rill_pipelines_identity(submitted->kind, source, submitted->key,
                                           submitted->key == NULL ? args_tree(submitted, &tree) : NULL);
    /* Debounce and dedup: an identical job joins the one there is (an
     * earlier one of this very request included). */
    const char *why = NULL;
    rill_job_t *joined =
        pipeline != NULL ? rill_pipelines_find_join(self->pipelines, pipeline, identity, now, &why) : NULL;
    if (joined != NULL) {
        rill_pipeline_counters_t *counted = rill_counters_pipeline(self->counters, pipeline->name);
        if (strcmp(why, "debounce") == 0) {
            self->counters->debounced_jobs++;
            counted->debounced++;
        } else {
            self->counters->dedup_joins++;
            counted->dedup_joins++;
        }
        if (submitted->detach)
            joined->detached = 1; /* someone wants it to run regardless */
        /* Its flag, or its quiet period restarted: the standby's copy too. */
        rill_mirror_mark_job(self->mirror, joined, 1);
        rill_log_info(submitted->who, "job %s joined %s (%s, pipeline %s)", submitted->id, joined->id, why,
                      pipeline->name);
        free(identity);
        json_decref(tree);
        *created = 0;
        return joined;
    }
    rill_job_spec_t spec = {
        .id = submitted->id,
        .kind = submitted->kind,
        .source = source,
        .key = submitted->key,
        .who = submitted->who,
        .args = submitted->args,
        .args_length = submitted->args_length,
        .detached = submitted->detach,
    };
    rill_job_t *job = rill_broker_insert_job(self, &spec, pipeline, identity, now, wall);
    json_decref(tree); /* after the job copied its source, which may point into it */
    job->held = hold;
    if (pipeline != NULL) {
        rill_counters_pipeline(self->counters, pipeline->name)->jobs++;
        rill_pipelines_submit(self->pipelines, job, pipeline, now);
    }
    else if (!hold)
        rill_ready_queue_push_back(self->ready, job);
    rill_log_info(job->who, "job %s submitted: kind %s, source %s%s%s%s%s", job->id, job->kind,
                  job->source, job->detached ? ", detached" : "", hold ? ", held for its barrier" : "",
                  pipeline != NULL ? ", pipeline " : "", pipeline != NULL ? pipeline->name : "");
    *created = 1;
    return job;
}

int rill_broker_submit(rill_broker_t *self, const rill_submit_job_t *jobs, size_t count, const char *token,
                       char (*ids)[RILL_ID_TEXT_SIZE], uint64_t *flush_ms, rill_broker_error_t *error)
{
    return rill_broker_submit_followed(self, jobs, count, token, "", ids, flush_ms, error);
}

int rill_broker_submit_followed(rill_broker_t *self, const rill_submit_job_t *jobs, size_t count,
                                const char *token, const char *follow, char (*ids)[RILL_ID_TEXT_SIZE],
                                uint64_t *flush_ms, rill_broker_error_t *error)
{
    error->code = NULL;
    error->message[0] = '\0';
    size_t asked_again;
    if (check_jobs(self, jobs, count, &asked_again, error) != 0)
        return -1;
    uint64_t now = rill_clock_monotonic_ms();
    uint64_t wall = rill_clock_wall_ms();
    /* What the jobs wait for: the follow subject's subscription (rill/4),
     * held under the subject itself, or the barrier token's. */
    const char *barrier = NULL;
    if (follow[0] != '\0' && rill_interest_count(self->interest, follow) == 0)
        barrier = follow;
    else if (token != NULL && token[0] != '\0' && !rill_held_token_ready(self, token))
        barrier = token;
    int hold = barrier != NULL;
    /* The ids the barrier holds: "" for a job that joined another. */
    char(*held_ids)[RILL_ID_TEXT_SIZE] = hold ? rill_xcalloc(count, RILL_ID_TEXT_SIZE) : NULL;
    for (size_t i = 0; i < count; i++) {
        int created = 0;
        /* Asked again: the job itself (looked up only then: a new
         * request's jobs cost one lookup each, in check_jobs). */
        rill_job_t *job = asked_again > 0 ? rill_job_table_find(self->jobs, jobs[i].id) : NULL;
        if (job != NULL)
            rill_log_info(job->who, "job %s submitted again: the same job", job->id);
        else
            job = enter_job(self, &jobs[i], hold, now, wall, &created);
        memcpy(ids[i], job->id, RILL_ID_TEXT_SIZE);
        flush_ms[i] = job->flush_ms;
        if (held_ids != NULL && created)
            memcpy(held_ids[i], job->id, RILL_ID_TEXT_SIZE);
        if (follow[0] != '\0')
            rill_broker_follow(self, job, follow);
    }
    if (hold)
        rill_held_submit(self, barrier, (const char(*)[RILL_ID_TEXT_SIZE])held_ids, count);
    free(held_ids);
    self->dispatch_needed = 1;
    return 0;
}
