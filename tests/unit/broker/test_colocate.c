/* test_colocate.c - under load the broker's threads share one CPU, and get
 * their CPUs back when it is quiet (broker/colocate.c): every thread of the
 * process, a second thread's (libzmq's I/O thread's stand-in) too. */
#include "colocate.h"
#include "rill_log.h"
#include "rill_test.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static pid_t other_tid;
static int release[2];

static void *other_thread(void *argument)
{
    (void)argument;
    other_tid = (pid_t)syscall(SYS_gettid);
    char byte;
    if (read(release[0], &byte, 1) < 0)
        return NULL;
    return NULL;
}

static int cpus_of(pid_t tid, cpu_set_t *cpus)
{
    return sched_getaffinity(tid, sizeof(*cpus), cpus);
}

static void test_threshold(void)
{
    uint64_t above = 1;
    char error[160];
    unsetenv("RILL_COLOCATE_PARTS_PER_S");
    CHECK(rill_colocate_threshold_from_environment(&above, error, sizeof(error)) == 0 &&
          above == RILL_COLOCATE_DEFAULT_PARTS_PER_S);
    setenv("RILL_COLOCATE_PARTS_PER_S", "0", 1);
    CHECK(rill_colocate_threshold_from_environment(&above, error, sizeof(error)) == 0 && above == 0);
    setenv("RILL_COLOCATE_PARTS_PER_S", "12000", 1);
    CHECK(rill_colocate_threshold_from_environment(&above, error, sizeof(error)) == 0 && above == 12000);
    const char *bad[] = {"lots", "12x", "-5", " 7"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("RILL_COLOCATE_PARTS_PER_S", bad[i], 1);
        error[0] = '\0';
        CHECKF(rill_colocate_threshold_from_environment(&above, error, sizeof(error)) == -1 &&
                   strstr(error, "RILL_COLOCATE_PARTS_PER_S") != NULL,
               "\"%s\" accepted", bad[i]);
    }
    unsetenv("RILL_COLOCATE_PARTS_PER_S");
}

static void test_pin_and_unpin(void)
{
    cpu_set_t original;
    CHECK(cpus_of(0, &original) == 0);
    CHECK(pipe(release) == 0);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, other_thread, NULL) == 0);
    while (__atomic_load_n(&other_tid, __ATOMIC_SEQ_CST) == 0)
        usleep(1000);

    rill_colocate_t *colocate = rill_colocate_new(100);
    CHECK(colocate != NULL && !rill_colocate_pinned(colocate));
    rill_colocate_tick(colocate, 0, 1000);     /* the first window opens */
    rill_colocate_tick(colocate, 90, 1500);    /* not a second yet */
    CHECK(!rill_colocate_pinned(colocate));
    rill_colocate_tick(colocate, 500, 2000);   /* 500 parts a second */
    if (CPU_COUNT(&original) < 2) {
        printf("  one CPU here: nothing to share (not pinned)\n");
        CHECK(!rill_colocate_pinned(colocate));
    } else {
        CHECK(rill_colocate_pinned(colocate));
        int cpu = rill_colocate_cpu(colocate);
        cpu_set_t main_cpus, other_cpus;
        CHECK(cpus_of(0, &main_cpus) == 0 && cpus_of(other_tid, &other_cpus) == 0);
        CHECK(CPU_COUNT(&main_cpus) == 1 && CPU_ISSET(cpu, &main_cpus));
        CHECK(CPU_COUNT(&other_cpus) == 1 && CPU_ISSET(cpu, &other_cpus));
        rill_colocate_tick(colocate, 570, 3000); /* 70 a second: over half of 100, stays */
        CHECK(rill_colocate_pinned(colocate));
        rill_colocate_tick(colocate, 580, 4000); /* 10 a second: quiet */
        CHECK(!rill_colocate_pinned(colocate) && rill_colocate_cpu(colocate) == -1);
        CHECK(cpus_of(0, &main_cpus) == 0 && cpus_of(other_tid, &other_cpus) == 0);
        CHECK(CPU_EQUAL(&main_cpus, &original) && CPU_EQUAL(&other_cpus, &original));
        /* Pinned again, then destroyed: the CPUs come back. */
        rill_colocate_tick(colocate, 2000, 5000);
        CHECK(rill_colocate_pinned(colocate));
    }
    rill_colocate_destroy(&colocate);
    CHECK(colocate == NULL);
    cpu_set_t after;
    CHECK(cpus_of(0, &after) == 0 && CPU_EQUAL(&after, &original));

    /* 0: never. */
    rill_colocate_t *never = rill_colocate_new(0);
    rill_colocate_tick(never, 0, 1000);
    rill_colocate_tick(never, 1000000, 2000);
    CHECK(!rill_colocate_pinned(never));
    rill_colocate_destroy(&never);
    rill_colocate_tick(NULL, 5, 5); /* no colocate: nothing */

    CHECK(write(release[1], "x", 1) == 1);
    pthread_join(thread, NULL);
    close(release[0]);
    close(release[1]);
}

int main(void)
{
    rill_log_set_level_name("error");
    test_threshold();
    test_pin_and_unpin();
    RILL_TEST_END();
}
