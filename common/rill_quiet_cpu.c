/*
 * rill_quiet_cpu.c - a split-placed broker or worker on the frontend's CPU
 * while quiet. See rill_quiet_cpu.h for why and when.
 */
#include "rill_quiet_cpu.h"
#include "rill_alloc.h"
#include "rill_cpus.h"
#include "rill_log.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct rill_quiet_cpu {
    uint64_t busy_per_s;
    const char *what;
    cpu_set_t busy;  /* the CPUs split gave the process */
    cpu_set_t quiet; /* the frontend's */
    int is_quiet;
    int refused; /* the kernel refused a move: no more */
    unsigned quiet_windows; /* consecutive windows under half the rate and half the CPU share */
    uint64_t window_start_ms;
    uint64_t window_count;
    uint64_t window_cpu_ns; /* the process's CPU time at the window's start */
};

/* CPU time of every thread of the process, in ns (0 where unreadable). */
static uint64_t process_cpu_ns(void)
{
    struct timespec now;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now) != 0)
        return 0;
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

int rill_quiet_cpu_threshold_from_environment(uint64_t *busy_per_s, char *error, size_t error_size)
{
    return rill_cpus_rate_from_environment("RILL_PLACEMENT_BUSY_PER_S", RILL_QUIET_CPU_DEFAULT_BUSY_PER_S,
                                           "the split stays fixed", busy_per_s, error, error_size);
}

static void move(rill_quiet_cpu_t *self, int to_quiet, uint64_t rate, uint64_t cpu_share)
{
    const cpu_set_t *cpus = to_quiet ? &self->quiet : &self->busy;
    char text[256];
    if (rill_cpus_format(cpus, text, sizeof(text)) == 0)
        snprintf(text, sizeof(text), "(%d CPUs)", CPU_COUNT(cpus));
    if (rill_cpus_set_every_thread(0, cpus) != 0) {
        int error = errno;
        self->refused = 1;
        /* A move half done (one thread refused) is undone as far as it goes. */
        (void)rill_cpus_set_every_thread(0, to_quiet ? &self->busy : &self->quiet);
        rill_log_warn(NULL, "cannot run on CPUs %s (%s): the CPUs stay as they are", text, strerror(error));
        return;
    }
    self->is_quiet = to_quiet;
    if (to_quiet)
        rill_log_info(NULL, "quiet (%llu %s a second, %llu%% of a CPU): running on the frontend's CPU %s",
                      (unsigned long long)rate, self->what, (unsigned long long)(cpu_share / 10), text);
    else
        rill_log_info(NULL, "busy (%llu %s a second, %llu%% of a CPU): running on CPUs %s", (unsigned long long)rate,
                      self->what, (unsigned long long)(cpu_share / 10), text);
}

rill_quiet_cpu_t *rill_quiet_cpu_new(uint64_t busy_per_s, const char *what)
{
    cpu_set_t busy, quiet;
    if (busy_per_s == 0 || rill_cpus_split_sets(&busy, &quiet) != 0)
        return NULL;
    rill_quiet_cpu_t *self = rill_xcalloc(1, sizeof(*self));
    self->busy_per_s = busy_per_s;
    self->what = what;
    self->busy = busy;
    self->quiet = quiet;
    move(self, 1, 0, 0); /* nothing handled yet: quiet */
    return self;
}

void rill_quiet_cpu_destroy(rill_quiet_cpu_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free(*self_p);
    *self_p = NULL;
}

void rill_quiet_cpu_tick(rill_quiet_cpu_t *self, uint64_t count, uint64_t now_ms, int held)
{
    if (self == NULL)
        return;
    uint64_t cpu_ns = process_cpu_ns();
    if (self->window_start_ms == 0 || count < self->window_count || now_ms < self->window_start_ms ||
        cpu_ns < self->window_cpu_ns) {
        self->window_start_ms = now_ms;
        self->window_count = count;
        self->window_cpu_ns = cpu_ns;
        return;
    }
    uint64_t elapsed = now_ms - self->window_start_ms;
    if (elapsed < RILL_QUIET_CPU_WINDOW_MS)
        return;
    uint64_t rate = (count - self->window_count) * 1000 / elapsed;
    /* Thousandths of one CPU: a few heavy parts a second (large bodies, a
     * chatty command) make a process busy too. */
    uint64_t cpu_share = (cpu_ns - self->window_cpu_ns) / 1000 / elapsed;
    self->window_start_ms = now_ms;
    self->window_count = count;
    self->window_cpu_ns = cpu_ns;
    int busy = rate >= self->busy_per_s || cpu_share >= RILL_QUIET_CPU_BUSY_SHARE;
    if (rate * 2 < self->busy_per_s && cpu_share * 2 < RILL_QUIET_CPU_BUSY_SHARE) {
        if (self->quiet_windows < RILL_QUIET_CPU_QUIET_WINDOWS)
            self->quiet_windows++;
    } else {
        self->quiet_windows = 0;
    }
    if (held || self->refused)
        return;
    if (self->is_quiet && busy)
        move(self, 0, rate, cpu_share);
    else if (!self->is_quiet && self->quiet_windows >= RILL_QUIET_CPU_QUIET_WINDOWS)
        move(self, 1, rate, cpu_share);
}

int rill_quiet_cpu_is_quiet(const rill_quiet_cpu_t *self)
{
    return self != NULL && self->is_quiet;
}
