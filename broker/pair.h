/*
 * pair.h - the Binary Star state machine of a standby pair (rill/6,
 * docs/PROTOCOL.md "Standby broker"): which of two brokers serves the
 * clients. Pure decisions on times and what was heard; no sockets
 * (standby.c feeds it and acts on its answers; tests/unit/broker/test_pair.c
 * drives every transition).
 *
 * Both brokers send STATE every heartbeat_ms. The peer is lost when no
 * STATE came for 2 x heartbeat_ms (counted from the start when none ever
 * came) or its connection closed. The rules, after the zguide's Binary
 * Star:
 *
 *   - a backup or passive broker becomes ACTIVE only when the peer is lost
 *     AND a client came to it within the last 2 x heartbeat_ms (a cut
 *     between the two brokers alone never makes two actives);
 *   - a primary that hears an ACTIVE peer becomes PASSIVE; one that hears
 *     a backup or passive peer becomes ACTIVE; one that hears nothing
 *     waits: it becomes ACTIVE like a backup, once the peer is lost and a
 *     client came (it may be a primary back while its backup serves);
 *   - a backup that hears an ACTIVE peer becomes PASSIVE;
 *   - a passive that hears its peer start over (PRIMARY or BACKUP) becomes
 *     ACTIVE: the peer will hear it and go passive;
 *   - two actives (a healed partition): the backup yields and becomes
 *     PASSIVE; two passives: the primary becomes ACTIVE.
 */
#ifndef RILL_BROKER_PAIR_H
#define RILL_BROKER_PAIR_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    RILL_PAIR_NONE = 0, /* nothing heard */
    RILL_PAIR_PRIMARY,
    RILL_PAIR_BACKUP,
    RILL_PAIR_ACTIVE,
    RILL_PAIR_PASSIVE,
} rill_pair_state_t;

typedef struct {
    rill_pair_state_t state;
    int primary;              /* configured as the primary (--pair-bind) */
    uint64_t heartbeat_ms;
    uint64_t started_ms;      /* monotonic */
    uint64_t peer_heard_ms;   /* the last STATE; 0 = none yet */
    rill_pair_state_t peer_state; /* what it said last */
    int peer_closed;          /* its connection closed since its last STATE */
    uint64_t client_ms;       /* the last client message; 0 = none */
    const char *why;          /* the reason of the last change (static text) */
} rill_pair_t;

void rill_pair_init(rill_pair_t *self, int primary, uint64_t heartbeat_ms, uint64_t now_ms);
/* A STATE from the peer. Returns 1 when this broker's state changed. */
int rill_pair_peer_state(rill_pair_t *self, rill_pair_state_t peer, uint64_t now_ms);
/* Any other message from the peer (SYNC, MIRROR): it is alive. */
void rill_pair_peer_heard(rill_pair_t *self, uint64_t now_ms);
/* The peer link's connection closed (a socket monitor said so). */
void rill_pair_peer_closed(rill_pair_t *self);
/* A client's message (workers.sock or control.sock) came. */
void rill_pair_client(rill_pair_t *self, uint64_t now_ms);
/* Time passes: a backup/passive/lonely primary may become ACTIVE. Returns 1
 * when this broker's state changed. */
int rill_pair_tick(rill_pair_t *self, uint64_t now_ms);
/* Is the peer lost now (no STATE for 2 heartbeats, or its connection closed)? */
int rill_pair_peer_lost(const rill_pair_t *self, uint64_t now_ms);
/* Does a client message get an answer (ACTIVE only)? */
int rill_pair_serves(const rill_pair_t *self);
/* "primary", "backup", "active", "passive" (the STATE frame), "none". */
const char *rill_pair_state_name(rill_pair_state_t state);
/* The state named by a STATE frame; RILL_PAIR_NONE when unknown. */
rill_pair_state_t rill_pair_state_from_name(const char *name, size_t length);

#endif
