/*
 * rill_failover.h - a client's two brokers: a primary and its standby
 * (ZeroMQ's Binary Star; docs/PROTOCOL.md "Standby broker").
 *
 * A frontend or a worker given two endpoints (rill_endpoints.h: a list)
 * is connected to one of them at a time, and switches to the other when
 * the one it is on
 *
 * - closed the connection: a socket monitor on the first socket (the
 *   DEALER) reports DISCONNECTED; a killed broker's kernel closes its
 *   sockets at once, over ipc:// and tcp:// alike;
 * - or was silent for 2 x heartbeat_ms: the owner (it knows what it heard)
 *   asks for the switch. A passive standby answers nothing, so a client
 *   that lands on it moves on by this rule.
 *
 * After a switch it stays at least 2 x heartbeat_ms on the new broker, so
 * two brokers both down make it alternate at that pace. A switch is a
 * zmq_disconnect of the old endpoint and a zmq_connect of the new one on
 * the SAME sockets: their ZMQ_FDs (watched by the owner's loop) stay
 * valid, and a SUB sends its subscriptions to the new connection by
 * itself (libzmq's XSUB does on every attached pipe). The owner then says
 * what its protocol says after a reconnection (the worker HELLO, the
 * frontend PING).
 *
 * With one endpoint nothing of this runs: no monitor, no switch, the
 * sockets are connected exactly as before.
 */
#ifndef RILL_FAILOVER_H
#define RILL_FAILOVER_H

#include "rill_endpoints.h"

#include <stddef.h>
#include <stdint.h>

#define RILL_FAILOVER_SOCKETS 2

typedef struct {
    void *zmq_context;
    uint64_t hold_ms;    /* 2 x heartbeat_ms: the least stay on one broker */
    size_t count;        /* endpoints per socket: 1, or 2 (a primary and its standby) */
    size_t current;      /* which of them the sockets are connected to */
    size_t socket_count;
    void *sockets[RILL_FAILOVER_SOCKETS];
    char endpoints[RILL_FAILOVER_SOCKETS][RILL_ENDPOINT_LIST_MAX][RILL_ENDPOINT_MAX];
    void *monitor;       /* PAIR reading sockets[0]'s DISCONNECTED events; NULL with one endpoint */
    uint64_t switched_ms; /* the last switch (0: none yet) */
    uint64_t switches;
    int connected;        /* the monitor saw the current broker's connection made */
} rill_failover_t;

void rill_failover_init(rill_failover_t *self, void *zmq_context, uint64_t heartbeat_ms);
/* Connects socket to the first endpoint of list (configured for link
 * liveness first: rill_liveness.h). Every socket must be given a list of
 * the same length; the first one added is the one monitored. 0, or -1
 * (logged). */
int rill_failover_add(rill_failover_t *self, void *socket, const char *list, const char *name);
/* With two endpoints, starts the monitor (after the sockets are added).
 * 0, or -1 (logged). */
int rill_failover_start(rill_failover_t *self);
/* Closes the monitor (before the sockets are closed). */
void rill_failover_release(rill_failover_t *self);

/* 1 when there is another broker to switch to. */
int rill_failover_enabled(const rill_failover_t *self);
/* The monitor socket, for the owner's poll (NULL with one endpoint). */
void *rill_failover_monitor(const rill_failover_t *self);
/* The endpoint socket index is connected to now. */
const char *rill_failover_endpoint(const rill_failover_t *self, size_t index);

/* Reads what the monitor holds (never blocks). Returns 1 when the current
 * broker closed a connection of the first socket. A connection to it made
 * sets self->connected (the owner clears it): a DEALER with ZMQ_IMMEDIATE
 * can send from then on. */
int rill_failover_disconnected(rill_failover_t *self);
/* 1 when a switch may happen now (2 x heartbeat_ms since the last). */
int rill_failover_may_switch(const rill_failover_t *self);
/* Switches every socket to the other endpoint, logs it on one line with
 * why. 0, or -1 (logged: a socket is left as it was). */
int rill_failover_switch(rill_failover_t *self, const char *why);

#endif
