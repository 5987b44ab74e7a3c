/*
 * peer_link.h - the socket between the two brokers of a standby pair
 * (rill/6, docs/PROTOCOL.md "Standby broker"): the primary binds a ROUTER
 * (--pair-bind), the backup connects a DEALER to it (--standby-of). Both
 * send STATE heartbeats on it, the passive SYNC, the active MIRROR.
 *
 * A socket monitor reports the connection closing (a killed broker's
 * TCP or ipc connection closes at once), which the pair takes as the peer
 * lost without waiting for two silent heartbeats. High-water marks are set
 * deliberately (RILL_PEER_LINK_HWM messages each way, each at most a
 * MIRROR budget): a send that does not fit fails at once (never blocks,
 * never drops silently), and the active then puts the passive out of sync.
 *
 * The peer link's three commands are coded here, not in rill_protocol.c
 * (only brokers speak them): [routing] version command arguments…, as
 * every rill message.
 */
#ifndef RILL_BROKER_PEER_LINK_H
#define RILL_BROKER_PEER_LINK_H

#include "rill_protocol.h"

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#define RILL_PEER_LINK_HWM 256
#define RILL_PEER_ROUTING_MAX 255

typedef enum {
    RILL_PEER_STATE = 0, /* state name: a heartbeat */
    RILL_PEER_SYNC,      /* the passive asks for a snapshot */
    RILL_PEER_MIRROR,    /* mirror seq, records (mirror_codec.h) */
} rill_peer_command_t;

typedef struct {
    rill_peer_command_t command;
    size_t argument_count;
    rill_frame_t arguments[2];
} rill_peer_message_t;

typedef struct {
    zsock_t *socket;
    zsock_t *monitor;   /* PAIR: the socket's ZMQ_EVENT_DISCONNECTED */
    void *raw;
    int bound;          /* the primary's ROUTER */
    uint8_t peer[RILL_PEER_ROUTING_MAX]; /* ROUTER: the routing id the peer was last heard on */
    size_t peer_size;
} rill_peer_link_t;

/* bound: bind a ROUTER to endpoint (the primary), else connect a DEALER
 * (the backup). NULL with a reason in error. */
rill_peer_link_t *rill_peer_link_new(const char *endpoint, int bound, uint64_t max_message_bytes,
                                     uint64_t heartbeat_ms, char *error, size_t error_size);
void rill_peer_link_destroy(rill_peer_link_t **self_p);
/* Sends a command to the peer without waiting. 0, or -1 (no peer heard
 * yet on a ROUTER, its pipe full, not connected). */
int rill_peer_link_send(rill_peer_link_t *self, rill_peer_command_t command, const rill_frame_t *arguments,
                        size_t count);
/* Reads one message without waiting: 1 with message parsed (its frames
 * point into received, which the caller closes), 0 when none waits, -1
 * for a message that does not parse (*why says why; received is closed). */
int rill_peer_link_receive(rill_peer_link_t *self, rill_received_t *received, rill_peer_message_t *message,
                           const char **why);
/* Reads what the monitor heard: 1 when the peer's connection closed. */
int rill_peer_link_read_monitor(rill_peer_link_t *self);

#endif
