/* test_scheduler.c - the CPU scheduling policy of rill's processes
 * (rill_scheduler.h): names parse both ways, RILL_SCHEDULER is applied to
 * the calling thread and inherited by a thread created afterwards, a bad
 * value is an error that changes nothing, and unset it gives the process's
 * own default unless the process was started under another policy than
 * Linux's default. */
#include "rill_scheduler.h"
#include "rill_test.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

static void *policy_of_new_thread(void *result)
{
    *(int *)result = sched_getscheduler(0);
    return NULL;
}

static int thread_policy(void)
{
    int policy = -1;
    pthread_t thread;
    if (pthread_create(&thread, NULL, policy_of_new_thread, &policy) != 0)
        return -2;
    pthread_join(thread, NULL);
    return policy;
}

int main(void)
{
    rill_scheduler_policy_t policy = RILL_SCHEDULER_NORMAL;
    CHECK(rill_scheduler_parse("batch", &policy) == 0 && policy == RILL_SCHEDULER_BATCH);
    CHECK(rill_scheduler_parse("normal", &policy) == 0 && policy == RILL_SCHEDULER_NORMAL);
    CHECK(rill_scheduler_parse("BATCH", &policy) == -1 && policy == RILL_SCHEDULER_NORMAL);
    CHECK(rill_scheduler_parse("", &policy) == -1);
    CHECK(rill_scheduler_parse(NULL, &policy) == -1);
    CHECK(strcmp(rill_scheduler_name(RILL_SCHEDULER_BATCH), "batch") == 0);
    CHECK(strcmp(rill_scheduler_name(RILL_SCHEDULER_NORMAL), "normal") == 0);

    char error[256] = "";
#define APPLY(fallback) rill_scheduler_apply_from_environment(fallback, error, sizeof(error))
    /* Started under Linux's default, unset: the process's own default (the
     * broker's and a worker's: batch), inherited by a thread made after. */
    unsetenv("RILL_SCHEDULER");
    CHECK(rill_scheduler_apply(RILL_SCHEDULER_NORMAL) == 0); /* however the test was started */
    CHECK(APPLY(RILL_SCHEDULER_NORMAL) == 0 && sched_getscheduler(0) == SCHED_OTHER); /* the frontend's */
    CHECK(APPLY(RILL_SCHEDULER_BATCH) == 0 && sched_getscheduler(0) == SCHED_BATCH);
    CHECKF(thread_policy() == SCHED_BATCH, "a new thread runs under policy %d", thread_policy());
    /* Started under another policy (an operator's chrt), unset or empty:
     * it stands, whatever the process's default. */
    CHECK(APPLY(RILL_SCHEDULER_NORMAL) == 0 && sched_getscheduler(0) == SCHED_BATCH);
    setenv("RILL_SCHEDULER", "", 1);
    CHECK(APPLY(RILL_SCHEDULER_NORMAL) == 0 && sched_getscheduler(0) == SCHED_BATCH);
    /* By name: "normal" gives Linux's default back, "batch" batch. */
    setenv("RILL_SCHEDULER", "normal", 1);
    CHECK(APPLY(RILL_SCHEDULER_BATCH) == 0 && sched_getscheduler(0) == SCHED_OTHER);
    CHECK(thread_policy() == SCHED_OTHER);
    setenv("RILL_SCHEDULER", "batch", 1);
    CHECK(APPLY(RILL_SCHEDULER_NORMAL) == 0 && sched_getscheduler(0) == SCHED_BATCH);
    /* A bad value: an error naming it, and the policy left as it was. */
    setenv("RILL_SCHEDULER", "fifo", 1);
    CHECK(APPLY(RILL_SCHEDULER_NORMAL) == -1);
    CHECKF(strstr(error, "\"fifo\"") != NULL, "error: %s", error);
    CHECK(sched_getscheduler(0) == SCHED_BATCH);
    setenv("RILL_SCHEDULER", "normal", 1);
    CHECK(APPLY(RILL_SCHEDULER_BATCH) == 0 && sched_getscheduler(0) == SCHED_OTHER);
    RILL_TEST_END();
}
