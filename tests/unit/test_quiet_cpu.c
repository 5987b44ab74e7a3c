/* test_quiet_cpu.c - a split-placed backend on the frontend's CPU while
 * quiet (rill_quiet_cpu.h): nothing moves unless split placed the process
 * as a backend, or with a threshold of 0; a bad threshold is an error; on
 * two CPUs or more, the process starts on the frontend's CPU, leaves it at
 * a busy window (the rate, or a quarter of a CPU) and joins it again after
 * eight quiet windows (not seven); a rate between half the threshold and
 * it moves nothing, and a held tick moves nothing. */
#include "rill_cpus.h"
#include "rill_quiet_cpu.h"
#include "rill_test.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int runs_on(const cpu_set_t *expected)
{
    cpu_set_t cpus;
    return sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_EQUAL(&cpus, expected);
}

/* Ticks once a window for windows windows at rate per second from *now,
 * *count onwards. */
static void run_windows(rill_quiet_cpu_t *quiet, uint64_t *count, uint64_t *now, int windows, uint64_t rate, int held)
{
    for (int i = 0; i < windows; i++) {
        *now += RILL_QUIET_CPU_WINDOW_MS;
        *count += rate * RILL_QUIET_CPU_WINDOW_MS / 1000;
        rill_quiet_cpu_tick(quiet, *count, *now, held);
    }
}

int main(void)
{
    char error[256] = "";
    uint64_t threshold = 0;

    /* The threshold: default, a number, 0, and bad values. */
    unsetenv("RILL_PLACEMENT_BUSY_PER_S");
    CHECK(rill_quiet_cpu_threshold_from_environment(&threshold, error, sizeof(error)) == 0 &&
          threshold == RILL_QUIET_CPU_DEFAULT_BUSY_PER_S);
    setenv("RILL_PLACEMENT_BUSY_PER_S", "100", 1);
    CHECK(rill_quiet_cpu_threshold_from_environment(&threshold, error, sizeof(error)) == 0 && threshold == 100);
    setenv("RILL_PLACEMENT_BUSY_PER_S", "0", 1);
    CHECK(rill_quiet_cpu_threshold_from_environment(&threshold, error, sizeof(error)) == 0 && threshold == 0);
    const char *bad[] = {"-1", "many", "10k", " 5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("RILL_PLACEMENT_BUSY_PER_S", bad[i], 1);
        error[0] = '\0';
        CHECKF(rill_quiet_cpu_threshold_from_environment(&threshold, error, sizeof(error)) == -1 &&
               strstr(error, "RILL_PLACEMENT_BUSY_PER_S") != NULL, "\"%s\" accepted", bad[i]);
    }

    /* Not placed by split: nothing to move, and NULL is accepted everywhere. */
    cpu_set_t started;
    CHECK(sched_getaffinity(0, sizeof(started), &started) == 0);
    CHECK(rill_quiet_cpu_new(100, "parts") == NULL);
    rill_quiet_cpu_tick(NULL, 1000, 1000, 0);
    CHECK(!rill_quiet_cpu_is_quiet(NULL));
    rill_quiet_cpu_t *none = NULL;
    rill_quiet_cpu_destroy(&none);

    /* A frontend placed by split is not moved either. */
    unsetenv("RILL_CPUS");
    setenv("RILL_PLACEMENT", "split", 1);
    CHECK(rill_cpus_apply_from_environment(RILL_PLACEMENT_FRONTEND, error, sizeof(error)) == 0);
    CHECK(rill_quiet_cpu_new(100, "parts") == NULL);
    CHECK(sched_setaffinity(0, sizeof(started), &started) == 0);

    /* A backend placed by split. */
    CHECK(rill_cpus_apply_from_environment(RILL_PLACEMENT_BACKEND, error, sizeof(error)) == 0);
    cpu_set_t busy, quiet_cpus;
    if (CPU_COUNT(&started) < 2) {
        CHECK(rill_quiet_cpu_new(100, "parts") == NULL); /* one CPU: split did nothing */
        RILL_TEST_END();
    }
    CHECK(rill_cpus_split(&started, RILL_PLACEMENT_BACKEND, &busy) == 0 && runs_on(&busy));
    CHECK(rill_cpus_split(&started, RILL_PLACEMENT_FRONTEND, &quiet_cpus) == 0);
    CHECK(rill_quiet_cpu_new(0, "parts") == NULL); /* 0: the split stays fixed */
    /* It starts quiet, on the frontend's CPU; a busy window moves it back. */
    rill_quiet_cpu_t *quiet = rill_quiet_cpu_new(100, "parts");
    CHECK(quiet != NULL && rill_quiet_cpu_is_quiet(quiet) && runs_on(&quiet_cpus));
    uint64_t count = 0, now = 1000;
    rill_quiet_cpu_tick(quiet, count, now, 0); /* the first tick starts the window */
    run_windows(quiet, &count, &now, 1, 400, 0);
    CHECK(!rill_quiet_cpu_is_quiet(quiet) && runs_on(&busy));
    /* Seven quiet windows: still on its own CPUs; the eighth moves it. */
    run_windows(quiet, &count, &now, RILL_QUIET_CPU_QUIET_WINDOWS - 1, 40, 0);
    CHECK(!rill_quiet_cpu_is_quiet(quiet) && runs_on(&busy));
    run_windows(quiet, &count, &now, 1, 40, 0);
    CHECK(rill_quiet_cpu_is_quiet(quiet) && runs_on(&quiet_cpus));
    /* Between half the threshold and it: stays. */
    run_windows(quiet, &count, &now, 4, 80, 0);
    CHECK(rill_quiet_cpu_is_quiet(quiet) && runs_on(&quiet_cpus));
    /* Busy while held: no move; the next busy window not held: back. */
    run_windows(quiet, &count, &now, 1, 400, 1);
    CHECK(rill_quiet_cpu_is_quiet(quiet) && runs_on(&quiet_cpus));
    run_windows(quiet, &count, &now, 1, 400, 0);
    CHECK(!rill_quiet_cpu_is_quiet(quiet) && runs_on(&busy));
    /* A busy window in the middle of the quiet ones starts the count again. */
    run_windows(quiet, &count, &now, RILL_QUIET_CPU_QUIET_WINDOWS - 1, 0, 0);
    run_windows(quiet, &count, &now, 1, 400, 0);
    run_windows(quiet, &count, &now, RILL_QUIET_CPU_QUIET_WINDOWS - 1, 0, 0);
    CHECK(!rill_quiet_cpu_is_quiet(quiet) && runs_on(&busy));
    run_windows(quiet, &count, &now, 1, 0, 0);
    CHECK(rill_quiet_cpu_is_quiet(quiet) && runs_on(&quiet_cpus));
    /* A quarter of a CPU makes it busy at any rate: ~100 ms of CPU in a
     * window of 250. */
    struct timespec start, now_cpu;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
    do {
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now_cpu);
    } while ((now_cpu.tv_sec - start.tv_sec) * 1000000000L + (now_cpu.tv_nsec - start.tv_nsec) < 100000000L);
    run_windows(quiet, &count, &now, 1, 0, 0);
    CHECK(!rill_quiet_cpu_is_quiet(quiet) && runs_on(&busy));
    run_windows(quiet, &count, &now, RILL_QUIET_CPU_QUIET_WINDOWS, 0, 0);
    CHECK(rill_quiet_cpu_is_quiet(quiet) && runs_on(&quiet_cpus));
    rill_quiet_cpu_destroy(&quiet);
    CHECK(quiet == NULL);
    RILL_TEST_END();
}
