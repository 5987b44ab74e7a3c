/*
 * bench_latency.c - every latency of the window in one growing array (8 bytes
 * a sample: 60 M samples for a minute at 1 M/s fit in 480 MB), sorted once
 * at the end for exact percentiles (see bench_latency.h).
 */
#include "bench_latency.h"

#include <stdio.h>
#include <stdlib.h>

static uint64_t *latencies;
static size_t latency_count, latency_capacity;

void bench_latency_add(uint64_t latency_ns)
{
    if (latency_count == latency_capacity) {
        latency_capacity = latency_capacity ? latency_capacity * 2 : 1 << 20;
        uint64_t *grown = realloc(latencies, latency_capacity * sizeof(*grown));
        if (grown == NULL) {
            fprintf(stderr, "rill-bench: out of memory\n");
            exit(1);
        }
        latencies = grown;
    }
    latencies[latency_count++] = latency_ns;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void bench_latency_sort(void)
{
    if (latency_count > 0)
        qsort(latencies, latency_count, sizeof(*latencies), compare_u64);
}

double bench_latency_percentile_ms(double fraction)
{
    if (latency_count == 0)
        return 0;
    size_t index = (size_t)(fraction * (double)(latency_count - 1));
    return (double)latencies[index] / 1e6;
}

double bench_latency_max_ms(void)
{
    return latency_count ? (double)latencies[latency_count - 1] / 1e6 : 0.0;
}

void bench_latency_free(void)
{
    free(latencies);
    latencies = NULL;
    latency_count = latency_capacity = 0;
}
