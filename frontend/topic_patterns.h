/*
 * topic_patterns.h - wildcard topics in a stream (rill/3, docs/API.md
 * "Wildcard topics"): `topic=alerts.*` follows every topic whose name
 * starts with `alerts.`, those that exist when the stream opens and those
 * created later, each as a subject of its own with its own seq in the
 * cursor (`alerts.cpu:5,alerts.mem:2`).
 *
 * How (docs/PROTOCOL.md, "Wildcard topics"):
 * - the stream subscribes the SUB socket to "t" + the prefix ("talerts."):
 *   ZeroMQ's prefix filter passes the events of every matched topic, and
 *   the broker counts the pattern as interest (syncs go out for the
 *   matched topics);
 * - it asks the broker which topics match now and their last seqs
 *   (TOPIC_MATCH, one opening step of the stream), and follows each: from
 *   the cursor's seq when it names the topic (since wins), else with its
 *   last N (?last=N), else from its first retained message when resuming
 *   (a topic created while the client was away), else live after the seq
 *   the list gave;
 * - a matched topic whose events arrive before the broker's list are held
 *   (a FETCH begun, not sent) until the list says where it starts; one
 *   that appears later starts at seq 1, fetched when its first event seen
 *   is not seq 1 (the FETCH repair of the sequencer).
 * A matched topic that is deleted leaves the stream (topic_streams.h);
 * the pattern stays, so the stream never ends by itself.
 */
#ifndef RILL_FRONTEND_TOPIC_PATTERNS_H
#define RILL_FRONTEND_TOPIC_PATTERNS_H

#include "cursor.h"
#include "stream_state.h"

/* GET /v1/stream: follows the pattern (`alerts.*`, valid:
 * rill_topic_pattern.h), resumed from the cursor's entries of its matched
 * topics (cursor may be NULL; it is copied). Before rill_stream_open only;
 * a pattern named twice is followed once. 0 or -1. */
int rill_stream_add_pattern(rill_stream_t *stream, const char *pattern, size_t length,
                            const rill_cursor_t *cursor);
/* rill_stream_open: sends the stream's TOPIC_MATCHes, each an opening step.
 * 0, or -1 when one cannot be sent. */
int rill_topic_patterns_open(rill_stream_t *stream);
/* Cancels and frees the stream's patterns (with their subscriptions). */
void rill_topic_patterns_release(rill_stream_t *stream);
/* A topic event: streams that follow a matching pattern and not the topic
 * yet follow it from now on. 1 when a stream did. */
int rill_topic_patterns_on_event(rill_streams_t *streams, const rill_event_t *event);

#endif
