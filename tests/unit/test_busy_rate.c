/* test_busy_rate.c - a running count's rate judged once a window: busy
 * from the threshold on, quiet under half of it, nothing before a whole
 * window, a count or clock that goes back restarts the window, a long
 * stretch is one window, 0 = never; the update says when the state
 * changed and at what rate. */
#include "rill_busy_rate.h"
#include "rill_test.h"

#define MS 1000000u

int main(void)
{
    rill_busy_rate_t rate;
    rill_busy_rate_init(&rate, 4000, 250 * MS); /* 1,000 a window */
    CHECK(rill_busy_rate_update(&rate, 0, 1000 * MS) == 0 && !rate.busy); /* starts a window */
    CHECK(rill_busy_rate_update(&rate, 800, 1200 * MS) == 0 && !rate.busy); /* not a whole window */
    CHECK(rill_busy_rate_update(&rate, 999, 1250 * MS) == 0 && !rate.busy); /* 3,996 a second */
    CHECK(rate.last_per_s == 3996);
    CHECK(rill_busy_rate_update(&rate, 1999, 1500 * MS) == 1 && rate.busy); /* 4,000: busy, a change */
    CHECK(rate.last_per_s == 4000);
    CHECK(rill_busy_rate_update(&rate, 2000, 1501 * MS) == 0 && rate.busy);
    CHECK(rill_busy_rate_update(&rate, 2500, 1750 * MS) == 0 && rate.busy); /* ~2,000: half keeps it */
    CHECK(rill_busy_rate_update(&rate, 2999, 2000 * MS) == 1 && !rate.busy); /* 1,996: quiet */
    CHECK(rill_busy_rate_update(&rate, 3000, 62000 * MS) == 0 && !rate.busy); /* one long, slow window */
    CHECK(rill_busy_rate_update(&rate, 5000, 62250 * MS) == 1 && rate.busy);
    /* Back in count or clock: a new window, nothing decided. */
    CHECK(rill_busy_rate_update(&rate, 10, 62300 * MS) == 0 && rate.busy);
    CHECK(rill_busy_rate_update(&rate, 11, 62550 * MS) == 1 && !rate.busy);
    CHECK(rill_busy_rate_update(&rate, 5000, 100 * MS) == 0 && !rate.busy);
    /* A count beyond what 64 bits hold once multiplied by 1e9. */
    CHECK(rill_busy_rate_update(&rate, 5000 + 40000000000ull, 400 * MS) == 1 && rate.busy);

    rill_busy_rate_t never;
    rill_busy_rate_init(&never, 0, 250 * MS);
    CHECK(rill_busy_rate_update(&never, 0, 1000 * MS) == 0);
    CHECK(rill_busy_rate_update(&never, 1000000, 1250 * MS) == 0 && !never.busy);
    CHECK(rill_busy_rate_update(&never, 2000000, 1500 * MS) == 0 && !never.busy);
    RILL_TEST_END();
}
