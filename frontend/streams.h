/*
 * streams.h - what happens to every stream of the process at once.
 *
 * The frontend (frontend.c) hears of the broker going silent, coming back
 * and restarting, and of its own shutdown; each of these reaches every
 * open stream (stream.h) here: notices (docs/API.md, "Notices": closing,
 * broker_unavailable, broker_available - no seq, not in the cursor, never
 * replayed), the recovery of jobs from a restarted broker, the end of
 * every response.
 */
#ifndef RILL_FRONTEND_STREAMS_H
#define RILL_FRONTEND_STREAMS_H

#include "stream.h"

/* The broker restarted (another instance id): every topic of every stream
 * gets a gap with reason broker_restarted and counts from 1 again; every
 * unfinished job is fetched from the new broker from its next seq (its
 * worker re-registers it), or gets error broker_restarted when the new
 * broker does not know it (docs/API.md, "Broker restarts"). */
void rill_streams_broker_restarted(rill_streams_t *self);
/* The link switched to the standby of the same broker (docs/PROTOCOL.md
 * "Standby broker"): the followed jobs are subscribed too (the new
 * active's followers may lag), and every subject FETCHes what it missed
 * after its next seq - 1 (replayed, or a gap where it is not retained). */
void rill_streams_broker_switched(rill_streams_t *self);
/* The notice {"event":type,"data":data} to every started open stream;
 * data is JSON. */
void rill_streams_notice(rill_streams_t *self, const char *type, const char *data);
/* The frontend drains: no new stream, no new FETCH, no RELEASE (its jobs
 * get their orphan grace: docs/PROTOCOL.md, "Interest"). */
void rill_streams_stop(rill_streams_t *self);
/* The broker link is gone: nothing more is sent to it. */
void rill_streams_forget_broker(rill_streams_t *self);
/* Shutdown: every open stream gets the closing notice with its cursor,
 * {"cursor":"…"}, and ends once its queued bytes are written. */
void rill_streams_end_all(rill_streams_t *self);
/* Streams alive now (/metrics, shutdown). */
size_t rill_streams_count(rill_streams_t *self);
/* What shutdown waits for: the streams, and the WebSocket sessions (each
 * subscription of one is a stream; a session counts until its socket is
 * closed, subscribed or not). */
size_t rill_streams_left(rill_streams_t *self);

#endif
