/*
 * held.h - what the broker does with work held for a barrier token.
 *
 * A frontend subscribes its subjects, then "s"+token, then sends SUBMIT,
 * FETCH or (rill/11) TOPIC_MATCH with the token (docs/PROTOCOL.md, "The
 * barrier"). barrier.h keeps the held items and says when one is released
 * (token seen, or 2 s); this file says what an item is and what releasing
 * it means: a SUBMIT's jobs become dispatchable, a FETCH or a TOPIC_MATCH
 * is answered. Items are one allocation each, so the barrier frees a
 * left-over one with free().
 */
#ifndef RILL_BROKER_HELD_H
#define RILL_BROKER_HELD_H

#include "broker.h"

/* Is the token's subscription active (or seen recently)? */
int rill_held_token_ready(rill_broker_t *self, const char *token);
/* Holds the jobs of one SUBMIT (each has job->held set) until token is
 * seen; ids[i] is "" for a job that joined an existing one (not held). */
void rill_held_submit(rill_broker_t *self, const char *token, const char (*ids)[RILL_ID_TEXT_SIZE],
                      size_t count);
/* FETCH: answers now when token is "" or ready, else holds the request
 * until it is. subject is valid ("j"+id or "t"+name+"/"). */
void rill_held_fetch(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t req, const char *token,
                     const char *subject, uint64_t after);
/* TOPIC_MATCH (rill/11): lists the topics now when token is "" or ready,
 * else once it is. prefix is valid (rill_topic_prefix_is_valid). */
void rill_held_match(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t req, const char *token,
                     const char *prefix, size_t prefix_length);
/* The barrier's release callback (argument: the broker); frees item. */
void rill_held_release(void *item, int timed_out, void *argument);

#endif
