/*
 * metrics.c - the frontend's counters and their Prometheus text. See
 * metrics.h; names, labels and meanings are documented in docs/METRICS.md
 * (keep the two in step).
 */
#include "metrics.h"

#include "rill_clock.h"
#include "rill_log.h"

#include <stdio.h>
#include <string.h>

void rill_frontend_metrics_init(rill_frontend_metrics_t *self)
{
    memset(self, 0, sizeof(*self));
    rill_histogram_init(&self->latency, rill_latency_bounds_ns, rill_latency_bound_count);
}

/* Finds "key":"<value>" (or "key":<digits> when quoted is 0) in line. */
static int find_field(const char *line, size_t length, const char *key, int quoted,
                      const char **value, size_t *value_length)
{
    char pattern[24];
    int n = snprintf(pattern, sizeof(pattern), "\"%s\":%s", key, quoted ? "\"" : "");
    if (n < 0 || (size_t)n >= sizeof(pattern))
        return 0;
    const char *at = memmem(line, length, pattern, (size_t)n);
    if (at == NULL)
        return 0;
    at += n;
    const char *end = at;
    const char *limit = line + length;
    while (end < limit && (quoted ? *end != '"' : (*end >= '0' && *end <= '9')))
        end++;
    if (end == limit || end - at > 160)
        return 0;
    *value = at;
    *value_length = (size_t)(end - at);
    return 1;
}

/* "job <id> part seq 3" from an event line (debug only: parses the bytes
 * rather than making every chunk carry what the line already says). */
static void describe_line(const rill_chunk_t *chunk, char *text, size_t size)
{
    /* The head of the line holds subject, seq and type; data comes last. */
    size_t length = chunk->length < 256 ? chunk->length : 256;
    const char *subject = NULL, *seq = NULL, *type = NULL;
    size_t subject_length = 0, seq_length = 0, type_length = 0;
    const char *what = "job";
    if (!find_field(chunk->bytes, length, "job", 1, &subject, &subject_length)) {
        what = "topic";
        if (!find_field(chunk->bytes, length, "topic", 1, &subject, &subject_length))
            subject = NULL;
    }
    if (subject == NULL || !find_field(chunk->bytes, length, "seq", 0, &seq, &seq_length) ||
        !find_field(chunk->bytes, length, "event", 1, &type, &type_length)) {
        snprintf(text, size, "an event line of %u bytes", (unsigned)chunk->length);
        return;
    }
    snprintf(text, size, "%s %.*s %.*s seq %.*s", what, (int)subject_length, subject,
             (int)type_length, type, (int)seq_length, seq);
}

void rill_frontend_metrics_sent(rill_frontend_metrics_t *self, rill_chunk_t *const *chunks,
                                size_t count, size_t bytes, const char *who, uint64_t stream)
{
    uint64_t now = 0;
    int debug = rill_log_enabled(RILL_LOG_DEBUG);
    self->writes++;
    self->bytes_delivered += bytes;
    for (size_t i = 0; i < count; i++) {
        const rill_chunk_t *chunk = chunks[i];
        if (chunk == NULL || chunk->kind == RILL_CHUNK_BYTES)
            continue;
        self->events_delivered++;
        if (chunk->kind == RILL_CHUNK_PART)
            self->parts_delivered++;
        else if (chunk->kind == RILL_CHUNK_GAP)
            self->gaps_delivered++;
        if (chunk->accepted_ns != 0) {
            if (now == 0)
                now = rill_clock_monotonic_ns(); /* one clock read per write */
            /* A broker on another host has another monotonic clock: an
             * acceptance "in the future" is not a latency. */
            if (now >= chunk->accepted_ns)
                rill_histogram_observe(&self->latency, now - chunk->accepted_ns);
        }
        if (debug) {
            char line[256];
            describe_line(chunk, line, sizeof(line));
            rill_log_debug(who, "hop: %s written to stream %llu", line, (unsigned long long)stream);
        }
    }
}

static void gauge(rill_buffer_t *out, const char *labels, const char *name, const char *help,
                  uint64_t value)
{
    rill_metrics_family(out, name, "gauge", help);
    rill_metrics_sample(out, name, labels, NULL, NULL, value);
}

static void counter(rill_buffer_t *out, const char *labels, const char *name,
                    const char *help, uint64_t value)
{
    rill_metrics_family(out, name, "counter", help);
    rill_metrics_sample(out, name, labels, NULL, NULL, value);
}

void rill_frontend_metrics_render(const rill_frontend_metrics_t *self,
                                  const rill_frontend_gauges_t *gauges, long pid,
                                  rill_buffer_t *out)
{
    char labels[64];
    snprintf(labels, sizeof(labels), "process=\"frontend\",pid=\"%ld\"", pid);
    gauge(out, labels, "rill_broker_up",
          "1 when the broker answered this scrape's METRICS request within 1 s, else 0.",
          gauges->broker_up ? 1 : 0);
    gauge(out, labels, "rill_streams_open", "Event streams open on this frontend now.",
          gauges->streams_open);
    counter(out, labels, "rill_streams_opened_total", "Event streams ever opened on this frontend.",
            gauges->streams_opened);
    gauge(out, labels, "rill_subjects_subscribed",
          "Job and topic subjects this frontend is subscribed to on the broker.", gauges->subjects);
    counter(out, labels, "rill_frontend_events_received_total",
            "Events read from the broker's responses subject.", gauges->events_received);
    counter(out, labels, "rill_parts_delivered_total",
            "Part events handed to clients (one per stream that got it).", self->parts_delivered);
    counter(out, labels, "rill_events_delivered_total",
            "Event lines of every type handed to clients (one per stream that got it).",
            self->events_delivered);
    counter(out, labels, "rill_bytes_delivered_total",
            "Bytes handed to clients' streams (events, SSE framing and heartbeats).",
            self->bytes_delivered);
    counter(out, labels, "rill_stream_writes_total", "Writes of queued events to client streams.",
            self->writes);
    counter(out, labels, "rill_gaps_total", "Gap events sent to clients (events that will never come).",
            self->gaps_delivered);
    counter(out, labels, "rill_slow_client_drops_total",
            "Streams ended with error slow_client because the client read too slowly.",
            self->slow_client_drops);
    counter(out, labels, "rill_frontend_malformed_frames_total",
            "Malformed messages from the broker, counted and dropped.", gauges->malformed);
    counter(out, labels, "rill_frontend_broker_switches_total",
            "Switches to the other broker of a standby pair (docs/CONFIG.md).", gauges->broker_switches);
    counter(out, labels, "rill_frontend_calls_resent_total",
            "Requests in flight asked again of the broker that answered after a switch or a restart.",
            gauges->calls_resent);
    gauge(out, labels, "rill_frontend_busy",
          "1 while this frontend's loop is busy and each stream's writes wait busy_flush_ms (docs/CONFIG.md).",
          gauges->busy ? 1 : 0);
    counter(out, labels, "rill_frontend_busy_episodes_total",
            "Times this frontend's loop became busy (over 80 % of a CPU).", gauges->busy_episodes);
    counter(out, labels, "rill_frontend_read_yields_total",
            "Reads of the broker's messages that first let libzmq's I/O thread finish (RILL_READ_YIELD_PER_S).",
            gauges->read_yields);
    counter(out, labels, "rill_broker_scrape_failures_total",
            "Scrapes of /metrics the broker did not answer within 1 s.",
            self->broker_scrape_failures);
    rill_metrics_histogram(out, "rill_delivery_latency_seconds",
                           "Publish-to-delivery latency: from the broker accepting an event to "
                           "this frontend handing it to a client's stream.",
                           labels, &self->latency, 1e9);
}
