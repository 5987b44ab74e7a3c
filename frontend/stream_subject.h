/*
 * stream_subject.h - one subject of one stream, and the FETCHes that feed it.
 *
 * A stream (stream.h) follows each of its jobs and topics through a subject
 * record: its subscription in the registry (subject_registry.h), its
 * sequencer (sequencer.h: what is in order) and the FETCH the sequencer
 * asks for - opening a subject of GET /v1/stream, following a job the
 * broker joined to another, repairing a seq jump, or recovering an
 * unfinished job from a restarted broker. This file sends those FETCHes,
 * feeds the REPLAYs to the sequencer, and retries a FETCH the broker
 * answered "unavailable" (a restarted broker in its recovery window,
 * docs/PROTOCOL.md) every RILL_FETCH_RETRY_MS.
 *
 * How a FETCH ended is told to the stream through rill_fetch_events_t, so
 * this file knows nothing of streams, and the stream nothing of REPLAYs.
 */
#ifndef RILL_FRONTEND_STREAM_SUBJECT_H
#define RILL_FRONTEND_STREAM_SUBJECT_H

#include "broker_link.h"
#include "sequencer.h"
#include "subject_registry.h"

#include <h2o.h>

/* A FETCH answered "unavailable" (or unanswered, while recovering from a
 * restarted broker) is sent again this much later, at most this many
 * times: a minute, far beyond the broker's recovery window. */
#define RILL_FETCH_RETRY_MS 500
#define RILL_FETCH_RETRIES_MAX 120

typedef struct rill_stream_subject rill_stream_subject_t;

/* What the owner of the records (the stream) hears. */
typedef struct {
    /* An opening FETCH failed: the request is to be answered with status,
     * code and message (the first failure wins, a 404 over the others). */
    void (*refused)(rill_stream_subject_t *subject, int status, const char *code,
                    const char *message);
    /* The subject's FETCH is over, answered or not; purpose says which. */
    void (*done)(rill_stream_subject_t *subject, rill_fetch_purpose_t purpose);
    /* A job's REPLAY names its pipeline's flush_ms. */
    void (*flush_ms)(rill_stream_subject_t *subject, uint64_t flush_ms);
    /* A reply was processed: lines may be queued, time to flush. Gets the
     * context of rill_fetches_init: the record may be gone by then. */
    void (*replied)(void *context);
} rill_fetch_events_t;

/* What every record of the process shares. One per frontend. */
typedef struct {
    rill_broker_link_t *broker; /* borrowed; NULL once the link is gone */
    const rill_fetch_events_t *events;
    void *context; /* for events->replied */
    h2o_loop_t *loop;
    h2o_timeout_t retry_timeout; /* RILL_FETCH_RETRY_MS */
    int stopping;                /* the frontend drains: no new FETCH */
} rill_fetches_t;

struct rill_stream_subject {
    rill_sequencer_t sequencer;        /* first: the sequencer's sink finds the record */
    rill_fetches_t *fetches;
    void *owner;                       /* the stream */
    rill_subscription_t *subscription; /* in the registry; its owner is this record */
    rill_broker_call_t *call;          /* the sequencer's FETCH in flight, or NULL */
    h2o_timeout_entry_t retry;         /* linked while a FETCH waits to be sent again */
    rill_stream_subject_t *next;       /* the stream's subjects, in the order named */
};

void rill_fetches_init(rill_fetches_t *self, h2o_loop_t *loop, rill_broker_link_t *broker,
                       const rill_fetch_events_t *events, void *context);
/* Every record must be gone. */
void rill_fetches_dispose(rill_fetches_t *self);

/* A record for owner (zeroed by the caller; the caller sets up the
 * sequencer and the subscription). */
void rill_stream_subject_init(rill_stream_subject_t *self, rill_fetches_t *fetches, void *owner);
/* Cancels the FETCH in flight or waiting, frees the sequencer's state. */
void rill_stream_subject_release(rill_stream_subject_t *self);

/* The record is this frontend's last of its subject, about to leave the
 * registry. For a job that had not ended the broker is told: through
 * UNFOLLOW when it was followed (rill/4; release: its client left, else
 * the frontend ended the stream), through RELEASE when its client left
 * (the unsubscribe told it the rest). docs/PROTOCOL.md, "Interest" and
 * "Direct delivery". broker may be NULL (the link is gone): nothing. */
void rill_stream_subject_left(rill_stream_subject_t *self, rill_broker_link_t *broker, int followed,
                              int release);

/* Sends the sequencer's FETCH: token is a barrier token without its 's',
 * or "" when the subject is live already. 0, or -1 when it cannot be sent. */
int rill_stream_subject_fetch(rill_stream_subject_t *self, const char *token);
/* The sequencer's repair: its FETCH, unless the frontend drains. 0 or -1. */
int rill_stream_subject_repair(rill_stream_subject_t *self);
/* The broker restarted (another instance id): a topic gets its gap; an
 * unfinished job is fetched from the new broker from its next seq, again
 * while the broker answers "unavailable", and ends with error
 * broker_restarted when the new broker does not know it. */
void rill_stream_subject_broker_restarted(rill_stream_subject_t *self);
/* The link switched to the standby of the same broker: a FETCH in flight
 * was asked of the old one (no answer will come) and goes again to the
 * new one; a subject with none FETCHes what it missed after its next seq
 * - 1. A job the new broker does not know ends as after a restart. */
void rill_stream_subject_broker_switched(rill_stream_subject_t *self);

#endif
