/*
 * rill_clock.h - the two clocks rill uses: CLOCK_MONOTONIC for intervals and
 * latency (comparable across processes on one host), wall time for the
 * timings a user reads in job status.
 */
#ifndef RILL_CLOCK_H
#define RILL_CLOCK_H

#include <stdint.h>

uint64_t rill_clock_monotonic_ns(void);
uint64_t rill_clock_monotonic_ms(void);
uint64_t rill_clock_wall_ms(void);

#endif
