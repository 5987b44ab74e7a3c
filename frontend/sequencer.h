/*
 * sequencer.h - the order of one subject's events for one stream.
 *
 * Every event of a subject carries a seq (docs/PROTOCOL.md); a stream must
 * show each one once, in order, and never lose one silently (docs/API.md:
 * what is gone becomes a gap event). The sequencer of a (stream, subject)
 * pair knows the next seq the stream expects and decides, for each event,
 * whether it is delivered, a duplicate, or comes after a gap.
 *
 * It also runs the FETCH that replays retained events - opening a subject
 * of GET /v1/stream, resuming from a cursor, following a job the broker
 * joined to another, or repairing a seq jump when the XPUB dropped
 * something: the subject's live events are held meanwhile and processed
 * once the last REPLAY is in, so replayed and live events meet with no
 * duplicate and no gap (next_seq decides).
 *
 * For a slow client whose stream drops events (output_queue.h, action
 * gap) it remembers what was lost, to report it as one gap event.
 *
 * No socket, no h2o: the sequencer decides and its sink acts. The stream
 * (stream.c) is the sink: it queues the lines, sends the FETCHes and feeds
 * the REPLAYs back. tests/unit/frontend/test_sequencer.c drives it alone.
 */
#ifndef RILL_FRONTEND_SEQUENCER_H
#define RILL_FRONTEND_SEQUENCER_H

#include "chunk.h"
#include "rill_protocol.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    RILL_ACCEPT_DELIVER = 0, /* seq is the next one expected */
    RILL_ACCEPT_DUPLICATE,   /* seq was delivered already: drop it */
    RILL_ACCEPT_GAP,         /* seqs next_seq..seq-1 are missing */
} rill_accept_t;

/* Why a FETCH was sent: what its end means to the stream. */
typedef enum {
    RILL_FETCH_REPAIR = 0, /* a seq jump on a live subject */
    RILL_FETCH_OPENING,    /* a subject of GET /v1/stream: the stream starts when all are in */
    RILL_FETCH_JOINING,    /* a job the broker joined to another one (debounce, dedup) */
} rill_fetch_purpose_t;

typedef struct rill_sequencer rill_sequencer_t;

/* What the sequencer asks of its stream. Each gets the sequencer itself
 * (the stream finds its own record around it). */
typedef struct {
    /* 0 once the stream takes no more events (ending, or its client gone):
     * from then on nothing is delivered nor held. */
    int (*is_open)(rill_sequencer_t *sequencer);
    /* Queue line (borrowed: take a reference to keep it) for the client:
     * event type of seq, or a gap event (RILL_EVENT_GAP, seq = its last). */
    void (*deliver)(rill_sequencer_t *sequencer, uint64_t seq, rill_event_type_t type,
                    rill_chunk_t *line);
    /* The stream cannot take what it is given (a line too large to build,
     * or held live events past the hold limit): it ends as a slow client. */
    void (*overflow)(rill_sequencer_t *sequencer);
    /* Send a FETCH of the retained events after `after` (a seq jump):
     * 0, or -1 when none can be sent (the jump is then a gap). */
    int (*repair)(rill_sequencer_t *sequencer, uint64_t after);
    /* The job's done or error was delivered: the job is over for the stream. */
    void (*ended)(rill_sequencer_t *sequencer);
} rill_sequencer_sink_t;

/* A live event held while a FETCH is in flight. */
typedef struct {
    uint64_t seq;
    rill_event_type_t type;
    rill_chunk_t *line; /* one reference */
} rill_held_event_t;

/* One FETCH in flight for the pair. */
typedef struct {
    rill_fetch_purpose_t purpose;
    uint64_t after;  /* the resume point asked for */
    int live_only;   /* a topic without since: starts after its last message */
    uint64_t last_n; /* ?last=N (rill/3): a topic starts with its last N retained
                        messages; 0 once the first REPLAY header said where */
    int recovering;  /* sent to a restarted (or switched-to) broker: not_found means
                        it lost the job, and its last seq may be behind the client's
                        until the worker sends again what it holds */
    char epoch[RILL_TOPIC_EPOCH_LENGTH + 1]; /* rill/6: the numbering its REPLAY header gave a topic; "" none */
    uint32_t tries;  /* sends answered "unavailable" (a broker in recovery) so far */
    rill_held_event_t *held;
    uint32_t held_count;
    uint32_t held_capacity;
    size_t held_bytes; /* counted against *hold_limit */
} rill_fetch_t;

/* "After" for a topic that starts live: the largest seq a frame carries,
 * so nothing is replayed and the REPLAY header still tells the last seq. */
#define RILL_FETCH_AFTER_LATEST UINT64_C(9999999999999999999)

struct rill_sequencer {
    const rill_sequencer_sink_t *sink;
    const char *topic;          /* "j<id>" or "t<name>/", borrowed from the subject */
    size_t topic_length;
    const char *who;            /* the stream's client, for the log lines (borrowed) */
    const uint64_t *hold_limit; /* bytes of held live events that end the stream;
                                   read at each hold, so a reload applies */
    uint64_t next_seq;          /* the next seq the stream expects; starts at 1 */
    uint64_t queued_from;       /* first seq queued for the client, not yet sent; 0 = none */
    uint64_t dropped_from;      /* first seq dropped for a slow client, not reported; 0 = none */
    rill_fetch_t *fetch;        /* the FETCH in flight, or NULL */
    /* rill/6: a topic's numbering that next_seq counts in (its epoch: a
     * cursor's, then each REPLAY's); "" while unknown. */
    char epoch[RILL_TOPIC_EPOCH_LENGTH + 1];
    unsigned ended : 1;         /* a job whose done or error was delivered */
};

/* The topic, who and hold_limit are borrowed and must outlive the sequencer. */
void rill_sequencer_init(rill_sequencer_t *self, const rill_sequencer_sink_t *sink,
                         const char *topic, size_t topic_length, const char *who,
                         const uint64_t *hold_limit);
/* Frees the FETCH state; held events are dropped. */
void rill_sequencer_release(rill_sequencer_t *self);

/* 1 for a topic, 0 for a job. */
int rill_sequencer_is_topic(const rill_sequencer_t *self);
/* The subject's name: the job id or the topic name, without "j"/"t" and "/". */
const char *rill_sequencer_name(const rill_sequencer_t *self, size_t *length);

/* The one decision, without side effect: what seq is to this pair now. */
rill_accept_t rill_sequencer_accept(const rill_sequencer_t *self, uint64_t seq);

/* A live event (line borrowed). Delivered in order; a duplicate is
 * dropped; a seq jump is repaired by FETCH (held until the replay is in),
 * or, when no FETCH can be sent, becomes a gap. Held while a FETCH is in
 * flight. */
void rill_sequencer_on_event(rill_sequencer_t *self, uint64_t seq, rill_event_type_t type,
                             rill_chunk_t *line);
/* The broker says the subject's last seq is last_seq (PROTOCOL.md, sync):
 * when the pair has not seen it, its last events were dropped with no
 * later event to show the jump; they are fetched, as for a jump. */
void rill_sequencer_on_sync(rill_sequencer_t *self, uint64_t last_seq);
/* A topic's sync data (rill/6: {"epoch":"<8 hex>"}): a pair that met the
 * topic live, with no REPLAY header (a wildcard stream's new topic), learns
 * its epoch, so its cursor names it from then on. */
void rill_sequencer_on_sync_data(rill_sequencer_t *self, const uint8_t *data, size_t size);
/* Seqs from..to are gone: a gap event, and the pair expects to + 1. */
void rill_sequencer_gap(rill_sequencer_t *self, uint64_t from, uint64_t to);
/* The broker restarted (another instance). A topic gets a gap of unknown
 * end and counts from 1 again (a FETCH in flight for it is dropped). An
 * unfinished job is fetched from the new broker from next_seq on - its
 * workers re-register what they still run (docs/API.md, "Broker
 * restarts"): the FETCH in flight, or a new RILL_FETCH_REPAIR one, is
 * marked recovering and returned for the caller to send; live events are
 * held meanwhile. The caller has cancelled the call of a FETCH in flight:
 * the old broker will not answer it. NULL when there is nothing to send: a
 * topic, an ended job, a closed stream, or an opening FETCH (it is answered,
 * or times out, by itself). */
rill_fetch_t *rill_sequencer_broker_restarted(rill_sequencer_t *self);
/* The restarted broker does not know the job (it was queued and on no
 * worker, or it had ended and its history died with the old broker): the
 * FETCH and what it held go, the job gets error "broker_restarted" and
 * ends. Returns the FETCH's purpose (RILL_FETCH_REPAIR when none). */
rill_fetch_purpose_t rill_sequencer_job_lost(rill_sequencer_t *self);
/* The stream is closing (the frontend stops): the FETCH and the live
 * events it held go, nothing is delivered, so next_seq - and the cursor
 * the client resumes from - stay where the client is. Returns the FETCH's
 * purpose. */
rill_fetch_purpose_t rill_sequencer_fetch_drop(rill_sequencer_t *self);

/* What became of the lines the sink was given (seq 0: a line of no seq
 * of its own, e.g. a topic's gap after a broker restart, is no event). */
/* seq is queued for the client. */
void rill_sequencer_queued(rill_sequencer_t *self, uint64_t seq);
/* What was queued went to h2o. */
void rill_sequencer_sent(rill_sequencer_t *self);
/* seq was not queued: the stream drops events for a slow client. */
void rill_sequencer_dropped(rill_sequencer_t *self, uint64_t seq);
/* What was queued and not sent was dropped for a slow client. */
void rill_sequencer_dropped_queued(rill_sequencer_t *self);
/* The client reads again: one gap event for everything dropped since. */
void rill_sequencer_report_dropped(rill_sequencer_t *self);

/* Starts a FETCH after `after` (an opening or a joined job); the caller
 * sends it. Live events are held from now on. Replaces none: only when no
 * FETCH is in flight. */
rill_fetch_t *rill_sequencer_fetch_begin(rill_sequencer_t *self, rill_fetch_purpose_t purpose,
                                         uint64_t after);
/* A REPLAY's header (each message of the FETCH has one): with last_n,
 * the stream starts at seq max(first, last - N + 1); earlier replayed
 * events are then skipped as duplicates. */
void rill_sequencer_on_replay_header(rill_sequencer_t *self, uint64_t first, uint64_t last);
/* A REPLAY header's epoch (rill/6; NULL or "" when it gave none): which
 * numbering the topic's seqs are in now. */
void rill_sequencer_on_epoch(rill_sequencer_t *self, const char *epoch);
/* One retained event of a REPLAY: formatted for this stream alone. */
void rill_sequencer_on_replay(rill_sequencer_t *self, rill_frame_t type, rill_frame_t seq,
                              rill_frame_t data);
/* The last REPLAY is in (last: the subject's last seq; ended: the job is
 * over): what was neither replayed nor held is a gap, then the held live
 * events follow. A topic resumed past its last seq, or (rill/6) resumed in
 * another epoch than the REPLAY's, was reset since (it was deleted or
 * evicted, or the broker restarted): a gap of unknown end with reason
 * "topic_reset", then the topic from seq 1 (fetched again). Returns
 * the FETCH's purpose; the FETCH is gone. */
rill_fetch_purpose_t rill_sequencer_fetch_finish(rill_sequencer_t *self, uint64_t last, int ended);
/* The FETCH failed or could not be sent. An opening one only goes (the
 * stream answers with an error); any other lets the held events go on
 * with no repair (a jump becomes a gap), logging reason unless it is NULL.
 * Returns the FETCH's purpose; the FETCH is gone. */
rill_fetch_purpose_t rill_sequencer_fetch_failed(rill_sequencer_t *self, const char *reason);

#endif
