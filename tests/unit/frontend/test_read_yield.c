/* test_read_yield.c - the frontend's read yield: on from a window of
 * 250 ms at the events rate, off under half of it, nothing before a whole
 * window, 0 = never, and the environment's value checked. */
#include "rill_test.h"
#include "read_yield.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    rill_read_yield_t yield;
    rill_read_yield_init(&yield, 4000);

    /* The first wakeup only starts a window. */
    CHECK(rill_read_yield_wakeup(&yield, 0, 1000) == 0);
    /* 800 events in 200 ms: not a whole window yet, nothing decided. */
    CHECK(rill_read_yield_wakeup(&yield, 800, 1200) == 0);
    /* 999 in 250 ms (3,996 a second): under the rate. */
    CHECK(rill_read_yield_wakeup(&yield, 999, 1250) == 0);
    /* 1,000 more in the next 250 ms (4,000 a second): yields from this wakeup. */
    CHECK(rill_read_yield_wakeup(&yield, 1999, 1500) == 1);
    CHECK(rill_read_yield_wakeup(&yield, 2000, 1501) == 1);
    CHECK(yield.yields == 2);
    /* ~2,000 a second keeps it on (hysteresis: yielding merges wakeups). */
    CHECK(rill_read_yield_wakeup(&yield, 2500, 1750) == 1);
    /* 1,996 a second ends it. */
    CHECK(rill_read_yield_wakeup(&yield, 2999, 2000) == 0);
    /* A long quiet stretch is one window of a low rate. */
    CHECK(rill_read_yield_wakeup(&yield, 3000, 62000) == 0);
    /* A burst over the rate again: on again. */
    CHECK(rill_read_yield_wakeup(&yield, 5000, 62250) == 1);
    /* A count or a clock that goes back restarts the window, decides nothing. */
    CHECK(rill_read_yield_wakeup(&yield, 10, 62300) == 1);
    CHECK(rill_read_yield_wakeup(&yield, 11, 62550) == 0);
    CHECK(rill_read_yield_wakeup(&yield, 5000, 100) == 0);

    /* 0: never, whatever the rate; nothing counted. */
    rill_read_yield_t never;
    rill_read_yield_init(&never, 0);
    CHECK(rill_read_yield_wakeup(&never, 0, 1000) == 0);
    CHECK(rill_read_yield_wakeup(&never, 1000000, 1250) == 0);
    CHECK(rill_read_yield_wakeup(&never, 2000000, 1500) == 0);
    CHECK(never.yields == 0);

    /* The environment: unset or empty is the default, a number is taken,
     * anything else is an error that names the variable. */
    uint64_t rate = 1;
    char error[256];
    CHECK(unsetenv("RILL_READ_YIELD_PER_S") == 0);
    CHECK(rill_read_yield_from_environment(&rate, error, sizeof(error)) == 0);
    CHECK(rate == RILL_READ_YIELD_DEFAULT_PER_S);
    CHECK(setenv("RILL_READ_YIELD_PER_S", "", 1) == 0);
    CHECK(rill_read_yield_from_environment(&rate, error, sizeof(error)) == 0);
    CHECK(rate == RILL_READ_YIELD_DEFAULT_PER_S);
    CHECK(setenv("RILL_READ_YIELD_PER_S", "250", 1) == 0);
    CHECK(rill_read_yield_from_environment(&rate, error, sizeof(error)) == 0);
    CHECK(rate == 250);
    CHECK(setenv("RILL_READ_YIELD_PER_S", "-5", 1) == 0);
    CHECK(rill_read_yield_from_environment(&rate, error, sizeof(error)) == -1);
    CHECK(strstr(error, "RILL_READ_YIELD_PER_S") != NULL);
    RILL_TEST_END();
}
