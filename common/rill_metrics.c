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

void rill_metrics_text_init(rill_metrics_text_t *self)
{
    memset(self, 0, sizeof(*self));
}

void rill_metrics_text_free(rill_metrics_text_t *self)
{
    free(self->data);
    memset(self, 0, sizeof(*self));
}

static int reserve(rill_metrics_text_t *self, size_t more)
{
    if (self->failed)
        return -1;
    if (self->length + more + 1 <= self->capacity)
        return 0;
    size_t capacity = self->capacity == 0 ? 4096 : self->capacity;
    while (capacity < self->length + more + 1)
        capacity *= 2;
    char *data = realloc(self->data, capacity);
    if (data == NULL) {
        self->failed = 1;
        return -1;
    }
    self->data = data;
    self->capacity = capacity;
    return 0;
}

void rill_metrics_append(rill_metrics_text_t *self, const char *bytes, size_t length)
{
    if (reserve(self, length) != 0)
        return;
    memcpy(self->data + self->length, bytes, length);
    self->length += length;
    self->data[self->length] = '\0';
}

void rill_metrics_printf(rill_metrics_text_t *self, const char *format, ...)
{
    char small[256];
    va_list arguments;
    va_start(arguments, format);
    int length = vsnprintf(small, sizeof(small), format, arguments);
    va_end(arguments);
    if (length < 0) {
        self->failed = 1;
        return;
    }
    if ((size_t)length < sizeof(small)) {
        rill_metrics_append(self, small, (size_t)length);
        return;
    }
    if (reserve(self, (size_t)length) != 0)
        return;
    va_start(arguments, format);
    vsnprintf(self->data + self->length, (size_t)length + 1, format, arguments);
    va_end(arguments);
    self->length += (size_t)length;
}

/* Appends text with \\ and \n escaped, and also \" when quote. */
static void append_escaped(rill_metrics_text_t *self, const char *text, int quote)
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
        rill_metrics_append(self, run, (size_t)(c - run));
        if (*c == '\0')
            return;
        rill_metrics_append(self, escape, strlen(escape));
        run = c + 1;
    }
}

void rill_metrics_family(rill_metrics_text_t *self, const char *name, const char *type,
                         const char *help)
{
    rill_metrics_printf(self, "# HELP %s ", name);
    append_escaped(self, help, 0);
    rill_metrics_printf(self, "\n# TYPE %s %s\n", name, type);
}

static void append_labels(rill_metrics_text_t *self, const char *labels, const char *extra_name,
                          const char *extra_value)
{
    int have = labels != NULL && labels[0] != '\0';
    if (!have && extra_name == NULL)
        return;
    rill_metrics_append(self, "{", 1);
    if (have)
        rill_metrics_append(self, labels, strlen(labels));
    if (extra_name != NULL) {
        if (have)
            rill_metrics_append(self, ",", 1);
        rill_metrics_printf(self, "%s=\"", extra_name);
        append_escaped(self, extra_value != NULL ? extra_value : "", 1);
        rill_metrics_append(self, "\"", 1);
    }
    rill_metrics_append(self, "}", 1);
}

void rill_metrics_sample(rill_metrics_text_t *self, const char *name, const char *labels,
                         const char *extra_name, const char *extra_value, uint64_t value)
{
    rill_metrics_append(self, name, strlen(name));
    append_labels(self, labels, extra_name, extra_value);
    rill_metrics_printf(self, " %llu\n", (unsigned long long)value);
}

void rill_metrics_histogram(rill_metrics_text_t *self, const char *name, const char *help,
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
    rill_metrics_append(self, name, strlen(name));
    rill_metrics_append(self, "_sum", 4);
    append_labels(self, labels, NULL, NULL);
    rill_metrics_printf(self, " %.15g\n", (double)histogram->sum / scale);
    rill_metrics_append(self, name, strlen(name));
    rill_metrics_append(self, "_count", 6);
    append_labels(self, labels, NULL, NULL);
    rill_metrics_printf(self, " %llu\n", (unsigned long long)cumulative);
}
