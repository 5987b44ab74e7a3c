/* test_worker_sessions.c - rill/4's worker sessions without sockets
 * (docs/PROTOCOL.md, "Worker sessions"): parts with the worker's seqs
 * (duplicates dropped, a jump becomes a gap, a stale sender is told to
 * CANCEL), HELLO of a known session (idempotent, or a reconnect), adoption
 * and cancellation of the jobs a worker reports, credit after a re-join,
 * retry backoff, losses that do not count, the recovery window and REJOIN
 * once per heartbeat; driven through the fake outbox. */
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEARTBEAT_MS 1000

static const char *id1 = "00000000000000000000000000000001";
static const char *id2 = "00000000000000000000000000000002";
static const char *session1 = "5e5510000000000000000000000000a1";
static const char *session2 = "5e5510000000000000000000000000a2";

static rill_broker_t *new_broker(uint64_t backoff_ms, int recovering)
{
    rill_config_t config;
    rill_config_defaults(&config);
    config.heartbeat_ms = HEARTBEAT_MS;
    config.retries = 1;
    config.retry_backoff_ms = backoff_ms;
    rill_outbox_t outbox = fake_outbox();
    char error[128];
    rill_broker_t *broker = rill_broker_new(&config, &outbox, error, sizeof(error));
    CHECKF(broker != NULL, "%s", error);
    if (!recovering)
        rill_broker_end_recovery(broker);
    return broker;
}

static void finish(rill_broker_t **broker)
{
    rill_broker_destroy(broker);
    forget_recorded();
}

/* HELLO from routing with session, credit and the jobs it runs. */
static rill_worker_t *hello(rill_broker_t *broker, const char *routing_text, const char *session, uint64_t credit,
                            rill_hello_job_t *jobs, size_t job_count)
{
    rill_hello_t message = {.name = routing_text, .host = "test", .pid = 1, .kind_count = 1, .kinds = {"demo"},
                            .credit = credit, .session = session, .jobs = jobs, .job_count = job_count};
    rill_frame_t routing = rill_frame_from_string(routing_text);
    rill_broker_worker_hello(broker, &routing, &message);
    return rill_worker_pool_find(broker->pool, routing.data, routing.size);
}

/* The last WELCOME sent to routing, decoded (release it). */
static int last_welcome(const char *routing, rill_welcome_t *welcome)
{
    const sent_t *sent = last_command(routing, RILL_COMMAND_WELCOME);
    if (sent == NULL)
        return -1;
    return rill_welcome_decode(sent->frames[0], strlen(sent->frames[0]), welcome, NULL, 0);
}

static rill_job_t *submit_one(rill_broker_t *broker, const char *id)
{
    rill_submit_job_t job;
    memset(&job, 0, sizeof(job));
    snprintf(job.id, sizeof(job.id), "%s", id);
    job.kind = "demo";
    job.detach = 1;
    char ids[1][RILL_ID_TEXT_SIZE];
    uint64_t flush_ms[1];
    rill_broker_error_t error;
    CHECK(rill_broker_submit(broker, &job, 1, "", ids, flush_ms, &error) == 0);
    return rill_job_table_find(broker->jobs, id);
}

/* PART id seq {"i":seq} from worker. */
static void part(rill_broker_t *broker, rill_worker_t *worker, const char *id, uint64_t seq)
{
    char text[32];
    int length = snprintf(text, sizeof(text), "{\"i\":%llu}", (unsigned long long)seq);
    rill_broker_part(broker, worker, rill_frame_from_string(id), seq, text, (size_t)length);
}

static size_t count_commands(const char *routing, rill_command_t command)
{
    size_t count = 0;
    for (size_t i = 0; i < fake.command_count; i++)
        count += fake.commands[i].command == command && strcmp(fake.commands[i].routing, routing) == 0;
    return count;
}

/* Parts: the sender's seq is checked; a jump is a gap event first; a part
 * from a worker that does not run the job is stale and costs it a CANCEL,
 * once per heartbeat. */
static void test_part_seqs(void)
{
    rill_broker_t *broker = new_broker(0, 0);
    rill_job_t *job = submit_one(broker, id1);
    rill_worker_t *w1 = hello(broker, "w1", session1, 1, NULL, 0);
    rill_worker_t *w2 = hello(broker, "w2", session2, 1, NULL, 0);
    rill_broker_dispatch(broker);
    CHECK(job->worker == w1 || job->worker == w2);
    rill_worker_t *runner = job->worker, *other = job->worker == w1 ? w2 : w1;
    forget_recorded();
    part(broker, runner, id1, 1);
    part(broker, runner, id1, 1); /* re-sent after a re-join */
    part(broker, runner, id1, 4); /* 2 and 3 fell out of its hold ring */
    part(broker, runner, id1, 5);
    CHECK(fake.published_count == 4 && broker->counters->parts_duplicate == 1 && broker->counters->part_gaps == 1);
    CHECK(strcmp(fake.published[0].event, "part") == 0 && fake.published[0].seq == 1);
    CHECKF(strcmp(fake.published[1].event, "gap") == 0 && fake.published[1].seq == 3 &&
               strcmp(fake.published[1].data, "{\"from\":2,\"to\":3}") == 0,
           "%s %llu %s", fake.published[1].event, (unsigned long long)fake.published[1].seq, fake.published[1].data);
    CHECK(strcmp(fake.published[2].event, "part") == 0 && fake.published[2].seq == 4 &&
          strcmp(fake.published[2].data, "{\"i\":4}") == 0);
    CHECK(fake.published[3].seq == 5 && job->last_seq == 5 && job->parts == 3);
    CHECK(rill_retention_count(job->retention) == 4);

    /* The other worker does not run it: dropped, counted, one CANCEL. */
    part(broker, other, id1, 6);
    part(broker, other, id1, 7);
    part(broker, other, "0000000000000000000000000000dead", 1); /* a job nobody knows */
    CHECK(fake.published_count == 4 && broker->counters->parts_stale == 3 && job->last_seq == 5);
    CHECK(count_commands(other->name, RILL_COMMAND_CANCEL) == 2);
    const sent_t *cancel = last_command(other->name, RILL_COMMAND_CANCEL);
    CHECK(cancel != NULL && strcmp(cancel->frames[0], "0000000000000000000000000000dead") == 0);
    /* A heartbeat later, still at it: CANCEL again. */
    char key[600];
    snprintf(key, sizeof(key), "%s/%s", other->key, id1);
    CHECK(rill_peer_log_allow_every(broker->stale_log, key, rill_clock_monotonic_ms(), HEARTBEAT_MS) == 0);
    rill_peer_log_prune(broker->stale_log, rill_clock_monotonic_ms() + 2 * RILL_PEER_LOG_WINDOW_MS);
    part(broker, other, id1, 8);
    CHECK(count_commands(other->name, RILL_COMMAND_CANCEL) == 3);
    finish(&broker);
}

/* HELLO of a known session: the same worker, idempotently; on another
 * routing id the worker reconnected and its record moves there. */
static void test_session_hello(void)
{
    rill_broker_t *broker = new_broker(0, 0);
    rill_job_t *job = submit_one(broker, id1);
    rill_job_t *second = submit_one(broker, id2);
    rill_worker_t *worker = hello(broker, "w1", session1, 2, NULL, 0);
    rill_broker_dispatch(broker);
    CHECK(job->worker == worker && second->worker == worker && worker->credit == 0);
    part(broker, worker, id1, 1);
    forget_recorded();

    /* Twice the same HELLO, the first job listed (the second one's BATCH
     * may still be on its way): nothing changes but what it says. */
    rill_hello_job_t running = {.id = id1, .kind = "demo", .attempt = 1, .seq = 3, .first = 1};
    for (int i = 0; i < 2; i++) {
        CHECK(hello(broker, "w1", session1, 2, &running, 1) == worker);
        rill_welcome_t welcome;
        CHECK(last_welcome("w1", &welcome) == 0);
        CHECK(welcome.adopted_count == 1 && strcmp(welcome.adopted[0].id, id1) == 0 &&
              welcome.adopted[0].last_seq == 1 && welcome.cancelled_count == 0);
        rill_welcome_release(&welcome);
    }
    CHECK(rill_worker_pool_size(broker->pool) == 1 && broker->counters->workers_joined == 1 &&
          broker->counters->workers_rejoined == 2 && broker->counters->workers_alive == 1);
    CHECK(job->worker == worker && second->worker == worker && worker->held == 2 && worker->credit == 0);
    CHECK(fake.published_count == 0 && broker->counters->jobs_adopted == 0);

    /* Reconnected on another routing id: the record moves; the job it does
     * not list was lost on the old connection, re-queued without counting. */
    CHECK(hello(broker, "w1-again", session1, 2, &running, 1) == worker);
    CHECK(rill_worker_pool_find(broker->pool, (const uint8_t *)"w1", 2) == NULL);
    CHECK(strcmp(worker->name, "w1-again") == 0 && rill_worker_pool_size(broker->pool) == 1);
    CHECK(job->worker == worker && job->state == RILL_JOB_RUNNING);
    CHECK(second->state == RILL_JOB_QUEUED && second->losses == 0 && second->attempt == 2);
    CHECK(worker->held == 1 && worker->credit == 1);
    rill_welcome_t welcome;
    CHECK(last_welcome("w1-again", &welcome) == 0 && welcome.adopted_count == 1);
    rill_welcome_release(&welcome);
    /* Its parts are heard on the new id. */
    part(broker, worker, id1, 2);
    CHECK(job->last_seq == 2 && broker->counters->parts_stale == 0);

    /* The same routing id with a new session: the worker started over, its
     * jobs are lost (counted). */
    rill_worker_t *fresh = hello(broker, "w1-again", session2, 2, NULL, 0);
    CHECK(fresh != NULL && job->state == RILL_JOB_QUEUED && job->losses == 1);
    CHECK(broker->counters->workers_lost == 1 && rill_worker_pool_size(broker->pool) == 1);
    finish(&broker);
}

/* A worker declared dead comes back with its job: adopted when the job was
 * not dispatched again (its loss forgiven, no retry event); cancelled on it
 * when another attempt runs elsewhere. */
static void test_adoption(void)
{
    rill_broker_t *broker = new_broker(0, 0);
    rill_job_t *job = submit_one(broker, id1);
    rill_worker_t *w1 = hello(broker, "w1", session1, 1, NULL, 0);
    rill_broker_dispatch(broker);
    part(broker, w1, id1, 1);
    part(broker, w1, id1, 2);
    rill_broker_worker_gone(broker, w1, "died: silent", 1);
    CHECK(job->state == RILL_JOB_QUEUED && job->losses == 1 && job->attempt == 2 && job->retry_reason != NULL);
    forget_recorded();
    job->paused = 1; /* every listener behind (FLOW: test_job_life.c) */
    /* Back on a new connection, same session: it ran attempt 1 up to seq 5. */
    rill_hello_job_t running = {.id = id1, .kind = "demo", .attempt = 1, .seq = 5, .first = 1};
    w1 = hello(broker, "w1b", session1, 1, &running, 1);
    CHECK(w1 != NULL && job->worker == w1 && job->state == RILL_JOB_RUNNING);
    CHECK(job->attempt == 1 && job->losses == 0 && job->retry_reason == NULL && w1->credit == 0);
    CHECK(fake.published_count == 0 && broker->counters->jobs_adopted == 1 && broker->counters->jobs_retried == 0);
    rill_welcome_t welcome;
    CHECK(last_welcome("w1b", &welcome) == 0 && welcome.adopted_count == 1 && welcome.adopted[0].last_seq == 2);
    rill_welcome_release(&welcome);
    /* Adopted while paused: its worker hears it again. */
    CHECK(count_commands("w1b", RILL_COMMAND_PAUSE) == 1 && last_command("w1b", RILL_COMMAND_PAUSE) != NULL &&
          strcmp(last_command("w1b", RILL_COMMAND_PAUSE)->frames[1], "1") == 0);
    job->paused = 0;
    /* It re-sends what the broker lacks; the seqs go on. */
    part(broker, w1, id1, 3);
    CHECK(job->last_seq == 3 && fake.published_count == 1 && fake.published[0].seq == 3);

    /* Lost again, but this time retried on w2 before w1 came back. */
    rill_broker_worker_gone(broker, w1, "died: silent", 1);
    rill_worker_t *w2 = hello(broker, "w2", session2, 1, NULL, 0);
    rill_broker_dispatch(broker);
    CHECK(job->worker == w2 && job->attempt == 2 && job->dispatched_attempt == 2);
    CHECK(strcmp(last_published()->event, "retry") == 0 && last_published()->seq == 4);
    running.seq = 9;
    w1 = hello(broker, "w1c", session1, 1, &running, 1);
    CHECK(last_welcome("w1c", &welcome) == 0 && welcome.adopted_count == 0 && welcome.cancelled_count == 1 &&
          strcmp(welcome.cancelled[0], id1) == 0);
    rill_welcome_release(&welcome);
    CHECK(job->worker == w2 && w1->held == 0 && w1->credit == 1);
    /* Its parts in flight are stale: dropped, and it is told to stop. */
    size_t published = fake.published_count;
    part(broker, w1, id1, 6);
    CHECK(fake.published_count == published && last_command("w1c", RILL_COMMAND_CANCEL) != NULL);
    /* An ended job reported later is cancelled too. */
    rill_broker_end_job(broker, job, RILL_JOB_DONE, NULL, NULL, 0);
    running.attempt = 2;
    hello(broker, "w2", session2, 1, &running, 1);
    CHECK(last_welcome("w2", &welcome) == 0 && welcome.cancelled_count == 1);
    rill_welcome_release(&welcome);
    /* A job it does not know after the recovery window: cancelled. */
    rill_hello_job_t stranger = {.id = id2, .kind = "demo", .attempt = 1, .seq = 3, .first = 1};
    hello(broker, "w2", session2, 1, &stranger, 1);
    CHECK(last_welcome("w2", &welcome) == 0 && welcome.cancelled_count == 1 &&
          rill_job_table_find(broker->jobs, id2) == NULL);
    rill_welcome_release(&welcome);
    finish(&broker);
}

/* A worker re-joins saying it reached seq 9; only 3 and 4 come (its ring
 * lost the rest), then DONE: the receivers get a gap for 5..9 before done. */
static void test_end_after_lost_parts(void)
{
    rill_broker_t *broker = new_broker(0, 0);
    rill_job_t *job = submit_one(broker, id1);
    rill_worker_t *worker = hello(broker, "w1", session1, 1, NULL, 0);
    rill_broker_dispatch(broker);
    part(broker, worker, id1, 1);
    part(broker, worker, id1, 2);
    rill_hello_job_t running = {.id = id1, .kind = "demo", .attempt = 1, .seq = 9, .first = 3};
    hello(broker, "w1", session1, 1, &running, 1);
    part(broker, worker, id1, 3);
    part(broker, worker, id1, 4);
    forget_recorded();
    rill_broker_end_job(broker, job, RILL_JOB_DONE, NULL, NULL, 0);
    CHECK(fake.published_count == 2);
    CHECKF(strcmp(fake.published[0].event, "gap") == 0 && fake.published[0].seq == 9 &&
               strcmp(fake.published[0].data, "{\"from\":5,\"to\":9}") == 0,
           "%s %llu %s", fake.published[0].event, (unsigned long long)fake.published[0].seq, fake.published[0].data);
    CHECK(strcmp(fake.published[1].event, "done") == 0 && fake.published[1].seq == 10);
    finish(&broker);
}

/* Credit never leaks: a credit-1 worker that re-joins (its job adopted,
 * then done) takes jobs again. */
static void test_credit_after_rejoin(void)
{
    rill_broker_t *broker = new_broker(0, 0);
    rill_job_t *job = submit_one(broker, id1);
    rill_worker_t *worker = hello(broker, "w1", session1, 1, NULL, 0);
    rill_broker_dispatch(broker);
    CHECK(worker->credit == 0 && worker->capacity == 1);
    rill_broker_worker_gone(broker, worker, "died: silent", 1);
    rill_hello_job_t running = {.id = id1, .kind = "demo", .attempt = 1, .seq = 0, .first = 1};
    worker = hello(broker, "w1", session1, 1, &running, 1);
    CHECK(job->worker == worker && worker->credit == 0 && worker->held == 1);
    /* Said again (its HELLO crossed the WELCOME): still 0, not -1 or 1. */
    hello(broker, "w1", session1, 1, &running, 1);
    CHECK(worker->credit == 0 && worker->held == 1);
    rill_broker_end_job(broker, job, RILL_JOB_DONE, NULL, NULL, 0);
    CHECK(worker->credit == 1 && worker->held == 0);
    rill_job_t *next = submit_one(broker, id2);
    rill_broker_dispatch(broker);
    CHECK(next->worker == worker && worker->credit == 0);
    /* A HELLO listing nothing while it holds a job (its BATCH on the way):
     * the job stays, its credit stays taken. */
    hello(broker, "w1", session1, 1, NULL, 0);
    CHECK(next->worker == worker && worker->credit == 0);
    /* CREDIT grows its capacity. */
    rill_broker_worker_credit(broker, worker, 2);
    CHECK(worker->capacity == 3 && worker->credit == 2);
    finish(&broker);
}

/* A lost job waits retry_backoff_ms before its next dispatch, doubled per
 * loss, at most 10 s; a job handed back does not wait. */
static void test_retry_backoff(void)
{
    rill_broker_t *broker = new_broker(500, 0);
    broker->config.retries = 10;
    rill_job_t *job = submit_one(broker, id1);
    job->retries = 10;
    rill_worker_t *worker = hello(broker, "w1", session1, 1, NULL, 0);
    rill_worker_t *other = hello(broker, "w2", session2, 1, NULL, 0);
    rill_broker_dispatch(broker);
    rill_worker_t *runner = job->worker;
    uint64_t before = rill_clock_monotonic_ms();
    rill_broker_worker_gone(broker, runner, "died: silent", 1);
    runner = runner == worker ? other : worker;
    CHECK(job->not_before_ms >= before + 500 && job->not_before_ms <= rill_clock_monotonic_ms() + 500);
    CHECK(rill_broker_next_due(broker) == job->not_before_ms);
    rill_broker_dispatch(broker);
    CHECK(job->state == RILL_JOB_QUEUED && broker->next_retry_ms == job->not_before_ms);
    job->not_before_ms -= 500; /* the backoff is over */
    rill_broker_dispatch(broker);
    CHECK(job->state == RILL_JOB_RUNNING && job->worker == runner && broker->next_retry_ms == UINT64_MAX);
    before = rill_clock_monotonic_ms();
    rill_broker_worker_gone(broker, runner, "died: silent", 1);
    CHECK(job->losses == 2 && job->not_before_ms >= before + 1000 && job->not_before_ms <= before + 1100);
    job->losses = 8;
    rill_broker_retry_job(broker, job, "worker_lost", 1);
    CHECK(job->not_before_ms >= before + RILL_BROKER_RETRY_BACKOFF_MAX_MS &&
          job->not_before_ms <= rill_clock_monotonic_ms() + RILL_BROKER_RETRY_BACKOFF_MAX_MS);
    /* Handed back (draining): no wait, not counted. */
    job->not_before_ms = 0;
    rill_worker_t *again = hello(broker, "w3", "5e5510000000000000000000000000a3", 1, NULL, 0);
    rill_broker_dispatch(broker);
    CHECK(job->worker == again);
    rill_broker_unassign(broker, job, 1);
    rill_broker_retry_job(broker, job, "worker_left", 1);
    CHECK(job->not_before_ms == 0 && job->losses == 9);
    finish(&broker);
}

/* Attempts lost while the broker heard no worker at all do not count; nor
 * does a pause of the broker itself make its workers look dead. */
static void test_losses_that_do_not_count(void)
{
    rill_broker_t *broker = new_broker(0, 0);
    rill_job_t *job = submit_one(broker, id1);
    rill_job_t *second = submit_one(broker, id2);
    rill_worker_t *w1 = hello(broker, "w1", session1, 1, NULL, 0);
    rill_worker_t *w2 = hello(broker, "w2", session2, 1, NULL, 0);
    rill_broker_dispatch(broker);
    CHECK(job->state == RILL_JOB_RUNNING && second->state == RILL_JOB_RUNNING);
    uint64_t now = rill_clock_monotonic_ms();
    /* Both silent for 3 heartbeats: the broker was cut off. */
    w1->last_seen_ms = w2->last_seen_ms = now - 3 * HEARTBEAT_MS - 1;
    rill_broker_bury_silent_workers(broker, now);
    CHECK(rill_worker_pool_size(broker->pool) == 0 && broker->counters->workers_lost == 2);
    CHECK(job->state == RILL_JOB_QUEUED && job->losses == 0 && second->losses == 0 && job->attempt == 2);
    CHECK(broker->cut_off);
    /* They wait for the workers cut off with them: not while no worker
     * is heard, nor for two heartbeats after the first word from one (two
     * new workers join, not reporting them: still queued). */
    w1 = hello(broker, "w1", session1, 1, NULL, 0);
    rill_broker_dispatch(broker);
    CHECK(job->state == RILL_JOB_QUEUED && second->state == RILL_JOB_QUEUED);
    rill_frame_t routing_w1 = rill_frame_from_string("w1");
    uint64_t heard_at = rill_clock_monotonic_ms();
    CHECK(rill_broker_worker_heard(broker, &routing_w1) == w1 && !broker->cut_off &&
          broker->cut_hold_until_ms >= heard_at + 2 * HEARTBEAT_MS);
    w2 = hello(broker, "w2", session2, 1, NULL, 0);
    rill_broker_dispatch(broker);
    CHECK(job->state == RILL_JOB_QUEUED && second->state == RILL_JOB_QUEUED &&
          broker->next_retry_ms == broker->cut_hold_until_ms);
    broker->cut_hold_until_ms = rill_clock_monotonic_ms(); /* the two heartbeats passed */
    rill_broker_dispatch(broker);
    CHECK(job->state == RILL_JOB_RUNNING && second->state == RILL_JOB_RUNNING);
    /* One silent, one heard: the silent one's job counts. */
    rill_job_t *on_w1 = job->worker == w1 ? job : second;
    w1->last_seen_ms = now - 3 * HEARTBEAT_MS - 1;
    w2->last_seen_ms = now - HEARTBEAT_MS;
    rill_broker_bury_silent_workers(broker, now);
    CHECK(rill_worker_pool_size(broker->pool) == 1 && on_w1->losses == 1 && !broker->cut_off);
    /* The broker's own loop stopped for 5 s: its worker is not buried. */
    broker->last_tick_ms = now;
    w2->last_seen_ms = now;
    rill_broker_tick(broker, now + 5000);
    CHECK(rill_worker_pool_size(broker->pool) == 1 && w2->last_seen_ms == now + 5000);
    finish(&broker);
}

/* The workers of one cut cross their dead windows one after another: the
 * first one buried, while the other is silent too but not yet past its
 * window, is a cut all the same (its job's loss does not count). */
static void test_cut_workers_buried_one_by_one(void)
{
    rill_broker_t *broker = new_broker(0, 0);
    rill_job_t *job = submit_one(broker, id1);
    rill_worker_t *w1 = hello(broker, "w1", session1, 1, NULL, 0);
    rill_broker_dispatch(broker);
    rill_worker_t *w2 = hello(broker, "w2", session2, 1, NULL, 0);
    CHECK(job->worker == w1);
    uint64_t now = rill_clock_monotonic_ms();
    w1->last_seen_ms = now - 3 * HEARTBEAT_MS - 1;
    w2->last_seen_ms = now - 2 * HEARTBEAT_MS;
    rill_broker_bury_silent_workers(broker, now);
    CHECK(rill_worker_pool_size(broker->pool) == 1 && job->state == RILL_JOB_QUEUED && job->losses == 0 &&
          broker->cut_off);
    finish(&broker);
}

/* A restarted broker: during its recovery window an unknown job is
 * "unavailable", and a worker's report of one creates it, running there,
 * going on after the worker's oldest held part. */
static void test_recovery(void)
{
    rill_broker_t *broker = new_broker(0, 1);
    CHECK(rill_broker_recovering(broker, rill_clock_monotonic_ms()));
    rill_broker_error_t error;
    CHECK(rill_broker_status(broker, rill_frame_from_string(id1), &error) == NULL &&
          strcmp(error.code, "unavailable") == 0 && strcmp(error.message, "recovering") == 0);
    CHECK(rill_broker_cancel(broker, rill_frame_from_string(id1), &error) == NULL &&
          strcmp(error.code, "unavailable") == 0);
    rill_frame_t routing = rill_frame_from_string("frontend");
    rill_held_fetch(broker, &routing, rill_frame_from_string("r1"), "", "j00000000000000000000000000000001", 0);
    CHECK(fake.reply_count == 1 && fake.replies[0].command == RILL_COMMAND_ERROR &&
          strcmp(fake.replies[0].frames[1], "unavailable") == 0 && strcmp(fake.replies[0].frames[2], "recovering") == 0);

    rill_hello_job_t running = {.id = id1, .kind = "demo", .source = "app", .who = "alice", .attempt = 2,
                                .seq = 120, .first = 21};
    rill_worker_t *worker = hello(broker, "w1", session1, 2, &running, 1);
    rill_job_t *job = rill_job_table_find(broker->jobs, id1);
    CHECK(job != NULL && job->worker == worker && job->state == RILL_JOB_RUNNING && !job->detached);
    CHECK(job->last_seq == 20 && job->attempt == 2 && strcmp(job->source, "app") == 0 &&
          strcmp(job->who, "alice") == 0 && worker->credit == 1);
    rill_welcome_t welcome;
    CHECK(last_welcome("w1", &welcome) == 0 && welcome.adopted_count == 1 && welcome.adopted[0].last_seq == 20);
    rill_welcome_release(&welcome);
    part(broker, worker, id1, 21);
    CHECK(last_published()->seq == 21 && job->last_seq == 21);
    /* Its SUBMIT, in flight to the broker that died, asked again of this
     * one (rill/9): the same job, whatever its args (a report names none);
     * another kind is refused. */
    rill_submit_job_t again;
    memset(&again, 0, sizeof(again));
    snprintf(again.id, sizeof(again.id), "%s", id1);
    again.kind = "demo";
    again.args = "{\"parts\":40}";
    again.args_length = strlen(again.args);
    char ids[1][RILL_ID_TEXT_SIZE];
    uint64_t flush_ms[1];
    CHECK(rill_broker_submit(broker, &again, 1, "", ids, flush_ms, &error) == 0 && strcmp(ids[0], id1) == 0);
    CHECK(rill_job_table_find(broker->jobs, id1) == job && job->worker == worker && job->last_seq == 21);
    again.kind = "tail";
    CHECK(rill_broker_submit(broker, &again, 1, "", ids, flush_ms, &error) == -1 && strcmp(error.code, "conflict") == 0);
    /* A kind the config does not declare is not taken on. */
    rill_hello_job_t odd = {.id = id2, .kind = "nope", .attempt = 1, .seq = 0, .first = 1};
    hello(broker, "w1", session1, 2, &odd, 1);
    CHECK(rill_job_table_find(broker->jobs, id2) == NULL);
    /* After the window: not_found again. */
    rill_broker_end_recovery(broker);
    CHECK(rill_broker_status(broker, rill_frame_from_string(id2), &error) == NULL &&
          strcmp(error.code, "not_found") == 0);
    finish(&broker);
}

/* An unknown routing id gets one REJOIN per heartbeat, however many
 * messages it had queued. */
static void test_rejoin_once(void)
{
    rill_broker_t *broker = new_broker(0, 0);
    rill_frame_t routing = rill_frame_from_string("ghost");
    for (int i = 0; i < 100; i++)
        rill_broker_worker_unknown(broker, &routing, RILL_COMMAND_PART);
    CHECK(count_commands("ghost", RILL_COMMAND_REJOIN) == 1);
    rill_frame_t other = rill_frame_from_string("ghost2");
    rill_broker_worker_unknown(broker, &other, RILL_COMMAND_PING);
    CHECK(count_commands("ghost2", RILL_COMMAND_REJOIN) == 1);
    rill_peer_log_prune(broker->rejoin_log, rill_clock_monotonic_ms() + 2 * RILL_PEER_LOG_WINDOW_MS);
    rill_broker_worker_unknown(broker, &routing, RILL_COMMAND_PING);
    CHECK(count_commands("ghost", RILL_COMMAND_REJOIN) == 2);
    finish(&broker);
}

int main(void)
{
    rill_log_set_level_name("error");
    test_part_seqs();
    test_session_hello();
    test_adoption();
    test_end_after_lost_parts();
    test_credit_after_rejoin();
    test_retry_backoff();
    test_losses_that_do_not_count();
    test_cut_workers_buried_one_by_one();
    test_recovery();
    test_rejoin_once();
    RILL_TEST_END();
}
