/*
 * rill_liveness.h - link liveness on the tcp:// links between rill's
 * processes (docs/PROTOCOL.md, "Link liveness").
 *
 * A link to another host can go silent without closing: a cable out, a
 * switch port down, a host gone. TCP alone would notice only when its own
 * retry timers give up (minutes), and a connection that lived through the
 * cut would deliver again only at its next retransmission (seconds after
 * the link is back). So every tcp:// socket gets, from the config's
 * heartbeat_ms:
 *
 * - ZeroMQ heartbeats (ZMTP PING/PONG, below rill's own PING): a PING every
 *   heartbeat_ms (ZMQ_HEARTBEAT_IVL); a connection that brings nothing for
 *   2 x heartbeat_ms after one (ZMQ_HEARTBEAT_TIMEOUT) is closed, and the
 *   peer is told to do the same after 3 x heartbeat_ms (ZMQ_HEARTBEAT_TTL).
 *   A connecting socket (DEALER, SUB) then connects again by itself,
 *   keeping what it had queued, and a SUB sends its subscriptions again.
 * - ZMQ_CONNECT_TIMEOUT = heartbeat_ms / 2 (at least 100 ms): a connect
 *   into a silent link (its SYN unanswered) is given up and tried again,
 *   so a link that comes back is used within about half a heartbeat, not
 *   at the kernel's next SYN retry (1, 3, 7, 15 ... s). A handshake that
 *   needs longer (a round trip over half a heartbeat) never completes:
 *   raise heartbeat_ms for such links.
 * - TCP keepalive (idle 2 x heartbeat_ms, then every heartbeat_ms, 3
 *   probes; whole seconds): the same for an idle connection whose peer's
 *   libzmq does not answer ZMTP heartbeats.
 *
 * ipc:// links are left as they are: a peer on the same host that is gone
 * closes its socket (the kernel does), and a stopped one (SIGSTOP) must
 * keep its connection: rill's own heartbeats judge it.
 */
#ifndef RILL_LIVENESS_H
#define RILL_LIVENESS_H

#include <stdint.h>

/* 1 when endpoint is a tcp:// one. */
int rill_liveness_is_tcp(const char *endpoint);

/* Sets the options above on socket when endpoint is tcp:// (before its
 * bind or connect); does nothing otherwise. Returns 0, or -1 with errno
 * set. */
int rill_liveness_configure(void *socket, const char *endpoint, uint64_t heartbeat_ms);

#endif
