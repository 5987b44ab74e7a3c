/*
 * barrier.h - work held until a frontend's subscriptions are active.
 *
 * A frontend subscribes its subjects, then "s"+token, then sends SUBMIT or
 * FETCH with the token (docs/PROTOCOL.md, "The barrier"). The broker holds
 * that work until the XPUB reports the token's subscription, or until a
 * deadline (2 s) passes. The token's subscription may also arrive BEFORE the
 * request (two pipes, no order), so tokens seen recently are remembered.
 * Items are opaque here: held.c says what an item is and what releasing
 * one means.
 */
#ifndef RILL_BROKER_BARRIER_H
#define RILL_BROKER_BARRIER_H

#include <stddef.h>
#include <stdint.h>

#define RILL_BARRIER_WAIT_MS 2000
#define RILL_BARRIER_MEMORY_MS 10000 /* how long a seen token is remembered */

typedef struct rill_barrier rill_barrier_t;
/* Called once per released item; timed_out says why. The callee owns item. */
typedef void (*rill_barrier_release_fn)(void *item, int timed_out, void *argument);
typedef void (*rill_barrier_item_free_fn)(void *item);

/* item_free frees items still held when the barrier is destroyed. */
rill_barrier_t *rill_barrier_new(rill_barrier_item_free_fn item_free);
void rill_barrier_destroy(rill_barrier_t **self_p);
/* Holds item (the barrier owns it now) until token is seen or deadline_ms
 * (monotonic). */
void rill_barrier_hold(rill_barrier_t *self, const char *token, uint64_t deadline_ms, void *item);
/* The token's subscription arrived: remember it, release what waits for it. */
void rill_barrier_seen(rill_barrier_t *self, const char *token, uint64_t now_ms,
                       rill_barrier_release_fn release, void *argument);
int rill_barrier_was_seen(rill_barrier_t *self, const char *token);
/* Releases items past their deadline and forgets old tokens. */
void rill_barrier_expire(rill_barrier_t *self, uint64_t now_ms, rill_barrier_release_fn release,
                         void *argument);
size_t rill_barrier_held(rill_barrier_t *self);

#endif
