/*
 * events_channel.h - the XPUB socket of the responses subject: the
 * outbox's publish, and the subscribe/unsubscribe messages frontends' SUB
 * sockets send up it (docs/PROTOCOL.md).
 */
#ifndef RILL_BROKER_EVENTS_CHANNEL_H
#define RILL_BROKER_EVENTS_CHANNEL_H

#include "broker.h"

/* outbox.h's publish; context is the rill_broker_sockets_t. */
int rill_events_channel_publish(void *context, const char *subject, size_t subject_length, const char *event,
                                uint64_t seq, zmq_msg_t *data, uint64_t accepted_ns);
/* Reads up to a burst of subscription messages from socket (the XPUB). */
void rill_events_channel_receive(rill_broker_t *broker, void *socket);

#endif
