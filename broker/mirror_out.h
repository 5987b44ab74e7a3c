/*
 * mirror_out.h - the active broker of a standby pair tells its passive
 * what changed (rill/6, docs/PROTOCOL.md "Standby broker").
 *
 * Once per pass of the loop, rill_mirror_out_flush turns what the marks
 * hold (mirror_marks.h) into ONE MIRROR message: the forgotten jobs and
 * deleted topics, then each marked job's record and its retained events
 * after the last seq mirrored, then each marked topic's messages. A
 * message holds at most a budget of bytes; what is left stays marked for
 * the next pass, so a snapshot of a large table goes in chunks without
 * stalling the loop (standby.c polls without waiting while some is left).
 *
 * A snapshot (the passive asked: SYNC) marks every job and topic with its
 * mirrored seq back at 0, behind a BEGIN record (the passive drops what it
 * had and adopts the active's identity), and ends with an END record once
 * nothing marked is left. A send the peer link refuses (the passive is too
 * slow, or gone) puts the passive out of sync: nothing more is marked,
 * and after a heartbeat a new snapshot starts.
 */
#ifndef RILL_BROKER_MIRROR_OUT_H
#define RILL_BROKER_MIRROR_OUT_H

#include "broker.h"

/* The most record bytes one MIRROR message carries (less when
 * max_message_bytes is smaller). */
#define RILL_MIRROR_BUDGET (512u * 1024)

typedef struct {
    uint64_t seq;           /* the last MIRROR message's seq */
    int begin_due;          /* a snapshot starts: BEGIN goes first in the next message */
    int snapshot_open;      /* BEGIN sent, END not yet */
    int out_of_sync;        /* a send failed: a snapshot starts at resync_at_ms */
    uint64_t resync_at_ms;
    uint64_t started_ms;    /* monotonic: the last snapshot's start */
    uint64_t started_seq;   /* seq of the message before it */
    uint64_t messages;      /* MIRROR messages sent */
    uint64_t snapshots;     /* snapshots started */
} rill_mirror_out_t;

/* The passive asked for a snapshot (SYNC): every job and topic is marked. */
void rill_mirror_out_start(rill_mirror_out_t *self, rill_broker_t *broker);
/* Does a passive receive the mirror now (or will, once out of sync)? */
int rill_mirror_out_running(const rill_mirror_out_t *self, const rill_broker_t *broker);
/* No passive listens any more: nothing is marked. */
void rill_mirror_out_stop(rill_mirror_out_t *self, rill_broker_t *broker);
/* How a MIRROR leaves (standby.c: the peer link): its two argument frames
 * (seq, records). 0, or -1 when it could not be sent. */
typedef int (*rill_mirror_send_fn)(void *context, const rill_frame_t *arguments, size_t count);
/* Sends what is marked, up to the budget. Returns 1 when some is left
 * (the loop must come back at once), else 0. */
int rill_mirror_out_flush(rill_mirror_out_t *self, rill_broker_t *broker, rill_mirror_send_fn send, void *context,
                          uint64_t now_ms);

#endif
