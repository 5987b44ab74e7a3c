/* test_memory_trim.c - a trim comes once per burst, one tick after it ended. */
#include "rill_test.h"
#include "memory_trim.h"

int main(void)
{
    rill_memory_trim_t trim;
    rill_memory_trim_init(&trim);
    CHECK(rill_memory_trim_tick(&trim, 0, 0) == 0); /* nothing happened: no trim */
    CHECK(rill_memory_trim_tick(&trim, 0, 0) == 0);

    /* A burst: connections keep coming, no trim while they do. */
    CHECK(rill_memory_trim_tick(&trim, 100, 40) == 0);
    CHECK(rill_memory_trim_tick(&trim, 900, 300) == 0);
    /* Quiet for one tick: trim once, then not again while nothing moves. */
    CHECK(rill_memory_trim_tick(&trim, 900, 300) == 1);
    CHECK(rill_memory_trim_tick(&trim, 900, 300) == 0);
    CHECK(rill_memory_trim_tick(&trim, 900, 300) == 0);

    /* Streams closing without new connections is activity too. */
    CHECK(rill_memory_trim_tick(&trim, 900, 2) == 0);
    CHECK(rill_memory_trim_tick(&trim, 900, 2) == 1);
    CHECK(rill_memory_trim_tick(&trim, 900, 2) == 0);

    /* One connection more after a trim: one trim more. */
    CHECK(rill_memory_trim_tick(&trim, 901, 2) == 0);
    CHECK(rill_memory_trim_tick(&trim, 901, 2) == 1);
    RILL_TEST_END();
}
