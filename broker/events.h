/*
 * events.h - the responses subject's bookkeeping: every event of a job or a
 * topic gets its seq, is retained, published once through the outbox, and
 * replayed on FETCH (docs/PROTOCOL.md, "The responses subject").
 *
 * An event goes out as ONE frame (rill/3: rill_event_encode); for a job
 * only followed (rill/4, below) its header and data are copied straight
 * into the follower's batch instead, and no message of its own is built.
 * The job's retention copies the data once more into its own buffer
 * (retention.h: a few hundred bytes of memcpy cost less than holding each
 * message, header and all, for retain_ms). So the hot path never parses a
 * part (rill_json_check is a scan, not a parse) and allocates nothing per
 * followed part but what a ring's growth takes.
 * The XPUB itself is events_channel.c's.
 *
 * A followed job's events (rill/4) are not sent one message each: during
 * one pass of the broker's loop (a burst of worker messages, a tick) each
 * follow subject collects its events in a batch, and rill_events_flush
 * sends each batch as ONE message (rill_event_batch_header): the XPUB's
 * cost is per message, not per byte.
 */
#ifndef RILL_BROKER_EVENTS_H
#define RILL_BROKER_EVENTS_H

#include "broker.h"
#include "rill_event_batch.h"

#include <jansson.h>

/* The longest subject: "t" + topic name + "/" ("j" + id is shorter). */
#define RILL_SUBJECT_MAX (RILL_TOPIC_NAME_MAX + 2)

/* Publishes one event of a job and retains it. data is consumed (sent or
 * closed). 0, or -1 when the XPUB refused it (counted, logged: receivers
 * see the gap in seqs and FETCH it). */
int rill_events_publish(rill_broker_t *self, rill_job_t *job, rill_event_type_t type, zmq_msg_t *data);
/* Same with a JSON value, which is consumed (decref'd). */
int rill_events_publish_json(rill_broker_t *self, rill_job_t *job, rill_event_type_t type, json_t *value);
/* The same two with the seq given (> the job's last seq): a worker's part
 * carries its own, and the gap before a jump takes the seq before it. */
int rill_events_publish_at(rill_broker_t *self, rill_job_t *job, rill_event_type_t type, uint64_t seq,
                           zmq_msg_t *data);
/* The same with the data's bytes (copied into the event). */
int rill_events_publish_bytes(rill_broker_t *self, rill_job_t *job, rill_event_type_t type, uint64_t seq,
                              const void *bytes, size_t size);
int rill_events_publish_json_at(rill_broker_t *self, rill_job_t *job, rill_event_type_t type, uint64_t seq,
                                json_t *value);
/* POST /v1/topics/{name}: publishes the message (size bytes, copied) as a
 * part event of the topic with its next seq, and retains it (the config's
 * topic_retain_*). 0 with *seq set, or -1 when libzmq cannot allocate the
 * message. */
int rill_events_publish_on_topic(rill_broker_t *self, rill_topic_t *topic, const void *bytes, size_t size,
                                 uint64_t *seq);
/* The same by name (valid), the topic made if new: -1 also with errno
 * ENOSPC when max_topics are all in use (topic_table.h). */
int rill_events_publish_message(rill_broker_t *self, const char *name, size_t name_length,
                                const void *bytes, size_t size, uint64_t *seq);
/* On every heartbeat: a sync event for each recently active subject someone
 * listens to, so a drop of its last events is noticed. */
void rill_events_publish_syncs(rill_broker_t *self, uint64_t now_ms);
/* Puts job, which just had an event, at the end of its sync list: the one
 * walked every heartbeat, or, when only its followers listen to it, the
 * one walked only while an event can have been lost (events.c). */
void rill_events_list_recent(rill_broker_t *self, rill_job_t *job);
/* A sync event for one job now (its last seq): for a frontend whose
 * subscription to it came (back) after events it may have missed. */
void rill_events_sync_job(rill_broker_t *self, rill_job_t *job);
/* Sends the batches of follower events collected since the last call
 * (rill/4, docs/PROTOCOL.md "Direct delivery"): one message per follow
 * subject. main.c calls it at the end of every pass of its loop, before it
 * polls again, so no event waits for a later pass. */
void rill_events_flush(rill_broker_t *self);
/* Answers a FETCH: REPLAY messages with the retained events of subject
 * ("j"+id or "t"+name+"/", valid) whose seq is > after, or ERROR
 * not_found for a job the broker does not know (unavailable "recovering"
 * during the recovery window: a worker may still report it). */
void rill_events_replay(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t req,
                        const char *subject, uint64_t after);

#endif
