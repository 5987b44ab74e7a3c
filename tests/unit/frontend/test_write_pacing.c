/* test_write_pacing.c - the frontend's busy signal: on at 80 % of a CPU over
 * a sample, off under 50 %, nothing before a whole sample, 0 = never. */
#include "rill_test.h"
#include "write_pacing.h"

#include <stdint.h>
#include <time.h>

#define MS 1000000ull /* ns of CPU in a millisecond */

int main(void)
{
    rill_write_pacing_t pacing;
    rill_write_pacing_init(&pacing, 4);
    CHECK(!pacing.busy);

    /* The first observation only starts a sample. */
    rill_write_pacing_observe(&pacing, 1000, 0);
    CHECK(!pacing.busy);
    /* 90 ms of CPU in 90 ms of wall: not a whole sample yet, nothing decided. */
    rill_write_pacing_observe(&pacing, 1090, 90 * MS);
    CHECK(!pacing.busy);
    /* 79 % over 100 ms: not busy. */
    rill_write_pacing_observe(&pacing, 1100, 79 * MS);
    CHECK(!pacing.busy);
    /* 80 % over the next 100 ms: busy, once. */
    rill_write_pacing_observe(&pacing, 1200, 159 * MS);
    CHECK(pacing.busy);
    CHECK(pacing.busy_episodes == 1);
    /* 50 % keeps it busy (hysteresis): holding writes lowers the share. */
    rill_write_pacing_observe(&pacing, 1300, 209 * MS);
    CHECK(pacing.busy);
    /* 49 % ends it. */
    rill_write_pacing_observe(&pacing, 1400, 258 * MS);
    CHECK(!pacing.busy);
    /* A long idle stretch counts as one sample of a low share. */
    rill_write_pacing_observe(&pacing, 61400, 260 * MS);
    CHECK(!pacing.busy);
    /* 100 % again: busy again, a second episode. */
    rill_write_pacing_observe(&pacing, 61500, 360 * MS);
    CHECK(pacing.busy);
    CHECK(pacing.busy_episodes == 2);
    /* A clock that goes back (a new thread's clock, a wrapped loop clock)
     * restarts the sample and decides nothing. */
    rill_write_pacing_observe(&pacing, 61600, 10 * MS);
    CHECK(pacing.busy);
    rill_write_pacing_observe(&pacing, 61700, 15 * MS);
    CHECK(!pacing.busy);

    /* Window 0 (busy_flush_ms 0): writes never wait, and a busy spell ends. */
    rill_write_pacing_observe(&pacing, 61800, 115 * MS);
    CHECK(pacing.busy);
    rill_write_pacing_set_window_ms(&pacing, 0);
    CHECK(!pacing.busy);
    CHECK(rill_write_pacing_window(&pacing, 70000) == 0);

    /* The real clock: an idle test thread is not busy, so nothing waits. */
    rill_write_pacing_t idle;
    rill_write_pacing_init(&idle, 4);
    CHECK(rill_write_pacing_window(&idle, 5000) == 0);
    CHECK(rill_write_pacing_window(&idle, 5200) == 0);
    CHECK(!idle.busy);
    /* A thread that spent the whole sample on its CPU is: the window reads
     * the thread's own CPU clock (the loop ms given advance by exactly what
     * it spent, so a loaded test machine cannot make this flaky). */
    rill_write_pacing_t spinning;
    rill_write_pacing_init(&spinning, 4);
    CHECK(rill_write_pacing_window(&spinning, 10000) == 0);
    struct timespec start, now;
    CHECK(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start) == 0);
    do {
        CHECK(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) == 0);
    } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < 110);
    CHECK(rill_write_pacing_window(&spinning, 10000 + 110) == 4);
    CHECK(spinning.busy);
    RILL_TEST_END();
}
