/*
 * flow.h - whether this frontend holds a job back at its source.
 *
 * A job is paused by this frontend while EVERY local stream following it
 * (and not leaving) is behind (its unsent bytes rose over half of slow_client_soft_bytes and
 * did not fall under a quarter since: output_queue.h): one stream that
 * keeps up keeps the job going, and a slow one then meets the ordinary
 * slow-client limits, so a slow client never slows the others. On a change
 * the broker is told `FLOW id 0|1` (docs/PROTOCOL.md, "Flow"); it pauses
 * the job at its worker when every listening frontend paused it.
 *
 * The state lives in the subject (subject_registry.h): a subject that goes
 * away takes it along (the broker forgets a leaving listener's pause).
 */
#ifndef RILL_FRONTEND_FLOW_H
#define RILL_FRONTEND_FLOW_H

#include "broker_link.h"
#include "subject_registry.h"

/* Where the stream of a subscription stands. A stream that is ending
 * (its client left, the frontend stops, a slow client was cut) is LEAVING
 * and has no say: were it counted as behind, the FLOW 1 it caused could
 * reach the broker after this frontend's unsubscribe (two pipes, no order)
 * and pause the job for the frontends still reading it. */
#define RILL_FLOW_READING 0
#define RILL_FLOW_BEHIND 1
#define RILL_FLOW_LEAVING (-1)
typedef int (*rill_flow_behind_fn)(const rill_subscription_t *subscription);

/* Recomputes subject's pause (job subjects only; NULL and topics are
 * ignored) and sends FLOW when it changed. broker may be NULL (gone). */
void rill_flow_update(rill_broker_link_t *broker, rill_subject_t *subject, rill_flow_behind_fn behind);

#endif
