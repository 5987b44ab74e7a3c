/*
 * colocate.c - under load, the broker's threads share one CPU. See
 * colocate.h for why, and what it costs.
 */
#include "colocate.h"
#include "rill_alloc.h"
#include "rill_cpus.h"
#include "rill_log.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define WINDOW_MS 1000

struct rill_colocate {
    uint64_t above;     /* parts a second that pin (0: never) */
    cpu_set_t original; /* the CPUs the threads had when pinned */
    int cpu;            /* the CPU they share; -1 when not pinned */
    uint64_t window_start_ms;
    uint64_t window_parts;
    int refused; /* the kernel refused once: not tried again */
};

rill_colocate_t *rill_colocate_new(uint64_t above)
{
    rill_colocate_t *self = rill_xcalloc(1, sizeof(*self));
    self->above = above;
    self->cpu = -1;
    if (sched_getaffinity(0, sizeof(self->original), &self->original) != 0) {
        free(self);
        return NULL;
    }
    return self;
}

static void unpin(rill_colocate_t *self, const char *why)
{
    if (self->cpu < 0)
        return;
    if (rill_cpus_set_every_thread(0, &self->original) != 0)
        rill_log_warn(NULL, "cannot give the broker's threads their CPUs back: %s", strerror(errno));
    rill_log_info(NULL, "%s: the broker's threads run on any of their CPUs again (they shared CPU %d)", why,
                  self->cpu);
    self->cpu = -1;
}

void rill_colocate_destroy(rill_colocate_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    unpin(*self_p, "stopping");
    free(*self_p);
    *self_p = NULL;
}

int rill_colocate_threshold_from_environment(uint64_t *above, char *error, size_t error_size)
{
    return rill_cpus_rate_from_environment("RILL_COLOCATE_PARTS_PER_S", RILL_COLOCATE_DEFAULT_PARTS_PER_S, "never",
                                           above, error, error_size);
}

void rill_colocate_tick(rill_colocate_t *self, uint64_t parts, uint64_t now_ms)
{
    if (self == NULL)
        return;
    if (self->window_start_ms == 0 || parts < self->window_parts) {
        self->window_start_ms = now_ms;
        self->window_parts = parts;
        return;
    }
    uint64_t elapsed = now_ms - self->window_start_ms;
    if (elapsed < WINDOW_MS)
        return;
    uint64_t rate = (parts - self->window_parts) * 1000 / elapsed;
    self->window_start_ms = now_ms;
    self->window_parts = parts;
    if (self->cpu >= 0 && (self->above == 0 || rate < self->above / 2)) {
        unpin(self, "the job path is quiet");
        return;
    }
    if (self->cpu >= 0 || self->above == 0 || rate < self->above || self->refused)
        return;
    /* The CPUs of now, not of the start: RILL_PLACEMENT's quiet moves
     * (rill_quiet_cpu.h) change them, never while pinned. */
    if (sched_getaffinity(0, sizeof(self->original), &self->original) != 0)
        return;
    int cpu = sched_getcpu();
    if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &self->original) || CPU_COUNT(&self->original) < 2)
        return; /* one CPU anyway, or not one of ours */
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (rill_cpus_set_every_thread(0, &one) != 0) {
        self->refused = 1;
        (void)rill_cpus_set_every_thread(0, &self->original);
        rill_log_warn(NULL, "cannot keep the broker's threads on one CPU (%s): they run as they were",
                      strerror(errno));
        return;
    }
    self->cpu = cpu;
    rill_log_info(NULL, "busy (%llu parts a second): the broker's threads share CPU %d", (unsigned long long)rate,
                  cpu);
}

int rill_colocate_pinned(const rill_colocate_t *self)
{
    return self != NULL && self->cpu >= 0;
}

int rill_colocate_cpu(const rill_colocate_t *self)
{
    return self != NULL ? self->cpu : -1;
}
