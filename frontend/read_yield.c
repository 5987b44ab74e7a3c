/*
 * read_yield.c - the busy test of read_yield.h: the events read over
 * windows of RILL_READ_YIELD_WINDOW_MS, with hysteresis.
 */
#include "read_yield.h"

#include "rill_cpus.h"
#include "rill_log.h"

void rill_read_yield_init(rill_read_yield_t *self, uint64_t busy_per_s)
{
    rill_busy_rate_init(&self->rate, busy_per_s, RILL_READ_YIELD_WINDOW_MS * 1000000u);
    self->yields = 0;
}

int rill_read_yield_from_environment(uint64_t *busy_per_s, char *error, size_t error_size)
{
    return rill_cpus_rate_from_environment("RILL_READ_YIELD_PER_S", RILL_READ_YIELD_DEFAULT_PER_S, "never",
                                           busy_per_s, error, error_size);
}

int rill_read_yield_wakeup(rill_read_yield_t *self, uint64_t events, uint64_t now_ms)
{
    if (rill_busy_rate_update(&self->rate, events, now_ms * 1000000u))
        rill_log_debug(NULL,
                       self->rate.busy ? "%llu events a second from the broker: each read lets libzmq finish first"
                                       : "%llu events a second from the broker: reads at once",
                       (unsigned long long)self->rate.last_per_s);
    if (self->rate.busy)
        self->yields++;
    return self->rate.busy;
}
