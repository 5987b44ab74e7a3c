/*
 * presence.h - this frontend's part of presence: how many of its streams
 * follow each subject (docs/PROTOCOL.md, "Presence").
 *
 * The broker counts the frontends that listen to a subject (XPUB); what it
 * cannot see is how many streams of one frontend follow it. So every
 * interval (heartbeat_ms) this module sends the broker a PRESENCE snapshot:
 * the subjects that two or more local streams follow, with their counts
 * (a subject followed once is counted by the XPUB already). An empty
 * snapshot is sent once after a non-empty one, then nothing until there is
 * something to say again. The broker forgets a frontend it has not heard
 * from for 3 intervals, so a frontend that dies stops counting.
 */
#ifndef RILL_FRONTEND_PRESENCE_H
#define RILL_FRONTEND_PRESENCE_H

#include "broker_link.h"
#include "subject_registry.h"

#include <h2o.h>

typedef struct rill_presence_reporter rill_presence_reporter_t;

/* Reports subjects' counts to broker every interval_ms; a snapshot holds
 * at most max_bytes of JSON (the subjects past it wait: the broker then
 * counts each of them once per frontend). */
rill_presence_reporter_t *rill_presence_reporter_new(h2o_loop_t *loop, rill_subject_registry_t *subjects,
                                                     rill_broker_link_t *broker, uint64_t interval_ms,
                                                     uint64_t max_bytes);
void rill_presence_reporter_destroy(rill_presence_reporter_t **self_p);

#endif
