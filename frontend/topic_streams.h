/*
 * topic_streams.h - what topics of rill/3 do to open streams: a deleted
 * topic (the broker's `deleted` event: docs/PROTOCOL.md "Topics") becomes
 * a topic_deleted notice on every stream that follows it, and the topic
 * leaves the stream, which ends when it names nothing else (docs/API.md,
 * "DELETE /v1/topics/{name}"); ?last=N sets where topics start.
 *
 * Called by the fan-out (stream.c) for every topic event, before the
 * streams that want the subject get it: wildcard streams may follow a new
 * topic from this event on (topic_patterns.h).
 */
#ifndef RILL_FRONTEND_TOPIC_STREAMS_H
#define RILL_FRONTEND_TOPIC_STREAMS_H

#include "stream_state.h"

/* One topic event from the SUB socket; *subject is the registry's subject
 * for it (NULL: no local stream follows it) and is looked up again when a
 * wildcard stream starts following the topic. 1 when the event is all
 * done with (a deletion), 0 when the fan-out goes on. */
int rill_topic_streams_on_event(rill_streams_t *streams, const rill_event_t *event, rill_subject_t **subject);
/* ?last=N: the stream's topics without since start with their last N
 * retained messages (before rill_stream_add_subject). */
void rill_stream_set_last_n(rill_stream_t *stream, uint64_t last_n);

#endif
