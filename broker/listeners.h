/*
 * listeners.h - who listens to a job, and what a change of it does
 * (listeners.c): the XPUB's subscription messages, and (rill/4) the
 * frontends that follow a job directly (docs/PROTOCOL.md, "Interest",
 * "Direct delivery"). How many listen now is rill_broker_listeners
 * (broker.h).
 */
#ifndef RILL_BROKER_LISTENERS_H
#define RILL_BROKER_LISTENERS_H

#include "broker.h"

/* One XPUB subscription message: counts interest; a barrier token's
 * subscription releases what waits for it. When a job's last subscriber
 * leaves (a job not detached, not ended), it is cancelled at once if a
 * frontend RELEASEd it since its last subscribe, else its orphan grace
 * starts; a subscribe stops the grace and clears the release mark
 * (docs/PROTOCOL.md, "Interest"). A follow subject's subscription (rill/4) coming (0 -> 1) or going
 * (1 -> 0) changes every job it follows; one coming also releases a SUBMIT
 * held for it, as a barrier token's does. */
void rill_broker_subscription(rill_broker_t *self, const uint8_t *message, size_t size);

/* Adds follow (a valid follow subject) to the job's followers; a live one
 * counts as a subscribe (stops an orphan grace). */
void rill_broker_follow(rill_broker_t *self, rill_job_t *job, const char *follow);
/* UNFOLLOW id follow release (rill/4): the frontend of that follow subject
 * stops following the job. release 1: its last client left, so the job is
 * cancelled at once if nobody listens any more; 0: the frontend ended the
 * stream itself (a slow client, shutdown), so an orphan grace starts
 * instead. Unknown job, or not a follower: nothing. */
void rill_broker_unfollow(rill_broker_t *self, rill_frame_t id, rill_frame_t follow, int release);

#endif
