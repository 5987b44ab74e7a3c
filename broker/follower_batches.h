/*
 * follower_batches.h - the events waiting, during one pass of the broker's
 * loop, to go to each follow subject as ONE message (rill/4,
 * docs/PROTOCOL.md "Direct delivery"; the form is rill_event_batch.h's).
 *
 * The XPUB, libzmq's I/O thread and the kernel cost per message, not per
 * byte, and one PARTS of a worker is typically 32 parts of jobs one
 * frontend follows: so events.c adds each followed event here, and sends
 * every batch at the end of the pass (rill_follower_batches_flush), before
 * the loop polls again. Order per follow subject is the order of adding.
 *
 * Pure bookkeeping: sending is the caller's send callback. Each buffer
 * keeps RILL_EVENT_BATCH_HEADER_MAX bytes in front of its entries, where
 * the header (its count known only at the end) is written at send time;
 * the buffer then becomes the message as it is (zmq_msg_init_data), so an
 * entry is copied once.
 */
#ifndef RILL_BROKER_FOLLOWER_BATCHES_H
#define RILL_BROKER_FOLLOWER_BATCHES_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

typedef struct rill_follower_batches rill_follower_batches_t;

/* Sends one batch (message: the whole batch, for the callback to send or
 * close) of events entries to follow; message NULL: libzmq could not build
 * it, the events are lost (the callback counts them as a failed publish). */
typedef void (*rill_follower_batches_send_t)(void *context, const char *follow, zmq_msg_t *message,
                                             size_t events);

rill_follower_batches_t *rill_follower_batches_new(void);
/* Frees what was not sent. */
void rill_follower_batches_destroy(rill_follower_batches_t **self_p);
/* Adds a job's one-frame event ("j<id> rill/4 ...") to follow's batch, as
 * its header (head_size bytes) and its data (body_size bytes), which the
 * entry joins: the caller need not build the event as one piece first. A
 * batch that it would take past RILL_EVENT_BATCH_MAX_EVENTS events or limit
 * bytes of entries is sent first. 0, or 1 when the event is not added (too
 * large for any batch, or follow too long): follow's batch was sent, so
 * the caller sends the event alone and the order holds. */
int rill_follower_batches_add(rill_follower_batches_t *self, const char *follow, size_t follow_length,
                              const void *head, size_t head_size, const void *body, size_t body_size, size_t limit,
                              rill_follower_batches_send_t send, void *context);
/* Sends every batch waiting; they are empty after. */
void rill_follower_batches_flush(rill_follower_batches_t *self, rill_follower_batches_send_t send, void *context);

#endif
