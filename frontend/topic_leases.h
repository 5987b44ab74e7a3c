/*
 * topic_leases.h - every publish to a topic (POST /v1/topics/{name}, a
 * WebSocket's publish), and the topics this frontend numbers itself under
 * the broker's lease (rill/8, docs/PROTOCOL.md "Topic leases").
 *
 * Without a lease a publish is a PUBLISH call: the broker numbers the
 * message and publishes it, and this frontend's streams get it back from
 * the SUB socket like every other frontend's. The broker grants a lease in
 * its PUBLISHED answer (broker/topic_lease.h says when); from then on, and
 * once no unnumbered PUBLISH of the topic is in flight (their answers say
 * where the numbering stands), a publish takes the topic's next seq here,
 * goes to this frontend's own streams at once - no broker round trip, no
 * thread woken before it - then to the broker with its seq, which retains and
 * publishes it as before (the copy that comes back on the SUB socket is a
 * duplicate to every local stream, and dropped). The publisher's answer
 * still waits for the broker's PUBLISHED: a 202 says the broker has it.
 *
 * The broker's REVOKE is answered at once (REVOKED, after every message
 * numbered: one socket); a silent, restarted or switched broker takes
 * every lease away without a word. A message the broker refuses
 * (lease_lost: it had already taken the lease from a silent frontend)
 * reached this frontend's streams only; its publisher gets 503.
 */
#ifndef RILL_FRONTEND_TOPIC_LEASES_H
#define RILL_FRONTEND_TOPIC_LEASES_H

#include "broker_link.h"

#include <h2o.h>

typedef struct rill_topic_leases rill_topic_leases_t;
typedef struct rill_topic_publish rill_topic_publish_t;

/* Where a numbered message goes in this frontend: deliver is called with
 * it (as with the SUB socket's events), then flush. */
typedef struct {
    void (*deliver)(void *context, const rill_event_t *event);
    void (*flush)(void *context);
    void *context;
} rill_topic_leases_sink_t;

/* broker is borrowed; sink is copied. */
rill_topic_leases_t *rill_topic_leases_new(rill_broker_link_t *broker, const rill_topic_leases_sink_t *sink);
/* After the broker link is destroyed: publishes still in flight are
 * freed without their callback. */
void rill_topic_leases_destroy(rill_topic_leases_t **self_p);

/* Publishes data (one line of JSON, size bytes) to topic (a valid name,
 * length bytes). reply gets the broker's answer exactly once, as a broker
 * call's (broker_link.h), unless the publish is cancelled first. NULL when
 * nothing could be sent (no broker): reply is not called.
 *
 * rill/10: key (key_length bytes; NULL: none) is the client's publish key
 * (its Idempotency-Key, a valid one): the broker publishes the message
 * once per key. A message without one that the broker numbers gets a key
 * drawn here, so that it may be asked again of the broker that answers
 * after a switch or a restart (broker_calls.h); one numbered here under a
 * lease has none, and is not. A message with a client's key is never
 * numbered here: the broker decides whether it is new. */
rill_topic_publish_t *rill_topic_leases_publish(rill_topic_leases_t *self, const char *topic, size_t length,
                                                const void *data, size_t size, const char *key, size_t key_length,
                                                rill_broker_reply_fn reply, void *owner);
/* The owner is gone: its reply is not called; the publish itself goes on.
 * Clears *publish; NULL is fine. */
void rill_topic_leases_cancel(rill_topic_publish_t **publish);

/* REVOKE name: the lease is given back (REVOKED), held or not. */
void rill_topic_leases_revoke(rill_topic_leases_t *self, const uint8_t *name, size_t length);
/* The broker fell silent, restarted or was switched: no lease stands. */
void rill_topic_leases_drop_all(rill_topic_leases_t *self);

#endif
