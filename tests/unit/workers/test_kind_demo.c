/* test_kind_demo.c - the demo kind's running half (workers/kind_demo.c) on a
 * fake worker: its default args, its parts, its end, and cancel. */
#include "fake_worker.h"
#include "kinds.h"
#include "rill_clock.h"
#include "rill_test.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The part's "i" and "pad", checked; mono_ns only present. */
static void check_part(const char *text, long long i, size_t pad)
{
    json_t *part = json_loads(text, 0, NULL);
    CHECKF(json_is_object(part), "part %s", text);
    CHECK(json_integer_value(json_object_get(part, "i")) == i);
    CHECK(json_is_integer(json_object_get(part, "mono_ns")));
    const char *padding = json_string_value(json_object_get(part, "pad"));
    CHECK(padding != NULL && strlen(padding) == pad && strspn(padding, "x") == pad);
    json_decref(part);
}

static void sleep_ms(long ms)
{
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
    }
}

int main(void)
{
    const rill_worker_kind_t *demo = &rill_worker_kind_demo;
    CHECK(strcmp(demo->name, "demo") == 0 && demo->start_job != NULL && demo->start_batch == NULL);
    rill_worker_context_t *worker = fake_worker_new();

    /* No args: the defaults, 3 parts then done. */
    rill_worker_job_t *plain = fake_worker_job(worker, "00000000000000000000000000000001", NULL);
    demo->start_job(worker, plain);
    CHECK(fake_worker_armed_timers(worker) == 1 && plain->part_count == 0);
    fake_worker_run_timers(worker, 100);
    CHECK(plain->part_count == 3 && plain->done && plain->fail_code[0] == '\0');
    for (size_t i = 0; i < 3 && i < plain->part_count; i++)
        check_part(plain->parts[i], (long long)i + 1, 0);
    CHECK(fake_worker_armed_timers(worker) == 0);

    /* size pads each part; parts 0 ends at once with no part. */
    rill_worker_job_t *padded = fake_worker_job(worker, "00000000000000000000000000000002",
                                                "{\"parts\":2,\"interval_ms\":0,\"size\":5}");
    rill_worker_job_t *empty = fake_worker_job(worker, "00000000000000000000000000000003", "{\"parts\":0}");
    demo->start_job(worker, padded);
    demo->start_job(worker, empty);
    fake_worker_run_timers(worker, 100);
    CHECK(padded->part_count == 2 && padded->done);
    check_part(padded->parts[1], 2, 5);
    CHECK(empty->part_count == 0 && empty->done);
    /* A fixed rate: each part is due one interval after the last one's due
     * instant, however late the loop ran it; a part later than a whole
     * interval is due at once, with no burst to catch up. */
    rill_worker_job_t *steady = fake_worker_job(worker, "00000000000000000000000000000009",
                                                "{\"parts\":4,\"interval_ms\":300}");
    demo->start_job(worker, steady);
    uint64_t first_due = fake_worker_last_due_ns(worker);
    sleep_ms(350); /* runs 50 ms late (a loaded machine may oversleep by 250 ms) */
    CHECK(fake_worker_run_timers(worker, 1) == 1 && steady->part_count == 1);
    CHECK(fake_worker_last_due_ns(worker) == first_due + 300000000u);
    sleep_ms(700); /* past the next due instant by more than an interval */
    uint64_t before = rill_clock_monotonic_ns();
    CHECK(fake_worker_run_timers(worker, 1) == 1 && steady->part_count == 2);
    uint64_t third_due = fake_worker_last_due_ns(worker);
    CHECK(third_due >= before && third_due <= rill_clock_monotonic_ns());
    fake_worker_run_timers(worker, 100);
    CHECK(steady->part_count == 4 && steady->done);
    /* Plain integer args are read from their text: no JSON document asked for. */
    CHECK(padded->args_asked == 0 && empty->args_asked == 0);

    /* Args text the quick read does not take (whitespace), or no text at
     * all (a BATCH decoded in full): the parsed args, the same job. */
    rill_worker_job_t *spaced = fake_worker_job(worker, "00000000000000000000000000000006",
                                                "{ \"parts\": 2, \"interval_ms\": 0, \"size\": 5 }");
    rill_worker_job_t *decoded = fake_worker_job(worker, "00000000000000000000000000000007",
                                                 "{\"parts\":2,\"interval_ms\":0,\"size\":5}");
    free(decoded->args_text);
    decoded->args_text = NULL;
    demo->start_job(worker, spaced);
    demo->start_job(worker, decoded);
    fake_worker_run_timers(worker, 100);
    CHECK(spaced->args_asked == 1 && spaced->part_count == 2 && spaced->done);
    CHECK(decoded->args_asked == 1 && decoded->part_count == 2 && decoded->done);
    check_part(spaced->parts[1], 2, 5);
    check_part(decoded->parts[1], 2, 5);

    /* Values in range that do not go together: refused on either path. */
    rill_worker_job_t *jitter = fake_worker_job(worker, "00000000000000000000000000000008",
                                                "{\"interval_ms\":1,\"jitter_ms\":2}");
    demo->start_job(worker, jitter);
    CHECK(jitter->args_asked == 0 && strcmp(jitter->fail_code, "invalid_args") == 0 &&
          strstr(jitter->fail_message, "jitter_ms") != NULL);
    rill_worker_job_t *unknown = fake_worker_job(worker, "00000000000000000000000000000009", "{\"other\":1}");
    demo->start_job(worker, unknown);
    CHECK(unknown->args_asked == 1 && strcmp(unknown->fail_code, "invalid_args") == 0 &&
          strcmp(unknown->fail_message, "demo takes no argument \"other\"") == 0);

    /* Args the frontend would refuse fail the job with the same reason. */
    rill_worker_job_t *bad = fake_worker_job(worker, "00000000000000000000000000000004", "{\"parts\":-1}");
    demo->start_job(worker, bad);
    CHECK(strcmp(bad->fail_code, "invalid_args") == 0 && strstr(bad->fail_message, "\"parts\"") != NULL);
    CHECK(fake_worker_armed_timers(worker) == 0);

    /* Cancel mid-way: its timer is stopped, nothing more is published. */
    rill_worker_job_t *long_job = fake_worker_job(worker, "00000000000000000000000000000005",
                                                  "{\"parts\":10,\"interval_ms\":1000}");
    demo->start_job(worker, long_job);
    fake_worker_run_timers(worker, 2);
    CHECK(long_job->part_count == 2 && !long_job->done);
    demo->cancel(worker, long_job);
    CHECK(fake_worker_armed_timers(worker) == 0 && rill_worker_job_state(long_job) == NULL);
    CHECK(long_job->part_count == 2 && !long_job->done && long_job->fail_code[0] == '\0');

    /* The last part ends the job in the same callback: two timers for two
     * parts, none more for done. */
    rill_worker_job_t *brief = fake_worker_job(worker, "0000000000000000000000000000000a",
                                               "{\"parts\":2,\"interval_ms\":0}");
    demo->start_job(worker, brief);
    CHECK(fake_worker_run_timers(worker, 100) == 2 && brief->part_count == 2 && brief->done);

    CHECK(fake_worker_misuses(worker) == 0);
    fake_worker_destroy(&worker);
    CHECK(worker == NULL);
    RILL_TEST_END();
}
