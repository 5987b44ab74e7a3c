/*
 * stream_state.h - the inside of a stream (stream.h) and of the set of
 * streams, for stream.c and the files that do one part of its work on it
 * below it in the module graph: topic_streams.c (a deleted topic, last N
 * on connect) and topic_patterns.c (wildcard topics). They reach back into
 * stream.c only through rill_stream_calls_t (docs/DESIGN.md, "The house").
 * stream_state.c holds what needs no more than these fields: the cursor
 * text, finding a subject, an opening failure.
 */
#ifndef RILL_FRONTEND_STREAM_STATE_H
#define RILL_FRONTEND_STREAM_STATE_H

#include "broker_link.h"
#include "output_queue.h"
#include "rill_config.h"
#include "stream_subject.h"
#include "subject_registry.h"

#include <h2o.h>

typedef struct rill_stream rill_stream_t;
typedef struct rill_streams rill_streams_t;
typedef rill_stream_subject_t stream_subject_t;
typedef struct rill_topic_pattern rill_topic_pattern_t;

/* What the topic files ask of stream.c (callbacks: they sit below it). */
typedef struct {
    /* Subscribes the stream to subject topic ("t<name>/") after its opening
     * and appends the record (its sequencer starts at seq 1, no FETCH);
     * counts it in topics. NULL when the registry refuses it. */
    stream_subject_t *(*topic_add)(rill_stream_t *self, const char *topic, size_t length);
    /* The topic leaves the stream (deleted): the record goes; a stream left
     * with no job and no topic (nor pattern) ends. */
    void (*topic_drop)(rill_stream_t *self, stream_subject_t *record);
    /* One opening step is over (a FETCH, a TOPIC_MATCH): the stream starts,
     * or answers its error, with the last one. */
    void (*opening_done)(rill_stream_t *self);
} rill_stream_calls_t;

struct rill_stream {
    rill_output_queue_t output; /* first: its generator is h2o's handle on the stream */
    rill_streams_t *streams;
    h2o_linklist_t link; /* streams->all */
    stream_subject_t *subjects;
    stream_subject_t *subjects_tail;
    uint32_t open_jobs; /* jobs without done/error yet */
    uint32_t topics;    /* topics and patterns: a stream naming one never ends by itself */
    uint32_t opening;   /* GET /v1/stream: opening FETCHes (and TOPIC_MATCHes) not answered yet */
    uint32_t joining;   /* FETCHes of joined jobs in flight (token held) */
    int open_status;    /* the first opening FETCH failure (HTTP status), 0 = none */
    char open_code[24];
    char open_message[96];
    char token[RILL_BARRIER_TOKEN_SIZE]; /* the barrier token while subscribed, else "" */
    char who[64];
    uint64_t last_n;                 /* ?last=N: topics without since start with their last N */
    rill_topic_pattern_t *patterns;  /* wildcard topics (topic_patterns.h) */
    uint64_t follows_mark;           /* topic_patterns.c: this event's topic is followed already */
    int follows_directly;            /* rill/4: its jobs come through the link's follow subject */
};

struct rill_streams {
    rill_broker_link_t *broker;        /* borrowed; NULL once the link is gone */
    const rill_config_t *config;       /* borrowed; a reload changes it in place */
    rill_subject_registry_t *subjects; /* which local streams want which subject */
    rill_outputs_t outputs;            /* what every stream's output queue shares */
    rill_fetches_t fetches;            /* what every stream's subjects' FETCHes share */
    h2o_linklist_t all;                /* every rill_stream_t alive */
    h2o_linklist_t websockets;         /* every WebSocket session alive (ws_session.h) */
    uint64_t opened;                   /* streams ever opened (/metrics) */
    uint64_t events_received;          /* events read off the SUB socket (/metrics) */
    int shutting_down;                 /* the frontend drains: no new stream, FETCH nor RELEASE */
    const rill_stream_calls_t *calls;  /* stream.c's, for the topic files */
    struct rill_topic_leases *leases;  /* borrowed (frontend.c): every publish goes through it (topic_leases.h) */
};

/* The cursor (cursor.h) with current's last seq = seq, into buffer when
 * it fits (capacity bytes), else into a malloc'd one. */
char *rill_stream_build_cursor(rill_stream_t *self, stream_subject_t *current, uint64_t seq,
                               char *buffer, size_t capacity, size_t *length);
/* The record of subject topic in the stream, or NULL. */
stream_subject_t *rill_stream_find_subject(rill_stream_t *self, const char *topic, size_t length);
/* An opening step failed: the first failure answers the request (a 404
 * over any other). */
void rill_stream_opening_refused(rill_stream_t *self, int status, const char *code, const char *message);

#endif
