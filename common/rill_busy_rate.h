/*
 * rill_busy_rate.h - "busy" from a running count: its rate judged once a
 * window, busy from a threshold on, quiet again under half of it.
 *
 * Several of rill's processes trade latency for CPU only under load: the
 * frontend's read yield (frontend/read_yield.h, events from the broker) and
 * a worker's timer gap (workers/timer_gap.h, parts sent). Each asks the
 * same question of a counter it already keeps, and this answers it. The
 * half-rate hysteresis keeps a process that sits at the threshold from
 * flipping every window, and from turning the trade off because the trade
 * itself merged its wakeups.
 *
 * The first update only starts a window; a window is judged by the first
 * update at or after its end, over the whole time since it began (a long
 * quiet stretch is one window of a low rate); a count or a clock that
 * went back starts a new window and decides nothing.
 */
#ifndef RILL_BUSY_RATE_H
#define RILL_BUSY_RATE_H

#include <stdint.h>

typedef struct {
    uint64_t busy_per_s;      /* the rate that makes it busy; 0: never */
    uint64_t window_ns;       /* how long a window lasts at least */
    uint64_t window_start_ns; /* 0: no window yet */
    uint64_t window_count;    /* the count at the window's start */
    uint64_t last_per_s;      /* the rate of the last window judged */
    unsigned busy : 1;
} rill_busy_rate_t;

void rill_busy_rate_init(rill_busy_rate_t *self, uint64_t busy_per_s, uint64_t window_ns);
/* count: the running total; now_ns: a monotonic clock (not 0). Returns 1
 * when this update changed self->busy (last_per_s says at what rate), else
 * 0. */
int rill_busy_rate_update(rill_busy_rate_t *self, uint64_t count, uint64_t now_ns);

#endif
