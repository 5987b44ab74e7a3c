/*
 * rill_metrics.h - the Prometheus text format (version 0.0.4) and the one
 * histogram rill keeps, shared by broker and frontend (docs/METRICS.md,
 * docs/METRICS.md).
 *
 * Counting stays where state changes, as plain integers; this module only
 * turns numbers into text at scrape time. The histogram is a fixed array of
 * buckets: observing is a short scan and two additions, no allocation, no
 * clock read, so it can sit on the delivery path.
 */
#ifndef RILL_METRICS_H
#define RILL_METRICS_H

#include "rill_buffer.h"

#include <stddef.h>
#include <stdint.h>

#define RILL_HISTOGRAM_MAX_BOUNDS 24

typedef struct {
    const uint64_t *bounds; /* ascending upper bounds (le); +Inf is implicit */
    size_t bound_count;
    uint64_t buckets[RILL_HISTOGRAM_MAX_BOUNDS + 1]; /* per bucket, not cumulative; last = +Inf */
    uint64_t count;
    uint64_t sum;
} rill_histogram_t;

/* Publish-to-delivery latency buckets, in ns: 50 µs to 5 s. */
extern const uint64_t rill_latency_bounds_ns[];
extern const size_t rill_latency_bound_count;

/* bounds must stay alive (a static table) and hold at most
 * RILL_HISTOGRAM_MAX_BOUNDS values; more are ignored. */
void rill_histogram_init(rill_histogram_t *self, const uint64_t *bounds, size_t bound_count);

static inline void rill_histogram_observe(rill_histogram_t *self, uint64_t value)
{
    size_t i = 0;
    while (i < self->bound_count && value > self->bounds[i])
        i++;
    self->buckets[i]++;
    self->count++;
    self->sum += value;
}

/* value escaped as a label value wants (\\, \" and \n), without quotes. */
void rill_metrics_label_value(rill_buffer_t *self, const char *value);

/* "# HELP name help\n# TYPE name type\n"; type is counter, gauge or
 * histogram. help is escaped as the format wants (\\ and \n). */
void rill_metrics_family(rill_buffer_t *self, const char *name, const char *type,
                         const char *help);
/* name{labels[,extra_name="extra_value"]} value. labels is a pre-built,
 * already escaped list such as process="broker" (may be ""); the extra
 * label's value is escaped here (\\, \" and \n). extra_name may be NULL. */
void rill_metrics_sample(rill_buffer_t *self, const char *name, const char *labels,
                         const char *extra_name, const char *extra_value, uint64_t value);
/* A whole histogram family: HELP/TYPE, cumulative name_bucket{…,le="…"}
 * lines ending with le="+Inf", then name_sum and name_count. Bounds and sum
 * are divided by scale when printed (1e9 turns ns into seconds). */
void rill_metrics_histogram(rill_buffer_t *self, const char *name, const char *help,
                            const char *labels, const rill_histogram_t *histogram, double scale);

#endif
