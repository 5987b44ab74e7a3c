/* test_job_table.c - jobs, states and counters, deadlines, retention expiry
 * and the status JSON (broker/job_table.c). */
#include "rill_test.h"
#include "job_table.h"

#include <string.h>

static rill_job_t *make_job(const char *id, const char *kind)
{
    rill_job_spec_t spec = {.id = id, .kind = kind, .who = "tester", .retain_parts = 5};
    return rill_job_new(&spec);
}

/* n parts of size bytes each, stamped at_ms (from seq 1 on). */
static void retain_parts(rill_job_t *job, int n, size_t size, uint64_t at_ms)
{
    for (int i = 0; i < n; i++) {
        zmq_msg_t part;
        zmq_msg_init_size(&part, size);
        memset(zmq_msg_data(&part), 'p', size);
        job->last_seq++;
        CHECK(rill_retention_push_at(job->retention, RILL_EVENT_PART, job->last_seq, &part, at_ms) == 0);
        zmq_msg_close(&part);
    }
}

static uint64_t first_seq(rill_job_t *job)
{
    rill_retained_event_t *event = rill_retention_at(job->retention, 0);
    return event != NULL ? event->seq : job->last_seq + 1;
}

/* retain_bytes per job, retain_total_bytes across jobs: ended jobs' oldest
 * events go first (in expiry order), then the oldest of running ones. */
static void test_eviction_order(void)
{
    rill_counters_t *counters = rill_counters_new();
    rill_job_table_t *table = rill_job_table_new(counters);
    const char *ids[4] = {"10000000000000000000000000000000", "20000000000000000000000000000000",
                          "30000000000000000000000000000000", "40000000000000000000000000000000"};
    rill_job_t *jobs[4];
    for (int i = 0; i < 4; i++) {
        rill_job_spec_t spec = {.id = ids[i], .kind = "demo", .retain_parts = 1000, .retain_bytes = 1000};
        jobs[i] = rill_job_new(&spec);
        CHECK(rill_job_table_insert(table, jobs[i], 0) == 0);
    }
    /* Per job: 15 parts of 100 bytes keep the last 10. */
    retain_parts(jobs[0], 15, 100, 10);
    CHECK(rill_retention_count(jobs[0]->retention) == 10 && first_seq(jobs[0]) == 6);
    CHECK(counters->retention.bytes == 1000 && counters->retention.evicted == 5);
    /* 0 (running, oldest parts), 1 (running), 2 (ended second), 3 (ended first). */
    retain_parts(jobs[1], 10, 100, 20);
    retain_parts(jobs[2], 10, 100, 30);
    retain_parts(jobs[3], 10, 100, 40);
    CHECK(counters->retention.bytes == 4000);
    rill_job_table_set_state(table, jobs[3], RILL_JOB_DONE, 100, 1000);
    rill_job_table_set_state(table, jobs[2], RILL_JOB_FAILED, 200, 1000);
    CHECK(rill_job_table_evict(table, 4000) == 0);
    /* Job 3 expires first: its parts go first, oldest first. */
    CHECK(rill_job_table_evict(table, 3500) == 5);
    CHECK(first_seq(jobs[3]) == 6 && rill_retention_count(jobs[2]->retention) == 10);
    CHECK(rill_job_table_evict(table, 2500) == 10);
    CHECK(rill_retention_count(jobs[3]->retention) == 0 && first_seq(jobs[3]) == 11);
    CHECK(rill_retention_count(jobs[2]->retention) == 5 && first_seq(jobs[2]) == 6);
    /* Then job 2, then the running job whose oldest part is oldest (0). */
    CHECK(rill_job_table_evict(table, 1500) == 10);
    CHECK(rill_retention_count(jobs[2]->retention) == 0);
    CHECK(rill_retention_count(jobs[0]->retention) == 5 && first_seq(jobs[0]) == 11);
    CHECK(rill_retention_count(jobs[1]->retention) == 10);
    CHECK(counters->retention.bytes == 1500 && counters->retention.evicted == 30);
    /* Running jobs' oldest events by age, across jobs: 0's rest, then 1's. */
    CHECK(rill_job_table_evict(table, 700) == 8);
    CHECK(rill_retention_count(jobs[0]->retention) == 0 && rill_retention_count(jobs[1]->retention) == 7);
    CHECK(rill_job_table_evict(table, 0) == 7 && counters->retention.bytes == 0);
    CHECK(rill_job_table_evict(table, 0) == 0);
    /* Expiry gives the bytes back. */
    retain_parts(jobs[3], 3, 100, 50);
    CHECK(counters->retention.bytes == 300);
    CHECK(rill_job_table_expire(table, 1100) == 1 && counters->retention.bytes == 0);
    rill_job_table_destroy(&table);
    CHECK(counters->retention.bytes == 0);
    rill_counters_destroy(&counters);
}

/* Ids that differ only in their last digits (a test's, a careless
 * client's) are all found: the table's hash counts every byte of an id. */
static void test_ids_sharing_a_prefix(void)
{
    rill_counters_t *counters = rill_counters_new();
    rill_job_table_t *table = rill_job_table_new(counters);
    char id[RILL_ID_TEXT_SIZE];
    for (int i = 0; i < 2000; i++) {
        snprintf(id, sizeof(id), "%032x", i);
        rill_job_t *job = make_job(id, "demo");
        CHECK(job != NULL && rill_job_table_insert(table, job, 0) == 0);
    }
    int found = 0;
    for (int i = 0; i < 2000; i++) {
        snprintf(id, sizeof(id), "%032x", i);
        rill_job_t *job = rill_job_table_find(table, id);
        found += job != NULL && strcmp(job->id, id) == 0;
    }
    CHECK(found == 2000 && rill_job_table_size(table) == 2000);
    CHECK(rill_job_table_find(table, "short") == NULL && rill_job_table_find(table, "") == NULL);
    rill_job_table_destroy(&table);
    rill_counters_destroy(&counters);
}

/* max_retained_jobs: past the bound, the ended jobs that would expire
 * first go early, counted apart; running jobs and the bound 0 are left. */
static void test_bound_on_ended_jobs(void)
{
    rill_counters_t *counters = rill_counters_new();
    rill_job_table_t *table = rill_job_table_new(counters);
    rill_job_table_set_bound(table, 3);
    char id[RILL_ID_TEXT_SIZE];
    rill_job_t *jobs[8];
    for (int i = 0; i < 8; i++) {
        snprintf(id, sizeof(id), "%032x", i);
        jobs[i] = make_job(id, "demo");
        CHECK(jobs[i] != NULL && rill_job_table_insert(table, jobs[i], 0) == 0);
    }
    /* Six end, in an order other than their expiry's (retain_ms differs);
     * two keep running for now. */
    const int order[6] = {5, 0, 3, 1, 4, 2};
    const uint64_t retain[6] = {600, 100, 400, 200, 500, 300}; /* job i expires at 1000 + 100 * (i + 1) */
    for (int k = 0; k < 6; k++)
        rill_job_table_set_state(table, jobs[order[k]], RILL_JOB_DONE, 1000, retain[k]);
    CHECK(rill_job_table_expire(table, 1000) == 3); /* none is due: the three that expire first go */
    CHECK(counters->jobs_expired_early == 3 && counters->jobs_expired == 0 && counters->jobs_retained == 5);
    for (int i = 0; i < 8; i++) {
        snprintf(id, sizeof(id), "%032x", i);
        CHECK((rill_job_table_find(table, id) == NULL) == (i < 3));
    }
    CHECK(rill_job_table_expire(table, 1000) == 0); /* at the bound: nothing more */
    /* Forgetting an ended job makes room, as expiring one does. */
    rill_job_table_forget(table, jobs[3]);
    rill_job_table_set_state(table, jobs[6], RILL_JOB_FAILED, 1000, 1000);
    CHECK(rill_job_table_expire(table, 1000) == 0);
    rill_job_table_set_state(table, jobs[7], RILL_JOB_CANCELLED, 1000, 1000);
    CHECK(rill_job_table_expire(table, 1000) == 1 && counters->jobs_expired_early == 4);
    snprintf(id, sizeof(id), "%032x", 4);
    CHECK(rill_job_table_find(table, id) == NULL); /* job 4 expired first of those left */
    /* By time, then no bound at all. */
    CHECK(rill_job_table_expire(table, 1600) == 1 && counters->jobs_expired == 2); /* the forgotten one too */
    rill_job_table_set_bound(table, 0);
    CHECK(rill_job_table_expire(table, 1600) == 0 && rill_job_table_size(table) == 2);
    rill_job_table_destroy(&table);
    rill_counters_destroy(&counters);
}

int main(void)
{
    test_ids_sharing_a_prefix();
    test_bound_on_ended_jobs();
    rill_counters_t *counters = rill_counters_new();
    rill_job_table_t *table = rill_job_table_new(counters);
    CHECK(counters != NULL && table != NULL);

    const char *a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const char *b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const char *c = "cccccccccccccccccccccccccccccccc";
    rill_job_t *job_a = make_job(a, "demo");
    rill_job_t *job_b = make_job(b, "demo");
    rill_job_t *job_c = make_job(c, "tail");
    CHECK(job_a != NULL && job_b != NULL && job_c != NULL);
    CHECK(strcmp(job_a->topic, "jaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") == 0);
    CHECK(strcmp(job_a->source, "demo") == 0); /* source defaults to the kind */
    CHECK(job_a->attempt == 1);

    /* Bad specs are refused, not crashed on. */
    rill_job_spec_t bad = {.id = "short", .kind = "demo"};
    CHECK(rill_job_new(&bad) == NULL);

    /* Deadlines out of order: popped in deadline order. */
    CHECK(rill_job_table_insert(table, job_a, 300) == 0);
    CHECK(rill_job_table_insert(table, job_b, 100) == 0);
    CHECK(rill_job_table_insert(table, job_c, 0) == 0); /* no deadline */
    rill_job_t *duplicate = make_job(a, "demo");
    CHECK(rill_job_table_insert(table, duplicate, 0) == -1);
    rill_job_destroy(&duplicate);
    CHECK(rill_job_table_size(table) == 3);
    CHECK(rill_job_table_find(table, b) == job_b);
    CHECK(rill_job_table_find_frame(table, (const uint8_t *)c, 32) == job_c);
    CHECK(rill_job_table_find_frame(table, (const uint8_t *)c, 31) == NULL);
    CHECK(counters->jobs_submitted == 3 && counters->jobs_queued == 3);
    CHECK(rill_counters_kind(counters, "demo")->submitted == 2);

    CHECK(rill_job_table_pop_overdue(table, 99) == NULL);
    CHECK(rill_job_table_pop_overdue(table, 1000) == job_b);
    CHECK(rill_job_table_pop_overdue(table, 1000) == job_a);
    CHECK(rill_job_table_pop_overdue(table, 1000) == NULL);

    /* States move the gauges; ending schedules expiry. */
    rill_job_table_set_state(table, job_a, RILL_JOB_RUNNING, 0, 0);
    CHECK(counters->jobs_queued == 2 && counters->jobs_running == 1);
    CHECK(rill_counters_kind(counters, "demo")->running == 1);
    rill_job_table_set_state(table, job_a, RILL_JOB_DONE, 1000, 500);
    CHECK(counters->jobs_running == 0 && counters->jobs_done == 1);
    CHECK(job_a->ended_ms != 0 && job_a->expires_ms == 1500);
    rill_job_table_set_state(table, job_a, RILL_JOB_FAILED, 1000, 500); /* ended stays ended */
    CHECK(job_a->state == RILL_JOB_DONE && counters->jobs_failed == 0);
    rill_job_table_set_state(table, job_c, RILL_JOB_CANCELLED, 1200, 100);
    CHECK(counters->jobs_cancelled == 1 && counters->jobs_queued == 1);

    /* Status JSON. */
    char *text = rill_job_status_json(job_b, 2, 0);
    json_t *status = json_loads(text, 0, NULL);
    CHECK(status != NULL);
    CHECK(strcmp(json_string_value(json_object_get(status, "state")), "waiting") == 0);
    CHECK(json_integer_value(json_object_get(status, "subscribers")) == 2);
    CHECK(json_is_null(json_object_get(status, "worker")));
    CHECK(json_is_null(json_object_get(status, "pipeline")));
    CHECK(json_is_null(json_object_get(json_object_get(status, "timings"), "started_ms")));
    CHECK(strcmp(json_string_value(json_object_get(status, "who")), "tester") == 0);
    CHECK(json_is_false(json_object_get(status, "detached")));
    json_decref(status);
    free(text);
    rill_job_set_worker_info(job_b, "w1", "host1", 42);
    job_b->started_ms = 1234;
    text = rill_job_status_json(job_b, 0, 1);
    status = json_loads(text, 0, NULL);
    CHECK(strcmp(json_string_value(json_object_get(status, "state")), "queued") == 0);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(status, "worker"), "host")), "host1") == 0);
    CHECK(json_integer_value(json_object_get(json_object_get(status, "worker"), "pid")) == 42);
    CHECK(json_integer_value(json_object_get(json_object_get(status, "timings"), "started_ms")) == 1234);
    json_decref(status);
    free(text);

    /* Retention: removed in expiry order, then not found, also right after
     * being the last job found (the table remembers it: job_table.c). */
    CHECK(rill_job_table_expire(table, 1299) == 0);
    rill_job_t *found_c = rill_job_table_find(table, c);
    CHECK(found_c != NULL && rill_job_table_find_frame(table, (const uint8_t *)c, strlen(c)) == found_c);
    CHECK(rill_job_table_find(table, b) == job_b && rill_job_table_find(table, c) == found_c);
    CHECK(rill_job_table_expire(table, 1300) == 1); /* c: ended 1200 + 100 */
    CHECK(rill_job_table_find(table, c) == NULL);
    CHECK(rill_job_table_find_frame(table, (const uint8_t *)c, strlen(c)) == NULL);
    CHECK(rill_job_table_expire(table, 1499) == 0);
    CHECK(rill_job_table_expire(table, 1500) == 1);
    CHECK(rill_job_table_find(table, a) == NULL);
    CHECK(rill_job_table_size(table) == 1);
    CHECK(counters->jobs_expired == 2 && counters->jobs_retained == 1);

    rill_job_table_destroy(&table);
    CHECK(counters->retention.bytes == 0);
    rill_counters_destroy(&counters);
    test_eviction_order();
    CHECK(table == NULL && counters == NULL);
    RILL_TEST_END();
}
