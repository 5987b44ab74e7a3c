/*
 * outbox.h - the three ways the broker's decisions leave the process.
 *
 * Job life (job_life.c, worker_life.c, dispatch.c, held.c, events.c)
 * decides what to say and to whom; it never touches a socket. It says it
 * through this struct of function pointers, which main.c fills with the
 * channel files' senders (events_channel.c: the XPUB; worker_channel.c and
 * control_channel.c: the two ROUTERs). So the decisions call no channel
 * (the channels call them: no dependency loop), and
 * tests/unit/broker/test_job_life.c runs them with a fake outbox that
 * records what would have gone out.
 *
 * Every function returns 0, or -1 with errno set (zmq's), and never blocks.
 */
#ifndef RILL_BROKER_OUTBOX_H
#define RILL_BROKER_OUTBOX_H

#include "rill_protocol.h"

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

typedef struct {
    void *context; /* given back to each function */
    /* One event on the responses subject, ONE frame built by
     * rill_event_encode: "<subject> rill/4 <event> <seq> <accepted_ns>\n<data>"
     * (docs/PROTOCOL.md). On 0 it was sent or queued (so released); on -1
     * it is still the caller's. */
    int (*publish)(void *context, zmq_msg_t *event);
    /* A command to the worker with this routing id (the jobs subject). */
    int (*send_worker)(void *context, const rill_frame_t *routing, rill_command_t command,
                       const rill_frame_t *arguments, size_t count);
    /* A reply to the frontend with this routing id (the control socket). */
    int (*reply)(void *context, const rill_frame_t *routing, rill_command_t command,
                 const rill_frame_t *arguments, size_t count);
} rill_outbox_t;

#endif
