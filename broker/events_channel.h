/*
 * events_channel.h - the XPUB socket of the responses subject: the
 * outbox's publish, and the subscribe/unsubscribe messages frontends' SUB
 * sockets send up it (docs/PROTOCOL.md).
 *
 * Back-pressure, not loss: the XPUB is ZMQ_XPUB_NODROP, so when a
 * frontend's pipe is full it refuses an event instead of dropping it for
 * that frontend. The event then waits (sockets.h, events_waiting) with every
 * later one, in order, and while any waits main.c reads no more from the
 * workers: their outboxes fill and they stop making parts
 * (common/rill_send_queue.h). So a frontend slower than the workers slows
 * them down and loses nothing.
 *
 * A frontend that takes nothing (stopped, hung) or far too little must not
 * stop the broker, nor keep it from hearing its workers for the three
 * heartbeats after which they count as dead. When events have waited
 * without a break for `patience_ms` (main.c: one heartbeat), they are sent
 * lossy: the XPUB drops them only for the full pipe (that frontend repairs
 * them with FETCH or tells its clients of the gap, as before), and it stays
 * lossy for ten patiences before it holds events again.
 */
#ifndef RILL_BROKER_EVENTS_CHANNEL_H
#define RILL_BROKER_EVENTS_CHANNEL_H

#include "broker.h"
#include "sockets.h"

/* outbox.h's publish; context is the rill_broker_sockets_t. */
int rill_events_channel_publish(void *context, zmq_msg_t *event);
/* Sends the events that wait while the XPUB takes them (lossy once they
 * waited too long: above). Returns 1 while events still wait: main.c then
 * reads nothing from the workers and calls again within a millisecond (an
 * XPUB's POLLOUT is always set, so poll cannot say when it takes events). */
int rill_events_channel_flush(rill_broker_sockets_t *sockets, uint64_t now_ms, uint64_t patience_ms);
/* 1 while the XPUB drops what a frontend's full pipe cannot take, or when
 * waiting events were dropped since the last call (main.c marks the
 * broker's events_at_risk_ms: syncs repair such losses, events.c). */
int rill_events_channel_take_risk(rill_broker_sockets_t *sockets);
/* Reads up to a burst of subscription messages from socket (the XPUB). */
void rill_events_channel_receive(rill_broker_t *broker, void *socket);

#endif
