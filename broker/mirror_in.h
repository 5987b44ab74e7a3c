/*
 * mirror_in.h - the passive broker of a standby pair keeps the active's
 * state (rill/6, docs/PROTOCOL.md "Standby broker"): it applies each
 * MIRROR message to its own job and topic tables, as they would be had it
 * served the clients itself, but without doing anything with them (no
 * dispatch, deadline, orphan grace or expiry: standby.c runs none of that
 * while passive). The jobs the active forgot are dropped; ring and byte
 * bounds are this broker's config, as on the active.
 *
 * A BEGIN record starts a snapshot: everything known is dropped and the
 * active's identity (instance id, started_ms) is kept for a takeover;
 * the END record makes the mirror complete. A MIRROR whose seq is not the
 * next one, or a record that does not parse, breaks the mirror: the
 * passive asks for a new snapshot.
 */
#ifndef RILL_BROKER_MIRROR_IN_H
#define RILL_BROKER_MIRROR_IN_H

#include "broker.h"

typedef struct {
    int receiving;          /* a BEGIN came and no seq was missed since */
    int complete;           /* an END came since that BEGIN */
    uint64_t seq;           /* the last MIRROR seq applied */
    char broker[RILL_ID_TEXT_SIZE]; /* the identity of the broker mirrored ("" = none yet) */
    uint64_t started_ms;
    uint64_t records;       /* records applied */
} rill_mirror_in_t;

/* Applies one MIRROR message (seq, records frame). 0, or -1 when the
 * mirror broke (a seq missed, a malformed record): a snapshot is needed. */
int rill_mirror_in_apply(rill_mirror_in_t *self, rill_broker_t *broker, uint64_t seq, rill_frame_t records,
                         uint64_t now_ms);
/* The mirror is no longer followed (the link broke, this broker serves). */
void rill_mirror_in_reset(rill_mirror_in_t *self);

#endif
