/* test_metrics.c - the broker's METRICS text: families, kinds, labels. */
#include "rill_test.h"
#include "metrics.h"

#include <string.h>

static int has(const rill_buffer_t *text, const char *needle)
{
    return text->data != NULL && strstr(text->data, needle) != NULL;
}

int main(void)
{
    rill_config_t config;
    rill_config_defaults(&config);
    CHECK(config.kind_count >= 1);
    rill_counters_t *counters = rill_counters_new();
    CHECK(counters != NULL);
    if (counters == NULL)
        RILL_TEST_END();

    /* Before any job: every declared kind is there, at 0. */
    rill_buffer_t text;
    rill_buffer_init(&text);
    rill_broker_metrics_render(counters, &config, &text);
    CHECK(!text.failed);
    char sample[160];
    snprintf(sample, sizeof(sample), "rill_jobs_done_total{process=\"broker\",kind=\"%s\"} 0\n",
             config.kinds[0]);
    CHECK(has(&text, sample));
    CHECK(has(&text, "# TYPE rill_jobs_queued gauge\n"));
    CHECK(has(&text, "# TYPE rill_jobs_submitted_total counter\n"));
    CHECK(has(&text, "rill_workers_alive{process=\"broker\"} 0\n"));
    CHECK(has(&text, "rill_batch_size_bucket{process=\"broker\",le=\"+Inf\"} 0\n"));
    rill_buffer_release(&text);

    /* Counts show up; a kind the config does not declare gets its own series. */
    rill_kind_counters_t *demo = rill_counters_kind(counters, config.kinds[0]);
    rill_kind_counters_t *gone = rill_counters_kind(counters, "old\"kind");
    CHECK(demo != NULL && gone != NULL);
    if (demo != NULL && gone != NULL) {
        demo->submitted = 3;
        demo->done = 2;
        demo->running = 1;
        gone->failed = 4;
    }
    counters->workers_alive = 2;
    counters->batches = 3;
    counters->malformed = 9;
    rill_histogram_observe(&counters->batch_sizes, 1);
    rill_histogram_observe(&counters->batch_sizes, 3);
    rill_buffer_init(&text);
    rill_broker_metrics_render(counters, &config, &text);
    CHECK(!text.failed);
    snprintf(sample, sizeof(sample), "rill_jobs_done_total{process=\"broker\",kind=\"%s\"} 2\n",
             config.kinds[0]);
    CHECK(has(&text, sample));
    snprintf(sample, sizeof(sample), "rill_jobs_running{process=\"broker\",kind=\"%s\"} 1\n",
             config.kinds[0]);
    CHECK(has(&text, sample));
    CHECK(has(&text, "rill_jobs_failed_total{process=\"broker\",kind=\"old\\\"kind\"} 4\n"));
    CHECK(has(&text, "rill_workers_alive{process=\"broker\"} 2\n"));
    CHECK(has(&text, "rill_batches_dispatched_total{process=\"broker\"} 3\n"));
    CHECK(has(&text, "rill_broker_malformed_frames_total{process=\"broker\"} 9\n"));
    CHECK(has(&text, "rill_batch_size_bucket{process=\"broker\",le=\"2\"} 1\n"));
    CHECK(has(&text, "rill_batch_size_bucket{process=\"broker\",le=\"4\"} 2\n"));
    CHECK(has(&text, "rill_batch_size_sum{process=\"broker\"} 4\n"));
    CHECK(has(&text, "rill_batch_size_count{process=\"broker\"} 2\n"));
    /* One TYPE per family, every sample labelled by process, text ends in \n. */
    CHECK(rill_test_count_of(text.data, "# TYPE rill_jobs_done_total ") == 1);
    CHECK(text.length > 0 && text.data[text.length - 1] == '\n');
    for (const char *line = text.data; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        CHECK(end != NULL);
        if (end == NULL)
            break;
        if (line[0] != '#') {
            const char *label = strstr(line, "{process=\"broker\"");
            CHECK(label != NULL && label < end);
        }
        line = end + 1;
    }
    rill_buffer_release(&text);
    rill_counters_destroy(&counters);
    RILL_TEST_END();
}
