/*
 * bench_latency.h - the latencies rill-bench measured in its window (receipt
 * time minus the emission time each message carries), kept whole so the
 * percentiles are exact, not bucketed.
 */
#ifndef BENCH_LATENCY_H
#define BENCH_LATENCY_H

#include <stdint.h>

void bench_latency_add(uint64_t latency_ns);
void bench_latency_sort(void);                   /* before the percentiles */
double bench_latency_percentile_ms(double fraction); /* 0.99: p99; 0 with no sample */
double bench_latency_max_ms(void);
void bench_latency_free(void);

#endif
