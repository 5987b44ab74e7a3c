/* test_pipeline.c - debounce, dedup, groups, buffer windows and batches in
 * flight (broker/pipeline.c), without sockets or workers. */
#include "pipeline.h"
#include "rill_test.h"

#include <stdlib.h>
#include <string.h>

static int serial;

static rill_job_t *make(const char *source, const rill_pipeline_config_t *pipeline, const char *key)
{
    char id[33];
    snprintf(id, sizeof(id), "%032x", ++serial);
    rill_job_spec_t spec = {.id = id, .kind = "demo", .source = source, .key = key, .retain_parts = 10};
    rill_job_t *job = rill_job_new(&spec);
    if (job == NULL)
        return NULL;
    char *identity = rill_pipelines_identity("demo", source, key, NULL);
    rill_pipelines_adopt(job, pipeline, identity);
    return job;
}

static rill_pipeline_config_t config(const char *name)
{
    rill_pipeline_config_t p;
    memset(&p, 0, sizeof(p));
    snprintf(p.name, sizeof(p.name), "%s", name);
    snprintf(p.kind, sizeof(p.kind), "demo");
    p.buffer_max = 1;
    p.concurrency = 1;
    p.retain_ms = 1000;
    p.retain_parts = 5;
    return p;
}

int main(void)
{
    rill_pipelines_t *self = rill_pipelines_new();
    CHECK(self != NULL);
    rill_job_t *batch[16];

    /* Identity: the key when given, else kind, source and sorted args. */
    json_t *a1 = json_pack("{s:i, s:i}", "a", 1, "b", 2);
    json_t *a2 = json_pack("{s:i, s:i}", "b", 2, "a", 1);
    char *i1 = rill_pipelines_identity("demo", NULL, NULL, a1);
    char *i2 = rill_pipelines_identity("demo", "demo", NULL, a2);
    char *i3 = rill_pipelines_identity("demo", "other", NULL, a2);
    char *i4 = rill_pipelines_identity("demo", "other", "k", a2);
    CHECK(i1 != NULL && i2 != NULL && strcmp(i1, i2) == 0 && strcmp(i2, i3) != 0 && strcmp(i4, "key\x1fk") == 0);
    free(i1), free(i2), free(i3), free(i4);
    json_decref(a1), json_decref(a2);

    /* buffer_max 3, buffer_ms 100, ordered, group_by source. */
    rill_pipeline_config_t buffered = config("buf");
    buffered.buffer_max = 3;
    buffered.buffer_ms = 100;
    rill_job_t *jobs[6];
    for (int i = 0; i < 6; i++) {
        jobs[i] = make(i == 5 ? "b" : "a", &buffered, NULL);
        CHECK(jobs[i] != NULL);
        rill_pipelines_submit(self, jobs[i], &buffered, 1000 + (uint64_t)i);
    }
    CHECK(jobs[0]->retain_ms == 1000 && rill_retention_capacity(jobs[0]->retention) == 5);
    CHECK(rill_pipelines_group_count(self) == 2);
    /* Group a is full (5 >= 3): ready now; group b waits for its window. */
    rill_pipeline_group_t *group = rill_pipelines_first_ready(self, 1010);
    CHECK(group != NULL && rill_pipelines_next_ready(self, group, 1010) == NULL);
    CHECK(rill_pipeline_group_peek(group, batch, 16) == 3 && batch[0] == jobs[0] && batch[2] == jobs[2]);
    rill_pipelines_start_batch(self, group, batch, 3);
    CHECK(jobs[0]->pipeline_batch != NULL && jobs[0]->pipeline_batch == jobs[2]->pipeline_batch);
    /* An ordered batch lost with its worker goes again whole, in its order:
     * the jobs queued again (not a held one, not one that runs). */
    size_t again = 9;
    jobs[0]->state = RILL_JOB_RUNNING;
    rill_job_t **retry = rill_pipelines_ordered_retry(jobs[2], &again);
    CHECK(retry != NULL && again == 2 && retry[0] == jobs[1] && retry[1] == jobs[2]);
    free(retry);
    jobs[0]->state = RILL_JOB_QUEUED;
    retry = rill_pipelines_ordered_retry(jobs[1], &again);
    CHECK(again == 3 && retry[0] == jobs[0] && retry[2] == jobs[2]);
    free(retry);
    CHECK(rill_pipelines_ordered_retry(jobs[3], &again) == NULL && again == 0); /* in no batch */
    /* Ordered: the rest of group a waits for that batch, group b for 1105. */
    CHECK(rill_pipelines_first_ready(self, 1010) == NULL);
    CHECK(rill_pipelines_next_due(self, 1010) == 1105);
    rill_pipeline_group_t *b = rill_pipelines_first_ready(self, 1105);
    CHECK(b != NULL && rill_pipeline_group_peek(b, batch, 16) == 1 && batch[0] == jobs[5]);
    rill_pipelines_start_batch(self, b, batch, 1);
    rill_pipelines_job_ended(self, jobs[5]); /* b is idle: freed */
    CHECK(rill_pipelines_group_count(self) == 1);
    rill_pipelines_job_ended(self, jobs[0]);
    rill_pipelines_job_ended(self, jobs[1]);
    retry = rill_pipelines_ordered_retry(jobs[2], &again); /* the ended ones are not in it */
    CHECK(again == 1 && retry[0] == jobs[2]);
    free(retry);
    CHECK(rill_pipelines_first_ready(self, 5000) == NULL); /* jobs[2] still runs */
    rill_pipelines_job_ended(self, jobs[2]);
    group = rill_pipelines_first_ready(self, 5000); /* 2 left, window long closed */
    CHECK(group != NULL && rill_pipeline_group_peek(group, batch, 16) == 2);
    /* A held job (submit barrier) is not taken. */
    jobs[4]->held = 1;
    CHECK(rill_pipeline_group_peek(group, batch, 16) == 1 && batch[0] == jobs[3]);
    jobs[4]->held = 0;
    /* A buffered job that ends leaves the buffer. */
    rill_pipelines_job_ended(self, jobs[3]);
    CHECK(rill_pipeline_group_peek(group, batch, 16) == 1 && batch[0] == jobs[4]);
    rill_pipelines_job_ended(self, jobs[4]);
    CHECK(rill_pipelines_group_count(self) == 0);
    for (int i = 0; i < 6; i++)
        rill_job_destroy(&jobs[i]);

    /* Parallel with concurrency 2: two batches of a group in flight. */
    rill_pipeline_config_t parallel = config("par");
    parallel.mode = RILL_PIPELINE_PARALLEL;
    parallel.concurrency = 2;
    for (int i = 0; i < 3; i++) {
        jobs[i] = make("s", &parallel, NULL);
        rill_pipelines_submit(self, jobs[i], &parallel, 10);
    }
    for (int i = 0; i < 2; i++) {
        group = rill_pipelines_first_ready(self, 10);
        CHECK(group != NULL && rill_pipeline_group_peek(group, batch, 16) == 1 && batch[0] == jobs[i]);
        rill_pipelines_start_batch(self, group, batch, 1);
    }
    CHECK(rill_pipelines_first_ready(self, 10) == NULL);
    rill_pipelines_job_ended(self, jobs[1]);
    CHECK(rill_pipelines_first_ready(self, 10) == group);
    rill_pipelines_job_ended(self, jobs[0]);
    rill_pipelines_job_ended(self, jobs[2]);
    for (int i = 0; i < 3; i++)
        rill_job_destroy(&jobs[i]);
    CHECK(rill_pipelines_group_count(self) == 0);

    /* Debounce: identical jobs join the pending one; its quiet period restarts. */
    rill_pipeline_config_t debounce = config("deb");
    debounce.debounce_ms = 100;
    const char *why = NULL;
    rill_job_t *d = make(NULL, &debounce, NULL);
    CHECK(rill_pipelines_find_join(self, &debounce, d->identity, 0, &why) == NULL);
    rill_pipelines_submit(self, d, &debounce, 0);
    CHECK(d->debouncing);
    CHECK(rill_pipelines_debouncing(self) == 1 && rill_pipelines_next_due(self, 0) == 100);
    CHECK(rill_pipelines_find_join(self, &debounce, d->identity, 80, &why) == d && strcmp(why, "debounce") == 0);
    CHECK(rill_pipelines_release_debounced(self, 150) == 0); /* quiet until 180 */
    CHECK(rill_pipelines_first_ready(self, 150) == NULL);
    CHECK(rill_pipelines_release_debounced(self, 180) == 1 && !d->debouncing);
    CHECK(rill_pipelines_find_join(self, &debounce, d->identity, 190, &why) == NULL); /* no more pending */
    group = rill_pipelines_first_ready(self, 180);
    CHECK(group != NULL && rill_pipeline_group_peek(group, batch, 16) == 1 && batch[0] == d);
    /* A debouncing job that is cancelled is forgotten. */
    rill_job_t *e = make("x", &debounce, NULL);
    rill_pipelines_submit(self, e, &debounce, 200);
    e->state = RILL_JOB_CANCELLED;
    rill_pipelines_job_ended(self, e);
    CHECK(rill_pipelines_debouncing(self) == 0);
    CHECK(rill_pipelines_find_join(self, &debounce, e->identity, 210, &why) == NULL);
    rill_pipelines_job_ended(self, d);
    rill_job_destroy(&d);
    rill_job_destroy(&e);

    /* Dedup: joined while queued, running or done; not once failed or forgotten. */
    rill_pipeline_config_t dedup = config("dup");
    dedup.dedup = 1;
    rill_job_t *u = make(NULL, &dedup, "key1");
    rill_pipelines_submit(self, u, &dedup, 0);
    rill_job_t *other = make(NULL, &dedup, "key2");
    CHECK(rill_pipelines_find_join(self, &dedup, other->identity, 0, &why) == NULL);
    CHECK(rill_pipelines_find_join(self, &dedup, u->identity, 0, &why) == u && strcmp(why, "dedup") == 0);
    u->state = RILL_JOB_DONE;
    rill_pipelines_job_ended(self, u);
    CHECK(rill_pipelines_find_join(self, &dedup, u->identity, 0, &why) == u);
    u->state = RILL_JOB_FAILED;
    CHECK(rill_pipelines_find_join(self, &dedup, u->identity, 0, &why) == NULL);
    u->state = RILL_JOB_DONE;
    rill_pipelines_forget(self, u);
    CHECK(rill_pipelines_find_join(self, &dedup, u->identity, 0, &why) == NULL);
    /* A pipeline without debounce or dedup joins nothing. */
    CHECK(rill_pipelines_find_join(self, &buffered, u->identity, 0, &why) == NULL);
    rill_job_destroy(&u);
    rill_job_destroy(&other);
    CHECK(rill_pipelines_group_count(self) == 0);

    /* Destroying with jobs still buffered unlinks them. */
    rill_job_t *left = make("z", &buffered, NULL);
    rill_pipelines_submit(self, left, &buffered, 0);
    rill_pipelines_destroy(&self);
    CHECK(self == NULL && left->group == NULL);
    rill_job_destroy(&left);
    RILL_TEST_END();
}
