/*
 * followers.h - the frontends that follow a job directly (rill/4).
 *
 * A frontend that streams the answer of its own SUBMIT does not subscribe
 * each job on its SUB socket: it subscribes once, at start, to its follow
 * subject "d<token>/", and names that subject in SUBMIT. The broker then
 * publishes the job's events as "d<token>/j<id> ..." (docs/PROTOCOL.md,
 * "Direct delivery"). Per job that saves the XPUB a subscribe and an
 * unsubscribe (libzmq allocates a trie node per byte of each: ~60k
 * instructions a job) and the barrier's pair as well.
 *
 * This file keeps a job's list of follow subjects: pure bookkeeping, no
 * sockets. Whether a follower is live (its frontend's subscription is at
 * the XPUB) is the interest table's answer, asked by job_life.c.
 */
#ifndef RILL_BROKER_FOLLOWERS_H
#define RILL_BROKER_FOLLOWERS_H

#include "rill_protocol.h"

#include <stddef.h>

/* One follow subject, "d<token>/", NUL-terminated, with its length: an
 * event's header is built from it for every event (no strlen), and a job's
 * one follower costs one allocation, not two. */
typedef struct {
    size_t length;
    char text[RILL_FOLLOW_SUBJECT_MAX + 1];
} rill_follower_t;

typedef struct {
    rill_follower_t *subjects; /* owned */
    size_t count;
} rill_followers_t;

/* Adds subject (size bytes, a valid follow subject: at most
 * RILL_FOLLOW_SUBJECT_MAX). Returns 1 when added, 0 when it was there
 * already or is too long. */
int rill_followers_add(rill_followers_t *self, const char *subject, size_t size);
/* Removes subject. Returns 1 when it was there. */
int rill_followers_remove(rill_followers_t *self, const char *subject, size_t size);
int rill_followers_has(const rill_followers_t *self, const char *subject, size_t size);
/* Frees every entry; the list is empty after. */
void rill_followers_clear(rill_followers_t *self);

#endif
