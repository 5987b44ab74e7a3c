/*
 * broker_calls.h - the frontend's calls to the broker that wait for their
 * answer: each one's req id, deadline and owner's callback, and what it
 * sent, so that it can be asked again.
 *
 * A call whose broker went away before it answered - the primary of a
 * standby pair killed with the call in flight, a broker restarted - would
 * otherwise wait for its deadline and answer its client 504, though the
 * broker that answers now could have served it. So the link holds the
 * calls at a switch (their deadlines start again: a takeover takes a few
 * heartbeats) and sends them again, with the same req, when the next broker
 * answers its first PING (docs/PROTOCOL.md "Calls asked again", rill/9).
 * Every call but two is safe to ask twice: a read is a read, a SUBMIT names
 * its jobs' ids and the broker answers one it knows with that job, a
 * CANCEL or a TOPIC_DELETE of what is gone already answers what is true.
 * The two: a FETCH, which the stream that made it asks again itself from
 * where it is (stream_subject.c), and a PUBLISH without a key, which a
 * broker that took it would publish twice: it waits for its deadline. A
 * PUBLISH with a key (rill/10: every one the broker numbers, topic_leases.h)
 * is published once per key, so it is asked again like the rest; only one
 * numbered under a lease has none.
 */
#ifndef RILL_FRONTEND_BROKER_CALLS_H
#define RILL_FRONTEND_BROKER_CALLS_H

#include "rill_messages.h"
#include "rill_protocol.h"

#include <h2o.h>

#define RILL_BROKER_CALL_TIMEOUT_MS 5000

typedef struct rill_broker_call rill_broker_call_t;

typedef enum {
    RILL_CALL_REPLIED = 0, /* message is the broker's reply */
    RILL_CALL_TIMEOUT,     /* no reply within RILL_BROKER_CALL_TIMEOUT_MS */
    RILL_CALL_SHUTDOWN,    /* the frontend is stopping */
    RILL_CALL_MORE,        /* message is one REPLAY of several: the call stays
                              pending until the one with "final":true */
} rill_call_outcome_t;

/* message is NULL unless outcome is RILL_CALL_REPLIED or RILL_CALL_MORE; it
 * and its frames live only during the callback. For a REPLAY, replay is its
 * header, decoded once here (NULL when it cannot be read: the owner reports
 * the bad reply); else NULL. The call is already freed when this runs,
 * except for RILL_CALL_MORE (it may be cancelled then). */
typedef void (*rill_broker_reply_fn)(void *owner, rill_call_outcome_t outcome,
                                     const rill_message_t *message,
                                     const rill_replay_header_t *replay);

typedef struct rill_broker_calls rill_broker_calls_t;

/* How a call's message leaves: the link's DEALER, frames [req, arguments...].
 * 0, or -1 when it could not be sent. */
typedef int (*rill_broker_calls_send_fn)(void *context, rill_command_t command, const rill_frame_t *frames,
                                         size_t count);

rill_broker_calls_t *rill_broker_calls_new(h2o_loop_t *loop, rill_broker_calls_send_fn send, void *context);
/* Pending calls are dropped without callback: fail them first if needed. */
void rill_broker_calls_destroy(rill_broker_calls_t **self);

/* Sends command with frames [a fresh req, arguments...]; the pending call,
 * or NULL when it could not be sent. With hold_unsent (the link takes
 * calls: a switch to the other broker is under way, or the broker's
 * connection went before the link noticed), a call that may be asked again
 * and could not be sent is kept all the same: it goes with the next
 * resend, or with send_unsent at the broker's next PONG. */
rill_broker_call_t *rill_broker_calls_start(rill_broker_calls_t *self, rill_command_t command,
                                            const rill_frame_t *arguments, size_t argument_count,
                                            rill_broker_reply_fn reply, void *owner, int hold_unsent);
/* A reply (message->arguments[0] is its req) to its call; a late one (its
 * call timed out or was cancelled) is dropped. -1: the req frame cannot be
 * one of ours (the caller counts it malformed). */
int rill_broker_calls_answer(rill_broker_calls_t *self, const rill_message_t *message);
/* Forgets a pending call without invoking its callback; clears *call. */
void rill_broker_calls_cancel(rill_broker_calls_t *self, rill_broker_call_t **call);
/* Invokes every pending call's callback with RILL_CALL_SHUTDOWN. */
void rill_broker_calls_fail_all(rill_broker_calls_t *self);

/* The broker went away (a switch): every call it may not have answered
 * gets a fresh deadline, to wait for the next broker. */
void rill_broker_calls_hold(rill_broker_calls_t *self);
/* Another broker answers (after a switch or a restart): every pending call
 * that may be asked again is sent again, with a fresh deadline. Returns
 * how many were. */
size_t rill_broker_calls_resend(rill_broker_calls_t *self);
/* The broker answers (any PONG): the calls held because they could not be
 * sent yet go now (never sent, so safe whatever broker this is). Returns
 * how many did. */
size_t rill_broker_calls_send_unsent(rill_broker_calls_t *self);
/* Calls sent again so far (/metrics). */
uint64_t rill_broker_calls_resent(const rill_broker_calls_t *self);

#endif
