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

#include <stddef.h>

typedef struct {
    char **subjects; /* each "d<token>/", NUL-terminated, owned */
    size_t count;
} rill_followers_t;

/* Adds subject (size bytes, a valid follow subject). Returns 1 when added,
 * 0 when it was there already. */
int rill_followers_add(rill_followers_t *self, const char *subject, size_t size);
/* Removes subject. Returns 1 when it was there. */
int rill_followers_remove(rill_followers_t *self, const char *subject, size_t size);
int rill_followers_has(const rill_followers_t *self, const char *subject, size_t size);
/* Frees every entry; the list is empty after. */
void rill_followers_clear(rill_followers_t *self);

#endif
