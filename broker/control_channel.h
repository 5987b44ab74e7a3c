/*
 * control_channel.h - the ROUTER socket frontends talk to: the outbox's
 * reply, and the requests frontends send (docs/PROTOCOL.md,
 * "Frontend ⇄ broker").
 */
#ifndef RILL_BROKER_CONTROL_CHANNEL_H
#define RILL_BROKER_CONTROL_CHANNEL_H

#include "broker.h"

/* outbox.h's reply; context is the rill_broker_sockets_t. */
int rill_control_channel_reply(void *context, const rill_frame_t *routing, rill_command_t command,
                               const rill_frame_t *arguments, size_t count);
/* Reads up to a burst of requests from socket and answers each. */
void rill_control_channel_receive(rill_broker_t *broker, void *socket);

#endif
