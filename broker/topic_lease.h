/*
 * topic_lease.h - topic leases (rill/8, docs/PROTOCOL.md "Topic leases"):
 * a frontend that alone publishes to a topic numbers its messages itself,
 * so its own clients get each message without the round trip through the
 * broker.
 *
 * Why: on a quiet system a topic message's latency is its process
 * boundaries. Through the broker it crosses four of them (frontend, its
 * libzmq thread, the broker's, the broker, and back), each a thread
 * wake-up; a frontend that may number the message delivers it to its own
 * streams at once and sends it to the broker, which retains it and
 * publishes it to the other frontends as before (docs/BENCHMARKS.md,
 * 2026-12-01 13:00).
 *
 * The broker stays the one authority on a topic's numbering. It grants
 * the lease in its PUBLISHED answer, to the frontend whose PUBLISH is the
 * topic's second in a row from that frontend; a leased PUBLISH carries the
 * seq the frontend gave it and must be the topic's next. Anything else
 * that would number the topic - another frontend's PUBLISH, a worker's
 * message, a delete - waits in the topic's queue while the broker sends
 * REVOKE; the holder answers REVOKED after every message it numbered (one
 * socket: they arrive first), and the queue then runs in order. A holder
 * not heard for 4 x heartbeat_ms, or one that does not answer within
 * that, loses the lease without answering: the topic numbers on 2^20 seqs
 * further (none it may have given is given again), and what it numbered
 * is refused (ERROR lease_lost). So does a holder that 4,096 operations
 * wait for: the queue is the broker's memory. A lease idle for topic_lease_ms is revoked;
 * topic_lease_ms 0 grants none.
 *
 * The state lives in each topic (topic_table.h, rill_topic_lease_t) and in
 * the broker's list of leased topics; this file makes every decision.
 */
#ifndef RILL_BROKER_TOPIC_LEASE_H
#define RILL_BROKER_TOPIC_LEASE_H

#include "broker.h"

/* PUBLISH req name data [seq], name and data already checked (a valid
 * name, one line of JSON): published and answered PUBLISHED (with the
 * lease flag when the frontend holds the topic's lease now), refused
 * (ERROR lease_lost, a seq given under a lease the broker does not know),
 * or queued until the topic's lease ends. */
void rill_topic_lease_publish(rill_broker_t *self, const rill_frame_t *routing, const rill_message_t *message);

/* A running job's message for a topic (checked): 0 published (*seq),
 * 1 queued until the topic's lease ends, -1 not published (no room for
 * the topic, no memory). */
int rill_topic_lease_publish_from_worker(rill_broker_t *self, const char *name, size_t length, const void *data,
                                         size_t size, uint64_t *seq);

/* TOPIC_DELETE req name: 1 when the topic's lease must end first (the
 * delete is queued, and answered when it runs), 0 to run it now. */
int rill_topic_lease_delete_waits(rill_broker_t *self, const rill_frame_t *routing, const rill_message_t *message);

/* REVOKED name from the frontend at routing: its lease ends, and what
 * waited for it runs. A late or unknown one is ignored. */
void rill_topic_lease_revoked(rill_broker_t *self, const rill_frame_t *routing, const rill_message_t *message);

/* The frontend at routing was heard (its PING): its leases stay. */
void rill_topic_lease_heard(rill_broker_t *self, const rill_frame_t *routing, uint64_t now_ms);

/* Every tick: leases of a silent holder end, idle ones are revoked.
 * stalled_ms: how long the broker itself did not run (0 normally), which
 * counts as heard from every holder. */
void rill_topic_lease_tick(rill_broker_t *self, uint64_t now_ms, uint64_t stalled_ms);

#endif
