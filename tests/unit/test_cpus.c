/* test_cpus.c - the CPUs a rill process runs on (rill_cpus.h): lists parse
 * and format both ways, bad lists are errors that change nothing, split
 * gives the frontend the last CPU and the rest the others, and RILL_CPUS
 * and RILL_PLACEMENT are applied to the calling thread (RILL_CPUS first)
 * and inherited by a thread created afterwards, and a child gets the CPUs
 * the process was started with back. */
#include "rill_cpus.h"
#include "rill_test.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *cpus_of_new_thread(void *result)
{
    sched_getaffinity(0, sizeof(cpu_set_t), result);
    return NULL;
}

static int same_text(const cpu_set_t *cpus, const char *expected)
{
    char text[64];
    size_t length = rill_cpus_format(cpus, text, sizeof(text));
    return length == strlen(expected) && strcmp(text, expected) == 0;
}

int main(void)
{
    char error[256] = "";
    cpu_set_t cpus, allowed, taken;

    CHECK(rill_cpus_parse("0", &cpus, error, sizeof(error)) == 0 && CPU_COUNT(&cpus) == 1 && CPU_ISSET(0, &cpus));
    CHECK(rill_cpus_parse("0,2-3,7", &cpus, error, sizeof(error)) == 0 && CPU_COUNT(&cpus) == 4);
    CHECK(same_text(&cpus, "0,2-3,7"));
    CHECK(rill_cpus_parse("1-1", &cpus, error, sizeof(error)) == 0 && same_text(&cpus, "1"));
    CHECK(rill_cpus_parse("0-5", &cpus, error, sizeof(error)) == 0 && same_text(&cpus, "0-5"));
    /* Bad lists: an error, and the set as it was. */
    const char *bad[] = {"", "a", "1,", ",1", "3-1", "1-", "-1", "1 2", "0x1", "99999", "1;2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        error[0] = '\0';
        CHECKF(rill_cpus_parse(bad[i], &cpus, error, sizeof(error)) == -1 && error[0] != '\0',
               "\"%s\" parsed", bad[i]);
        CHECK(same_text(&cpus, "0-5"));
    }
    CHECK(rill_cpus_parse(NULL, &cpus, error, sizeof(error)) == -1);
    CPU_ZERO(&cpus);
    char tiny[4];
    CHECK(rill_cpus_format(&cpus, tiny, sizeof(tiny)) == 0);
    CHECK(rill_cpus_parse("10-19", &cpus, error, sizeof(error)) == 0 && rill_cpus_format(&cpus, tiny, sizeof(tiny)) == 0);
    CHECK(rill_cpus_parse("0-9", &cpus, error, sizeof(error)) == 0 && rill_cpus_format(&cpus, tiny, sizeof(tiny)) == 3);

    /* split: the frontend the last CPU, the rest the others; one CPU, nothing. */
    CHECK(rill_cpus_parse("0-3,6", &allowed, error, sizeof(error)) == 0);
    CHECK(rill_cpus_split(&allowed, RILL_PLACEMENT_FRONTEND, &taken) == 0 && same_text(&taken, "6"));
    CHECK(rill_cpus_split(&allowed, RILL_PLACEMENT_BACKEND, &taken) == 0 && same_text(&taken, "0-3"));
    CHECK(rill_cpus_parse("2", &allowed, error, sizeof(error)) == 0);
    CHECK(rill_cpus_parse("5", &taken, error, sizeof(error)) == 0);
    CHECK(rill_cpus_split(&allowed, RILL_PLACEMENT_BACKEND, &taken) == -1 && same_text(&taken, "5"));

    /* The environment, on this process's own CPUs. */
    cpu_set_t started;
    CHECK(sched_getaffinity(0, sizeof(started), &started) == 0);
    int first = 0;
    while (!CPU_ISSET(first, &started))
        first++;
    unsetenv("RILL_CPUS");
    unsetenv("RILL_PLACEMENT");
    CHECK(rill_cpus_apply_from_environment(RILL_PLACEMENT_FRONTEND, error, sizeof(error)) == 0);
    CHECK(sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_EQUAL(&cpus, &started));
    setenv("RILL_PLACEMENT", "none", 1);
    CHECK(rill_cpus_apply_from_environment(RILL_PLACEMENT_BACKEND, error, sizeof(error)) == 0);
    CHECK(sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_EQUAL(&cpus, &started));
    /* Bad values: errors naming the variable; nothing changes. */
    setenv("RILL_PLACEMENT", "spread", 1);
    CHECK(rill_cpus_apply_from_environment(RILL_PLACEMENT_BACKEND, error, sizeof(error)) == -1 &&
          strstr(error, "RILL_PLACEMENT") != NULL);
    setenv("RILL_CPUS", "0-", 1);
    CHECK(rill_cpus_apply_from_environment(RILL_PLACEMENT_BACKEND, error, sizeof(error)) == -1 &&
          strstr(error, "RILL_CPUS") != NULL);
    CHECK(sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_EQUAL(&cpus, &started));
    /* RILL_CPUS wins over RILL_PLACEMENT (even a bad one), and a thread made after inherits it. */
    char list[16];
    snprintf(list, sizeof(list), "%d", first);
    setenv("RILL_CPUS", list, 1);
    CHECK(rill_cpus_apply_from_environment(RILL_PLACEMENT_BACKEND, error, sizeof(error)) == 0);
    cpu_set_t inherited;
    CPU_ZERO(&inherited);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, cpus_of_new_thread, &inherited) == 0 && pthread_join(thread, NULL) == 0);
    CHECK(CPU_COUNT(&inherited) == 1 && CPU_ISSET(first, &inherited));
    /* split on this process's CPUs (when it has two or more). */
    unsetenv("RILL_CPUS");
    setenv("RILL_PLACEMENT", "split", 1);
    CHECK(sched_setaffinity(0, sizeof(started), &started) == 0);
    CHECK(rill_cpus_apply_from_environment(RILL_PLACEMENT_FRONTEND, error, sizeof(error)) == 0);
    CHECK(sched_getaffinity(0, sizeof(cpus), &cpus) == 0);
    if (CPU_COUNT(&started) >= 2) {
        CHECK(rill_cpus_split(&started, RILL_PLACEMENT_FRONTEND, &taken) == 0 && CPU_EQUAL(&cpus, &taken));
        CHECK(sched_setaffinity(0, sizeof(started), &started) == 0);
        CHECK(rill_cpus_apply_from_environment(RILL_PLACEMENT_BACKEND, error, sizeof(error)) == 0);
        CHECK(sched_getaffinity(0, sizeof(cpus), &cpus) == 0);
        CHECK(rill_cpus_split(&started, RILL_PLACEMENT_BACKEND, &taken) == 0 && CPU_EQUAL(&cpus, &taken));
    } else {
        CHECK(CPU_EQUAL(&cpus, &started));
    }

    /* A child gets the CPUs this process was started with back, every
     * thread of it; and set_every_thread moves this process's threads. */
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    CHECK(child > 0);
    CPU_ZERO(&taken);
    CPU_SET(first, &taken);
    CHECK(sched_setaffinity(child, sizeof(taken), &taken) == 0);
    CHECK(rill_cpus_give_back(child) == 0);
    CHECK(sched_getaffinity(child, sizeof(cpus), &cpus) == 0 && CPU_EQUAL(&cpus, &started));
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    CHECK(rill_cpus_give_back(child) == -1); /* gone */
    CHECK(rill_cpus_set_every_thread(0, &taken) == 0);
    CHECK(sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_EQUAL(&cpus, &taken));
    CPU_ZERO(&inherited);
    CHECK(pthread_create(&thread, NULL, cpus_of_new_thread, &inherited) == 0 && pthread_join(thread, NULL) == 0);
    CHECK(CPU_EQUAL(&inherited, &taken));
    RILL_TEST_END();
}
