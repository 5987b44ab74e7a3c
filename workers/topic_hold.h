/*
 * topic_hold.h - the messages a worker's jobs make for topics (the
 * `subscribe` kind's to_topic: rill/5 TOPIC) while no broker is joined: a
 * broker restart, a switch to its standby, a cut.
 *
 * A job's parts carry the seq the worker gave them, so a part lost on the
 * way shows as a gap; a topic's messages are numbered by the broker, so one
 * the worker drops before the broker saw it leaves no trace for any
 * subscriber. They wait here instead, in order, and go to the broker after
 * the next WELCOME. Bounded (messages and bytes, the config's
 * worker_hold_parts and worker_hold_bytes): past it the oldest go, and the
 * first message sent to a topic that lost some is a marker saying how many,
 * {"worker":"dropped","messages":N,"reason":"no broker joined"}, so the loss
 * is visible where it happened (as the kind's own drops are).
 */
#ifndef RILL_WORKERS_TOPIC_HOLD_H
#define RILL_WORKERS_TOPIC_HOLD_H

#include <stddef.h>
#include <stdint.h>

typedef struct rill_topic_hold rill_topic_hold_t;

/* Sends one message (TOPIC job_id topic data); the hold does not care how. */
typedef void (*rill_topic_hold_send_fn)(void *argument, const char *job_id, const char *topic, const char *data,
                                        size_t length);

rill_topic_hold_t *rill_topic_hold_new(void);
void rill_topic_hold_destroy(rill_topic_hold_t **self_p);

/* Keeps a copy of the message; then drops the oldest while more than
 * max_messages or max_bytes (of data) are held. */
void rill_topic_hold_add(rill_topic_hold_t *self, const char *job_id, const char *topic, const char *data,
                         size_t length, uint64_t max_messages, uint64_t max_bytes);
size_t rill_topic_hold_count(const rill_topic_hold_t *self);
/* Messages dropped past the bound since the hold was last sent. */
uint64_t rill_topic_hold_dropped(const rill_topic_hold_t *self);

/* Sends what is held, in order (each topic that lost messages first gets
 * its marker, ahead of its first held message), and empties the hold.
 * Returns the messages sent, markers included. */
size_t rill_topic_hold_send(rill_topic_hold_t *self, rill_topic_hold_send_fn send, void *argument);

#endif
