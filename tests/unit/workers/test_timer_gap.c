/* test_timer_gap.c - a worker's kinds' timers wait a millisecond for one
 * another while it is quiet, two from the busy rate on (judged over
 * windows of 100 ms: rill_busy_rate.h), one again once a window falls
 * under half of it; never with the threshold at 0; the threshold from the
 * environment. */
#include "timer_gap.h"
#include "rill_test.h"

#include <stdlib.h>

#define MS 1000000u

int main(void)
{
    rill_timer_gap_t gap;
    /* 20,000 a second: 2,000 parts a window of 100 ms. */
    rill_timer_gap_init(&gap, 20000);
    CHECK(rill_timer_gap_update(&gap, 500, 1000 * MS) == RILL_TIMER_GAP_QUIET_NS); /* starts a window */
    /* Within the window: not judged, whatever the count. */
    CHECK(rill_timer_gap_update(&gap, 500 + 100000, 1050 * MS) == RILL_TIMER_GAP_QUIET_NS);
    /* 1,999 parts in the window: quiet still. */
    rill_timer_gap_init(&gap, 20000);
    CHECK(rill_timer_gap_update(&gap, 500, 1000 * MS) == RILL_TIMER_GAP_QUIET_NS);
    CHECK(rill_timer_gap_update(&gap, 500 + 1999, 1100 * MS) == RILL_TIMER_GAP_QUIET_NS);
    /* 2,000 in the next: busy. */
    CHECK(rill_timer_gap_update(&gap, 2499 + 2000, 1200 * MS) == RILL_TIMER_GAP_BUSY_NS);
    /* 1,000 (half): busy still; 999: quiet. */
    CHECK(rill_timer_gap_update(&gap, 4499 + 1000, 1300 * MS) == RILL_TIMER_GAP_BUSY_NS);
    CHECK(rill_timer_gap_update(&gap, 5499 + 999, 1400 * MS) == RILL_TIMER_GAP_QUIET_NS);
    /* A long window (the loop slept a second) counts its whole length:
     * 15,000 parts in 1 s is under the rate; 25,000 over it. */
    CHECK(rill_timer_gap_update(&gap, 6498 + 15000, 2400 * MS) == RILL_TIMER_GAP_QUIET_NS);
    CHECK(rill_timer_gap_update(&gap, 21498 + 25000, 3400 * MS) == RILL_TIMER_GAP_BUSY_NS);

    /* Threshold 0: never busy. */
    rill_timer_gap_init(&gap, 0);
    CHECK(rill_timer_gap_update(&gap, 0, 1) == RILL_TIMER_GAP_QUIET_NS);
    CHECK(rill_timer_gap_update(&gap, 1000000000u, 100 * MS) == RILL_TIMER_GAP_QUIET_NS);

    /* From the environment: unset, a number, not a number. */
    char error[256];
    uint64_t busy = 1;
    unsetenv("RILL_WORKER_BUSY_PARTS_PER_S");
    CHECK(rill_timer_gap_threshold_from_environment(&busy, error, sizeof(error)) == 0 &&
          busy == RILL_TIMER_GAP_DEFAULT_BUSY_PER_S);
    setenv("RILL_WORKER_BUSY_PARTS_PER_S", "0", 1);
    CHECK(rill_timer_gap_threshold_from_environment(&busy, error, sizeof(error)) == 0 && busy == 0);
    setenv("RILL_WORKER_BUSY_PARTS_PER_S", "many", 1);
    CHECK(rill_timer_gap_threshold_from_environment(&busy, error, sizeof(error)) == -1);
    RILL_TEST_END();
}
