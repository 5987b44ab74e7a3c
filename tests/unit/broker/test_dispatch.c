/* test_dispatch.c - dispatch.c through the fake outbox: the ready queue's
 * batches of one job leave as one BATCH message per worker and pass
 * (rill/7), a pass's jobs stay with one worker while the load allows, a message that cannot go leaves its jobs queued with their
 * credit given back, and a pipeline's batch still goes alone. */
#include "dispatch.h"
#include "fake_outbox.h"
#include "job_life.h"
#include "rill_log.h"
#include "rill_messages.h"
#include "rill_test.h"
#include "worker_life.h"

#include <stdio.h>
#include <string.h>

/* Declares kind name with a pipeline of its own, buffers of two jobs, one
 * batch of a group in flight; the caller sets what differs. */
static rill_pipeline_config_t *add_pipeline(rill_config_t *config, const char *name)
{
    snprintf(config->kinds[config->kind_count++], RILL_CONFIG_KIND_NAME_MAX, "%s", name);
    rill_pipeline_config_t *pipeline = fake_add_pipeline(config, name, name);
    pipeline->mode = RILL_PIPELINE_ORDERED;
    pipeline->buffer_max = 2;
    return pipeline;
}

static rill_broker_t *new_broker(void)
{
    rill_config_t config;
    rill_config_defaults(&config);
    config.max_jobs_per_request = 64;
    config.retry_backoff_ms = 0; /* a lost batch goes again at once */
    add_pipeline(&config, "inorder")->retries = 2;
    add_pipeline(&config, "grouped")->buffer_ms = 60000;
    return fake_outbox_broker(&config);
}

static rill_worker_t *hello(rill_broker_t *broker, const char *name, uint64_t credit)
{
    char session[RILL_ID_TEXT_SIZE];
    snprintf(session, sizeof(session), "%032x", (unsigned)name[0] << 8 | (unsigned)name[1]);
    rill_hello_t message = {.name = name, .host = "test", .pid = 1, .kind_count = 3,
                            .kinds = {"demo", "grouped", "inorder"}, .credit = credit, .session = session};
    rill_frame_t routing = rill_frame_from_string(name);
    rill_broker_worker_hello(broker, &routing, &message);
    return rill_worker_pool_find(broker->pool, routing.data, routing.size);
}

/* count jobs of kind in one SUBMIT, ids ...01, ...02, ... after first. */
static void submit(rill_broker_t *broker, const char *kind, size_t first, size_t count)
{
    rill_submit_job_t jobs[64];
    char ids[64][RILL_ID_TEXT_SIZE];
    uint64_t flush_ms[64];
    for (size_t i = 0; i < count; i++) {
        memset(&jobs[i], 0, sizeof(jobs[i]));
        snprintf(jobs[i].id, sizeof(jobs[i].id), "%032zx", first + i);
        jobs[i].kind = kind;
    }
    rill_broker_error_t error;
    CHECKF(rill_broker_submit(broker, jobs, count, "", ids, flush_ms, &error) == 0, "%s", error.message);
}

/* The BATCH messages recorded since index from: how many, and their frames. */
static size_t batch_messages(size_t from, const char *routing, size_t *frames)
{
    size_t messages = 0;
    *frames = 0;
    for (size_t i = from; i < fake.command_count; i++) {
        if (fake.commands[i].command != RILL_COMMAND_BATCH || strcmp(fake.commands[i].routing, routing) != 0)
            continue;
        messages++;
        *frames += fake.commands[i].count;
    }
    return messages;
}

static void test_one_message_per_worker(void)
{
    rill_broker_t *broker = new_broker();
    rill_worker_t *w1 = hello(broker, "w1", 3);
    rill_worker_t *w2 = hello(broker, "w2", 3);
    size_t before = fake.command_count;
    submit(broker, "demo", 1, 4);
    rill_broker_dispatch(broker);
    size_t frames1 = 0, frames2 = 0;
    CHECK(batch_messages(before, "w1", &frames1) == 1 && batch_messages(before, "w2", &frames2) == 1);
    CHECKF(frames1 + frames2 == 4 && frames1 >= 1 && frames2 >= 1, "%zu + %zu batches", frames1, frames2);
    CHECK(w1->credit + w2->credit == 2 && w1->held + w2->held == 4 && w1->batches + w2->batches == 4);
    CHECK(broker->counters->batches == 4 && broker->counters->batch_jobs == 4);
    /* Each frame is a batch of one job, and that job runs on that worker. */
    int each_right = 1;
    for (size_t i = before; i < fake.command_count; i++) {
        const sent_t *sent = &fake.commands[i];
        if (sent->command != RILL_COMMAND_BATCH)
            continue;
        for (size_t frame = 0; frame < sent->count && frame < FRAMES_MAX; frame++) {
            rill_batch_t batch;
            if (rill_batch_decode(sent->frames[frame], strlen(sent->frames[frame]), &batch, NULL, 0) != 0) {
                each_right = 0;
                continue;
            }
            rill_job_t *job = batch.count == 1 ? rill_job_table_find(broker->jobs, batch.jobs[0].id) : NULL;
            each_right &= job != NULL && job->state == RILL_JOB_RUNNING && job->worker != NULL &&
                          strcmp(job->worker->name, sent->routing) == 0 && strcmp(job->batch, batch.batch_id) == 0;
            rill_batch_release(&batch);
        }
    }
    CHECK(each_right);
    rill_broker_destroy(&broker);
    forget_recorded();
}

/* With room on both, a request's jobs go to one worker, in one message;
 * the next request's to the other (it has more free credit then), and a
 * large pass alternates in runs, the load even to within 1/16 of a
 * worker's capacity (4 jobs of max_worker_credit's default 64). */
static void test_a_pass_stays_with_one_worker(void)
{
    rill_broker_t *broker = new_broker();
    rill_worker_t *w1 = hello(broker, "w1", 64);
    rill_worker_t *w2 = hello(broker, "w2", 64);
    size_t before = fake.command_count, frames1 = 0, frames2 = 0;
    submit(broker, "demo", 1, 4);
    rill_broker_dispatch(broker);
    size_t messages = batch_messages(before, "w1", &frames1) + batch_messages(before, "w2", &frames2);
    CHECKF(messages == 1 && frames1 + frames2 == 4, "%zu messages, %zu + %zu batches", messages, frames1,
           frames2);
    rill_worker_t *first = frames1 == 4 ? w1 : w2;
    rill_worker_t *other = first == w1 ? w2 : w1;
    before = fake.command_count;
    submit(broker, "demo", 5, 4);
    rill_broker_dispatch(broker);
    CHECK(other->held == 4 && first->held == 4 && fake.command_count == before + 1);
    submit(broker, "demo", 9, 60);
    rill_broker_dispatch(broker);
    uint64_t difference = w1->held > w2->held ? w1->held - w2->held : w2->held - w1->held;
    CHECKF(w1->held + w2->held == 68 && difference <= 5, "w1 holds %llu, w2 %llu",
           (unsigned long long)w1->held, (unsigned long long)w2->held);
    rill_broker_destroy(&broker);
    forget_recorded();
}

static void test_many_for_one_worker(void)
{
    rill_broker_t *broker = new_broker();
    rill_worker_t *w1 = hello(broker, "w1", 64);
    size_t before = fake.command_count;
    submit(broker, "demo", 1, 40);
    rill_broker_dispatch(broker);
    size_t frames = 0;
    CHECKF(batch_messages(before, "w1", &frames) == 2 && frames == 40, "%zu batches", frames);
    CHECK(fake.commands[fake.command_count - 2].count == RILL_BATCHES_PER_MESSAGE);
    CHECK(w1->credit == 24 && w1->held == 40);
    rill_broker_destroy(&broker);
    forget_recorded();
}

static void test_unreachable(void)
{
    rill_broker_t *broker = new_broker();
    hello(broker, "w1", 4);
    submit(broker, "demo", 1, 2);
    fake.workers_unreachable = 1;
    rill_broker_dispatch(broker);
    fake.workers_unreachable = 0;
    /* Not sent: the jobs wait in the queue, nothing started, the worker reaped. */
    rill_job_t *first = rill_job_table_find(broker->jobs, "00000000000000000000000000000001");
    rill_job_t *second = rill_job_table_find(broker->jobs, "00000000000000000000000000000002");
    CHECK(first != NULL && first->state == RILL_JOB_QUEUED && first->attempt == 1 && first->worker == NULL);
    CHECK(second != NULL && second->state == RILL_JOB_QUEUED && second->attempt == 1);
    CHECK(rill_ready_queue_first(broker->ready) == first && rill_worker_pool_size(broker->pool) == 0);
    CHECK(broker->dispatch_needed && broker->counters->batches == 0);
    /* The next worker gets both, in one message. */
    rill_worker_t *w2 = hello(broker, "w2", 4);
    size_t before = fake.command_count, frames = 0;
    rill_broker_dispatch(broker);
    CHECK(batch_messages(before, "w2", &frames) == 1 && frames == 2);
    CHECK(first->state == RILL_JOB_RUNNING && first->worker == w2 && second->worker == w2 && w2->credit == 2);
    rill_broker_destroy(&broker);
    forget_recorded();
}

static void test_pipeline_batch_alone(void)
{
    rill_broker_t *broker = new_broker();
    hello(broker, "w1", 8);
    size_t before = fake.command_count, frames = 0;
    submit(broker, "grouped", 1, 2); /* buffer_max 2: one batch of two */
    submit(broker, "demo", 3, 1);
    rill_broker_dispatch(broker);
    CHECK(batch_messages(before, "w1", &frames) == 2 && frames == 2);
    const sent_t *grouped = NULL;
    for (size_t i = before; i < fake.command_count; i++)
        if (fake.commands[i].command == RILL_COMMAND_BATCH && strstr(fake.commands[i].frames[0], "grouped"))
            grouped = &fake.commands[i];
    rill_batch_t batch;
    CHECK(grouped != NULL && grouped->count == 1 &&
          rill_batch_decode(grouped->frames[0], strlen(grouped->frames[0]), &batch, NULL, 0) == 0);
    CHECK(batch.count == 2);
    rill_batch_release(&batch);
    rill_broker_destroy(&broker);
    forget_recorded();
}

/* A lost ordered batch goes again whole, at once, and the pass then starts
 * over from the queue's head: a job held before it for the same worker is
 * sent once, not held a second time. */
static void test_held_once_across_an_ordered_retry(void)
{
    rill_broker_t *broker = new_broker();
    rill_worker_t *w1 = hello(broker, "w1", 3);
    submit(broker, "demo", 3, 1);    /* a batch of one, first */
    rill_broker_dispatch(broker);
    submit(broker, "inorder", 1, 2); /* then one ordered batch of two */
    rill_broker_dispatch(broker);
    CHECK(w1->held == 3 && w1->credit == 0);
    rill_broker_worker_gone(broker, w1, "died", 1); /* all three queued again */
    rill_worker_t *w2 = hello(broker, "w2", 5);
    size_t before = fake.command_count, frames = 0;
    rill_broker_dispatch(broker);
    CHECKF(batch_messages(before, "w2", &frames) == 2 && frames == 2, "%zu batches to w2", frames);
    rill_job_t *plain = rill_job_table_find(broker->jobs, "00000000000000000000000000000003");
    CHECK(plain != NULL && plain->state == RILL_JOB_RUNNING && plain->worker == w2);
    CHECKF(w2->held == 3 && w2->credit == 2, "w2 holds %llu, credit %llu", (unsigned long long)w2->held,
           (unsigned long long)w2->credit);
    rill_broker_destroy(&broker);
    forget_recorded();
}

int main(void)
{
    rill_log_set_level_name("error");
    test_one_message_per_worker();
    test_a_pass_stays_with_one_worker();
    test_many_for_one_worker();
    test_unreachable();
    test_pipeline_batch_alone();
    test_held_once_across_an_ordered_retry();
    RILL_TEST_END();
}
