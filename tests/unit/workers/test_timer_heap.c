/* test_timer_heap.c - the worker's timers fire in due order, once, and can be
 * stopped; run_until leaves the rest armed once its predicate says stop (the
 * worker's back-pressure); the loop wakes for the first due, not before a
 * bound (the kinds' timers' gap). */
#include "timer_heap.h"
#include "rill_test.h"

#include <stdlib.h>

static int fired_order[64];
static int fired_count;

static void record(void *argument)
{
    fired_order[fired_count++] = (int)(size_t)argument;
}

/* Stops once three more timers fired. */
static int three_fired(void *argument)
{
    return fired_count >= *(int *)argument + 3;
}

int main(void)
{
    rill_timer_heap_t heap;
    rill_timer_heap_init(&heap);
    rill_worker_timer_t timers[40] = {0};
    /* Arm in a scrambled order: due times 0..39 * 10. */
    for (int i = 0; i < 40; i++) {
        int slot = (i * 17) % 40;
        timers[slot].callback = record;
        timers[slot].argument = (void *)(size_t)slot;
        rill_timer_heap_arm(&heap, &timers[slot], (uint64_t)slot * 10);
    }
    rill_timer_heap_disarm(&heap, &timers[5]);
    rill_timer_heap_disarm(&heap, &timers[5]); /* twice is harmless */
    rill_timer_heap_disarm(&heap, &timers[0]);
    rill_timer_heap_arm(&heap, &timers[39], 1); /* re-arm earlier */
    CHECK(rill_timer_heap_first(&heap) == &timers[39]);
    CHECK(rill_timer_heap_run(&heap, 100) == 10); /* 39 (at 1), then 1..10 without 5 */
    CHECK(fired_order[0] == 39 && fired_order[1] == 1 && fired_order[4] == 4 && fired_order[5] == 6);
    CHECK(rill_timer_heap_run(&heap, 100) == 0);
    CHECK(rill_timer_heap_run(&heap, 1000) == 28);
    int ordered = 1;
    for (int i = 11; i < fired_count; i++)
        ordered &= fired_order[i] > fired_order[i - 1];
    CHECK(ordered);
    CHECK(rill_timer_heap_first(&heap) == NULL);
    CHECK(rill_timer_heap_wake_ns(&heap, 0, 0) == UINT64_MAX);
    CHECK(timers[5].heap_index == 0 && timers[20].heap_index == 0);

    for (int i = 0; i < 5; i++)
        rill_timer_heap_arm(&heap, &timers[i], 2000 + (uint64_t)i);
    CHECK(rill_timer_heap_wake_ns(&heap, 0, 0) == 2000);
    CHECK(rill_timer_heap_wake_ns(&heap, 0, 1999) == 2000);
    CHECK(rill_timer_heap_wake_ns(&heap, 0, 2500) == 2500);
    CHECK(rill_timer_heap_wake_ns(&heap, 2000, 2500) == 2000); /* due: at once, whatever the bound */
    CHECK(rill_timer_heap_wake_ns(&heap, 2100, 2500) == 2100);
    int start = fired_count;
    CHECK(rill_timer_heap_run_until(&heap, 3000, three_fired, &start) == 3);
    CHECK(fired_order[start] == 0 && fired_order[start + 2] == 2);
    CHECK(rill_timer_heap_first(&heap) == &timers[3] && timers[4].heap_index != 0);
    CHECK(rill_timer_heap_run_until(&heap, 3000, NULL, NULL) == 2);
    rill_timer_heap_release(&heap);
    RILL_TEST_END();
}
