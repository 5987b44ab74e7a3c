/*
 * sockets.h - the broker's three sockets: bound, configured, and read a
 * burst at a time.
 *
 * The workers' ROUTER (the jobs subject), the frontends' ROUTER (control)
 * and the XPUB (the responses subject) of docs/PROTOCOL.md. Only main.c and
 * the channel files see them: main.c polls them and hands each channel its
 * socket; the channels' senders are the broker's outbox (outbox.h).
 *
 * The XPUB holds events instead of dropping them (ZMQ_XPUB_NODROP): what it
 * refuses waits in events_waiting, in order (events_channel.h says why and
 * for how long).
 */
#ifndef RILL_BROKER_SOCKETS_H
#define RILL_BROKER_SOCKETS_H

#include "rill_endpoints.h"
#include "rill_protocol.h"
#include "rill_send_queue.h"

#include <czmq.h>
#include <stddef.h>

/* Messages read from one socket before the others get a turn. */
#define RILL_BROKER_BURST 512
/* ... or until this many bytes were read: checking and retaining 512 parts
 * of 1 MiB takes seconds (far more under a sanitizer or a loaded machine),
 * and the loop's tick - heartbeats, deadlines - must not wait that long, or
 * workers take the broker for gone and join again. */
#define RILL_BROKER_BURST_BYTES (4u << 20)

typedef struct {
    zsock_t *workers_socket;
    zsock_t *control_socket;
    zsock_t *events_socket;
    /* PAIRs that hear the two ROUTERs' ZMQ_EVENT_DISCONNECTED: libzmq
     * disconnects a peer that sends a frame over max_message_bytes by
     * itself, and this is how the broker gets to log it. */
    zsock_t *workers_monitor;
    zsock_t *control_monitor;
    uint64_t max_message_bytes;
    void *workers; /* raw libzmq handles of the three */
    void *control;
    void *events;
    rill_send_queue_t events_waiting; /* events the XPUB refused, oldest first */
    uint64_t events_waiting_since_ms; /* since when events wait without a break (0: none wait) */
    uint64_t events_lossy_until_ms;   /* the XPUB drops for a stalled frontend until then (0: it holds) */
    int events_lost;                /* events were dropped since rill_events_channel_take_risk last looked */
} rill_broker_sockets_t;

/* NULL with a reason in error.
 * Binds the three endpoints, each refusing frames over max_message_bytes;
 * a tcp:// one closes a silent peer's connection after about 2 x
 * heartbeat_ms (rill_liveness.h). */
rill_broker_sockets_t *rill_broker_sockets_new(const rill_endpoints_t *endpoints, uint64_t max_message_bytes,
                                               uint64_t heartbeat_ms, char *error, size_t error_size);
void rill_broker_sockets_destroy(rill_broker_sockets_t **self_p);

/* Logs what a monitor (workers_monitor or control_monitor) heard: each
 * peer of that socket that was disconnected, because it went away or
 * because libzmq refused what it sent (docs/PROTOCOL.md, "Bounds"). */
void rill_broker_sockets_read_monitor(rill_broker_sockets_t *self, zsock_t *monitor, const char *name);

/* Reads up to RILL_BROKER_BURST whole messages (or RILL_BROKER_BURST_BYTES) from a ROUTER socket without
 * blocking and calls handle with each (frames[0] is the routing id; the
 * message is closed after). name is for the log line of a failed read. */
void rill_broker_sockets_receive(void *socket, const char *name,
                                 void (*handle)(void *argument, rill_received_t *received),
                                 void *argument);

#endif
