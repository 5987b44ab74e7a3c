/* test_metrics.c - delivery counting at hand-off, latency, the frontend's text. */
#include "rill_test.h"
#include "event_format.h"
#include "metrics.h"
#include "rill_clock.h"
#include "rill_log.h"

#include <string.h>

static int has(const rill_buffer_t *text, const char *needle)
{
    return text->data != NULL && strstr(text->data, needle) != NULL;
}

int main(void)
{
    rill_frontend_metrics_t metrics;
    rill_frontend_metrics_init(&metrics);

    const char id[] = "0123456789abcdef0123456789abcdef";
    rill_chunk_t *part = rill_event_format_line(0, id, 32, 1, "part", "{\"i\":1}", 7);
    rill_chunk_t *done = rill_event_format_line(0, id, 32, 2, "done", "{\"parts\":1}", 11);
    rill_chunk_t *gap = rill_event_format_gap(1, "news", 4, 3, 5);
    rill_chunk_t *head = rill_event_format_sse_head("part", "x:1", 3);
    CHECK(part != NULL && done != NULL && gap != NULL && head != NULL);
    if (part == NULL || done == NULL || gap == NULL || head == NULL)
        RILL_TEST_END();
    CHECK(part->kind == RILL_CHUNK_PART);
    CHECK(done->kind == RILL_CHUNK_EVENT);
    CHECK(gap->kind == RILL_CHUNK_GAP);
    CHECK(head->kind == RILL_CHUNK_BYTES);
    CHECK(part->accepted_ns == 0);

    /* A live part accepted 1 ms ago, a replayed done (no accepted_ns), a gap,
     * SSE framing and a static heartbeat (NULL). */
    part->accepted_ns = rill_clock_monotonic_ns() - 1000000;
    rill_chunk_t *chunks[] = {head, part, NULL, done, gap};
    rill_frontend_metrics_sent(&metrics, chunks, 5, 1234, "127.0.0.1:1", 7);
    CHECK(metrics.parts_delivered == 1);
    CHECK(metrics.events_delivered == 3);
    CHECK(metrics.gaps_delivered == 1);
    CHECK(metrics.bytes_delivered == 1234);
    CHECK(metrics.writes == 1);
    CHECK(metrics.latency.count == 1);
    CHECK(metrics.latency.sum >= 1000000 && metrics.latency.sum < 5000000000ull);

    /* An acceptance "in the future" (another host's clock) is not observed. */
    part->accepted_ns = rill_clock_monotonic_ns() + 60000000000ull;
    rill_chunk_t *again[] = {part};
    rill_frontend_metrics_sent(&metrics, again, 1, 10, NULL, 7);
    CHECK(metrics.parts_delivered == 2);
    CHECK(metrics.latency.count == 1);

    /* Debug on: the "written" hop line parses each event line, odd ones too. */
    rill_log_init("test");
    rill_log_set_level(RILL_LOG_DEBUG);
    rill_chunk_t *odd = rill_chunk_new_copy("{\"job\":\"abc", 11);
    CHECK(odd != NULL);
    if (odd != NULL) {
        odd->kind = RILL_CHUNK_EVENT;
        rill_chunk_t *debug_chunks[] = {odd, gap, done};
        rill_frontend_metrics_sent(&metrics, debug_chunks, 3, 0, "127.0.0.1:1", 8);
        rill_chunk_unref(&odd);
    }
    rill_log_set_level(RILL_LOG_INFO);
    CHECK(metrics.events_delivered == 7);
    CHECK(metrics.gaps_delivered == 2);
    CHECK(metrics.parts_delivered == 2);

    metrics.slow_client_drops = 4;
    rill_frontend_gauges_t gauges = {
        .broker_up = 0, .streams_open = 3, .streams_opened = 9, .subjects = 2,
        .events_received = 11, .malformed = 5,
    };
    rill_buffer_t text;
    rill_buffer_init(&text);
    rill_frontend_metrics_render(&metrics, &gauges, 4242, &text);
    CHECK(!text.failed);
    CHECK(has(&text, "# TYPE rill_broker_up gauge\nrill_broker_up{process=\"frontend\",pid=\"4242\"} 0\n"));
    CHECK(has(&text, "rill_streams_open{process=\"frontend\",pid=\"4242\"} 3\n"));
    CHECK(has(&text, "rill_streams_opened_total{process=\"frontend\",pid=\"4242\"} 9\n"));
    CHECK(has(&text, "rill_parts_delivered_total{process=\"frontend\",pid=\"4242\"} 2\n"));
    CHECK(has(&text, "rill_bytes_delivered_total{process=\"frontend\",pid=\"4242\"} 1244\n"));
    CHECK(has(&text, "rill_gaps_total{process=\"frontend\",pid=\"4242\"} 2\n"));
    CHECK(has(&text, "rill_slow_client_drops_total{process=\"frontend\",pid=\"4242\"} 4\n"));
    CHECK(has(&text, "rill_frontend_malformed_frames_total{process=\"frontend\",pid=\"4242\"} 5\n"));
    CHECK(has(&text, "rill_delivery_latency_seconds_bucket{process=\"frontend\",pid=\"4242\",le=\"0.001\"} 0\n"));
    CHECK(has(&text, "rill_delivery_latency_seconds_bucket{process=\"frontend\",pid=\"4242\",le=\"0.0025\"} 1\n"));
    CHECK(has(&text, "rill_delivery_latency_seconds_bucket{process=\"frontend\",pid=\"4242\",le=\"+Inf\"} 1\n"));
    CHECK(has(&text, "rill_delivery_latency_seconds_count{process=\"frontend\",pid=\"4242\"} 1\n"));
    rill_buffer_release(&text);

    rill_chunk_unref(&part);
    rill_chunk_unref(&done);
    rill_chunk_unref(&gap);
    rill_chunk_unref(&head);
    RILL_TEST_END();
}
