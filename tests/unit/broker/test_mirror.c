/*
 * test_mirror.c - a standby's mirror end to end without sockets: an active
 * broker's changes (mirror_out.h) applied to a passive one (mirror_in.h),
 * then the passive's takeover (takeover.h) and a worker's re-join there.
 */
#include "dispatch.h"
#include "events.h"
#include "fake_outbox.h"
#include "job_life.h"
#include "listeners.h"
#include "mirror_in.h"
#include "mirror_out.h"
#include "rill_clock.h"
#include "rill_test.h"
#include "takeover.h"
#include "worker_life.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEARTBEAT_MS 100

static const char *id1 = "00000000000000000000000000000001";
static const char *id2 = "00000000000000000000000000000002";
static const char *follow = "dfollow-token-1/";

typedef struct {
    rill_broker_t *passive;
    rill_mirror_in_t in;
    int fail;      /* the next send fails (a full pipe) */
    size_t largest; /* the largest records frame sent */
    int broken;    /* an apply failed */
    size_t messages;
} link_t;

static int deliver(void *context, const rill_frame_t *arguments, size_t count)
{
    link_t *link = context;
    if (link->fail)
        return -1;
    uint64_t seq = 0;
    CHECK(count == 2 && rill_frame_to_u64(arguments[0], &seq) == 0);
    link->messages++;
    if (arguments[1].size > link->largest)
        link->largest = arguments[1].size;
    if (rill_mirror_in_apply(&link->in, link->passive, seq, arguments[1], rill_clock_monotonic_ms()) != 0)
        link->broken = 1;
    return 0;
}

static void flush_all(rill_mirror_out_t *out, rill_broker_t *active, link_t *link)
{
    for (int i = 0; i < 100 && rill_mirror_out_flush(out, active, deliver, link, rill_clock_monotonic_ms()); i++)
        ;
}

/* The defaults, with the pair's heartbeat of these tests. */
static rill_config_t pair_config(void)
{
    rill_config_t config;
    rill_config_defaults(&config);
    config.heartbeat_ms = HEARTBEAT_MS;
    return config;
}

static rill_broker_t *new_broker_sized(uint64_t max_message_bytes)
{
    rill_config_t config = pair_config();
    if (max_message_bytes != 0)
        config.max_message_bytes = max_message_bytes;
    return fake_outbox_broker(&config);
}

static rill_broker_t *new_broker(void)
{
    return new_broker_sized(0);
}

static rill_job_t *submit_one(rill_broker_t *broker, const char *id, int detach)
{
    rill_submit_job_t job;
    memset(&job, 0, sizeof(job));
    snprintf(job.id, sizeof(job.id), "%s", id);
    job.kind = "demo";
    job.detach = detach;
    char ids[1][RILL_ID_TEXT_SIZE];
    uint64_t flush_ms[1];
    rill_broker_error_t error;
    CHECK(rill_broker_submit(broker, &job, 1, "", ids, flush_ms, &error) == 0);
    return rill_job_table_find(broker->jobs, id);
}

static rill_worker_t *hello(rill_broker_t *broker, const char *name, rill_hello_job_t *jobs, size_t count)
{
    rill_hello_t message = {.name = name, .host = "test", .pid = 7, .kind_count = 1, .kinds = {"demo"},
                            .credit = 4, .session = "5e5510000000000000000000000000a1", .jobs = jobs,
                            .job_count = count};
    rill_frame_t routing = rill_frame_from_string(name);
    rill_broker_worker_hello(broker, &routing, &message);
    return rill_worker_pool_find(broker->pool, routing.data, routing.size);
}

static void part(rill_broker_t *broker, rill_worker_t *worker, const char *id, uint64_t seq)
{
    char text[32];
    int length = snprintf(text, sizeof(text), "{\"i\":%llu}", (unsigned long long)seq);
    rill_broker_part(broker, worker, rill_frame_from_string(id), seq, text, (size_t)length);
}

static void test_mirror_and_takeover(void)
{
    rill_broker_t *active = new_broker();
    link_t link = {.passive = new_broker()};
    rill_mirror_out_t out = {0};
    /* Jobs before the passive asked: the snapshot carries them. */
    rill_job_t *running = submit_one(active, id1, 1);
    rill_job_t *ended = submit_one(active, id2, 0);
    rill_broker_follow(active, ended, follow);
    rill_worker_t *worker = hello(active, "w1", NULL, 0);
    rill_broker_dispatch(active);
    CHECK(running->worker == worker && ended->worker == worker);
    part(active, worker, id1, 1);
    part(active, worker, id2, 1);
    part(active, worker, id2, 2);
    rill_broker_end_job(active, ended, RILL_JOB_DONE, NULL, NULL, 0);
    uint64_t seq = 0;
    CHECK(rill_events_publish_message(active, "news", 4, "{\"a\":1}", 7, &seq) == 0 && seq == 1);

    rill_mirror_out_start(&out, active);
    flush_all(&out, active, &link);
    rill_broker_t *passive = link.passive;
    CHECK(!link.broken && link.in.complete && strcmp(link.in.broker, active->instance_id) == 0);
    rill_job_t *copy = rill_job_table_find(passive->jobs, id1);
    CHECK(copy != NULL && copy->state == RILL_JOB_RUNNING && copy->last_seq == 1 && copy->detached);
    CHECK(copy != NULL && copy->worker_name != NULL && strcmp(copy->worker_name, "w1") == 0 && copy->worker == NULL);
    CHECK(copy != NULL && copy->dispatched_attempt == 1 && copy->attempt == 1);
    rill_job_t *copy2 = rill_job_table_find(passive->jobs, id2);
    CHECK(copy2 != NULL && copy2->state == RILL_JOB_DONE && copy2->last_seq == 3 && copy2->parts == 2);
    CHECK(copy2 != NULL && rill_retention_count(copy2->retention) == 3 &&
          rill_retention_at(copy2->retention, 2)->type == RILL_EVENT_DONE);
    CHECK(copy2 != NULL && copy2->followers.count == 1 && strcmp(copy2->followers.subjects[0].text, follow) == 0);
    rill_topic_t *topic = rill_topic_table_find(passive->topics, "news", 4);
    CHECK(topic != NULL && topic->last_seq == 1 && topic->retention != NULL &&
          rill_retention_count(topic->retention) == 1);
    /* The same numbering: a cursor of the active's topic resumes on the passive. */
    rill_topic_t *original = rill_topic_table_find(active->topics, "news", 4);
    CHECK(topic != NULL && original != NULL && strcmp(topic->epoch, original->epoch) == 0);
    /* Nothing was published by the passive. */
    CHECK(passive->counters->events_published == 0);

    /* Changes after the snapshot, one message per pass. */
    size_t before = link.messages;
    part(active, worker, id1, 2);
    part(active, worker, id1, 3);
    CHECK(rill_events_publish_message(active, "news", 4, "{\"a\":2}", 7, &seq) == 0 && seq == 2);
    CHECK(rill_mirror_out_flush(&out, active, deliver, &link, rill_clock_monotonic_ms()) == 0);
    CHECK(link.messages == before + 1 && !link.broken);
    CHECK(copy->last_seq == 3 && rill_retention_count(copy->retention) == 3);
    CHECK(topic->last_seq == 2 && rill_retention_count(topic->retention) == 2);
    /* Nothing changed: nothing sent. */
    CHECK(rill_mirror_out_flush(&out, active, deliver, &link, rill_clock_monotonic_ms()) == 0);
    CHECK(link.messages == before + 1);

    /* A forgotten job goes on the passive too. */
    rill_job_table_forget(active->jobs, rill_job_table_find(active->jobs, id2));
    flush_all(&out, active, &link);
    CHECK(rill_job_table_find(passive->jobs, id2) == NULL && !link.broken);

    /* A missed message breaks the mirror: the passive must ask again. */
    link.fail = 1;
    part(active, worker, id1, 4);
    CHECK(rill_mirror_out_flush(&out, active, deliver, &link, rill_clock_monotonic_ms()) == 0);
    CHECK(out.out_of_sync && rill_mirror_out_running(&out, active) && !active->mirror->on);
    link.fail = 0;
    rill_frame_t records = {(const uint8_t *)"P 6 0\nnews 9", 12};
    CHECK(rill_mirror_in_apply(&link.in, passive, out.seq + 5, records, rill_clock_monotonic_ms()) == -1);
    CHECK(!link.in.receiving);
    /* The resync a heartbeat later brings it back whole. */
    (void)rill_mirror_out_flush(&out, active, deliver, &link, rill_clock_monotonic_ms() + HEARTBEAT_MS);
    CHECK(!out.out_of_sync && out.snapshots == 2);
    flush_all(&out, active, &link);
    CHECK(link.in.receiving && link.in.complete && !link.broken);
    copy = rill_job_table_find(passive->jobs, id1);
    CHECK(copy != NULL && copy->last_seq == 4 && rill_retention_count(copy->retention) == 4);
    topic = rill_topic_table_find(passive->topics, "news", 4);
    CHECK(topic != NULL && topic->last_seq == 2);

    /* The takeover: the pair's identity, the job waits for its worker. */
    uint64_t now = rill_clock_monotonic_ms();
    rill_takeover_run(passive, link.in.broker, link.in.started_ms, now);
    CHECK(strcmp(passive->instance_id, active->instance_id) == 0 && strcmp(passive->own_id, active->own_id) != 0);
    CHECK(passive->started_wall_ms == active->started_wall_ms && rill_broker_recovering(passive, now));
    CHECK(copy->state == RILL_JOB_QUEUED && copy->retry_reason != NULL && copy->attempt == 2);
    rill_broker_dispatch(passive); /* no worker yet: nothing */
    forget_recorded();
    rill_hello_job_t reported = {.id = id1, .kind = "demo", .source = "demo", .who = NULL, .attempt = 1, .seq = 4,
                                 .first = 1};
    rill_worker_t *back = hello(passive, "w1b", &reported, 1);
    CHECK(back != NULL && copy->worker == back && copy->state == RILL_JOB_RUNNING && copy->attempt == 1);
    const sent_t *welcome = last_command("w1b", RILL_COMMAND_WELCOME);
    CHECKF(welcome != NULL && strstr(welcome->frames[0], "\"adopted\":{\"00000000000000000000000000000001\":4}"),
           "%s", welcome != NULL ? welcome->frames[0] : "(none)");
    CHECK(welcome != NULL && strstr(welcome->frames[0], active->instance_id) != NULL);
    /* The job goes on at seq 5, no retry event. */
    part(passive, back, id1, 5);
    CHECK(copy->last_seq == 5 && fake.published_count >= 1 && strcmp(last_published()->event, "part") == 0);
    for (size_t i = 0; i < fake.published_count; i++)
        CHECK(strcmp(fake.published[i].event, "retry") != 0);

    /* The old active yields (two actives): it forgets everything, and
     * its gauges say so. */
    CHECK(rill_job_table_size(active->jobs) == 1 && active->counters->workers_alive == 1);
    rill_takeover_yield(active);
    CHECK(rill_job_table_size(active->jobs) == 0 && rill_worker_pool_size(active->pool) == 0);
    CHECK(rill_topic_table_size(active->topics) == 0 && active->counters->workers_alive == 0);
    CHECK(active->counters->jobs_running == 0 && active->counters->jobs_queued == 0);
    CHECK(active->counters->retention.bytes == 0);

    rill_broker_destroy(&active);
    rill_broker_destroy(&link.passive);
    forget_recorded();
}

/* A passive that never completed a snapshot takes over as itself. */
static void test_takeover_without_mirror(void)
{
    rill_broker_t *broker = new_broker();
    char own[RILL_ID_TEXT_SIZE];
    memcpy(own, broker->instance_id, sizeof(own));
    uint64_t now = rill_clock_monotonic_ms();
    rill_takeover_run(broker, NULL, 0, now);
    CHECK(strcmp(broker->instance_id, own) == 0 && rill_broker_recovering(broker, now));
    rill_broker_destroy(&broker);
    forget_recorded();
}

/* Messages stay within max_message_bytes: large parts go a few a message. */
static void test_small_messages(void)
{
    rill_broker_t *active = new_broker_sized(65536);
    link_t link = {.passive = new_broker_sized(65536)};
    rill_mirror_out_t out = {0};
    rill_job_t *job = submit_one(active, id1, 1);
    rill_worker_t *worker = hello(active, "w1", NULL, 0);
    rill_broker_dispatch(active);
    CHECK(job->worker == worker);
    static char big[20002];
    memset(big, 'x', sizeof(big));
    big[0] = '"';
    big[sizeof(big) - 1] = '"';
    for (uint64_t seq = 1; seq <= 10; seq++)
        rill_broker_part(active, worker, rill_frame_from_string(id1), seq, big, sizeof(big));
    rill_mirror_out_start(&out, active);
    flush_all(&out, active, &link);
    CHECKF(link.largest <= 65536 - 4096 && link.messages >= 4, "largest %zu in %zu messages", link.largest,
           link.messages);
    rill_job_t *copy = rill_job_table_find(link.passive->jobs, id1);
    CHECK(copy != NULL && copy->last_seq == 10 && rill_retention_count(copy->retention) == 10 && link.in.complete);
    rill_broker_destroy(&active);
    rill_broker_destroy(&link.passive);
    forget_recorded();
}

/* A dedup pipeline's jobs (queued, running, retained) are joined on the
 * new active too: their identity is mirrored and remembered at the
 * takeover; a failed one is not (a new submission runs, as on the old). */
static rill_broker_t *new_dedup_broker(void)
{
    rill_config_t config = pair_config();
    rill_pipeline_config_t *pipeline = fake_add_pipeline(&config, "once", "demo");
    pipeline->concurrency = 4;
    pipeline->dedup = 1;
    return fake_outbox_broker(&config);
}

static int submit_keyed(rill_broker_t *broker, const char *id, const char *key, char *answered)
{
    rill_submit_job_t job;
    memset(&job, 0, sizeof(job));
    snprintf(job.id, sizeof(job.id), "%s", id);
    job.kind = "demo";
    job.key = key;
    job.detach = 1;
    char ids[1][RILL_ID_TEXT_SIZE];
    uint64_t flush_ms[1];
    rill_broker_error_t error;
    int result = rill_broker_submit(broker, &job, 1, "", ids, flush_ms, &error);
    memcpy(answered, ids[0], RILL_ID_TEXT_SIZE);
    return result;
}

static void test_dedup_across_takeover(void)
{
    static const char *id3 = "00000000000000000000000000000003";
    static const char *id4 = "00000000000000000000000000000004";
    rill_broker_t *active = new_dedup_broker();
    link_t link = {.passive = new_dedup_broker()};
    rill_mirror_out_t out = {0};
    char answered[RILL_ID_TEXT_SIZE];
    CHECK(submit_keyed(active, id1, "report", answered) == 0 && strcmp(answered, id1) == 0);
    CHECK(submit_keyed(active, id2, "broken", answered) == 0 && strcmp(answered, id2) == 0);
    rill_job_t *broken = rill_job_table_find(active->jobs, id2);
    rill_broker_end_job(active, broken, RILL_JOB_FAILED, "boom", "it broke", 0);
    rill_mirror_out_start(&out, active);
    flush_all(&out, active, &link);
    rill_broker_t *passive = link.passive;
    rill_job_t *copy = rill_job_table_find(passive->jobs, id1);
    CHECK(!link.broken && copy != NULL && copy->identity != NULL && copy->pipeline != NULL &&
          strcmp(copy->pipeline, "once") == 0);
    /* Before the takeover the passive joins nothing (it serves no one). */
    CHECK(!copy->remembered);
    rill_takeover_run(passive, link.in.broker, link.in.started_ms, rill_clock_monotonic_ms());
    CHECK(copy->remembered);
    CHECK(submit_keyed(passive, id3, "report", answered) == 0 && strcmp(answered, id1) == 0);
    CHECK(rill_job_table_find(passive->jobs, id3) == NULL && passive->counters->dedup_joins == 1);
    /* The failed one is not joined: a new job. */
    CHECK(submit_keyed(passive, id4, "broken", answered) == 0 && strcmp(answered, id4) == 0);
    /* Forgotten when it expires: nothing dangles. */
    rill_job_table_forget(passive->jobs, copy);
    CHECK(submit_keyed(passive, id3, "report", answered) == 0 && strcmp(answered, id3) == 0);
    rill_broker_destroy(&active);
    rill_broker_destroy(&link.passive);
    forget_recorded();
}

/* An ordered pipeline of batches of two, one group. */
static rill_broker_t *new_ordered_broker(void)
{
    rill_config_t config = pair_config();
    rill_pipeline_config_t *pipeline = fake_add_pipeline(&config, "inorder", "demo");
    pipeline->group_by = RILL_GROUP_BY_NONE;
    pipeline->mode = RILL_PIPELINE_ORDERED;
    pipeline->buffer_max = 2;
    return fake_outbox_broker(&config);
}

/* The ids of the jobs of the BATCH messages sent since command index from. */
static void batched_since(size_t from, char *out, size_t size)
{
    out[0] = '\0';
    for (size_t i = from; i < fake.command_count; i++) {
        if (fake.commands[i].command != RILL_COMMAND_BATCH)
            continue;
        for (const char *at = fake.commands[i].frames[0]; (at = strstr(at, "\"id\":\"")) != NULL; at += 6) {
            size_t used = strlen(out);
            snprintf(out + used, size - used, "%.1s", at + 6 + RILL_JOB_ID_LENGTH - 1);
        }
    }
}

/* An ordered pipeline's order across a takeover: the batch the old active
 * had sent stays in flight for its group (its worker re-joins with it), so
 * the jobs still in the buffer go only after it ended, together and in
 * their order; before, they went to the ready queue and out at once. */
static void test_ordered_pipeline_across_takeover(void)
{
    static const char *ids[] = {"00000000000000000000000000000001", "00000000000000000000000000000002",
                                "00000000000000000000000000000003", "00000000000000000000000000000004"};
    rill_broker_t *active = new_ordered_broker();
    link_t link = {.passive = new_ordered_broker()};
    rill_mirror_out_t out = {0};
    (void)hello(active, "w1", NULL, 0);
    /* Submitted in an order the job table's walk need not keep. */
    for (size_t i = 0; i < 4; i++)
        (void)submit_one(active, ids[i], 1);
    forget_recorded();
    rill_broker_dispatch(active);
    char sent[16];
    batched_since(0, sent, sizeof(sent));
    CHECK(strcmp(sent, "12") == 0);
    rill_mirror_out_start(&out, active);
    flush_all(&out, active, &link);
    rill_broker_t *passive = link.passive;
    CHECK(!link.broken && link.in.complete && rill_job_table_size(passive->jobs) == 4);
    CHECK(rill_job_table_find(passive->jobs, ids[2])->serial == rill_job_table_find(active->jobs, ids[2])->serial);
    rill_takeover_run(passive, link.in.broker, link.in.started_ms, rill_clock_monotonic_ms());
    /* The worker comes back with its batch; the others wait behind it. */
    rill_hello_job_t reported[2] = {{.id = ids[0], .kind = "demo", .attempt = 1, .seq = 0, .first = 1},
                                    {.id = ids[1], .kind = "demo", .attempt = 1, .seq = 0, .first = 1}};
    forget_recorded();
    rill_worker_t *back = hello(passive, "w1", reported, 2);
    CHECK(back != NULL && rill_job_table_find(passive->jobs, ids[0])->worker == back);
    rill_broker_dispatch(passive);
    batched_since(0, sent, sizeof(sent));
    CHECKF(strcmp(sent, "") == 0, "sent while the first batch runs: %s", sent);
    rill_broker_end_job(passive, rill_job_table_find(passive->jobs, ids[0]), RILL_JOB_DONE, NULL, NULL, 0);
    rill_broker_dispatch(passive);
    batched_since(0, sent, sizeof(sent));
    CHECKF(strcmp(sent, "") == 0, "sent while the first batch runs: %s", sent);
    rill_broker_end_job(passive, rill_job_table_find(passive->jobs, ids[1]), RILL_JOB_DONE, NULL, NULL, 0);
    rill_broker_dispatch(passive);
    batched_since(0, sent, sizeof(sent));
    CHECKF(strcmp(sent, "34") == 0, "after the first batch: %s", sent);
    /* A job submitted on the new active comes after every mirrored one. */
    CHECK(submit_one(passive, "00000000000000000000000000000005", 1)->serial >
          rill_job_table_find(passive->jobs, ids[3])->serial);
    rill_broker_destroy(&active);
    rill_broker_destroy(&link.passive);
    forget_recorded();
}

/* PUBLISH req name data "" key (rill/10) from frontend "fa"; the seq the
 * answer gives, and whether it said repeated. */
static uint64_t publish_keyed(rill_broker_t *broker, const char *req, const char *name, const char *data,
                              const char *key, int *repeated)
{
    fake_publish_keyed(broker, "fa", req, name, data, key);
    const sent_t *reply = fake.reply_count > 0 ? &fake.replies[fake.reply_count - 1] : NULL;
    if (reply == NULL || reply->command != RILL_COMMAND_PUBLISHED || strcmp(reply->frames[0], req) != 0)
        return 0;
    const char *at = strstr(reply->frames[1], "\"seq\":");
    *repeated = strstr(reply->frames[1], "\"repeated\":true") != NULL;
    return at != NULL ? strtoull(at + 6, NULL, 10) : 0;
}

/* A message the active took with a key, sent again to the passive after
 * its takeover (a frontend's call asked again): answered with its seq, not
 * published twice; keys go in the snapshot and as they come. */
static void test_publish_keys_across_takeover(void)
{
    rill_broker_t *active = new_broker();
    link_t link = {.passive = new_broker()};
    rill_mirror_out_t out = {0};
    int repeated = 0;
    CHECK(publish_keyed(active, "r1", "news", "{\"a\":1}", "order-1", &repeated) == 1 && !repeated);
    rill_mirror_out_start(&out, active);
    flush_all(&out, active, &link);
    CHECK(!link.broken && rill_publish_keys_count(link.passive->publish_keys) == 1);
    /* After the snapshot: mirrored as it is taken, with its message. */
    CHECK(publish_keyed(active, "r2", "news", "{\"a\":2}", "~drawn01", &repeated) == 2 && !repeated);
    flush_all(&out, active, &link);
    rill_broker_t *passive = link.passive;
    CHECK(!link.broken && rill_publish_keys_count(passive->publish_keys) == 2);
    rill_topic_t *news = rill_topic_table_find(passive->topics, "news", 4);
    CHECK(news != NULL && news->retention != NULL && rill_retention_count(news->retention) == 2);
    rill_takeover_run(passive, link.in.broker, link.in.started_ms, rill_clock_monotonic_ms());
    size_t before = fake.published_count;
    CHECK(publish_keyed(passive, "r3", "news", "{\"a\":2}", "~drawn01", &repeated) == 2 && repeated);
    CHECK(publish_keyed(passive, "r4", "news", "{\"a\":1}", "order-1", &repeated) == 1 && repeated);
    CHECK(fake.published_count == before);
    /* A new key on the new active: a new message, numbered on from its seqs. */
    CHECK(publish_keyed(passive, "r5", "news", "{\"a\":3}", "order-2", &repeated) > 2 && !repeated);
    rill_broker_destroy(&active);
    rill_broker_destroy(&link.passive);
    forget_recorded();
}

/* A retry's backoff across a takeover (rill/12): a job lost with its
 * worker waits out the rest of its backoff on the new active, as it would
 * have on the old one (before, the new active sent it at once). */
static void test_retry_backoff_across_takeover(void)
{
    rill_config_t config = pair_config();
    config.retry_backoff_ms = 10000;
    rill_broker_t *active = fake_outbox_broker(&config);
    link_t link = {.passive = fake_outbox_broker(&config)};
    rill_mirror_out_t out = {0};
    rill_job_t *job = submit_one(active, id1, 1);
    rill_worker_t *worker = hello(active, "w1", NULL, 0);
    rill_broker_dispatch(active);
    CHECK(job->worker == worker && job->state == RILL_JOB_RUNNING);
    uint64_t lost_ms = rill_clock_monotonic_ms();
    rill_broker_retry_job(active, job, "worker_lost", 1);
    CHECK(job->state == RILL_JOB_QUEUED && job->not_before_ms >= lost_ms + 10000);
    rill_mirror_out_start(&out, active);
    flush_all(&out, active, &link);
    rill_broker_t *passive = link.passive;
    rill_job_t *copy = rill_job_table_find(passive->jobs, id1);
    uint64_t now = rill_clock_monotonic_ms();
    CHECKF(copy != NULL && copy->not_before_ms > now + 9000 && copy->not_before_ms <= now + 10000,
           "the passive's retry waits until %llu, now %llu", copy != NULL ? (unsigned long long)copy->not_before_ms : 0,
           (unsigned long long)now);
    rill_takeover_run(passive, link.in.broker, link.in.started_ms, now);
    forget_recorded();
    rill_worker_t *other = hello(passive, "w2", NULL, 0);
    rill_broker_dispatch(passive);
    CHECK(copy != NULL && copy->state == RILL_JOB_QUEUED && copy->worker == NULL);
    CHECK(last_command("w2", RILL_COMMAND_BATCH) == NULL);
    /* Once the backoff is over, it goes. */
    if (copy != NULL)
        copy->not_before_ms = rill_clock_monotonic_ms();
    rill_broker_dispatch(passive);
    CHECK(copy != NULL && copy->worker == other && copy->state == RILL_JOB_RUNNING);
    rill_broker_destroy(&active);
    rill_broker_destroy(&link.passive);
    forget_recorded();
}

/* A pipeline's times across a takeover (rill/12): a job in its debounce
 * quiet period, and one in its group's buffer, keep the old active's
 * times on the new one (before, both started anew from the takeover: 10 s
 * more here). The times are moved back on the active to stand for the
 * seconds that passed there. */
static void test_pipeline_times_across_takeover(void)
{
    static const char *id5 = "00000000000000000000000000000005";
    static const char *id6 = "00000000000000000000000000000006";
    rill_config_t config = pair_config();
    rill_pipeline_config_t *quiet = fake_add_pipeline(&config, "quiet", "demo");
    quiet->debounce_ms = 10000;
    quiet->buffer_ms = 10000;
    quiet->buffer_max = 100;
    rill_broker_t *active = fake_outbox_broker(&config);
    link_t link = {.passive = fake_outbox_broker(&config)};
    rill_mirror_out_t out = {0};
    char answered[RILL_ID_TEXT_SIZE];
    CHECK(submit_keyed(active, id5, "a", answered) == 0 && strcmp(answered, id5) == 0);
    CHECK(submit_keyed(active, id6, "b", answered) == 0 && strcmp(answered, id6) == 0);
    rill_job_t *debouncing = rill_job_table_find(active->jobs, id5);
    rill_job_t *buffered = rill_job_table_find(active->jobs, id6);
    CHECK(debouncing != NULL && debouncing->debouncing && buffered != NULL && buffered->debouncing);
    if (debouncing == NULL || buffered == NULL)
        return;
    uint64_t now = rill_clock_monotonic_ms();
    /* As if 9.9 s had passed on the old active since id6's quiet period
     * ended and it entered its buffer, and id5's had 100 ms left. */
    debouncing->due_ms = now + 100;
    buffered->due_ms = now - 1;
    CHECK(rill_pipelines_release_debounced(active->pipelines, now) == 1 && !buffered->debouncing);
    buffered->buffered_ms = now - 9900;
    rill_mirror_out_start(&out, active);
    flush_all(&out, active, &link);
    rill_broker_t *passive = link.passive;
    now = rill_clock_monotonic_ms();
    rill_takeover_run(passive, link.in.broker, link.in.started_ms, now);
    rill_job_t *copy5 = rill_job_table_find(passive->jobs, id5);
    rill_job_t *copy6 = rill_job_table_find(passive->jobs, id6);
    CHECK(copy5 != NULL && copy5->debouncing && copy5->due_ms <= now + 100 && copy5->due_ms + 1000 > now);
    uint64_t age = copy6 != NULL && now > copy6->buffered_ms ? now - copy6->buffered_ms : 0;
    CHECKF(copy6 != NULL && !copy6->debouncing && age >= 9850 && age <= 10900, "id6 in its buffer for %llu ms",
           (unsigned long long)age);
    /* So the new active's first pipeline deadline is ~100 ms away, not 10 s. */
    uint64_t due = rill_pipelines_next_due(passive->pipelines, now);
    CHECKF(due <= now + 200, "the first pipeline deadline is %lld ms away", (long long)(due - now));
    rill_broker_destroy(&active);
    rill_broker_destroy(&link.passive);
    forget_recorded();
}

int main(void)
{
    test_pipeline_times_across_takeover();
    test_retry_backoff_across_takeover();
    test_ordered_pipeline_across_takeover();
    test_publish_keys_across_takeover();
    test_dedup_across_takeover();
    test_small_messages();
    test_mirror_and_takeover();
    test_takeover_without_mirror();
    RILL_TEST_END();
}
