/*
 * takeover.h - a standby broker starts serving with the state it mirrored
 * (rill/6, docs/PROTOCOL.md "Standby broker"), or an active one stops.
 *
 * Taking over (passive or backup -> active):
 *   - identity: with a complete mirror, the broker presents the mirrored
 *     broker's instance id and started_ms (PONG, WELCOME), so frontends
 *     see the broker back, not a restart; without one, its own;
 *   - jobs that ran on a worker are queued again as lost in a cut
 *     (job_life.c: not counted against their retries, held until the
 *     recovery window ends), so their worker's HELLO adopts them with the
 *     mirrored last seq, and one no worker reported is retried after it;
 *   - queued jobs go to the ready queue; every job nobody listens to gets
 *     its orphan grace from now (frontends re-subscribe within it);
 *   - the recovery window starts ("Broker restart"): PONG says recovering.
 *
 * Yielding (active -> passive, two actives after a healed partition):
 * everything is forgotten; the active's snapshot brings it back.
 */
#ifndef RILL_BROKER_TAKEOVER_H
#define RILL_BROKER_TAKEOVER_H

#include "broker.h"

/* mirrored: the identity of the broker whose complete state this one
 * holds (NULL or "": none); started_ms its start. */
void rill_takeover_run(rill_broker_t *broker, const char *mirrored, uint64_t started_ms, uint64_t now_ms);
void rill_takeover_yield(rill_broker_t *broker);

#endif
