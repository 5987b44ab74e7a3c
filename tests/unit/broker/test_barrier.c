/* test_barrier.c - work held until a token is seen or 2 s pass (broker/barrier.c). */
#include "rill_test.h"
#include "barrier.h"

#include <stdlib.h>
#include <string.h>

static int released[8];
static int timed_out_flags[8];
static int freed;

static void release(void *item, int timed_out, void *argument)
{
    (void)argument;
    int index = *(int *)item;
    released[index]++;
    timed_out_flags[index] = timed_out;
    free(item);
}

static void item_free(void *item)
{
    freed++;
    free(item);
}

static int *item(int index)
{
    int *value = malloc(sizeof(*value));
    *value = index;
    return value;
}

int main(void)
{
    rill_barrier_t *barrier = rill_barrier_new(item_free);
    rill_barrier_hold(barrier, "A", 2000, item(0));
    rill_barrier_hold(barrier, "B", 1000, item(1));
    rill_barrier_hold(barrier, "A", 2500, item(2));
    CHECK(rill_barrier_held(barrier) == 3);
    CHECK(!rill_barrier_was_seen(barrier, "A"));

    /* The token shows up: both of its items go, the other stays. */
    rill_barrier_seen(barrier, "A", 500, release, NULL);
    CHECK(released[0] == 1 && released[2] == 1 && released[1] == 0);
    CHECK(timed_out_flags[0] == 0);
    CHECK(rill_barrier_was_seen(barrier, "A"));
    CHECK(rill_barrier_held(barrier) == 1);

    /* B never shows up: released at its deadline, marked timed out. */
    rill_barrier_expire(barrier, 999, release, NULL);
    CHECK(released[1] == 0);
    rill_barrier_expire(barrier, 1000, release, NULL);
    CHECK(released[1] == 1 && timed_out_flags[1] == 1);
    CHECK(rill_barrier_held(barrier) == 0);

    /* Seen tokens are forgotten after a while. */
    rill_barrier_expire(barrier, 500 + RILL_BARRIER_MEMORY_MS - 1, release, NULL);
    CHECK(rill_barrier_was_seen(barrier, "A"));
    rill_barrier_expire(barrier, 500 + RILL_BARRIER_MEMORY_MS, release, NULL);
    CHECK(!rill_barrier_was_seen(barrier, "A"));

    /* What is still held when it is destroyed is freed, not released. */
    rill_barrier_hold(barrier, "C", 1, item(3));
    rill_barrier_seen(barrier, "C", 1, release, NULL);
    rill_barrier_seen(barrier, "C", 2, release, NULL); /* seen twice: fine */
    CHECK(released[3] == 1);
    rill_barrier_hold(barrier, "D", 1, item(4));
    rill_barrier_destroy(&barrier);
    CHECK(freed == 1 && released[4] == 0 && barrier == NULL);
    RILL_TEST_END();
}
