/*
 * timer_heap.h - the worker loop's one-shot timers, as a binary min-heap.
 *
 * Job kinds keep thousands of timers armed at once (every running demo job
 * has one), so arming, firing and stopping are O(log n) and allocate
 * nothing: the heap holds pointers to caller-owned rill_worker_timer_t,
 * which remember their own position for O(log n) removal.
 */
#ifndef RILL_TIMER_HEAP_H
#define RILL_TIMER_HEAP_H

#include "rill_worker_kind.h"

typedef struct {
    rill_worker_timer_t **entries;
    size_t count;
    size_t capacity;
} rill_timer_heap_t;

void rill_timer_heap_init(rill_timer_heap_t *heap);
void rill_timer_heap_release(rill_timer_heap_t *heap);
/* Arms timer at due_ns (re-arms if armed). */
void rill_timer_heap_arm(rill_timer_heap_t *heap, rill_worker_timer_t *timer, uint64_t due_ns);
/* Arms timer at due_ns (CLOCK_MONOTONIC), to call callback(argument). */
void rill_timer_heap_start_at(rill_timer_heap_t *heap, rill_worker_timer_t *timer, uint64_t due_ns,
                              rill_worker_timer_callback_t callback, void *argument);
/* Arms timer delay_ms from now, to call callback(argument). */
void rill_timer_heap_start(rill_timer_heap_t *heap, rill_worker_timer_t *timer, uint64_t delay_ms,
                           rill_worker_timer_callback_t callback, void *argument);
void rill_timer_heap_disarm(rill_timer_heap_t *heap, rill_worker_timer_t *timer);
/* The earliest armed timer, or NULL. */
rill_worker_timer_t *rill_timer_heap_first(const rill_timer_heap_t *heap);
/* When the loop must wake for this heap: now_ns when its earliest timer is
 * due by then, else that timer's due time but not before not_before_ns;
 * UINT64_MAX when nothing is armed. */
uint64_t rill_timer_heap_wake_ns(const rill_timer_heap_t *heap, uint64_t now_ns, uint64_t not_before_ns);
/* Fires every timer due at now_ns, earliest first; each is disarmed before its
 * callback runs, so a callback may re-arm it. Returns how many fired. */
size_t rill_timer_heap_run(rill_timer_heap_t *heap, uint64_t now_ns);
/* The same, but only while stop(argument) is 0: the rest stay armed, due. */
size_t rill_timer_heap_run_until(rill_timer_heap_t *heap, uint64_t now_ns, int (*stop)(void *argument),
                                 void *argument);

#endif
