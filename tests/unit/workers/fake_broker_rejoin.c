/*
 * fake_broker_rejoin.c - a real rill-worker against a fake broker (a ROUTER
 * this test drives), for rill/4's re-join (docs/PROTOCOL.md, "Worker
 * sessions", "The worker holds parts"):
 *
 *  - parts are numbered on from each BATCH entry's seq;
 *  - after REJOIN the worker says HELLO once (not once per REJOIN), again
 *    at most once a heartbeat while unanswered, and lists its jobs with
 *    their seqs and oldest held part; meanwhile it sends no part;
 *  - the WELCOME's adopted jobs re-send what the broker lacks (their hold
 *    ring's last worker_hold_parts parts), once however many WELCOMEs come,
 *    and go on; a cancelled job stops without a FAIL;
 *  - a job that ends while the worker is not joined sends its end only
 *    after the next WELCOME, behind its parts.
 *
 * Usage: fake_broker_rejoin PATH-TO-rill-worker
 */
#include "fake_broker.h"
#include "rill_messages.h"
#include "rill_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define SEQS_MAX 512

static const char *const job_a = "000000000000000000000000000000a1";
static const char *const job_b = "000000000000000000000000000000b2";
static const char *const job_c = "000000000000000000000000000000c3";
static const char *const job_d = "000000000000000000000000000000d4";
static const char *const job_e = "000000000000000000000000000000e5";

typedef struct {
    const char *id;
    uint64_t seqs[SEQS_MAX]; /* PART seqs in arrival order */
    size_t count;
    int done;
    int failed;
    int done_after; /* the count of parts received when DONE came */
} job_seen_t;

static job_seen_t seen[5] = {{.id = "000000000000000000000000000000a1"},
                             {.id = "000000000000000000000000000000b2"},
                             {.id = "000000000000000000000000000000c3"},
                             {.id = "000000000000000000000000000000d4"},
                             {.id = "000000000000000000000000000000e5"}};
static int hellos;
static char last_hello[8192];
static fake_broker_t broker;

static job_seen_t *job_of(rill_frame_t id)
{
    for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]); i++) {
        if (rill_frame_equals(id, seen[i].id))
            return &seen[i];
    }
    return NULL;
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
        snprintf(last_hello, sizeof(last_hello), "%.*s", (int)message->arguments[0].size,
                 message->arguments[0].data);
        break;
    case RILL_COMMAND_PART:
        CHECKF(job != NULL && rill_frame_to_u64(message->arguments[1], &seq) == 0, "a PART of a job we sent");
        if (job != NULL && job->count < SEQS_MAX)
            job->seqs[job->count++] = seq;
        break;
    case RILL_COMMAND_DONE:
        CHECKF(job != NULL, "a DONE of a job we sent");
        if (job != NULL) {
            job->done++;
            job->done_after = (int)job->count;
        }
        break;
    case RILL_COMMAND_FAIL:
        if (job != NULL)
            job->failed++;
        break;
    default:
        break;
    }
}

/* Reads what the worker sends for ms milliseconds (fake_broker_pump). */
static void pump(long ms)
{
    fake_broker_pump(&broker, ms, NULL, on_message, NULL);
}

static void send_to_worker(rill_command_t command, const char *argument)
{
    CHECKF(fake_broker_send(&broker, command, argument) == 0, "send %s", rill_command_name(command));
}

/* BATCH of one demo job: parts, interval_ms, starting after seq. */
static void send_job(const char *id, int parts, int interval_ms, uint64_t seq)
{
    char text[512];
    snprintf(text, sizeof(text),
             "{\"batch\":\"b%s\",\"jobs\":[{\"id\":\"%s\",\"kind\":\"demo\",\"source\":\"demo\","
             "\"args\":{\"parts\":%d,\"interval_ms\":%d},\"attempt\":1,\"who\":\"test\",\"seq\":%llu}]}",
             id + 1, id, parts, interval_ms, (unsigned long long)seq);
    send_to_worker(RILL_COMMAND_BATCH, text);
}

static void send_welcome(const char *adopted, const char *cancelled)
{
    char text[512];
    snprintf(text, sizeof(text), "{\"broker\":\"fakefakefakefakefakefakefakefake\",\"heartbeat_ms\":100,"
             "\"adopted\":{%s},\"cancelled\":[%s]}", adopted, cancelled);
    send_to_worker(RILL_COMMAND_WELCOME, text);
}

/* The job id's entry in the last HELLO, or NULL. */
static const rill_hello_job_t *hello_job(rill_hello_t *hello, const char *id)
{
    for (size_t i = 0; i < hello->job_count; i++) {
        if (strcmp(hello->jobs[i].id, id) == 0)
            return &hello->jobs[i];
    }
    return NULL;
}

/* 1 when seqs run from first to last by one, each once. */
static int contiguous(const job_seen_t *job, size_t from, uint64_t first, uint64_t last)
{
    if (job->count - from != last - first + 1)
        return 0;
    for (size_t i = from; i < job->count; i++) {
        if (job->seqs[i] != first + (i - from))
            return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fake_broker_rejoin PATH-TO-rill-worker\n");
        return 2;
    }
    if (fake_broker_open(&broker, "/tmp/rill-worker-rejoin-XXXXXX", "{\"heartbeat_ms\":100,\"worker_hold_parts\":5}") != 0)
        return 1;
    fake_broker_start_worker(&broker, argv[1], "--kinds", "demo", "--name", "rejoin-test", "--log", "warn", NULL);

    /* Join: HELLO with a session, its credit in all, no jobs. */
    for (long deadline = fake_broker_now_ms() + 5000; hellos == 0 && fake_broker_now_ms() < deadline;)
        pump(50);
    CHECKF(hellos == 1, "%d HELLOs at start", hellos);
    rill_hello_t hello;
    CHECKF(rill_hello_decode(last_hello, strlen(last_hello), &hello, NULL, 0) == 0, "HELLO: %s", last_hello);
    char session[RILL_ID_TEXT_SIZE] = "";
    if (hello.session != NULL)
        snprintf(session, sizeof(session), "%s", hello.session);
    CHECKF(hello.job_count == 0 && hello.credit == 256 && strcmp(hello.name, "rejoin-test") == 0, "%s", last_hello);
    rill_hello_release(&hello);
    send_welcome("", "");

    /* Seqs go on from the BATCH's: B's parts are 8, 9, 10. */
    send_job(job_a, 30, 40, 0);
    send_job(job_b, 3, 10, 7);
    /* A's parts are due every 40 ms from its start: the REJOINs below go
     * out halfway between two of them (at 220 ms, not on the 200 ms one),
     * so no part is on its way while they are. */
    pump(220);
    CHECKF(seen[1].done == 1 && contiguous(&seen[1], 0, 8, 10), "B: %zu parts, done %d", seen[1].count, seen[1].done);
    CHECKF(seen[0].count >= 2 && contiguous(&seen[0], 0, 1, seen[0].count), "A: %zu parts", seen[0].count);
    uint64_t broker_has = seen[0].count; /* what this fake "published" of A */

    /* Three REJOINs (one per message it had queued, as a restarted broker
     * would send without the once-a-heartbeat rule): one HELLO, and no
     * part while unanswered; one more HELLO a heartbeat on. */
    hellos = 0;
    size_t parts_before = seen[0].count;
    for (int i = 0; i < 3; i++)
        send_to_worker(RILL_COMMAND_REJOIN, NULL);
    /* The first HELLO, however late it comes (an ASan build beside other
     * suites took more than 90 ms), then half a heartbeat: a second HELLO
     * may come a heartbeat (100 ms) after the first, not before. */
    for (long deadline = fake_broker_now_ms() + 5000; hellos == 0 && fake_broker_now_ms() < deadline;)
        pump(5);
    long first_hello_ms = fake_broker_now_ms();
    pump(50);
    CHECKF(hellos == 1, "%d HELLOs for three REJOINs", hellos);
    /* Then at most one a heartbeat while unanswered, over 450 ms at least
     * (longer when a loaded machine makes the second one late). */
    for (long until = first_hello_ms + 450, deadline = first_hello_ms + 5000;
         (hellos < 2 || fake_broker_now_ms() < until) && fake_broker_now_ms() < deadline;)
        pump(10);
    long unanswered_ms = fake_broker_now_ms() - first_hello_ms;
    CHECKF(hellos >= 2 && hellos <= 2 + unanswered_ms / 100, "%d HELLOs in %ld ms unanswered (heartbeat 100 ms)",
           hellos, unanswered_ms);
    CHECKF(seen[0].count == parts_before, "%zu parts sent while not joined", seen[0].count - parts_before);
    CHECKF(rill_hello_decode(last_hello, strlen(last_hello), &hello, NULL, 0) == 0, "HELLO: %s", last_hello);
    CHECKF(strcmp(hello.session, session) == 0, "the same session");
    const rill_hello_job_t *a = hello_job(&hello, job_a);
    CHECKF(a != NULL && a->attempt == 1 && a->seq > broker_has + 5 && a->first == a->seq - 4 &&
               strcmp(a->kind, "demo") == 0 && strcmp(a->source, "demo") == 0 && strcmp(a->who, "test") == 0,
           "A in the HELLO: %s", last_hello);
    uint64_t first_held = a != NULL ? a->first : 0;
    /* B's DONE went 2 heartbeats before the REJOIN: within the 5 its end
     * is kept (it might have died with a connection): listed. */
    const rill_hello_job_t *b = hello_job(&hello, job_b);
    CHECKF(b != NULL && b->seq == 10, "B ended 2 heartbeats ago: listed: %s", last_hello);
    rill_hello_release(&hello);

    /* Two WELCOMEs (answers to two of its HELLOs): A re-sends what it
     * holds after what the broker has (its ring kept only 5: a jump the
     * broker turns into a gap), once, then goes on to its end. B is
     * cancelled (its DONE arrived): nothing more of it. */
    char adopted[128], cancelled_b[64];
    snprintf(adopted, sizeof(adopted), "\"%s\":%llu", job_a, (unsigned long long)broker_has);
    snprintf(cancelled_b, sizeof(cancelled_b), "\"%s\"", job_b);
    send_welcome(adopted, cancelled_b);
    send_welcome(adopted, cancelled_b);
    pump(1200);
    CHECKF(seen[1].done == 1 && seen[1].count == 3, "B after its cancel: %d DONEs, %zu parts", seen[1].done,
           seen[1].count);
    CHECKF(seen[0].done == 1 && seen[0].done_after == (int)seen[0].count, "A done after its parts: %d", seen[0].done);
    /* From its oldest held part (the ring moved on since that HELLO), each once, to the last. */
    uint64_t resent_from = seen[0].count > parts_before ? seen[0].seqs[parts_before] : 0;
    CHECKF(resent_from >= first_held && resent_from > broker_has + 1 &&
               contiguous(&seen[0], parts_before, resent_from, 30),
           "A after the WELCOME: %zu parts from %llu (held from %llu)", seen[0].count - parts_before,
           (unsigned long long)resent_from, (unsigned long long)first_held);

    /* C: adopted by nobody - the WELCOME cancels it: it stops, no FAIL. */
    send_job(job_c, 100, 20, 0);
    pump(100);
    send_to_worker(RILL_COMMAND_REJOIN, NULL);
    pump(50);
    char cancelled[64];
    snprintf(cancelled, sizeof(cancelled), "\"%s\"", job_c);
    send_welcome("", cancelled);
    pump(100);
    size_t c_parts = seen[2].count;
    pump(200);
    CHECKF(seen[2].count == c_parts && !seen[2].failed && !seen[2].done, "C after its cancel: %zu more parts, fail %d",
           seen[2].count - c_parts, seen[2].failed);

    /* D ends while the worker is not joined: its DONE waits for the
     * WELCOME, behind its held parts. */
    send_to_worker(RILL_COMMAND_REJOIN, NULL);
    send_job(job_d, 2, 10, 0);
    pump(250);
    CHECKF(seen[3].done == 0, "D's end sent while not joined");
    CHECKF(rill_hello_decode(last_hello, strlen(last_hello), &hello, NULL, 0) == 0, "HELLO: %s", last_hello);
    const rill_hello_job_t *d = hello_job(&hello, job_d);
    CHECKF(d != NULL && d->seq == 2, "D in the HELLO with seq 2: %s", last_hello);
    rill_hello_release(&hello);
    char adopted_d[128];
    snprintf(adopted_d, sizeof(adopted_d), "\"%s\":%llu", job_d, (unsigned long long)(seen[3].count));
    send_welcome(adopted_d, "");
    pump(200);
    CHECKF(seen[3].done == 1 && contiguous(&seen[3], 0, 1, 2) && seen[3].done_after == 2,
           "D: %zu parts, done %d after %d", seen[3].count, seen[3].done, seen[3].done_after);

    /* E ends while joined; a REJOIN comes a heartbeat later and the
     * broker had not got its last part nor its DONE (a connection that
     * died): listed, adopted from seq 1, its parts 2 and 3 and its DONE
     * come again. Then, 5 heartbeats on, its end is no longer kept. */
    send_job(job_e, 3, 10, 0);
    pump(100);
    CHECKF(seen[4].done == 1 && contiguous(&seen[4], 0, 1, 3), "E: %zu parts, done %d", seen[4].count,
           seen[4].done);
    send_to_worker(RILL_COMMAND_REJOIN, NULL);
    pump(50);
    CHECKF(rill_hello_decode(last_hello, strlen(last_hello), &hello, NULL, 0) == 0, "HELLO: %s", last_hello);
    const rill_hello_job_t *e = hello_job(&hello, job_e);
    CHECKF(e != NULL && e->seq == 3 && e->first == 1, "E ended a heartbeat ago: listed: %s", last_hello);
    rill_hello_release(&hello);
    char adopted_e[128];
    snprintf(adopted_e, sizeof(adopted_e), "\"%s\":1", job_e);
    send_welcome(adopted_e, "");
    pump(200);
    CHECKF(seen[4].done == 2 && seen[4].count == 5 && seen[4].seqs[3] == 2 && seen[4].seqs[4] == 3 &&
               seen[4].done_after == 5,
           "E after its adoption: %zu parts, done %d after %d", seen[4].count, seen[4].done, seen[4].done_after);
    pump(700);
    send_to_worker(RILL_COMMAND_REJOIN, NULL);
    pump(50);
    CHECKF(rill_hello_decode(last_hello, strlen(last_hello), &hello, NULL, 0) == 0, "HELLO: %s", last_hello);
    CHECKF(hello_job(&hello, job_e) == NULL, "E ended 9 heartbeats ago: not listed: %s", last_hello);
    rill_hello_release(&hello);
    send_welcome("", "");
    pump(100);

    int status = fake_broker_close(&broker);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker exit status %d", status);
    if (rill_test_failed == 0) {
        printf("worker re-join: all %d checks passed\n", rill_test_passed);
        return 0;
    }
    fprintf(stderr, "worker re-join: %d failed\n", rill_test_failed);
    return 1;
}
