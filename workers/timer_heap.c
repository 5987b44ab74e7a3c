/* timer_heap.c - see timer_heap.h. */
#include "timer_heap.h"

#include "rill_alloc.h"
#include "rill_clock.h"

#include <stdint.h>
#include <stdlib.h>

void rill_timer_heap_init(rill_timer_heap_t *heap)
{
    heap->entries = NULL;
    heap->count = 0;
    heap->capacity = 0;
}

void rill_timer_heap_release(rill_timer_heap_t *heap)
{
    for (size_t i = 0; i < heap->count; i++)
        heap->entries[i]->heap_index = 0;
    free(heap->entries);
    rill_timer_heap_init(heap);
}

static void place(rill_timer_heap_t *heap, size_t position, rill_worker_timer_t *timer)
{
    heap->entries[position] = timer;
    timer->heap_index = position + 1;
}

static void sift_up(rill_timer_heap_t *heap, size_t position)
{
    rill_worker_timer_t *timer = heap->entries[position];
    while (position > 0) {
        size_t parent = (position - 1) / 2;
        if (heap->entries[parent]->due_ns <= timer->due_ns)
            break;
        place(heap, position, heap->entries[parent]);
        position = parent;
    }
    place(heap, position, timer);
}

static void sift_down(rill_timer_heap_t *heap, size_t position)
{
    rill_worker_timer_t *timer = heap->entries[position];
    for (;;) {
        size_t child = 2 * position + 1;
        if (child >= heap->count)
            break;
        if (child + 1 < heap->count && heap->entries[child + 1]->due_ns < heap->entries[child]->due_ns)
            child++;
        if (heap->entries[child]->due_ns >= timer->due_ns)
            break;
        place(heap, position, heap->entries[child]);
        position = child;
    }
    place(heap, position, timer);
}

void rill_timer_heap_disarm(rill_timer_heap_t *heap, rill_worker_timer_t *timer)
{
    if (timer->heap_index == 0 || timer->heap_index > heap->count ||
        heap->entries[timer->heap_index - 1] != timer)
        return;
    size_t position = timer->heap_index - 1;
    timer->heap_index = 0;
    heap->count--;
    if (position == heap->count)
        return;
    place(heap, position, heap->entries[heap->count]);
    if (position > 0 && heap->entries[(position - 1) / 2]->due_ns > heap->entries[position]->due_ns)
        sift_up(heap, position);
    else
        sift_down(heap, position);
}

void rill_timer_heap_arm(rill_timer_heap_t *heap, rill_worker_timer_t *timer, uint64_t due_ns)
{
    rill_timer_heap_disarm(heap, timer);
    if (heap->count == heap->capacity) {
        heap->capacity = heap->capacity == 0 ? 64 : heap->capacity * 2;
        heap->entries = rill_xrealloc(heap->entries, heap->capacity * sizeof(*heap->entries));
    }
    timer->due_ns = due_ns;
    place(heap, heap->count, timer);
    heap->count++;
    sift_up(heap, heap->count - 1);
}

void rill_timer_heap_start_at(rill_timer_heap_t *heap, rill_worker_timer_t *timer, uint64_t due_ns,
                              rill_worker_timer_callback_t callback, void *argument)
{
    timer->callback = callback;
    timer->argument = argument;
    rill_timer_heap_arm(heap, timer, due_ns);
}

void rill_timer_heap_start(rill_timer_heap_t *heap, rill_worker_timer_t *timer, uint64_t delay_ms,
                           rill_worker_timer_callback_t callback, void *argument)
{
    rill_timer_heap_start_at(heap, timer, rill_clock_monotonic_ns() + delay_ms * 1000000u, callback, argument);
}

rill_worker_timer_t *rill_timer_heap_first(const rill_timer_heap_t *heap)
{
    return heap->count > 0 ? heap->entries[0] : NULL;
}

uint64_t rill_timer_heap_wake_ns(const rill_timer_heap_t *heap, uint64_t now_ns, uint64_t not_before_ns)
{
    const rill_worker_timer_t *first = rill_timer_heap_first(heap);
    if (first == NULL)
        return UINT64_MAX;
    if (first->due_ns <= now_ns)
        return now_ns;
    return first->due_ns > not_before_ns ? first->due_ns : not_before_ns;
}

size_t rill_timer_heap_run(rill_timer_heap_t *heap, uint64_t now_ns)
{
    return rill_timer_heap_run_until(heap, now_ns, NULL, NULL);
}

size_t rill_timer_heap_run_until(rill_timer_heap_t *heap, uint64_t now_ns, int (*stop)(void *argument),
                                 void *argument)
{
    size_t fired = 0;
    rill_worker_timer_t *timer;
    while ((timer = rill_timer_heap_first(heap)) != NULL && timer->due_ns <= now_ns &&
           (stop == NULL || !stop(argument))) {
        rill_timer_heap_disarm(heap, timer);
        fired++;
        timer->callback(timer->argument);
    }
    return fired;
}
