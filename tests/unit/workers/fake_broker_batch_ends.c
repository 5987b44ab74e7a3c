/*
 * fake_broker_batch_ends.c - a real rill-worker against a fake broker (a
 * ROUTER this test drives): what one BATCH costs on the wire.
 *
 *  - a job's DONE goes after the PARTS that hold its parts, and does not cut
 *    the loop turn's batch in two: three demo jobs of 5, 1 and 5 parts at
 *    interval 0 go out as 5 PARTS messages (one a turn), not 6 (in the
 *    second turn the short job ends between the two others' parts);
 *  - a BATCH in the broker's exact layout and one that is not (whitespace,
 *    an escape: the full decoder's) run alike, their args read the same;
 *  - args the frontend would refuse fail the job with its reason.
 *
 * Usage: fake_broker_batch_ends PATH-TO-rill-worker
 */
#include "fake_broker.h"
#include "rill_test.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *id;
    uint64_t parts;      /* PARTs received */
    uint64_t last_seq;
    int in_order;        /* every seq was the one after the last */
    int done;
    uint64_t done_after; /* parts received when DONE came */
    int failed;
    char fail[256];      /* code: message */
} job_seen_t;

static job_seen_t seen[] = {
    {.id = "000000000000000000000000000000a1", .in_order = 1}, {.id = "000000000000000000000000000000a2", .in_order = 1},
    {.id = "000000000000000000000000000000a3", .in_order = 1}, {.id = "000000000000000000000000000000b1", .in_order = 1},
    {.id = "000000000000000000000000000000b2", .in_order = 1}, {.id = "000000000000000000000000000000c1", .in_order = 1},
};
#define JOBS (sizeof(seen) / sizeof(seen[0]))
static int hellos;
static fake_broker_t broker;

static job_seen_t *job_of(rill_frame_t id)
{
    for (size_t i = 0; i < JOBS; i++) {
        if (rill_frame_equals(id, seen[i].id))
            return &seen[i];
    }
    return NULL;
}

static int ended(size_t first, size_t count)
{
    for (size_t i = first; i < first + count; i++) {
        if (!seen[i].done && !seen[i].failed)
            return 0;
    }
    return 1;
}

/* One message from the worker, recorded. */
static void on_message(void *context, const rill_message_t *message, const char *error)
{
    (void)context;
    CHECKF(message != NULL, "bad message from the worker: %s", error);
    if (message == NULL)
        return;
    job_seen_t *job = message->argument_count > 0 ? job_of(message->arguments[0]) : NULL;
    uint64_t seq = 0;
    switch (message->command) {
    case RILL_COMMAND_HELLO:
        hellos++;
        break;
    case RILL_COMMAND_PART:
        CHECKF(job != NULL && rill_frame_to_u64(message->arguments[1], &seq) == 0, "a PART of a job we sent");
        if (job != NULL) {
            job->in_order &= seq == job->last_seq + 1 && !job->done;
            job->last_seq = seq;
            job->parts++;
        }
        break;
    case RILL_COMMAND_DONE:
        CHECKF(job != NULL, "a DONE of a job we sent");
        if (job != NULL) {
            job->done++;
            job->done_after = job->parts;
        }
        break;
    case RILL_COMMAND_FAIL:
        CHECKF(job != NULL && message->argument_count == 3, "a FAIL of a job we sent");
        if (job != NULL) {
            job->failed++;
            snprintf(job->fail, sizeof(job->fail), "%.*s: %.*s", (int)message->arguments[1].size,
                     (const char *)message->arguments[1].data, (int)message->arguments[2].size,
                     (const char *)message->arguments[2].data);
        }
        break;
    default:
        break;
    }
}

typedef struct {
    size_t first, count;
} awaited_t;

static int all_ended(void *context)
{
    const awaited_t *awaited = context;
    return awaited->count > 0 && ended(awaited->first, awaited->count);
}

/* Reads what the worker sends until jobs [first, first + count) ended or
 * ms passed (fake_broker_pump). */
static void pump_until_ended(size_t first, size_t count, long ms)
{
    awaited_t awaited = {first, count};
    fake_broker_pump(&broker, ms, all_ended, on_message, &awaited);
}

/* One demo entry in the broker's layout. */
static void entry(char *out, size_t size, const char *id, const char *args)
{
    snprintf(out, size,
             "{\"id\":\"%s\",\"kind\":\"demo\",\"source\":\"demo\",\"args\":%s,\"attempt\":1,\"who\":\"test\","
             "\"seq\":0}",
             id, args);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fake_broker_batch_ends PATH-TO-rill-worker\n");
        return 2;
    }
    if (fake_broker_open(&broker, "/tmp/rill-worker-ends-XXXXXX", "{\"heartbeat_ms\":100}") != 0)
        return 1;
    fake_broker_start_worker(&broker, argv[1], "--kinds", "demo", "--name", "ends-test", "--log", "warn", NULL);
    for (long deadline = fake_broker_now_ms() + 5000; hellos == 0 && fake_broker_now_ms() < deadline;)
        pump_until_ended(0, 0, 50);
    CHECKF(hellos == 1, "%d HELLOs at start", hellos);
    fake_broker_welcome(&broker, 100);

    /* Three jobs in one BATCH: 5, 1 and 5 parts, all at once. */
    char a1[256], a2[256], a3[256], text[1024];
    entry(a1, sizeof(a1), seen[0].id, "{\"parts\":5,\"interval_ms\":0}");
    entry(a2, sizeof(a2), seen[1].id, "{\"parts\":1,\"interval_ms\":0}");
    entry(a3, sizeof(a3), seen[2].id, "{\"parts\":5,\"interval_ms\":0}");
    snprintf(text, sizeof(text), "{\"batch\":\"ba\",\"jobs\":[%s,%s,%s]}", a1, a2, a3);
    size_t messages_before = broker.parts_messages;
    size_t dones_before = broker.batched_dones;
    fake_broker_send(&broker, RILL_COMMAND_BATCH, text);
    pump_until_ended(0, 3, 5000);
    for (size_t i = 0; i < 3; i++) {
        uint64_t parts = i == 1 ? 1 : 5;
        CHECKF(seen[i].done == 1 && seen[i].parts == parts && seen[i].done_after == parts && seen[i].in_order,
               "job %zu: %llu parts, done %d after %llu", i, (unsigned long long)seen[i].parts, seen[i].done,
               (unsigned long long)seen[i].done_after);
    }
    size_t messages = broker.parts_messages - messages_before;
    CHECKF(messages <= 5, "11 parts in %zu PARTS messages: a DONE cut a turn's batch", messages);
    /* rill/7: a DONE of a turn with parts rides in its PARTS message. */
    CHECKF(broker.batched_dones - dones_before == 3, "%zu of 3 DONEs in a PARTS's done frame",
           broker.batched_dones - dones_before);

    /* Not the broker's layout: whitespace, and an escape in a string. Both
     * decoded in full, and run as the same args would in the layout. */
    char b1[256], b2[256];
    entry(b1, sizeof(b1), seen[3].id, "{ \"parts\": 2, \"interval_ms\": 0 }");
    snprintf(b2, sizeof(b2),
             "{\"id\":\"%s\",\"kind\":\"demo\",\"source\":\"de\\u006do\",\"args\":{\"parts\":3,\"interval_ms\":0},"
             "\"attempt\":1,\"who\":\"t\\\"q\",\"seq\":0}",
             seen[4].id);
    snprintf(text, sizeof(text), "{\"batch\": \"bb\", \"jobs\": [%s,%s]}", b1, b2);
    fake_broker_send(&broker, RILL_COMMAND_BATCH, text);
    pump_until_ended(3, 2, 5000);
    CHECKF(seen[3].done == 1 && seen[3].parts == 2 && seen[3].in_order, "b1: %llu parts, done %d",
           (unsigned long long)seen[3].parts, seen[3].done);
    CHECKF(seen[4].done == 1 && seen[4].parts == 3 && seen[4].in_order, "b2: %llu parts, done %d",
           (unsigned long long)seen[4].parts, seen[4].done);

    /* Args the frontend refuses: the job fails with the frontend's reason. */
    char c1[256];
    entry(c1, sizeof(c1), seen[5].id, "{\"parts\":2,\"jitter_ms\":5,\"interval_ms\":1}");
    snprintf(text, sizeof(text), "{\"batch\":\"bc\",\"jobs\":[%s]}", c1);
    fake_broker_send(&broker, RILL_COMMAND_BATCH, text);
    pump_until_ended(5, 1, 5000);
    CHECKF(seen[5].failed == 1 && seen[5].parts == 0 &&
               strcmp(seen[5].fail, "invalid_args: \"jitter_ms\" must not exceed \"interval_ms\"") == 0,
           "c1: failed %d: %s", seen[5].failed, seen[5].fail);

    int status = fake_broker_close(&broker);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker exit status %d", status);
    RILL_TEST_END();
}
