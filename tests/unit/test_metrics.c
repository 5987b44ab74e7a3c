/* test_metrics.c - the bucket histogram and the Prometheus text builder. */
#include "rill_metrics.h"
#include "rill_test.h"

#include <stdlib.h>
#include <string.h>

static int contains(const rill_buffer_t *text, const char *needle)
{
    return text->data != NULL && strstr(text->data, needle) != NULL;
}

int main(void)
{
    /* Buckets: a value equal to a bound falls in that bound's bucket (le). */
    static const uint64_t bounds[] = {10, 20, 40};
    rill_histogram_t histogram;
    rill_histogram_init(&histogram, bounds, 3);
    rill_histogram_observe(&histogram, 0);
    rill_histogram_observe(&histogram, 10);
    rill_histogram_observe(&histogram, 11);
    rill_histogram_observe(&histogram, 40);
    rill_histogram_observe(&histogram, 41);
    rill_histogram_observe(&histogram, 1000000);
    CHECK(histogram.buckets[0] == 2);
    CHECK(histogram.buckets[1] == 1);
    CHECK(histogram.buckets[2] == 1);
    CHECK(histogram.buckets[3] == 2); /* +Inf */
    CHECK(histogram.count == 6);
    CHECK(histogram.sum == 0 + 10 + 11 + 40 + 41 + 1000000);

    /* Too many bounds are cut, never overflow the bucket array. */
    static uint64_t many[RILL_HISTOGRAM_MAX_BOUNDS + 8];
    for (size_t i = 0; i < sizeof(many) / sizeof(many[0]); i++)
        many[i] = i + 1;
    rill_histogram_t big;
    rill_histogram_init(&big, many, sizeof(many) / sizeof(many[0]));
    CHECK(big.bound_count == RILL_HISTOGRAM_MAX_BOUNDS);
    rill_histogram_observe(&big, 1000);
    CHECK(big.buckets[RILL_HISTOGRAM_MAX_BOUNDS] == 1);

    /* Latency buckets: 50 µs to 5 s, ascending. */
    CHECK(rill_latency_bound_count >= 2);
    CHECK(rill_latency_bounds_ns[0] == 50000);
    CHECK(rill_latency_bounds_ns[rill_latency_bound_count - 1] == 5000000000ull);
    for (size_t i = 1; i < rill_latency_bound_count; i++)
        CHECK(rill_latency_bounds_ns[i] > rill_latency_bounds_ns[i - 1]);

    rill_buffer_t text;
    rill_buffer_init(&text);
    rill_metrics_family(&text, "rill_x_total", "counter", "Things\\counted\nhere.");
    rill_metrics_sample(&text, "rill_x_total", "process=\"broker\"", "kind", "a\"b\\c\nd", 7);
    rill_metrics_sample(&text, "rill_y", "", NULL, NULL, 3);
    rill_metrics_sample(&text, "rill_z", "", "kind", "k", 0);
    CHECK(!text.failed);
    CHECK(contains(&text, "# HELP rill_x_total Things\\\\counted\\nhere.\n# TYPE rill_x_total counter\n"));
    CHECK(contains(&text, "rill_x_total{process=\"broker\",kind=\"a\\\"b\\\\c\\nd\"} 7\n"));
    CHECK(contains(&text, "\nrill_y 3\n"));
    CHECK(contains(&text, "\nrill_z{kind=\"k\"} 0\n"));
    rill_buffer_release(&text);

    /* Histogram text: cumulative, +Inf equals _count, bounds scaled. */
    static const uint64_t ns_bounds[] = {50000, 1000000, 2500000000ull};
    rill_histogram_t latency;
    rill_histogram_init(&latency, ns_bounds, 3);
    rill_histogram_observe(&latency, 10000);
    rill_histogram_observe(&latency, 600000);
    rill_histogram_observe(&latency, 9000000000ull);
    rill_buffer_init(&text);
    rill_metrics_histogram(&text, "rill_lat_seconds", "Latency.", "process=\"frontend\"", &latency, 1e9);
    CHECK(!text.failed);
    CHECK(contains(&text, "# TYPE rill_lat_seconds histogram\n"));
    CHECK(contains(&text, "rill_lat_seconds_bucket{process=\"frontend\",le=\"5e-05\"} 1\n"));
    CHECK(contains(&text, "rill_lat_seconds_bucket{process=\"frontend\",le=\"0.001\"} 2\n"));
    CHECK(contains(&text, "rill_lat_seconds_bucket{process=\"frontend\",le=\"2.5\"} 2\n"));
    CHECK(contains(&text, "rill_lat_seconds_bucket{process=\"frontend\",le=\"+Inf\"} 3\n"));
    CHECK(contains(&text, "rill_lat_seconds_sum{process=\"frontend\"} 9.00061\n"));
    CHECK(contains(&text, "rill_lat_seconds_count{process=\"frontend\"} 3\n"));
    rill_buffer_release(&text);

    /* Long appends grow the buffer; printf past its small buffer works. */
    rill_buffer_init(&text);
    char long_help[10000];
    memset(long_help, 'h', sizeof(long_help) - 1);
    long_help[sizeof(long_help) - 1] = '\0';
    rill_buffer_printf(&text, "%s|%d", long_help, 42);
    CHECK(!text.failed);
    CHECK(text.length == sizeof(long_help) - 1 + 3);
    CHECK(strcmp(text.data + text.length - 3, "|42") == 0);
    rill_buffer_release(&text);
    RILL_TEST_END();
}
