/*
 * timer_gap.h - how long a worker's kinds' timers wait for one another: a
 * millisecond while the worker is quiet, two while it is busy.
 *
 * The loop runs a kind's timer when it is due, but a run that had to wait
 * for one follows the last by at least the gap (worker_core.c): what the
 * timers that came due meanwhile made leaves as one PARTS message. Each
 * message costs every process on the path a wakeup of each of its threads,
 * whatever it carries, and at 50 k parts a second those wakeups are most of
 * the broker's CPU: measured on a 2-vCPU KVM guest at ~60 k parts a
 * second, this rule took the broker from 3.3-3.6 to 2.2-3.0 us a part in
 * alternated runs, p99 unchanged, p50 +0.05-0.15 ms (docs/BENCHMARKS.md,
 * 2026-12-02 10:30). At a lower rate the
 * wakeups are cheap and the latency is not: so the gap widens only while
 * the worker sends RILL_WORKER_BUSY_PARTS_PER_S parts a second or more
 * (default 20,000; 0 = never), judged over windows of a tenth of a
 * second, and narrows again once a window's rate falls under half that.
 */
#ifndef RILL_WORKER_TIMER_GAP_H
#define RILL_WORKER_TIMER_GAP_H

#include "rill_busy_rate.h"

#include <stddef.h>
#include <stdint.h>

#define RILL_TIMER_GAP_QUIET_NS 1000000u
#define RILL_TIMER_GAP_BUSY_NS 2000000u
#define RILL_TIMER_GAP_WINDOW_NS 100000000u
#define RILL_TIMER_GAP_DEFAULT_BUSY_PER_S 20000

typedef struct {
    rill_busy_rate_t rate; /* of the parts sent: the gap widens while busy */
} rill_timer_gap_t;

/* Quiet; busy_per_s 0: never busy. */
void rill_timer_gap_init(rill_timer_gap_t *self, uint64_t busy_per_s);
/* On each pass of the loop: parts is the running total sent, now_ns the
 * monotonic clock. Returns the gap. */
uint64_t rill_timer_gap_update(rill_timer_gap_t *self, uint64_t parts, uint64_t now_ns);
/* The threshold from RILL_WORKER_BUSY_PARTS_PER_S (unset or empty: the
 * default). -1 with error filled when it is not a number (exit 2). */
int rill_timer_gap_threshold_from_environment(uint64_t *busy_per_s, char *error, size_t error_size);

#endif
