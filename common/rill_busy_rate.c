/*
 * rill_busy_rate.c - a windowed rate with hysteresis (rill_busy_rate.h).
 */
#include "rill_busy_rate.h"

void rill_busy_rate_init(rill_busy_rate_t *self, uint64_t busy_per_s, uint64_t window_ns)
{
    *self = (rill_busy_rate_t){.busy_per_s = busy_per_s, .window_ns = window_ns};
}

int rill_busy_rate_update(rill_busy_rate_t *self, uint64_t count, uint64_t now_ns)
{
    if (self->busy_per_s == 0)
        return 0;
    if (self->window_start_ns == 0 || now_ns < self->window_start_ns || count < self->window_count) {
        self->window_start_ns = now_ns;
        self->window_count = count;
        return 0;
    }
    uint64_t elapsed_ns = now_ns - self->window_start_ns;
    if (elapsed_ns < self->window_ns)
        return 0;
    /* In double: a count times 1e9 would overflow 64 bits past ~1.8e10. */
    self->last_per_s = (uint64_t)((double)(count - self->window_count) * 1e9 / (double)elapsed_ns);
    self->window_start_ns = now_ns;
    self->window_count = count;
    unsigned was = self->busy;
    if (self->last_per_s >= self->busy_per_s)
        self->busy = 1;
    else if (self->last_per_s * 2 < self->busy_per_s)
        self->busy = 0;
    return self->busy != was;
}
