/*
 * output_queue.h - the bytes a stream owes its client, and how they leave.
 *
 * An output queue is the h2o side of one streaming response: it queues
 * references to shared event chunks (chunk.h) and keeps exactly ONE
 * h2o_send in flight - everything queued meanwhile goes out as the iovecs
 * of the next send, when h2o calls proceed (docs/DESIGN.md "Library
 * facts"). It also owns what depends on how fast the client reads: the
 * slow-client limits (docs/CONFIG.md: hard and soft bytes, close or gap),
 * the heartbeat of an idle stream, the flush_ms window of pipelines that
 * batch their writes, and - on HTTP/1.1, where h2o does not read a
 * connection while its response is open - a watch on the connection's fd
 * for EPOLLRDHUP, so a client that closes it is noticed at once, not at
 * the next write (docs/DESIGN.md "Library facts").
 *
 * It knows bytes, not events: what the events are, and what a dropped one
 * means, is its owner's (stream.c), told through rill_output_events_t.
 * Every queue of the process shares one rill_outputs_t: the lists of queues
 * to flush and the two timers.
 */
#ifndef RILL_FRONTEND_OUTPUT_QUEUE_H
#define RILL_FRONTEND_OUTPUT_QUEUE_H

#include "chunk.h"
#include "event_format.h"
#include "metrics.h"
#include "rill_config.h"
#include "write_pacing.h"

#include <h2o.h>

/* How often windows of flush_ms (pipelines, docs/CONFIG.md) and of
 * busy_flush_ms (write_pacing.h) are checked: windows of a few ms. */
#define RILL_FLUSH_TICK_MS 1

typedef struct rill_output_queue rill_output_queue_t;

/* What every output queue of the process shares. One per frontend. */
typedef struct {
    h2o_loop_t *loop;
    const rill_config_t *config;       /* borrowed: slow_client_*; a reload changes it in place */
    rill_frontend_metrics_t *metrics;  /* borrowed: delivery is counted at the send */
    h2o_linklist_t dirty;              /* queues with bytes to flush */
    h2o_linklist_t delayed;            /* queues holding bytes for their flush_ms window */
    h2o_timeout_t heartbeat_timeout;   /* config->stream_heartbeat_ms */
    h2o_timeout_t flush_timeout;       /* RILL_FLUSH_TICK_MS: checks the windows */
    h2o_timeout_entry_t flush_entry;
    rill_write_pacing_t pacing;        /* busy: every queue's bytes wait busy_flush_ms */
    h2o_socket_t *connections; /* an epoll set of the watched HTTP/1.1 connections; NULL = none */
} rill_outputs_t;

void rill_outputs_init(rill_outputs_t *self, h2o_loop_t *loop, const rill_config_t *config,
                       rill_frontend_metrics_t *metrics);
/* Every queue must be gone. */
void rill_outputs_dispose(rill_outputs_t *self);
/* A reload changed stream_heartbeat_ms: later heartbeats use it. */
void rill_outputs_set_heartbeat_ms(rill_outputs_t *self, uint64_t heartbeat_ms);
/* A reload changed busy_flush_ms. */
void rill_outputs_set_busy_flush_ms(rill_outputs_t *self, uint64_t busy_flush_ms);
/* One h2o_send per queue that got bytes since the last flush (a queue with
 * a flush_ms window holds them until the window closes). */
void rill_outputs_flush(rill_outputs_t *self);

/* What a queue tells its owner; each gets the queue back. */
typedef struct {
    /* What is queued goes out now; final: with the end of the response. */
    void (*on_send)(rill_output_queue_t *queue, int final);
    /* Slow client, action gap: what was queued is dropped, and so is every
     * event until h2o takes bytes again. */
    void (*on_drop)(rill_output_queue_t *queue);
    /* h2o takes bytes again after a drop: time to say what was lost. */
    void (*on_resume)(rill_output_queue_t *queue);
    /* The client went away (h2o's stop). */
    void (*on_stop)(rill_output_queue_t *queue);
    /* The client closed its HTTP/1.1 connection, seen by the watch before
     * h2o sees it: nothing more is queued; the response ends now (the
     * final send closes the connection, and h2o frees it). */
    void (*on_closed)(rill_output_queue_t *queue);
    /* Optional: the queue's behind flag changed. Behind: its unsent bytes
     * rose over half of slow_client_soft_bytes; no longer: they fell under
     * a quarter (hysteresis), or were dropped. The owner may pause its
     * jobs at their source (flow.h). */
    void (*on_behind)(rill_output_queue_t *queue);
} rill_output_events_t;

/* Optional: where a queue's bytes go instead of h2o_send - a WebSocket
 * (ws_session.h), where each queued entry is one whole message (an NDJSON
 * line). Limits, drops and gaps stay the queue's; the sink owns the
 * transport, its liveness (pings instead of heartbeat lines) and its end. */
typedef struct {
    /* count entries go out; final: the queue's last send. The sink calls
     * rill_output_queue_sent once they are written (at once for count 0). */
    void (*send)(rill_output_queue_t *queue, const h2o_iovec_t *iov, size_t count, int final);
    /* The stream starts (every opening FETCH answered): before its first
     * send, so a notice pushed first comes ahead of every event. */
    void (*start)(rill_output_queue_t *queue);
    /* The stream is refused before its start: the HTTP status it would
     * answer (204: resumed past the end of every job), code and message. */
    void (*refuse)(rill_output_queue_t *queue, int status, const char *code, const char *message);
    /* A notice of type is about to be queued: 0 drops it (a notice about
     * the whole process goes once per socket, not once per subscription). */
    int (*keep_notice)(rill_output_queue_t *queue, const char *type);
} rill_output_sink_t;

/* Entries of (iovec, chunk): NULL chunks are static bytes. */
typedef struct {
    h2o_iovec_t *iov;
    rill_chunk_t **chunks;
    uint32_t count;
    uint32_t capacity;
} rill_output_entries_t;

/* Embedded in its owner; read its flags, never write them. */
struct rill_output_queue {
    h2o_generator_t generator; /* first: h2o hands it back to proceed and stop */
    rill_outputs_t *outputs;
    const rill_output_events_t *events;
    h2o_req_t *req;                 /* NULL with a sink */
    const rill_output_sink_t *sink; /* NULL: h2o_send on req */
    void *sink_data;
    rill_stream_format_t format;
    const char *who;  /* the client, for the logs (borrowed) */
    uint64_t serial;  /* names the stream in the logs */
    h2o_linklist_t dirty_link;   /* outputs->dirty */
    h2o_linklist_t delayed_link; /* outputs->delayed */
    h2o_timeout_entry_t heartbeat;
    int watched_fd;                  /* HTTP/1.1: the connection's fd, in outputs->connections */
    rill_output_entries_t pending;   /* fills while in_flight is h2o's */
    rill_output_entries_t in_flight;
    size_t pending_bytes;
    size_t in_flight_bytes;   /* handed to h2o, not yet proceeded */
    uint64_t over_soft_since; /* loop ms when unsent bytes went over the soft limit; 0 = under */
    uint64_t flush_ms;        /* write window (pipelines' flush_ms); 0 = at once */
    uint64_t flush_due_ms;    /* loop ms the held window closes, while delayed */
    unsigned dropping : 1;    /* slow client, action gap: dropping until h2o is ready */
    unsigned started : 1;     /* h2o_start_response done */
    unsigned sending : 1;     /* an h2o_send is in flight */
    unsigned in_send : 1;     /* inside our own h2o_send call */
    unsigned ending : 1;      /* send FINAL once the queue is out */
    unsigned final_sent : 1;
    unsigned stopped : 1;     /* client gone, or abandoned */
    unsigned disposed : 1;    /* the request's pool is going */
    unsigned flush_known : 1; /* flush_ms was set by a job */
    unsigned watched : 1;     /* watched_fd is in outputs->connections */
    unsigned behind : 1;      /* unsent bytes over the pause mark (on_behind) */
    unsigned closes : 1;      /* ending with its connection (shutdown) */
    unsigned overflowed : 1;  /* ending with the slow_client error */
};

/* Nothing is sent until rill_output_queue_start. who is borrowed. */
void rill_output_queue_init(rill_output_queue_t *self, rill_outputs_t *outputs, h2o_req_t *req,
                            const rill_output_events_t *events, rill_stream_format_t format,
                            const char *who, uint64_t serial);
/* Right after init: the queue writes through sink, not h2o (req NULL). */
void rill_output_queue_set_sink(rill_output_queue_t *self, const rill_output_sink_t *sink, void *data);
/* A sink wrote what its send got: the queue may send again. */
void rill_output_queue_sent(rill_output_queue_t *self);
/* A sink's client went away: the owner's on_stop. */
void rill_output_queue_client_gone(rill_output_queue_t *self);
/* The stream is refused before its start: the HTTP answer (204 or the
 * error), or the sink's refuse. */
void rill_output_queue_refuse(rill_output_queue_t *self, int status, const char *code, const char *message);
/* 1 while events may still be queued: neither ending nor stopped. */
int rill_output_queue_is_open(const rill_output_queue_t *self);
/* Queues chunk (a reference is taken), then applies the slow-client limits. */
void rill_output_queue_push(rill_output_queue_t *self, rill_chunk_t *chunk);
/* Queues one event line as an SSE event: a head naming its type and its
 * cursor (the SSE id: cursor.h; none when cursor is NULL), the line as the
 * data, a blank line. */
void rill_output_queue_push_sse(rill_output_queue_t *self, const char *type, const char *cursor,
                                size_t cursor_length, rill_chunk_t *line);
/* Queues a notice (docs/API.md, "Notices": no subject, no seq, not in
 * the cursor): the NDJSON line as it is, or on SSE "event: <type>", the
 * line as the data and no id: line. Skipped while the queue drops events
 * for a slow client. */
void rill_output_queue_push_notice(rill_output_queue_t *self, const char *type, rill_chunk_t *line);
/* Before the start only: queues a notice AHEAD of everything queued so far
 * (the accepted notice of a POST /v1/jobs: the first line of the stream,
 * even when events of its jobs arrived before the broker's answer). */
void rill_output_queue_push_notice_first(rill_output_queue_t *self, const char *type,
                                         rill_chunk_t *line);
/* The queue has bytes for the next flush (rill_outputs_flush). */
void rill_output_queue_mark_dirty(rill_output_queue_t *self);
/* A job of the stream has this flush_ms: the queue writes at most every
 * min(flush_ms of its jobs); 0 = at once. */
void rill_output_queue_note_flush_ms(rill_output_queue_t *self, uint64_t flush_ms);
/* Sends the 200 headers and everything queued so far (an SSE stream
 * starts with its retry: field, RILL_SSE_RETRY); closing: the
 * frontend is shutting down, so the response ends with what is queued. */
void rill_output_queue_start(rill_output_queue_t *self, int closing);
/* The response ends once what is queued is out; close_connection: and the
 * HTTP/1.1 connection with it. */
void rill_output_queue_end(rill_output_queue_t *self, int close_connection);
/* Ends the response with a slow_client error line: the client cannot be
 * fed any more. */
void rill_output_queue_overflow(rill_output_queue_t *self);
/* Stops for good (client gone, or abandoned before the start): timers
 * unlinked, queued chunks dropped. Safe to call twice. */
void rill_output_queue_stop(rill_output_queue_t *self);
/* The request's pool is going: frees the rest. */
void rill_output_queue_dispose(rill_output_queue_t *self);

#endif
