/* test_job_life.c - the broker's job life without sockets: rill_broker_submit
 * and the operations after it (start, end, retry, cancel, worker gone,
 * barrier, subscriptions, replay), driven through a fake outbox that records
 * every event published, command sent to a worker and reply to a frontend. */
#include "listeners.h"
#include "dispatch.h"
#include "events.h"
#include "fake_outbox.h"
#include "held.h"
#include "job_life.h"
#include "rill_clock.h"
#include "rill_log.h"
#include "rill_messages.h"
#include "rill_test.h"
#include "tick.h"
#include "worker_life.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The end of a test: the broker goes, and what it sent is forgotten. */
static void finish(rill_broker_t **broker)
{
    rill_broker_destroy(broker);
    forget_recorded();
}

static rill_pipeline_config_t pipeline(const char *name, const char *kind)
{
    rill_pipeline_config_t p;
    memset(&p, 0, sizeof(p));
    snprintf(p.name, sizeof(p.name), "%s", name);
    snprintf(p.kind, sizeof(p.kind), "%s", kind);
    p.buffer_max = 1;
    p.concurrency = 1;
    p.retain_ms = 60000;
    p.retain_parts = 100;
    p.timeout_ms = 600000;
    p.retries = 2;
    return p;
}

static rill_broker_t *new_broker(void)
{
    rill_config_t config;
    rill_config_defaults(&config);
    config.max_jobs_per_request = 4;
    config.retries = 1;
    config.timeout_ms = 1000;
    snprintf(config.kinds[config.kind_count++], RILL_CONFIG_KIND_NAME_MAX, "dd");
    snprintf(config.kinds[config.kind_count++], RILL_CONFIG_KIND_NAME_MAX, "db");
    snprintf(config.kinds[config.kind_count++], RILL_CONFIG_KIND_NAME_MAX, "do");
    config.pipelines[0] = pipeline("dedup", "dd");
    config.pipelines[0].dedup = 1;
    config.pipelines[0].flush_ms = 50;
    config.pipelines[1] = pipeline("debounce", "db");
    config.pipelines[1].debounce_ms = 100;
    config.pipelines[2] = pipeline("ordered", "do"); /* ordered, batches of up to 3 at once */
    config.pipelines[2].buffer_max = 3;
    config.pipeline_count = 3;
    config.retry_backoff_ms = 0; /* test_worker_sessions.c tests the backoff */
    return fake_outbox_broker(&config);
}

static rill_submit_job_t submitted(const char *id, const char *kind, const char *key)
{
    rill_submit_job_t job;
    memset(&job, 0, sizeof(job));
    snprintf(job.id, sizeof(job.id), "%s", id);
    job.kind = kind;
    job.key = key;
    return job;
}

/* Submits count jobs; 0 or -1 as rill_broker_submit, ids and error filled. */
static int submit(rill_broker_t *broker, const rill_submit_job_t *jobs, size_t count, const char *token,
                  char (*ids)[RILL_ID_TEXT_SIZE], rill_broker_error_t *error)
{
    uint64_t flush_ms[8];
    return rill_broker_submit(broker, jobs, count, token, ids, flush_ms, error);
}

static rill_worker_t *hello(rill_broker_t *broker, const char *name, uint64_t credit)
{
    /* A session per name: "w1" -> "0...0" + hex of the name's bytes. */
    char session[RILL_ID_TEXT_SIZE];
    snprintf(session, sizeof(session), "%032x", (unsigned)name[0] << 8 | (unsigned)name[1]);
    rill_hello_t message = {.name = name, .host = "test", .pid = 1, .kind_count = 4,
                            .kinds = {"demo", "dd", "db", "do"}, .credit = credit, .session = session};
    rill_frame_t routing = rill_frame_from_string(name);
    rill_broker_worker_hello(broker, &routing, &message);
    return rill_worker_pool_find(broker->pool, routing.data, routing.size);
}

static const char *id1 = "00000000000000000000000000000001";
static const char *id2 = "00000000000000000000000000000002";
static const char *id3 = "00000000000000000000000000000003";

/* Refusals change nothing: all or none. */
static void test_refusals(void)
{
    rill_broker_t *broker = new_broker();
    char ids[8][RILL_ID_TEXT_SIZE];
    rill_broker_error_t error;

    rill_submit_job_t unknown[2] = {submitted(id1, "demo", NULL), submitted(id2, "nope", NULL)};
    CHECK(submit(broker, unknown, 2, "", ids, &error) == -1);
    CHECKF(strcmp(error.code, "unknown_kind") == 0 &&
               strcmp(error.message, "job 1: kind \"nope\" is not declared") == 0,
           "%s: %s", error.code, error.message);
    CHECK(rill_job_table_size(broker->jobs) == 0 && broker->counters->jobs_submitted == 0);
    CHECK(rill_ready_queue_is_empty(broker->ready));

    rill_submit_job_t twice[3] = {submitted(id1, "demo", NULL), submitted(id2, "demo", NULL),
                                  submitted(id1, "demo", NULL)};
    CHECK(submit(broker, twice, 3, "", ids, &error) == -1);
    CHECKF(strcmp(error.code, "conflict") == 0 &&
               strcmp(error.message, "job 00000000000000000000000000000001 appears twice in the request") == 0,
           "%s: %s", error.code, error.message);
    CHECK(rill_job_table_size(broker->jobs) == 0);

    rill_submit_job_t five[5] = {submitted(id1, "demo", NULL), submitted(id2, "demo", NULL),
                                 submitted(id3, "demo", NULL), submitted("00000000000000000000000000000004", "demo", NULL),
                                 submitted("00000000000000000000000000000005", "demo", NULL)};
    CHECK(submit(broker, five, 5, "", ids, &error) == -1);
    CHECKF(strcmp(error.code, "bad_request") == 0 &&
               strcmp(error.message, "jobs must be an array of 1 to 4 job objects") == 0,
           "%s: %s", error.code, error.message);
    CHECK(submit(broker, five, 0, "", ids, &error) == -1 && strcmp(error.code, "bad_request") == 0);

    /* A job that exists with another kind or other args: the whole
     * request is refused, the new one too. */
    CHECK(submit(broker, five, 1, "", ids, &error) == 0 && strcmp(ids[0], id1) == 0);
    rill_submit_job_t other_kind[2] = {submitted(id2, "demo", NULL), submitted(id1, "dd", NULL)};
    rill_submit_job_t other_args[2] = {submitted(id2, "demo", NULL), submitted(id1, "demo", NULL)};
    other_args[1].args = "{\"parts\":2}";
    other_args[1].args_length = strlen(other_args[1].args);
    for (int attempt = 0; attempt < 2; attempt++) {
        CHECK(submit(broker, attempt == 0 ? other_kind : other_args, 2, "", ids, &error) == -1);
        CHECKF(strcmp(error.code, "conflict") == 0 &&
                   strcmp(error.message, "job 00000000000000000000000000000001 exists already, with another "
                                         "kind or args") == 0,
               "%s: %s", error.code, error.message);
        CHECK(rill_job_table_size(broker->jobs) == 1 && rill_job_table_find(broker->jobs, id2) == NULL);
        CHECK(rill_ready_queue_length(broker->ready) == 1);
    }
    CHECK(fake.published_count == 0 && fake.command_count == 0 && fake.reply_count == 0);

    /* The same job asked again (rill/9: a frontend's SUBMIT sent again
     * after a switch): listed, nothing new made nor queued twice. */
    rill_submit_job_t again[2] = {submitted(id2, "demo", NULL), submitted(id1, "demo", NULL)};
    CHECK(submit(broker, again, 2, "", ids, &error) == 0);
    CHECK(strcmp(ids[0], id2) == 0 && strcmp(ids[1], id1) == 0);
    CHECK(rill_job_table_size(broker->jobs) == 2 && broker->counters->jobs_submitted == 2);
    CHECK(rill_ready_queue_length(broker->ready) == 2);
    CHECK(submit(broker, again, 2, "", ids, &error) == 0 && rill_job_table_size(broker->jobs) == 2);
    CHECK(rill_ready_queue_length(broker->ready) == 2 && broker->counters->jobs_submitted == 2);
    finish(&broker);
}

/* Submit, dispatch, parts, done; a worker's credit comes back. */
static void test_a_job_from_submit_to_done(void)
{
    rill_broker_t *broker = new_broker();
    char ids[8][RILL_ID_TEXT_SIZE];
    rill_broker_error_t error;
    rill_submit_job_t job = submitted(id1, "demo", NULL);
    job.who = "alice";
    CHECK(submit(broker, &job, 1, "", ids, &error) == 0 && strcmp(ids[0], id1) == 0);
    rill_job_t *running = rill_job_table_find(broker->jobs, id1);
    CHECK(running != NULL && running->state == RILL_JOB_QUEUED && broker->dispatch_needed);
    rill_frame_t id_frame = rill_frame_from_string(id1);
    char *status = rill_broker_status(broker, id_frame, &error);
    CHECKF(status != NULL && strstr(status, "\"state\":\"waiting\"") != NULL, "%s", status);
    free(status);

    rill_worker_t *worker = hello(broker, "w1", 2);
    CHECK(worker != NULL && fake.command_count == 1 && fake.commands[0].command == RILL_COMMAND_WELCOME);
    CHECK(strcmp(fake.commands[0].routing, "w1") == 0);
    rill_broker_dispatch(broker);
    CHECK(fake.command_count == 2 && fake.commands[1].command == RILL_COMMAND_BATCH);
    rill_batch_t batch;
    const char *text = fake.commands[1].frames[0];
    CHECK(rill_batch_decode(text, strlen(text), &batch, NULL, 0) == 0 && batch.count == 1);
    CHECK(batch.count == 1 && strcmp(batch.jobs[0].id, id1) == 0 && batch.jobs[0].attempt == 1 &&
          strcmp(batch.jobs[0].who, "alice") == 0);
    rill_batch_release(&batch);
    CHECK(running->state == RILL_JOB_RUNNING && running->worker == worker && worker->credit == 1);

    /* PART from that worker only; then DONE. */
    CHECK(rill_broker_running_job(broker, worker, id_frame, RILL_COMMAND_PART) == running);
    rill_worker_t *other = hello(broker, "w2", 1);
    CHECK(rill_broker_running_job(broker, other, id_frame, RILL_COMMAND_PART) == NULL);
    CHECK(broker->counters->parts_ignored == 1);
    zmq_msg_t part;
    zmq_msg_init_size(&part, 7);
    memcpy(zmq_msg_data(&part), "{\"i\":1}", 7);
    CHECK(rill_events_publish(broker, running, RILL_EVENT_PART, &part) == 0);
    rill_broker_end_job(broker, running, RILL_JOB_DONE, NULL, NULL, 0);
    CHECK(fake.published_count == 2);
    CHECK(strcmp(fake.published[0].subject, "j00000000000000000000000000000001") == 0 &&
          strcmp(fake.published[0].event, "part") == 0 && fake.published[0].seq == 1 &&
          strcmp(fake.published[0].data, "{\"i\":1}") == 0);
    CHECK(strcmp(fake.published[1].event, "done") == 0 && fake.published[1].seq == 2 &&
          strcmp(fake.published[1].data, "{\"parts\":1}") == 0);
    CHECK(running->state == RILL_JOB_DONE && running->worker == NULL && worker->credit == 2);
    CHECK(broker->counters->jobs_done == 1 && rill_retention_count(running->retention) == 2);

    /* FETCH without a token: one REPLAY with both events, the header first. */
    rill_frame_t routing = rill_frame_from_string("frontend");
    rill_held_fetch(broker, &routing, rill_frame_from_string("r1"), "", "j00000000000000000000000000000001", 0);
    CHECK(fake.reply_count == 1 && fake.replies[0].command == RILL_COMMAND_REPLAY);
    const sent_t *replay = &fake.replies[0];
    CHECK(replay->count == 9 && strcmp(replay->frames[0], "r1") == 0);
    CHECKF(strcmp(replay->frames[2], "{\"first\":1,\"last\":2,\"ended\":true,\"final\":true,\"flush_ms\":0}") == 0,
           "%s", replay->frames[2]);
    CHECK(strcmp(replay->frames[3], "part") == 0 && strcmp(replay->frames[4], "1") == 0 &&
          strcmp(replay->frames[6], "done") == 0);
    rill_held_fetch(broker, &routing, rill_frame_from_string("r2"), "", "j00000000000000000000000000000009", 0);
    CHECK(fake.reply_count == 2 && fake.replies[1].command == RILL_COMMAND_ERROR &&
          strcmp(fake.replies[1].frames[1], "not_found") == 0);
    finish(&broker);
}

/* Dedup and debounce: an identical job joins the one there is. */
static void test_joins(void)
{
    rill_broker_t *broker = new_broker();
    char ids[8][RILL_ID_TEXT_SIZE];
    uint64_t flush_ms[8];
    rill_broker_error_t error;
    rill_submit_job_t first[2] = {submitted(id1, "dd", "k"), submitted(id2, "dd", "k")};
    CHECK(rill_broker_submit(broker, first, 2, "", ids, flush_ms, &error) == 0);
    CHECK(strcmp(ids[0], id1) == 0 && strcmp(ids[1], id1) == 0 && flush_ms[1] == 50);
    CHECK(broker->counters->dedup_joins == 1 && rill_job_table_size(broker->jobs) == 1);
    rill_job_t *kept = rill_job_table_find(broker->jobs, id1);
    CHECK(kept != NULL && kept->pipeline != NULL && strcmp(kept->pipeline, "dedup") == 0);
    /* A detached joiner makes the joined job detached. */
    rill_submit_job_t later = submitted(id3, "dd", "k");
    later.detach = 1;
    CHECK(rill_broker_submit(broker, &later, 1, "", ids, flush_ms, &error) == 0 && strcmp(ids[0], id1) == 0);
    CHECK(kept->detached && broker->counters->dedup_joins == 2);

    rill_submit_job_t quiet[2] = {submitted("000000000000000000000000000000d1", "db", NULL),
                                  submitted("000000000000000000000000000000d2", "db", NULL)};
    CHECK(rill_broker_submit(broker, quiet, 2, "", ids, flush_ms, &error) == 0);
    CHECK(strcmp(ids[1], "000000000000000000000000000000d1") == 0 && broker->counters->debounced_jobs == 1);
    CHECK(rill_pipelines_debouncing(broker->pipelines) == 1);
    finish(&broker);
}

/* A worker dies: its job is retried, then fails when no retry remains. */
static void test_retry_and_worker_gone(void)
{
    rill_broker_t *broker = new_broker();
    char ids[8][RILL_ID_TEXT_SIZE];
    rill_broker_error_t error;
    rill_submit_job_t job = submitted(id1, "demo", NULL);
    CHECK(submit(broker, &job, 1, "", ids, &error) == 0);
    rill_job_t *lost = rill_job_table_find(broker->jobs, id1);
    rill_worker_t *worker = hello(broker, "w1", 1);
    rill_broker_dispatch(broker);
    CHECK(lost->state == RILL_JOB_RUNNING);
    rill_broker_worker_gone(broker, worker, "died", 1);
    CHECK(broker->counters->workers_lost == 1 && rill_worker_pool_size(broker->pool) == 0);
    CHECK(lost->state == RILL_JOB_QUEUED && rill_ready_queue_first(broker->ready) == lost && lost->attempt == 2);
    /* rill/4: the retry event goes out with the next attempt's dispatch
     * (until then the lost attempt may be adopted and go on). */
    CHECK(fake.published_count == 0 && broker->counters->jobs_retried == 0);

    /* Attempt 2 of 1 retry: the next loss fails it. */
    worker = hello(broker, "w2", 1);
    rill_broker_dispatch(broker);
    CHECK(lost->state == RILL_JOB_RUNNING && lost->worker == worker);
    const published_t *event = last_published();
    CHECK(event != NULL && strcmp(event->event, "retry") == 0 && event->seq == 1 &&
          strcmp(event->data, "{\"attempt\":2,\"reason\":\"worker_lost\"}") == 0);
    CHECK(broker->counters->jobs_retried == 1);
    /* Its BATCH says the parts of attempt 2 follow seq 1 (the retry event). */
    const sent_t *sent = last_command("w2", RILL_COMMAND_BATCH);
    rill_batch_t batch;
    CHECK(sent != NULL && rill_batch_decode(sent->frames[0], strlen(sent->frames[0]), &batch, NULL, 0) == 0);
    CHECK(batch.count == 1 && batch.jobs[0].attempt == 2 && batch.jobs[0].seq == 1);
    rill_batch_release(&batch);
    rill_broker_worker_gone(broker, worker, "died", 1);
    event = last_published();
    CHECK(lost->state == RILL_JOB_FAILED && event != NULL && strcmp(event->event, "error") == 0);
    CHECKF(strstr(event->data, "\"code\":\"worker_lost\"") != NULL, "%s", event->data);

    /* RETURN (worker_left) does not count against the retries. */
    rill_submit_job_t second = submitted(id2, "demo", NULL);
    CHECK(submit(broker, &second, 1, "", ids, &error) == 0);
    rill_job_t *returned = rill_job_table_find(broker->jobs, id2);
    worker = hello(broker, "w3", 1);
    rill_broker_dispatch(broker);
    returned->attempt = 5;
    rill_broker_unassign(broker, returned, 1);
    rill_broker_retry_job(broker, returned, "worker_left", 0);
    CHECK(returned->state == RILL_JOB_QUEUED && returned->attempt == 6 && worker->credit == 1);

    /* A worker that cannot be reached is reaped: the job stays queued. */
    fake.workers_unreachable = 1;
    rill_broker_dispatch(broker);
    CHECK(rill_worker_pool_size(broker->pool) == 0 && returned->state == RILL_JOB_QUEUED);
    CHECK(rill_ready_queue_first(broker->ready) == returned);
    fake.workers_unreachable = 0;
    finish(&broker);
}

static void part(rill_broker_t *broker, rill_worker_t *worker, const char *id, uint64_t seq)
{
    rill_broker_part(broker, worker, rill_frame_from_string(id), seq, "{}", 2);
}

/* An ordered batch says so; lost with its worker, it goes again whole and
 * in order, the later jobs' retry events only before their first event;
 * done.parts counts the attempt that finished. */
static void test_ordered_batch_retry(void)
{
    rill_broker_t *broker = new_broker();
    char ids[8][RILL_ID_TEXT_SIZE];
    rill_broker_error_t error;
    rill_submit_job_t jobs[3] = {submitted(id1, "do", NULL), submitted(id2, "do", NULL),
                                 submitted(id3, "do", NULL)};
    CHECK(submit(broker, jobs, 3, "", ids, &error) == 0);
    rill_job_t *first = rill_job_table_find(broker->jobs, id1);
    CHECK(first != NULL && strcmp(first->source, "do") == 0); /* no source: the kind */
    rill_worker_t *worker = hello(broker, "w1", 3);
    rill_broker_dispatch(broker);
    const sent_t *sent = last_command("w1", RILL_COMMAND_BATCH);
    rill_batch_t batch;
    CHECK(sent != NULL && rill_batch_decode(sent->frames[0], strlen(sent->frames[0]), &batch, NULL, 0) == 0);
    CHECK(batch.ordered && batch.count == 3 && strcmp(batch.jobs[0].id, id1) == 0 &&
          strcmp(batch.jobs[2].id, id3) == 0);
    rill_batch_release(&batch);
    part(broker, worker, id1, 1);
    part(broker, worker, id1, 2);
    CHECK(first->parts == 2 && fake.published_count == 2);
    rill_broker_worker_gone(broker, worker, "died", 1);

    worker = hello(broker, "w2", 3);
    rill_broker_dispatch(broker);
    sent = last_command("w2", RILL_COMMAND_BATCH);
    CHECK(sent != NULL && rill_batch_decode(sent->frames[0], strlen(sent->frames[0]), &batch, NULL, 0) == 0);
    CHECK(batch.ordered && batch.count == 3 && strcmp(batch.jobs[0].id, id1) == 0 &&
          strcmp(batch.jobs[1].id, id2) == 0 && strcmp(batch.jobs[2].id, id3) == 0);
    CHECK(batch.jobs[0].seq == 3 && batch.jobs[1].seq == 1 && batch.jobs[2].seq == 1);
    rill_batch_release(&batch);
    /* Only the first job's retry went out; the others owe theirs. */
    CHECK(fake.published_count == 3 && strcmp(last_published()->event, "retry") == 0 &&
          strcmp(last_published()->subject + 1, id1) == 0 && first->parts == 0);
    part(broker, worker, id1, 4);
    rill_broker_end_job(broker, first, RILL_JOB_DONE, NULL, NULL, 0);
    CHECKF(strcmp(last_published()->data, "{\"parts\":1}") == 0, "%s", last_published()->data);
    part(broker, worker, id2, 2);
    CHECK(fake.published_count == 7);
    CHECK(strcmp(fake.published[5].event, "retry") == 0 && fake.published[5].seq == 1 &&
          strcmp(fake.published[5].subject + 1, id2) == 0);
    CHECK(strcmp(fake.published[6].event, "part") == 0 && fake.published[6].seq == 2);
    /* Cancelled before its first part: its retry event, then its end. */
    char *status = rill_broker_cancel(broker, rill_frame_from_string(id3), &error);
    free(status);
    CHECK(fake.published_count == 9 && strcmp(fake.published[7].event, "retry") == 0 &&
          strcmp(fake.published[8].event, "error") == 0 && fake.published[8].seq == 2);
    finish(&broker);
}

/* Cancel by request, by the last subscriber leaving, by the deadline. */
static void test_endings(void)
{
    rill_broker_t *broker = new_broker();
    char ids[8][RILL_ID_TEXT_SIZE];
    rill_broker_error_t error;
    rill_submit_job_t jobs[3] = {submitted(id1, "demo", NULL), submitted(id2, "demo", NULL),
                                 submitted(id3, "demo", NULL)};
    CHECK(submit(broker, jobs, 3, "", ids, &error) == 0);
    rill_worker_t *worker = hello(broker, "w1", 3);
    rill_broker_dispatch(broker);
    CHECK(worker->credit == 0);
    forget_recorded();

    rill_frame_t id_frame = rill_frame_from_string(id1);
    char *status = rill_broker_cancel(broker, id_frame, &error);
    CHECKF(status != NULL && strstr(status, "\"state\":\"cancelled\"") != NULL, "%s", status);
    free(status);
    CHECK(fake.command_count == 1 && fake.commands[0].command == RILL_COMMAND_CANCEL &&
          strcmp(fake.commands[0].frames[0], id1) == 0 && worker->credit == 1);
    CHECK(fake.published_count == 1 && strcmp(fake.published[0].event, "error") == 0 &&
          strcmp(fake.published[0].data, "{\"code\":\"cancelled\",\"message\":\"requested by a client\"}") == 0);
    CHECK(rill_broker_cancel(broker, id_frame, &error) == NULL && strcmp(error.code, "conflict") == 0 &&
          strcmp(error.message, "the job has ended already (cancelled)") == 0);
    CHECK(rill_broker_cancel(broker, rill_frame_from_string("nope"), &error) == NULL &&
          strcmp(error.code, "not_found") == 0);

    /* Job 2 had one subscriber; its client leaves a live frontend (RELEASE). */
    uint8_t message[64];
    message[0] = 1;
    snprintf((char *)message + 1, sizeof(message) - 1, "j%s", id2);
    rill_broker_subscription(broker, message, 34);
    rill_broker_release(broker, rill_frame_from_string(id2));
    message[0] = 0;
    rill_broker_subscription(broker, message, 34);
    rill_job_t *second = rill_job_table_find(broker->jobs, id2);
    CHECK(second->state == RILL_JOB_CANCELLED);
    CHECKF(strstr(last_published()->data, "no subscriber left") != NULL, "%s", last_published()->data);

    /* Job 3's deadline (timeout_ms 1000) passes. */
    rill_broker_end_overdue(broker, rill_clock_monotonic_ms() + 2000);
    rill_job_t *third = rill_job_table_find(broker->jobs, id3);
    CHECK(third->state == RILL_JOB_FAILED && broker->counters->jobs_timed_out == 1);
    CHECKF(strstr(last_published()->data, "\"code\":\"timeout\"") != NULL, "%s", last_published()->data);
    CHECK(worker->credit == 3 && rill_list_is_empty(&worker->jobs));
    finish(&broker);
}

static void subscription(rill_broker_t *broker, int subscribe, const char *id)
{
    uint8_t message[2 + RILL_JOB_ID_LENGTH];
    message[0] = (uint8_t)subscribe;
    message[1] = 'j';
    memcpy(message + 2, id, RILL_JOB_ID_LENGTH);
    rill_broker_subscription(broker, message, sizeof(message));
}

/* Nobody listens: cancelled at once after a RELEASE (before or after the
 * unsubscribe), else after orphan_grace_ms; a subscribe stops the grace. */
static void test_orphan_grace(void)
{
    rill_broker_t *broker = new_broker();
    broker->config.orphan_grace_ms = 1000;
    broker->config.timeout_ms = 0; /* no deadline gets there first */
    char ids[8][RILL_ID_TEXT_SIZE];
    rill_broker_error_t error;
    static const char *id4 = "00000000000000000000000000000004";
    rill_submit_job_t jobs[4] = {submitted(id1, "demo", NULL), submitted(id2, "demo", NULL),
                                 submitted(id3, "demo", NULL), submitted(id4, "demo", NULL)};
    CHECK(submit(broker, jobs, 4, "", ids, &error) == 0);
    rill_worker_t *worker = hello(broker, "w1", 4);
    rill_broker_dispatch(broker);
    rill_job_t *job[4];
    for (int i = 0; i < 4; i++) {
        job[i] = rill_job_table_find(broker->jobs, ids[i]);
        subscription(broker, 1, ids[i]);
    }
    forget_recorded();

    /* Job 1: its frontend went without a RELEASE (killed, or draining). */
    uint64_t now = rill_clock_monotonic_ms();
    subscription(broker, 0, id1);
    CHECK(job[0]->state == RILL_JOB_RUNNING && rill_link_is_linked(&job[0]->orphan_link));
    CHECK(job[0]->orphan_due_ms >= now + 1000 && fake.published_count == 0);
    rill_broker_end_orphans(broker, now + 500);
    CHECK(job[0]->state == RILL_JOB_RUNNING);
    /* Job 2: orphaned too, then a client resumes on another frontend. */
    subscription(broker, 0, id2);
    subscription(broker, 1, id2);
    CHECK(!rill_link_is_linked(&job[1]->orphan_link));
    rill_broker_end_orphans(broker, now + 5000); /* tick.c calls it */
    CHECK(job[0]->state == RILL_JOB_CANCELLED && job[1]->state == RILL_JOB_RUNNING);
    CHECKF(strcmp(last_published()->data,
                  "{\"code\":\"cancelled\",\"message\":\"no subscriber left (orphan grace passed)\"}") == 0,
           "%s", last_published()->data);
    CHECK(fake.command_count == 1 && fake.commands[0].command == RILL_COMMAND_CANCEL &&
          strcmp(fake.commands[0].frames[0], id1) == 0);
    CHECK(rill_list_is_empty(&broker->orphans));

    /* Job 3: the RELEASE comes after the unsubscribe: during the grace. */
    subscription(broker, 0, id3);
    CHECK(job[2]->state == RILL_JOB_RUNNING && rill_link_is_linked(&job[2]->orphan_link));
    rill_broker_release(broker, rill_frame_from_string(id3));
    CHECK(job[2]->state == RILL_JOB_CANCELLED && !rill_link_is_linked(&job[2]->orphan_link));
    CHECK(strstr(last_published()->data, "\"no subscriber left\"") != NULL);

    /* Job 4: RELEASEd, then a subscribe clears the mark: the next loss of
     * its last subscriber (no RELEASE) starts a grace. */
    rill_broker_release(broker, rill_frame_from_string(id4));
    CHECK(job[3]->released && job[3]->state == RILL_JOB_RUNNING);
    subscription(broker, 1, id4); /* a second frontend */
    CHECK(!job[3]->released);
    subscription(broker, 0, id4);
    subscription(broker, 0, id4);
    CHECK(job[3]->state == RILL_JOB_RUNNING && rill_link_is_linked(&job[3]->orphan_link));
    /* An ended job leaves the grace with nothing more published. */
    rill_broker_end_job(broker, job[3], RILL_JOB_DONE, NULL, NULL, 0);
    size_t published = fake.published_count;
    rill_broker_end_orphans(broker, now + 10000);
    CHECK(job[3]->state == RILL_JOB_DONE && fake.published_count == published);
    CHECK(rill_list_is_empty(&broker->orphans));
    /* RELEASE of what is unknown, ended or detached changes nothing. */
    rill_broker_release(broker, rill_frame_from_string("00000000000000000000000000000009"));
    rill_broker_release(broker, rill_frame_from_string(id1));
    CHECK(fake.published_count == published && worker->credit == 3);
    finish(&broker);
}

/* FLOW from frontends, PAUSE to the worker: paused only while every
 * listening frontend is behind; a new attempt hears it again. */
static int pause_count(const char *worker)
{
    int count = 0;
    for (size_t i = 0; i < fake.command_count; i++)
        if (fake.commands[i].command == RILL_COMMAND_PAUSE && strcmp(fake.commands[i].routing, worker) == 0)
            count++;
    return count;
}

static void flow(rill_broker_t *broker, const char *frontend, const char *id, int paused)
{
    rill_frame_t routing = rill_frame_from_string(frontend);
    rill_broker_flow(broker, &routing, rill_frame_from_string(id), paused);
}

static void test_flow(void)
{
    rill_broker_t *broker = new_broker();
    broker->config.timeout_ms = 0;
    char ids[8][RILL_ID_TEXT_SIZE];
    rill_broker_error_t error;
    rill_submit_job_t job = submitted(id1, "demo", NULL);
    CHECK(submit(broker, &job, 1, "", ids, &error) == 0);
    rill_worker_t *worker = hello(broker, "w1", 1);
    rill_broker_dispatch(broker);
    rill_job_t *running = rill_job_table_find(broker->jobs, id1);
    subscription(broker, 1, id1);
    forget_recorded();

    /* One frontend listens and is behind: paused; said twice, sent once. */
    flow(broker, "f1", id1, 1);
    flow(broker, "f1", id1, 1);
    const sent_t *sent = last_command("w1", RILL_COMMAND_PAUSE);
    CHECK(running->paused && pause_count("w1") == 1 && sent != NULL && sent->count == 2);
    CHECK(strcmp(sent->frames[0], id1) == 0 && strcmp(sent->frames[1], "1") == 0);
    /* It catches up: resumed. */
    flow(broker, "f1", id1, 0);
    sent = last_command("w1", RILL_COMMAND_PAUSE);
    CHECK(!running->paused && pause_count("w1") == 2 && strcmp(sent->frames[1], "0") == 0);

    /* Two frontends listen, one is behind: it goes on; both: paused. */
    subscription(broker, 1, id1);
    flow(broker, "f1", id1, 1);
    CHECK(!running->paused && pause_count("w1") == 2);
    flow(broker, "f2", id1, 1);
    CHECK(running->paused && pause_count("w1") == 3);
    /* A third frontend subscribes: it is not behind, the job goes on. */
    subscription(broker, 1, id1);
    CHECK(!running->paused && pause_count("w1") == 4);
    /* A listener leaves (the XPUB does not say which): pausers start over. */
    subscription(broker, 0, id1);
    CHECK(!running->paused && running->flow_pauser_count == 0 && pause_count("w1") == 4);
    flow(broker, "f1", id1, 1);
    flow(broker, "f2", id1, 1);
    CHECK(running->paused && pause_count("w1") == 5);

    /* Its worker dies: the next attempt is told at once after its BATCH. */
    rill_broker_worker_gone(broker, worker, "died", 1);
    CHECK(running->state == RILL_JOB_QUEUED && running->paused);
    forget_recorded();
    hello(broker, "w2", 1);
    rill_broker_dispatch(broker);
    size_t n = fake.command_count; /* WELCOME, BATCH, PAUSE */
    CHECKF(running->state == RILL_JOB_RUNNING && n == 3, "%zu", n);
    CHECK(fake.commands[n - 2].command == RILL_COMMAND_BATCH && fake.commands[n - 1].command == RILL_COMMAND_PAUSE);
    CHECK(strcmp(fake.commands[n - 1].frames[1], "1") == 0);
    flow(broker, "f2", id1, 0);
    sent = last_command("w2", RILL_COMMAND_PAUSE);
    CHECK(!running->paused && sent != NULL && strcmp(sent->frames[1], "0") == 0);

    /* Unknown or ended jobs: nothing; an ended job forgets its pausers. */
    size_t commands = fake.command_count;
    flow(broker, "f1", "00000000000000000000000000000009", 1);
    rill_broker_end_job(broker, running, RILL_JOB_DONE, NULL, NULL, 0);
    CHECK(running->flow_pauser_count == 0 && !running->paused);
    flow(broker, "f2", id1, 1);
    CHECK(fake.command_count == commands && running->flow_pauser_count == 0);
    finish(&broker);
}

/* A SUBMIT with a barrier token waits for its subscription. */
static void test_barrier(void)
{
    rill_broker_t *broker = new_broker();
    char ids[8][RILL_ID_TEXT_SIZE];
    rill_broker_error_t error;
    rill_worker_t *worker = hello(broker, "w1", 4);
    rill_submit_job_t job = submitted(id1, "demo", NULL);
    CHECK(submit(broker, &job, 1, "tok", ids, &error) == 0);
    rill_job_t *held = rill_job_table_find(broker->jobs, id1);
    CHECK(held->held && rill_ready_queue_is_empty(broker->ready) && rill_barrier_held(broker->barrier) == 1);
    rill_broker_dispatch(broker);
    CHECK(held->state == RILL_JOB_QUEUED && worker->credit == 4);
    /* A FETCH with the same token waits too. */
    rill_frame_t routing = rill_frame_from_string("frontend");
    rill_held_fetch(broker, &routing, rill_frame_from_string("r1"), "tok", "tnews/", 0);
    CHECK(fake.reply_count == 0 && rill_barrier_held(broker->barrier) == 2);
    const char subscribe[] = "\001stok";
    rill_broker_subscription(broker, (const uint8_t *)subscribe, 5);
    CHECK(!held->held && rill_ready_queue_first(broker->ready) == held);
    CHECK(fake.reply_count == 1 && fake.replies[0].command == RILL_COMMAND_REPLAY &&
          strcmp(fake.replies[0].routing, "frontend") == 0 && strcmp(fake.replies[0].frames[1], "tnews/") == 0);
    /* rill/6: a topic's header names its epoch (the record is made by the FETCH). */
    const rill_topic_t *news = rill_topic_table_find(broker->topics, "news", 4);
    char expected[160];
    snprintf(expected, sizeof(expected),
             "{\"first\":1,\"last\":0,\"ended\":false,\"final\":true,\"flush_ms\":0,\"epoch\":\"%s\"}",
             news != NULL ? news->epoch : "none");
    CHECKF(news != NULL && strcmp(fake.replies[0].frames[2], expected) == 0, "%s", fake.replies[0].frames[2]);
    rill_broker_dispatch(broker);
    CHECK(held->state == RILL_JOB_RUNNING);
    /* Seen already: a later SUBMIT with that token is not held. */
    rill_submit_job_t next = submitted(id2, "demo", NULL);
    CHECK(submit(broker, &next, 1, "tok", ids, &error) == 0 && !rill_job_table_find(broker->jobs, id2)->held);
    /* A token never seen: released by the tick after 2 s, counted. */
    rill_submit_job_t late = submitted(id3, "demo", NULL);
    CHECK(submit(broker, &late, 1, "never", ids, &error) == 0);
    rill_broker_tick(broker, rill_clock_monotonic_ms() + RILL_BARRIER_WAIT_MS + 1);
    CHECK(!rill_job_table_find(broker->jobs, id3)->held && broker->counters->barrier_timeouts == 1);
    finish(&broker);
}

/* A topic message gets the topic's next seq and is replayed. */
static void test_topic(void)
{
    rill_broker_t *broker = new_broker();
    uint64_t seq = 0;
    CHECK(rill_events_publish_message(broker, "news", 4, "{\"a\":1}", 7, &seq) == 0 && seq == 1);
    CHECK(rill_events_publish_message(broker, "news", 4, "2", 1, &seq) == 0 && seq == 2);
    CHECK(fake.published_count == 2 && strcmp(fake.published[1].subject, "tnews/") == 0 &&
          strcmp(fake.published[1].event, "part") == 0 && fake.published[1].seq == 2);
    rill_frame_t routing = rill_frame_from_string("frontend");
    rill_held_fetch(broker, &routing, rill_frame_from_string("r"), "", "tnews/", 1);
    CHECK(fake.reply_count == 1 && fake.replies[0].count == 6 && strcmp(fake.replies[0].frames[4], "2") == 0);
    const rill_topic_t *news = rill_topic_table_find(broker->topics, "news", 4);
    char expected[160];
    snprintf(expected, sizeof(expected),
             "{\"first\":1,\"last\":2,\"ended\":false,\"final\":true,\"flush_ms\":0,\"epoch\":\"%s\"}",
             news->epoch);
    CHECKF(strcmp(fake.replies[0].frames[2], expected) == 0, "%s", fake.replies[0].frames[2]);
    CHECK(strlen(news->epoch) == 8 && rill_topic_epoch_is_valid(news->epoch, 8));
    /* A topic made again (deleted, evicted) has another epoch. */
    char first_epoch[9];
    memcpy(first_epoch, news->epoch, sizeof(first_epoch));
    rill_topic_table_remove(broker->topics, (rill_topic_t *)news);
    CHECK(rill_events_publish_message(broker, "news", 4, "3", 1, &seq) == 0 && seq == 1);
    news = rill_topic_table_find(broker->topics, "news", 4);
    CHECK(news != NULL && strcmp(news->epoch, first_epoch) != 0);
    finish(&broker);
}

/* 1 when link is on the list of head. */
static int on_list(const rill_link_t *head, const rill_link_t *link)
{
    for (const rill_link_t *at = head->next; at != head; at = at->next)
        if (at == link)
            return 1;
    return 0;
}

/* Syncs go to the subjects with an event in the last 10 s that someone
 * listens to, found on the broker's active list, not by a walk of every job. */
static void test_syncs(void)
{
    rill_broker_t *broker = new_broker();
    char ids[8][RILL_ID_TEXT_SIZE];
    rill_broker_error_t error;
    rill_submit_job_t jobs[2] = {submitted(id1, "demo", NULL), submitted(id2, "demo", NULL)};
    CHECK(submit(broker, jobs, 2, "", ids, &error) == 0);
    rill_worker_t *worker = hello(broker, "w1", 2);
    rill_broker_dispatch(broker);
    subscription(broker, 1, id1);
    part(broker, worker, id1, 1);
    part(broker, worker, id2, 1); /* nobody listens to it */
    forget_recorded();
    uint64_t now = rill_clock_monotonic_ms();
    rill_events_publish_syncs(broker, now);
    CHECK(fake.published_count == 1 && strcmp(fake.published[0].event, "sync") == 0);
    CHECK(strcmp(fake.published[0].subject + 1, id1) == 0 && fake.published[0].seq == 1);
    /* The one nobody listens to left the list at once. */
    CHECK(rill_job_table_find(broker->jobs, id2)->active_link.next == NULL);
    CHECK(rill_job_table_find(broker->jobs, id1)->active_link.next != NULL);
    /* Out of the window: nothing, and both left the list. */
    rill_events_publish_syncs(broker, now + 10001);
    CHECK(fake.published_count == 1 && rill_list_is_empty(&broker->active_jobs));
    /* A new event brings a job back; its end too (the last seq is the done's). */
    part(broker, worker, id1, 2);
    rill_broker_end_job(broker, rill_job_table_find(broker->jobs, id1), RILL_JOB_DONE, NULL, NULL, 0);
    forget_recorded();
    rill_events_publish_syncs(broker, rill_clock_monotonic_ms());
    CHECK(fake.published_count == 1 && fake.published[0].seq == 3);
    /* A frontend's link broke while the job ended (its unsubscribe came,
     * so the job left the sync list) and came back: its subscription's
     * return gets a sync at once, or it would wait for the done it missed. */
    subscription(broker, 0, id1);
    rill_events_publish_syncs(broker, rill_clock_monotonic_ms());
    CHECK(rill_job_table_find(broker->jobs, id1)->active_link.next == NULL);
    forget_recorded();
    subscription(broker, 1, id1);
    CHECK(fake.published_count == 1 && strcmp(fake.published[0].event, "sync") == 0 && fake.published[0].seq == 3);
    CHECK(strcmp(fake.published[0].subject + 1, id1) == 0);
    /* A job with no event yet has nothing to sync. */
    forget_recorded();
    subscription(broker, 1, id2);
    subscription(broker, 0, id2);
    CHECK(fake.published_count == 1); /* id2 has seq 1: its sync */
    finish(&broker);
}

static void follow_subscription(rill_broker_t *broker, int subscribe, const char *follow)
{
    uint8_t message[80];
    size_t length = strlen(follow);
    message[0] = (uint8_t)subscribe;
    memcpy(message + 1, follow, length);
    rill_broker_subscription(broker, message, length + 1);
}

static void unfollow(rill_broker_t *broker, const char *id, const char *follow, int release)
{
    rill_broker_unfollow(broker, rill_frame_from_string(id), rill_frame_from_string(follow), release);
}

/* rill/4, direct delivery: a followed job's events go to its follower as
 * "d<token>/j<id>", and to its subject only when a frontend subscribed it;
 * a follower counts as a listener while its follow subject is subscribed;
 * UNFOLLOW with a release cancels at once, without one starts the grace. */
static void test_direct_delivery(void)
{
    rill_broker_t *broker = new_broker();
    broker->config.orphan_grace_ms = 1000;
    const char *follow = "dfrontend-0001/";
    char ids[8][RILL_ID_TEXT_SIZE];
    uint64_t flush_ms[8];
    rill_broker_error_t error;
    rill_submit_job_t jobs[3] = {submitted(id1, "demo", NULL), submitted(id2, "demo", NULL),
                                 submitted(id3, "demo", NULL)};
    /* A frontend just started: its follow subject is not at the XPUB yet. */
    CHECK(rill_broker_submit_followed(broker, jobs, 3, "", follow, ids, flush_ms, &error) == 0);
    rill_job_t *first = rill_job_table_find(broker->jobs, id1);
    rill_job_t *second = rill_job_table_find(broker->jobs, id2);
    rill_job_t *third = rill_job_table_find(broker->jobs, id3);
    CHECK(first->held && first->followers.count == 1 && strcmp(first->followers.subjects[0].text, follow) == 0);
    CHECK(rill_broker_listeners(broker, first) == 0 && rill_ready_queue_is_empty(broker->ready));
    follow_subscription(broker, 1, follow);
    CHECK(!first->held && !rill_ready_queue_is_empty(broker->ready));
    CHECK(rill_broker_listeners(broker, first) == 1 && rill_broker_listeners(broker, second) == 1);
    rill_worker_t *worker = hello(broker, "w1", 3);
    rill_broker_dispatch(broker);

    /* Followed only: one message, to the follower. */
    forget_recorded();
    part(broker, worker, id1, 1);
    CHECK(fake.published_count == 0); /* batched until the pass ends */
    rill_events_flush(broker);
    CHECK(fake.published_count == 1 && fake.message_count == 1 && fake.published[0].batch == 1 &&
          strcmp(fake.published[0].follow, follow) == 0 &&
          strcmp(fake.published[0].subject + 1, id1) == 0 && fake.published[0].seq == 1);
    /* Listed for syncs apart: the heartbeat walks that list only at risk. */
    CHECK(on_list(&broker->followed_jobs, &first->active_link) && !on_list(&broker->active_jobs, &first->active_link));
    /* Another frontend subscribes the job: one message each way, one seq. */
    subscription(broker, 1, id1);
    CHECK(rill_broker_listeners(broker, first) == 2);
    CHECK(on_list(&broker->active_jobs, &first->active_link)); /* moved: the heartbeat reads it now */
    forget_recorded();
    part(broker, worker, id1, 2);
    rill_events_flush(broker);
    CHECK(fake.published_count == 2 && fake.published[0].follow[0] == '\0' &&
          strcmp(fake.published[1].follow, follow) == 0 && fake.published[0].seq == 2 && fake.published[1].seq == 2);
    CHECK(rill_retention_count(first->retention) == 2); /* kept once */
    /* Syncs go both ways too. */
    forget_recorded();
    rill_events_publish_syncs(broker, rill_clock_monotonic_ms());
    rill_events_flush(broker);
    CHECK(fake.published_count == 2 && strcmp(fake.published[0].event, "sync") == 0);
    subscription(broker, 0, id1);
    /* Followed only, a job gets syncs only while an event may have been
     * lost (here: the follow subject came back to jobs that it follows). */
    CHECK(broker->events_at_risk_ms != 0);
    broker->events_at_risk_ms = 0;
    forget_recorded();
    rill_events_publish_syncs(broker, rill_clock_monotonic_ms());
    CHECK(fake.published_count == 0 && first->active_link.next != NULL); /* still listed */
    broker->events_at_risk_ms = rill_clock_monotonic_ms(); /* e.g. the XPUB dropped for a stalled frontend */
    rill_events_publish_syncs(broker, rill_clock_monotonic_ms());
    rill_events_flush(broker);
    CHECK(fake.published_count == 1 && strcmp(fake.published[0].follow, follow) == 0 &&
          strcmp(fake.published[0].event, "sync") == 0 && fake.published[0].seq == 2);

    /* The frontend's follow subject goes (it died): its jobs are orphans. */
    follow_subscription(broker, 0, follow);
    CHECK(rill_broker_listeners(broker, first) == 0 && rill_link_is_linked(&first->orphan_link) &&
          rill_link_is_linked(&third->orphan_link));
    /* ... and it comes back (a reconnect): the grace stops. */
    follow_subscription(broker, 1, follow);
    CHECK(rill_broker_listeners(broker, first) == 1 && !rill_link_is_linked(&first->orphan_link) &&
          !rill_link_is_linked(&third->orphan_link));

    /* UNFOLLOW with a release: its client left, nobody else listens. */
    unfollow(broker, id2, follow, 1);
    rill_events_flush(broker);
    CHECK(second->state == RILL_JOB_CANCELLED && second->followers.count == 0);
    CHECKF(strstr(last_published()->data, "no subscriber left") != NULL, "%s", last_published()->data);
    /* Without one (the frontend ended the stream): the grace starts. */
    unfollow(broker, id3, follow, 0);
    CHECK(third->state == RILL_JOB_RUNNING && rill_link_is_linked(&third->orphan_link));
    /* Not a follower, or an unknown job: nothing. */
    unfollow(broker, id1, "dsomebody-else/", 1);
    unfollow(broker, "0000000000000000000000000000000f", follow, 1);
    CHECK(first->state == RILL_JOB_RUNNING && rill_broker_listeners(broker, first) == 1);
    /* The job's status counts its follower. */
    char *status = rill_broker_job_status(broker, first);
    CHECKF(status != NULL && strstr(status, "\"subscribers\":1") != NULL, "%s", status);
    free(status);
    finish(&broker);
}

/* rill/4: the events published to one follow subject within a pass go as
 * ONE message, in the order published, across jobs; at most
 * RILL_EVENT_BATCH_MAX_EVENTS events and the byte bound a message; an event
 * too large for a batch goes alone, after what was batched before it; a
 * j<id> subscriber still gets one message per event. */
static void test_follower_batches(void)
{
    rill_broker_t *broker = new_broker();
    const char *follow = "dfrontend-0001/";
    const char *other = "dfrontend-0002/";
    char ids[8][RILL_ID_TEXT_SIZE];
    uint64_t flush_ms[8];
    rill_broker_error_t error;
    rill_submit_job_t jobs[2] = {submitted(id1, "demo", NULL), submitted(id2, "demo", NULL)};
    follow_subscription(broker, 1, follow);
    follow_subscription(broker, 1, other);
    CHECK(rill_broker_submit_followed(broker, jobs, 2, "", follow, ids, flush_ms, &error) == 0);
    rill_submit_job_t joined[1] = {submitted(id3, "demo", NULL)};
    CHECK(rill_broker_submit_followed(broker, joined, 1, "", other, ids, flush_ms, &error) == 0);
    rill_worker_t *worker = hello(broker, "w1", 3);
    rill_broker_dispatch(broker);
    rill_job_t *first = rill_job_table_find(broker->jobs, id1);

    /* One pass: parts of two jobs of one follower, one of another's. */
    forget_recorded();
    part(broker, worker, id1, 1);
    part(broker, worker, id2, 1);
    part(broker, worker, id1, 2);
    part(broker, worker, id3, 1);
    part(broker, worker, id2, 2);
    CHECK(fake.message_count == 0);
    uint64_t messages = broker->counters->event_messages;
    rill_events_flush(broker);
    CHECKF(fake.message_count == 2 && fake.published_count == 5, "%zu %zu", fake.message_count,
           fake.published_count);
    CHECK(broker->counters->event_messages == messages + 2);
    const char *order[4][2] = {{id1, "1"}, {id2, "1"}, {id1, "2"}, {id2, "2"}};
    for (size_t i = 0; i < 4; i++) {
        const published_t *event = &fake.published[i];
        CHECKF(strcmp(event->follow, follow) == 0 && strcmp(event->subject + 1, order[i][0]) == 0 &&
                   event->seq == strtoull(order[i][1], NULL, 10) && event->message == 0 && event->batch == 4,
               "event %zu: %s %s %llu", i, event->follow, event->subject, (unsigned long long)event->seq);
    }
    CHECK(strcmp(fake.published[4].follow, other) == 0 && strcmp(fake.published[4].subject + 1, id3) == 0 &&
          fake.published[4].message == 1 && fake.published[4].batch == 1);
    /* Retention keeps each event's own data, as before. */
    CHECK(rill_retention_count(first->retention) == 2 && rill_retention_bytes(first->retention) == 4);
    rill_retained_event_t *kept = rill_retention_at(first->retention, 1);
    CHECK(kept->seq == 2 && rill_retained_size(kept) == 2 && memcmp(rill_retained_data(kept), "{}", 2) == 0);
    /* Nothing left: a second flush sends nothing. */
    rill_events_flush(broker);
    CHECK(fake.message_count == 2);

    /* More than a batch holds: 64, then the rest. */
    forget_recorded();
    for (uint64_t seq = 3; seq < 3 + RILL_EVENT_BATCH_MAX_EVENTS + 6; seq++)
        part(broker, worker, id1, seq);
    rill_events_flush(broker);
    CHECKF(fake.message_count == 2 && fake.published_count == RILL_EVENT_BATCH_MAX_EVENTS + 6, "%zu",
           fake.message_count);
    CHECK(fake.published[RILL_EVENT_BATCH_MAX_EVENTS - 1].message == 0 &&
          fake.published[RILL_EVENT_BATCH_MAX_EVENTS].message == 1 &&
          fake.published[RILL_EVENT_BATCH_MAX_EVENTS].seq == 3 + RILL_EVENT_BATCH_MAX_EVENTS);
    uint64_t seq = 3 + RILL_EVENT_BATCH_MAX_EVENTS + 6;

    /* The byte bound (never above max_message_bytes), and an event too
     * large for any batch: alone, in its place. */
    broker->config.max_message_bytes = RILL_EVENT_BATCH_HEADER_MAX + 300;
    forget_recorded();
    part(broker, worker, id1, seq++); /* ~70 bytes an entry: 4 fit in 300 */
    part(broker, worker, id1, seq++);
    part(broker, worker, id1, seq++);
    part(broker, worker, id1, seq++);
    part(broker, worker, id1, seq++);
    char big[600];
    memset(big, 'a', sizeof(big));
    big[0] = '"';
    big[sizeof(big) - 1] = '"';
    rill_broker_part(broker, worker, rill_frame_from_string(id1), seq++, big, sizeof(big));
    part(broker, worker, id1, seq++);
    rill_events_flush(broker);
    CHECKF(fake.message_count == 4 && fake.published_count == 7, "%zu %zu", fake.message_count,
           fake.published_count);
    CHECK(fake.published[3].message == 0 && fake.published[4].message == 1 && fake.published[4].batch == 1);
    CHECK(fake.published[5].message == 2 && fake.published[5].batch == 0 &&
          strcmp(fake.published[5].follow, follow) == 0 && fake.published[5].data[1] == 'a');
    CHECK(fake.published[6].message == 3 && fake.published[6].seq == seq - 1);
    for (size_t i = 1; i < 7; i++)
        CHECK(fake.published[i].seq == fake.published[i - 1].seq + 1);

    /* A subscriber of j<id> gets the event alone; the follower in its batch. */
    broker->config.max_message_bytes = 16u << 20;
    subscription(broker, 1, id1);
    forget_recorded();
    part(broker, worker, id1, seq++);
    part(broker, worker, id1, seq++);
    CHECK(fake.message_count == 2 && fake.published[0].follow[0] == '\0' && fake.published[0].batch == 0);
    rill_events_flush(broker);
    CHECK(fake.message_count == 3 && fake.published_count == 4 && fake.published[2].batch == 2 &&
          strcmp(fake.published[3].follow, follow) == 0);
    finish(&broker);
}

int main(void)
{
    rill_log_set_level_name("error");
    test_refusals();
    test_a_job_from_submit_to_done();
    test_joins();
    test_retry_and_worker_gone();
    test_ordered_batch_retry();
    test_endings();
    test_orphan_grace();
    test_flow();
    test_barrier();
    test_topic();
    test_syncs();
    test_direct_delivery();
    test_follower_batches();
    RILL_TEST_END();
}
