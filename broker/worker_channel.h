/*
 * worker_channel.h - the jobs subject's socket, the ROUTER workers talk to:
 * the outbox's send_worker, and the messages workers send
 * (docs/PROTOCOL.md, "Worker ⇄ broker").
 */
#ifndef RILL_BROKER_WORKER_CHANNEL_H
#define RILL_BROKER_WORKER_CHANNEL_H

#include "broker.h"

/* outbox.h's send_worker; context is the rill_broker_sockets_t. */
int rill_worker_channel_send(void *context, const rill_frame_t *routing, rill_command_t command,
                             const rill_frame_t *arguments, size_t count);
/* Reads up to a burst of worker messages from socket and hands each to
 * the operation it asks for. */
void rill_worker_channel_receive(rill_broker_t *broker, void *socket);

#endif
