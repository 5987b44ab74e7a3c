/*
 * timer_gap.c - the gap between runs of a worker's kinds' timers, from the
 * worker's own rate of parts (timer_gap.h says why).
 */
#include "timer_gap.h"

#include "rill_cpus.h"
#include "rill_log.h"

void rill_timer_gap_init(rill_timer_gap_t *self, uint64_t busy_per_s)
{
    rill_busy_rate_init(&self->rate, busy_per_s, RILL_TIMER_GAP_WINDOW_NS);
}

uint64_t rill_timer_gap_update(rill_timer_gap_t *self, uint64_t parts, uint64_t now_ns)
{
    if (rill_busy_rate_update(&self->rate, parts, now_ns))
        rill_log_debug(NULL, "%llu parts a second: the kinds' timers wait for one another %s",
                       (unsigned long long)self->rate.last_per_s, self->rate.busy ? "2 ms" : "1 ms");
    return self->rate.busy ? RILL_TIMER_GAP_BUSY_NS : RILL_TIMER_GAP_QUIET_NS;
}

int rill_timer_gap_threshold_from_environment(uint64_t *busy_per_s, char *error, size_t error_size)
{
    return rill_cpus_rate_from_environment("RILL_WORKER_BUSY_PARTS_PER_S", RILL_TIMER_GAP_DEFAULT_BUSY_PER_S,
                                           "the gap stays a millisecond", busy_per_s, error, error_size);
}
