/*
 * stream.h - one streaming HTTP response and the fan-out that feeds it.
 *
 * A stream is the response of a POST /v1/jobs or a GET /v1/stream: it
 * subscribes to its jobs' and topics' subjects, queues references to shared
 * event chunks, and keeps exactly ONE h2o_send in flight - everything queued
 * meanwhile goes out as the iovecs of the next send, when h2o calls proceed.
 * It ends (H2O_SEND_STATE_FINAL) once every job has had its done or error,
 * unless it names a topic.
 *
 * Each (stream, subject) pair keeps the next seq it expects: a duplicate is
 * dropped; retained events are replayed with FETCH (opening a GET
 * /v1/stream, resuming from a cursor, or repairing a seq jump when the XPUB
 * dropped something) while live ones are held; what the broker no longer
 * retains becomes a gap event.
 *
 * Its memory belongs to the request's pool (h2o_mem_alloc_shared): whatever
 * way the request ends - final send written, client gone (stop), connection
 * reset before the response started - the pool's dispose callback releases
 * the subscriptions, the queued chunks and the timers exactly once.
 */
#ifndef RILL_FRONTEND_STREAM_H
#define RILL_FRONTEND_STREAM_H

#include "event_format.h"
#include "frontend.h"

#include <h2o.h>

typedef struct rill_stream rill_stream_t;


/* A stream for req; nothing is sent until rill_stream_start. NULL on ENOMEM. */
rill_stream_t *rill_stream_new(rill_frontend_t *frontend, h2o_req_t *req,
                               rill_stream_format_t format, const char *who);
/* Subscribes the stream to job id's subject. Returns 0 or -1. */
int rill_stream_add_job(rill_stream_t *stream, const char *job_id);
/* GET /v1/stream: subscribes to a job (is_topic 0) or a topic by name, to
 * be replayed from since + 1 when has_since, else from the job's first
 * retained event / the topic's next message. A subject named twice is
 * followed once. Before rill_stream_open only. Returns 0 or -1. */
int rill_stream_add_subject(rill_stream_t *stream, int is_topic, const char *name, size_t length,
                            int has_since, uint64_t since);
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
/* The submit failed before anything was sent: drop subscriptions and queue;
 * the caller answers the request with an error. */
void rill_stream_abandon(rill_stream_t *stream);
const char *rill_stream_who(rill_stream_t *stream);

/* Fan-out of one SUB event to every local stream that wants its subject:
 * formatted once, queued by reference. Call rill_streams_flush after the
 * drain. */
void rill_streams_on_event(rill_frontend_t *frontend, const rill_event_t *event);
/* One h2o_send per stream that got bytes since the last flush (a stream
 * with a flush_ms window holds them until the window closes). */
void rill_streams_flush(rill_frontend_t *frontend);
/* The flush tick: sends what streams held for windows that closed. */
void rill_streams_on_flush_tick(h2o_timeout_entry_t *entry);
/* Every unfinished job of every stream gets error "broker_restarted". */
void rill_streams_broker_restarted(rill_frontend_t *frontend);
/* Shutdown: every open stream ends once its queued bytes are written. */
void rill_streams_end_all(rill_frontend_t *frontend);
size_t rill_streams_count(rill_frontend_t *frontend);

#endif
