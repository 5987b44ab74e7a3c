/*
 * broker_link.h - the frontend's two ZeroMQ sockets inside the h2o loop.
 *
 * Owns the DEALER to the broker's control ROUTER (requests, PING/PONG) and
 * the SUB to its events XPUB (every event of the subjects this frontend
 * wants). Both are driven by the h2o evloop through dup()s of their ZMQ_FD;
 * because that fd is edge-triggered, every wakeup and every zmq call on a
 * socket is followed by a full drain (docs/DESIGN.md "Library facts").
 *
 * Requests to the broker are "calls" (broker_calls.h): each gets a fresh
 * req id, a 5 s deadline and a callback that is invoked exactly once - with
 * the reply, or with no reply on timeout, send failure or shutdown - unless
 * the caller cancels it first (e.g. its client went away). A call in
 * flight when its broker went away is asked again of the next one. A FETCH is answered by
 * one or more REPLAYs: their header is decoded here, once - the link needs
 * its "final" to know whether the call goes on - and handed to the caller.
 *
 * Any message from the broker - a reply, a PONG, an event - is a sign of
 * life: after 2 x heartbeat_ms without one the link says the broker is
 * silent, and when a PONG comes again that it is back (and whether it is
 * another instance: a restarted broker).
 *
 * Given two endpoints each (a broker and its standby), both sockets switch
 * to the other broker together when the one they are on closes the
 * connection or is silent for 2 x heartbeat_ms (rill_failover.h); the
 * link is silent from the switch until the other answers.
 *
 * The SUB side also carries barrier tokens (docs/PROTOCOL.md "The
 * barrier"): a submit or a stream subscribes a fresh one after its subjects
 * and names it in its call, so the broker answers only once the
 * subscriptions have reached it.
 */
#ifndef RILL_FRONTEND_BROKER_LINK_H
#define RILL_FRONTEND_BROKER_LINK_H

#include "broker_calls.h"
#include "rill_config.h"
#include "rill_endpoints.h"
#include "rill_id.h"
#include "rill_messages.h"
#include "rill_protocol.h"

#include <h2o.h>

typedef struct rill_broker_link rill_broker_link_t;

typedef struct {
    /* One event from the SUB socket (already parsed and checked). */
    void (*on_event)(void *context, const rill_event_t *event);
    /* A drain of the SUB socket is over: time to flush the streams. */
    void (*on_drained)(void *context);
    /* Nothing came from the broker for 2 x heartbeat_ms (once per
     * silence). */
    void (*on_broker_silent)(void *context);
    /* A PONG after such a silence: the broker (broker_id, maybe a new
     * instance) answers again. Called before on_broker_restarted. */
    void (*on_broker_back)(void *context, const char *broker_id);
    /* A PONG named another broker instance than the previous one. */
    void (*on_broker_restarted)(void *context);
    /* The first PONG after a switch to the other broker of a pair
     * (rill_failover.h) named the same broker: the standby took over with
     * what the primary had. The new connection missed what was published
     * meanwhile: repair it. Called after on_broker_back. */
    void (*on_broker_switched)(void *context);
    /* REVOKE name (rill/8): the broker takes back a topic's lease. */
    void (*on_revoke)(void *context, const uint8_t *name, size_t length);
    void *context;
} rill_broker_link_callbacks_t;

rill_broker_link_t *rill_broker_link_new(h2o_context_t *context, const rill_endpoints_t *endpoints,
                                         const rill_config_t *config,
                                         const rill_broker_link_callbacks_t *callbacks);
/* Pending calls are dropped without callback: fail them first if needed. */
void rill_broker_link_destroy(rill_broker_link_t **self);

/* 1 when a PONG arrived within 3 x heartbeat_ms and the broker has not
 * been silent (nothing at all) for 2 x heartbeat_ms since. */
int rill_broker_link_is_connected(rill_broker_link_t *self);
/* 1 when connected, or while a switch to the other broker of a pair is
 * under way (for at most 5 x heartbeat_ms after the last PONG): a call
 * that may be asked again (broker_calls.h) is held for the broker that
 * answers next instead of refused. */
int rill_broker_link_takes_calls(rill_broker_link_t *self);
/* The last PONG's broker instance id ("" before any) and live worker count. */
const char *rill_broker_link_broker_id(rill_broker_link_t *self);
long rill_broker_link_workers(rill_broker_link_t *self);
/* Messages from the broker counted and dropped as malformed (/metrics). */
uint64_t rill_broker_link_malformed(rill_broker_link_t *self);
/* Switches to the other broker of a standby pair so far (/metrics). */
uint64_t rill_broker_link_switches(rill_broker_link_t *self);
/* Calls in flight asked again of the broker that answered after a switch
 * or a restart so far (broker_calls.h; /metrics). */
uint64_t rill_broker_link_resent(rill_broker_link_t *self);

/* SUB subscriptions; a drain is scheduled after each. */
int rill_broker_link_subscribe(rill_broker_link_t *self, const char *topic, size_t length);
void rill_broker_link_unsubscribe(rill_broker_link_t *self, const char *topic, size_t length);

/* rill/4: this link's follow subject, "d<id>/" (docs/PROTOCOL.md "Direct
 * delivery"), subscribed for the link's life. A SUBMIT that names it has
 * its jobs' events published to it: no per-job subscription. */
#define RILL_BROKER_FOLLOW_SIZE (RILL_ID_TEXT_SIZE + 2)
const char *rill_broker_link_follow_subject(rill_broker_link_t *self);

/* A barrier token (PROTOCOL.md, "The barrier"): 's' and a fresh id, NUL-terminated. */
#define RILL_BARRIER_TOKEN_SIZE (1 + RILL_ID_TEXT_SIZE)
/* Subscribes a fresh barrier token, written into token: after the subjects
 * it guards, before the call that names it. 0, or -1 with token "". */
int rill_broker_link_subscribe_barrier(rill_broker_link_t *self, char *token);
/* Unsubscribes token unless it is "", and clears it. self may be NULL (the
 * link is gone): token is only cleared. */
void rill_broker_link_unsubscribe_barrier(rill_broker_link_t *self, char *token);

/* Sends command with frames [req, arguments...]. Returns the pending call,
 * or NULL when the message could not be sent (broker unreachable). */
rill_broker_call_t *rill_broker_link_call(rill_broker_link_t *self, rill_command_t command,
                                          const rill_frame_t *arguments, size_t argument_count,
                                          rill_broker_reply_fn reply, void *owner);
/* Sends a command that has no reply (RELEASE): frames [arguments...].
 * 0, or -1 when it could not be sent (logged). */
int rill_broker_link_tell(rill_broker_link_t *self, rill_command_t command,
                          const rill_frame_t *arguments, size_t argument_count);
/* Forgets a pending call without invoking its callback; clears *call. */
void rill_broker_link_cancel(rill_broker_link_t *self, rill_broker_call_t **call);
/* Invokes every pending call's callback with RILL_CALL_SHUTDOWN. */
void rill_broker_link_fail_all(rill_broker_link_t *self);
/* Events a second from the broker from which a wakeup reads, yields once to
 * libzmq's I/O thread and reads again (read_yield.h; 0: never;
 * RILL_READ_YIELD_DEFAULT_PER_S until set), and how many wakeups did. */
void rill_broker_link_set_read_yield(rill_broker_link_t *self, uint64_t busy_per_s);
uint64_t rill_broker_link_read_yields(const rill_broker_link_t *self);

#endif
