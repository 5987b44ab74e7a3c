/*
 * metrics.h - the frontend's own counters and its part of /metrics.
 *
 * The counters are plain integers bumped where things happen; delivery is
 * counted at one place only: when a stream hands its queued bytes to h2o
 * (rill_frontend_metrics_sent), which is also where the publish-to-delivery
 * latency is observed - once per live event per stream write, with one clock
 * read per write. Rendering is separate and pure (unit-tested); the HTTP side
 * of /metrics, which asks the broker for its part, is metrics_http.h.
 */
#ifndef RILL_FRONTEND_METRICS_H
#define RILL_FRONTEND_METRICS_H

#include "chunk.h"
#include "rill_metrics.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t parts_delivered;  /* part event lines handed to h2o, per stream */
    uint64_t events_delivered; /* every event line (part, done, error, retry, gap) */
    uint64_t gaps_delivered;   /* gap event lines */
    uint64_t bytes_delivered;  /* every byte handed to h2o for a stream */
    uint64_t writes;           /* h2o_send calls of streams */
    uint64_t slow_client_drops; /* streams ended for reading too slowly */
    uint64_t broker_scrape_failures; /* METRICS calls the broker did not answer in time */
    rill_histogram_t latency;  /* ns from the broker's acceptance to the hand-off */
} rill_frontend_metrics_t;

/* Numbers /metrics reads from elsewhere at scrape time. */
typedef struct {
    int broker_up;            /* 1 when this scrape got the broker's part */
    uint64_t streams_open;    /* streams alive now */
    uint64_t streams_opened;  /* streams ever opened */
    uint64_t subjects;        /* subjects subscribed on the SUB socket now */
    uint64_t events_received; /* events read from the broker's events socket */
    uint64_t malformed;       /* frames from the broker counted and dropped */
    uint64_t broker_switches; /* switches to the other broker of a standby pair */
    uint64_t calls_resent;    /* calls asked again of the broker that answered after a switch or a restart */
    int busy;                 /* 1 while streams hold their writes (write_pacing.h) */
    uint64_t busy_episodes;   /* times the frontend became busy */
    uint64_t read_yields;     /* reads that let libzmq's I/O thread finish first (read_yield.h) */
} rill_frontend_gauges_t;

void rill_frontend_metrics_init(rill_frontend_metrics_t *self);

/* A stream hands count queued entries (chunks[i] NULL for static bytes),
 * bytes in all, to h2o. who and stream name the client for the debug hop
 * line. */
void rill_frontend_metrics_sent(rill_frontend_metrics_t *self, rill_chunk_t *const *chunks,
                                size_t count, size_t bytes, const char *who, uint64_t stream);

/* Appends the frontend's families, every sample labelled
 * process="frontend",pid="<pid>". */
void rill_frontend_metrics_render(const rill_frontend_metrics_t *self,
                                  const rill_frontend_gauges_t *gauges, long pid,
                                  rill_buffer_t *out);

#endif
