/*
 * topic_admin.h - what the broker does to topics besides publishing
 * (rill/3, docs/PROTOCOL.md "Topics"): TOPIC_DELETE ends a topic, and
 * TOPIC_MATCH lists the topics a wildcard pattern matches now, with their
 * last seqs, so a frontend knows where each starts.
 *
 * Deleting a topic publishes one `deleted` event on its subject (every
 * frontend listening, exactly or through a pattern, hears it and tells its
 * clients: the topic_deleted notice of docs/API.md), then forgets the
 * topic: its retained messages and its seq. The next message creates it
 * anew from seq 1.
 */
#ifndef RILL_BROKER_TOPIC_ADMIN_H
#define RILL_BROKER_TOPIC_ADMIN_H

#include "broker.h"

/* TOPIC_DELETE req name -> TOPIC_DELETED req {"topic":name,"last":N}, or
 * ERROR not_found (a topic the broker does not know) / bad_request. */
void rill_topic_admin_delete(rill_broker_t *self, const rill_frame_t *routing, const rill_message_t *message);
/* TOPIC_MATCHED req {"topics":[{"topic":name,"last":N},...]} (names in no
 * order) for a valid prefix (rill_topic_prefix_is_valid). A TOPIC_MATCH
 * with a barrier token (rill/11) is answered once the token's subscription
 * is seen, as a FETCH's replay is: control_channel.c checks it, held.c
 * holds it and calls this. */
void rill_topic_admin_match_answer(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t req,
                                   const char *prefix, size_t prefix_length);

#endif
