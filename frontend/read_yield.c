/*
 * read_yield.c - the busy test of read_yield.h: the events read over
 * windows of RILL_READ_YIELD_WINDOW_MS, with hysteresis.
 */
#include "read_yield.h"

#include "rill_cpus.h"
#include "rill_log.h"

void rill_read_yield_init(rill_read_yield_t *self, uint64_t busy_per_s)
{
    *self = (rill_read_yield_t){.busy_per_s = busy_per_s};
}

int rill_read_yield_from_environment(uint64_t *busy_per_s, char *error, size_t error_size)
{
    return rill_cpus_rate_from_environment("RILL_READ_YIELD_PER_S", RILL_READ_YIELD_DEFAULT_PER_S, "never",
                                           busy_per_s, error, error_size);
}

int rill_read_yield_wakeup(rill_read_yield_t *self, uint64_t events, uint64_t now_ms)
{
    if (self->busy_per_s == 0)
        return 0;
    if (self->window_start_ms == 0 || now_ms < self->window_start_ms || events < self->window_events) {
        self->window_start_ms = now_ms;
        self->window_events = events;
    } else if (now_ms - self->window_start_ms >= RILL_READ_YIELD_WINDOW_MS) {
        uint64_t rate = (events - self->window_events) * 1000 / (now_ms - self->window_start_ms);
        if (!self->busy && rate >= self->busy_per_s) {
            self->busy = 1;
            rill_log_debug(NULL, "%llu events a second from the broker: each read lets libzmq finish first",
                           (unsigned long long)rate);
        } else if (self->busy && rate * 2 < self->busy_per_s) {
            self->busy = 0;
            rill_log_debug(NULL, "%llu events a second from the broker: reads at once", (unsigned long long)rate);
        }
        self->window_start_ms = now_ms;
        self->window_events = events;
    }
    if (self->busy)
        self->yields++;
    return self->busy;
}
