/* test_scheduler.c - the CPU scheduling policy of rill's processes
 * (rill_scheduler.h): names parse both ways, RILL_SCHEDULER is applied to
 * the calling thread and inherited by a thread created afterwards, a bad
 * value is an error that changes nothing, and unset it leaves the policy
 * the process was started with. */
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
    /* batch: a thread made afterwards inherits it (no privilege needed). */
    setenv("RILL_SCHEDULER", "batch", 1);
    CHECK(rill_scheduler_apply_from_environment(error, sizeof(error)) == 0);
    CHECK(sched_getscheduler(0) == SCHED_BATCH);
    CHECKF(thread_policy() == SCHED_BATCH, "a new thread runs under policy %d", thread_policy());
    /* A bad value: an error naming it, and the policy left as it was. */
    setenv("RILL_SCHEDULER", "fifo", 1);
    CHECK(rill_scheduler_apply_from_environment(error, sizeof(error)) == -1);
    CHECKF(strstr(error, "\"fifo\"") != NULL, "error: %s", error);
    CHECK(sched_getscheduler(0) == SCHED_BATCH);
    /* Unset or empty: the policy the process had stands (an operator's
     * chrt); only an explicit "normal" gives Linux's default back. */
    unsetenv("RILL_SCHEDULER");
    CHECK(rill_scheduler_apply_from_environment(error, sizeof(error)) == 0);
    CHECK(sched_getscheduler(0) == SCHED_BATCH && thread_policy() == SCHED_BATCH);
    setenv("RILL_SCHEDULER", "", 1);
    CHECK(rill_scheduler_apply_from_environment(error, sizeof(error)) == 0);
    CHECK(sched_getscheduler(0) == SCHED_BATCH);
    setenv("RILL_SCHEDULER", "normal", 1);
    CHECK(rill_scheduler_apply_from_environment(error, sizeof(error)) == 0);
    CHECK(sched_getscheduler(0) == SCHED_OTHER && thread_policy() == SCHED_OTHER);
    unsetenv("RILL_SCHEDULER");
    CHECK(rill_scheduler_apply_from_environment(error, sizeof(error)) == 0 && sched_getscheduler(0) == SCHED_OTHER);
    RILL_TEST_END();
}
