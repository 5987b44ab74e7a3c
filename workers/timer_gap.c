/*
 * timer_gap.c - the gap between runs of a worker's kinds' timers, from the
 * worker's own rate of parts (timer_gap.h says why).
 */
#include "timer_gap.h"

#include "rill_cpus.h"

void rill_timer_gap_init(rill_timer_gap_t *self, uint64_t busy_per_s, uint64_t now_ns, uint64_t parts)
{
    self->busy_per_s = busy_per_s;
    self->window_start_ns = now_ns;
    self->window_parts = parts;
    self->gap_ns = RILL_TIMER_GAP_QUIET_NS;
}

uint64_t rill_timer_gap_update(rill_timer_gap_t *self, uint64_t parts, uint64_t now_ns)
{
    if (self->busy_per_s == 0 || now_ns < self->window_start_ns + RILL_TIMER_GAP_WINDOW_NS)
        return self->gap_ns;
    uint64_t elapsed_ns = now_ns - self->window_start_ns;
    uint64_t sent = parts >= self->window_parts ? parts - self->window_parts : 0;
    double per_s = (double)sent * 1e9 / (double)elapsed_ns;
    if (per_s >= (double)self->busy_per_s)
        self->gap_ns = RILL_TIMER_GAP_BUSY_NS;
    else if (per_s * 2 < (double)self->busy_per_s)
        self->gap_ns = RILL_TIMER_GAP_QUIET_NS;
    self->window_start_ns = now_ns;
    self->window_parts = parts;
    return self->gap_ns;
}

int rill_timer_gap_threshold_from_environment(uint64_t *busy_per_s, char *error, size_t error_size)
{
    return rill_cpus_rate_from_environment("RILL_WORKER_BUSY_PARTS_PER_S", RILL_TIMER_GAP_DEFAULT_BUSY_PER_S,
                                           "the gap stays a millisecond", busy_per_s, error, error_size);
}
