/*
 * presence.h - how many client streams follow a subject, over every
 * frontend (docs/PROTOCOL.md, "Presence"; docs/API.md, "Lists").
 *
 * The XPUB tells the broker how many frontends listen to a subject
 * (interest.h), not how many clients: a frontend subscribes a subject once
 * however many of its streams want it. So each frontend reports, every
 * interval, the subjects its streams follow MORE than once, with their
 * stream counts (PRESENCE); a subject it follows once is not in the report
 * (the XPUB already counts it as one). A subject's subscribers are then the
 * frontends listening plus, for each live report, its count minus one.
 * The report is a snapshot: it replaces the frontend's previous one, and a
 * frontend not heard from for 3 of its intervals is forgotten (it died, or
 * has no subject followed twice any more: it then sends one empty report).
 *
 * Pure bookkeeping, keyed by the frontend's routing id; no socket here.
 */
#ifndef RILL_BROKER_PRESENCE_H
#define RILL_BROKER_PRESENCE_H

#include <stddef.h>
#include <stdint.h>

typedef struct rill_presence rill_presence_t;

/* Bounds of a report's interval_ms (a bad one is clamped into them). */
#define RILL_PRESENCE_INTERVAL_MIN_MS 100
#define RILL_PRESENCE_INTERVAL_MAX_MS 60000

rill_presence_t *rill_presence_new(void);
void rill_presence_destroy(rill_presence_t **self_p);

/* PRESENCE json from the frontend whose routing id is routing:
 * {"interval_ms":N,"subjects":{"<subject>":count,...}}. Replaces that
 * frontend's report; counts below 2 are ignored. Returns 0, or -1 with
 * nothing changed when json is not of that shape. */
int rill_presence_report(rill_presence_t *self, const uint8_t *routing, size_t routing_size,
                         const char *json, size_t length, uint64_t now_ms);
/* Streams beyond the first, over every live report, following subject
 * ("j<id>" or "t<name>/"). */
uint64_t rill_presence_extra(rill_presence_t *self, const char *subject, uint64_t now_ms);
/* Frontends whose report is live now. */
size_t rill_presence_frontends(rill_presence_t *self, uint64_t now_ms);

#endif
