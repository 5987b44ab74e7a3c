/*
 * stream.h - one streaming HTTP response: its life, and the fan-out that
 * feeds every stream of the process.
 *
 * A stream is the response of a POST /v1/jobs or a GET /v1/stream: it
 * subscribes to its jobs' and topics' subjects (subject_registry.h), keeps
 * one sequencer per subject (sequencer.h: order, duplicates, gaps, FETCH)
 * and writes through its output queue (output_queue.h: one h2o_send in
 * flight, slow clients, heartbeats). It ends (H2O_SEND_STATE_FINAL) once
 * every job has had its done or error, unless it names a topic.
 *
 * Its memory belongs to the request's pool (h2o_mem_alloc_shared):
 * whatever way the request ends - final send written, client gone (stop),
 * connection reset before the response started - the pool's dispose
 * callback releases the subscriptions, the queued chunks and the timers
 * exactly once.
 *
 * rill_streams_t is every stream of the process and what they share: the
 * subject registry, the output queues' lists and timers, the FETCHes'
 * retry timer, and the counters /metrics shows. The frontend object
 * (frontend.c) owns the one instance; what happens to every stream at once
 * (a broker restart, notices, shutdown) is streams.h's.
 */
#ifndef RILL_FRONTEND_STREAM_H
#define RILL_FRONTEND_STREAM_H

#include "broker_link.h"
#include "event_format.h"
#include "metrics.h"
#include "output_queue.h"
#include "rill_config.h"
#include "stream_subject.h"
#include "subject_registry.h"
#include "stream_state.h" /* rill_streams_t, struct rill_stream */

#include <h2o.h>

/* The broker link subscribes the subjects on the SUB socket; config and
 * metrics are the frontend's. */
rill_streams_t *rill_streams_new(h2o_loop_t *loop, const rill_config_t *config,
                                 rill_broker_link_t *broker, rill_frontend_metrics_t *metrics);
/* Every stream must be gone. */
void rill_streams_destroy(rill_streams_t **self);

/* A stream for req; nothing is sent until rill_stream_start. */
rill_stream_t *rill_stream_new(rill_streams_t *streams, h2o_req_t *req, rill_stream_format_t format,
                               const char *who);
/* The same in pool, which it lives and dies with; req NULL: a WebSocket's
 * subscription, whose queue gets its sink next (ws_session.h). */
rill_stream_t *rill_stream_new_in(rill_streams_t *streams, h2o_mem_pool_t *pool, h2o_req_t *req,
                                  rill_stream_format_t format, const char *who);
/* Subscribes the stream to job id's subject. Returns 0 or -1. */
int rill_stream_add_job(rill_stream_t *stream, const char *job_id);
/* Before its jobs are added: they come to this frontend through the
 * broker link's follow subject, named in the SUBMIT (rill/4, docs/PROTOCOL.md
 * "Direct delivery"), not through a subscription each. */
void rill_stream_follow_directly(rill_stream_t *stream);
/* GET /v1/stream: subscribes to a job (is_topic 0) or a topic by name, to
 * be replayed from since + 1 when has_since, else from the job's first
 * retained event / the topic's next message. epoch (RILL_TOPIC_EPOCH_LENGTH
 * bytes, or NULL) is the numbering a topic's since is in (rill/6: the
 * cursor's "@epoch"). A subject named twice is followed once. Before
 * rill_stream_open only. Returns 0 or -1. */
int rill_stream_add_subject(rill_stream_t *stream, int is_topic, const char *name, size_t length,
                            int has_since, uint64_t since, const char *epoch);
/* Subscribes a barrier token and FETCHes every subject; from then on the
 * stream answers the request by itself: it starts once every FETCH has
 * answered (live events that arrive meanwhile are held, so nothing is
 * doubled or lost), or answers 404 (an unknown job), 504 or 502. Returns 0,
 * or -1 when the broker cannot be reached (the caller abandons the stream
 * and answers 503). */
int rill_stream_open(rill_stream_t *stream);
/* The broker answered with another id for a job (debounce, dedup): follow
 * that one from its first event (it may have run, even ended, already). */
int rill_stream_replace_job(rill_stream_t *stream, const char *old_id, const char *new_id);
/* After the replacements: subscribes a barrier token and FETCHes the
 * joined jobs from seq 1, so their retained and live events meet with no
 * gap (PROTOCOL.md, "The barrier"). 0, or -1 (the joined jobs then get gap
 * events as their live events arrive). */
int rill_stream_fetch_joined(rill_stream_t *stream);
/* A job of the stream has this flush_ms (SUBMITTED, REPLAY): the stream
 * writes its events at most every min(flush_ms of its jobs); 0 = at once. */
void rill_stream_note_flush_ms(rill_stream_t *stream, uint64_t flush_ms);
/* Sends the 200 headers and everything queued so far. */
void rill_stream_start(rill_stream_t *stream);
/* The request fails before anything was sent: drop subscriptions and
 * queue; the caller answers the request with an error. */
void rill_stream_abandon(rill_stream_t *stream);

/* Fan-out of one SUB event to every local stream that wants its subject:
 * formatted once, queued by reference. Call rill_streams_flush after the
 * drain. */
void rill_streams_on_event(rill_streams_t *self, const rill_event_t *event);
/* One h2o_send per stream that got bytes since the last flush. */
void rill_streams_flush(rill_streams_t *self);

/* ---- what the process's events do to one stream (streams.h) ----------- */

/* The stream linked at node of rill_streams_t.all. */
rill_stream_t *rill_stream_at(h2o_linklist_t *node);
/* restarted: the broker restarted: each topic of the stream gets a gap
 * with reason broker_restarted, each unfinished job is fetched from the
 * new broker (stream_subject.h). Else the link switched to the standby of
 * the same broker: each subject fetches what it missed. */
void rill_stream_broker_changed(rill_stream_t *self, int restarted);
/* Queues a notice line (docs/API.md, "Notices") when the stream is started
 * and open. */
void rill_stream_notice(rill_stream_t *self, const char *type, rill_chunk_t *line);
/* Before rill_stream_start: queues a notice ahead of every event queued so
 * far, so it is the stream's first line (accepted: docs/API.md). */
void rill_stream_notice_first(rill_stream_t *self, const char *type, rill_chunk_t *line);
/* Shutdown: the closing notice {"cursor":"<the stream's cursor>"}, then the
 * end of the response (and of its HTTP/1.1 connection). */
void rill_stream_close(rill_stream_t *self);

#endif
