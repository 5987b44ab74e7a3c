/*
 * rill_metrics.c - Prometheus text rendering and the bucket histogram.
 * See rill_metrics.h.
 */
#include "rill_metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint64_t rill_latency_bounds_ns[] = {
    50000,     100000,    250000,    500000,     1000000,    2500000,    5000000,    10000000,
    25000000,  50000000,  100000000, 250000000,  500000000,  1000000000, 2500000000, 5000000000,
};
const size_t rill_latency_bound_count = sizeof(rill_latency_bounds_ns) / sizeof(rill_latency_bounds_ns[0]);

void rill_histogram_init(rill_histogram_t *self, const uint64_t *bounds, size_t bound_count)
{
    memset(self, 0, sizeof(*self));
    self->bounds = bounds;
    self->bound_count = bound_count > RILL_HISTOGRAM_MAX_BOUNDS ? RILL_HISTOGRAM_MAX_BOUNDS : bound_count;
}

/* Appends text with \\ and \n escaped, and also \" when quote. */
static void append_escaped(rill_buffer_t *self, const char *text, int quote)
{
    const char *run = text;
    for (const char *c = text;; c++) {
        const char *escape = NULL;
        if (*c == '\\')
            escape = "\\\\";
        else if (*c == '\n')
            escape = "\\n";
        else if (*c == '"' && quote)
            escape = "\\\"";
        if (escape == NULL && *c != '\0')
            continue;
        rill_buffer_append(self, run, (size_t)(c - run));
        if (*c == '\0')
            return;
        rill_buffer_append(self, escape, strlen(escape));
        run = c + 1;
    }
}

void rill_metrics_label_value(rill_buffer_t *self, const char *value)
{
    append_escaped(self, value, 1);
}

void rill_metrics_family(rill_buffer_t *self, const char *name, const char *type,
                         const char *help)
{
    rill_buffer_printf(self, "# HELP %s ", name);
    append_escaped(self, help, 0);
    rill_buffer_printf(self, "\n# TYPE %s %s\n", name, type);
}

static void append_labels(rill_buffer_t *self, const char *labels, const char *extra_name,
                          const char *extra_value)
{
    int have = labels != NULL && labels[0] != '\0';
    if (!have && extra_name == NULL)
        return;
    rill_buffer_append(self, "{", 1);
    if (have)
        rill_buffer_append(self, labels, strlen(labels));
    if (extra_name != NULL) {
        if (have)
            rill_buffer_append(self, ",", 1);
        rill_buffer_printf(self, "%s=\"", extra_name);
        append_escaped(self, extra_value != NULL ? extra_value : "", 1);
        rill_buffer_append(self, "\"", 1);
    }
    rill_buffer_append(self, "}", 1);
}

void rill_metrics_sample(rill_buffer_t *self, const char *name, const char *labels,
                         const char *extra_name, const char *extra_value, uint64_t value)
{
    rill_buffer_append(self, name, strlen(name));
    append_labels(self, labels, extra_name, extra_value);
    rill_buffer_printf(self, " %llu\n", (unsigned long long)value);
}

void rill_metrics_histogram(rill_buffer_t *self, const char *name, const char *help,
                            const char *labels, const rill_histogram_t *histogram, double scale)
{
    char series[160];
    char bound[48];
    if (scale <= 0)
        scale = 1;
    rill_metrics_family(self, name, "histogram", help);
    snprintf(series, sizeof(series), "%s_bucket", name);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < histogram->bound_count; i++) {
        cumulative += histogram->buckets[i];
        snprintf(bound, sizeof(bound), "%.17g", (double)histogram->bounds[i] / scale);
        /* %.17g prints 5e-05 as 5.0000000000000002e-05: take the shortest
         * form that reads back as the same double. */
        for (int precision = 1; precision < 17; precision++) {
            char shorter[48];
            snprintf(shorter, sizeof(shorter), "%.*g", precision, (double)histogram->bounds[i] / scale);
            if (strtod(shorter, NULL) == strtod(bound, NULL)) {
                memcpy(bound, shorter, strlen(shorter) + 1);
                break;
            }
        }
        rill_metrics_sample(self, series, labels, "le", bound, cumulative);
    }
    cumulative += histogram->buckets[histogram->bound_count];
    rill_metrics_sample(self, series, labels, "le", "+Inf", cumulative);
    rill_buffer_append(self, name, strlen(name));
    rill_buffer_append(self, "_sum", 4);
    append_labels(self, labels, NULL, NULL);
    rill_buffer_printf(self, " %.15g\n", (double)histogram->sum / scale);
    rill_buffer_append(self, name, strlen(name));
    rill_buffer_append(self, "_count", 6);
    append_labels(self, labels, NULL, NULL);
    rill_buffer_printf(self, " %llu\n", (unsigned long long)cumulative);
}
