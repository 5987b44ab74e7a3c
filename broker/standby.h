/*
 * standby.h - a broker as one of a standby pair (rill/6, docs/PROTOCOL.md
 * "Standby broker"; docs/RELIABILITY.md "Standby broker"): the peer link,
 * the Binary Star states (pair.h) and what each state means for the
 * broker.
 *
 *   - Only the ACTIVE broker serves: while not active, the broker's outbox
 *     says nothing (no reply, no event, no worker message), main.c reads
 *     and drops the client sockets' messages (counted, logged once a
 *     minute; each counts as "a client came") and runs no tick and no
 *     dispatch. The routing ids of workers heard meanwhile get REJOIN at
 *     once when it becomes active.
 *   - The ACTIVE one mirrors its state to a passive that asked (SYNC):
 *     mirror_out.h, once per pass of the loop. The PASSIVE applies it
 *     (mirror_in.h) and asks for a snapshot when it has none or lost one.
 *   - Becoming ACTIVE from backup or passive is a takeover (takeover.h);
 *     an ACTIVE that becomes PASSIVE drops its state (takeover.h).
 *
 * A broker started without --pair-bind or --standby-of has no standby at
 * all: main.c runs exactly as before.
 */
#ifndef RILL_BROKER_STANDBY_H
#define RILL_BROKER_STANDBY_H

#include "broker.h"

typedef struct rill_standby rill_standby_t;

/* primary: bind the peer link's ROUTER to endpoint (--pair-bind); else
 * connect to it (--standby-of). The broker serves nobody until the pair
 * makes it active. NULL with a reason in error. */
rill_standby_t *rill_standby_new(rill_broker_t *broker, const char *endpoint, int primary, char *error,
                                 size_t error_size);
void rill_standby_destroy(rill_standby_t **self_p);
/* Is this broker the active one (does main.c hand clients to the channels)? */
int rill_standby_serves(const rill_standby_t *self);
/* The raw sockets main.c polls: the peer link and its monitor. */
void *rill_standby_link_socket(rill_standby_t *self);
void *rill_standby_monitor_socket(rill_standby_t *self);
/* The peer link is readable / its monitor is. */
void rill_standby_read_link(rill_standby_t *self, uint64_t now_ms);
void rill_standby_read_monitor(rill_standby_t *self, uint64_t now_ms);
/* Reads and drops a burst of client messages while not active;
 * workers: the socket is workers.sock (their routing ids are kept). */
void rill_standby_drop_clients(rill_standby_t *self, void *socket, int workers, uint64_t now_ms);
/* Heartbeats, the pair's timers, a snapshot asked for. */
void rill_standby_tick(rill_standby_t *self, uint64_t now_ms);
/* At the end of a pass: the active mirrors what changed. Returns 1 when
 * some is left for the next pass (poll must not wait). */
int rill_standby_flush(rill_standby_t *self, uint64_t now_ms);

#endif
