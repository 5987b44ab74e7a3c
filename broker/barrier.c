/*
 * barrier.c - held items by token, with deadlines, and recently seen
 * tokens. See barrier.h.
 */
#include "barrier.h"
#include "list.h"
#include "rill_alloc.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *token;
    uint64_t deadline_ms;
    void *item;
    rill_link_t link;
} held_t;

typedef struct {
    char *token;
    uint64_t seen_ms;
    rill_link_t link;
} seen_t;

struct rill_barrier {
    rill_link_t held;    /* held_t, deadline ascending (all waits are equal) */
    size_t held_count;
    zhashx_t *seen;      /* token -> seen_t (not owning) */
    rill_link_t seen_order; /* seen_t, oldest first (owning) */
    rill_barrier_item_free_fn item_free;
};

rill_barrier_t *rill_barrier_new(rill_barrier_item_free_fn item_free)
{
    rill_barrier_t *self = rill_xcalloc(1, sizeof(*self));
    self->seen = zhashx_new(); /* czmq aborts on ENOMEM (rill_alloc.h) */
    rill_list_init(&self->held);
    rill_list_init(&self->seen_order);
    self->item_free = item_free;
    return self;
}

static void held_free(held_t *held)
{
    rill_list_remove(&held->link);
    free(held->token);
    free(held);
}

static void seen_free(rill_barrier_t *self, seen_t *seen)
{
    zhashx_delete(self->seen, seen->token);
    rill_list_remove(&seen->link);
    free(seen->token);
    free(seen);
}

void rill_barrier_destroy(rill_barrier_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_barrier_t *self = *self_p;
    while (!rill_list_is_empty(&self->held)) {
        held_t *held = rill_container_of(self->held.next, held_t, link);
        if (self->item_free != NULL)
            self->item_free(held->item);
        held_free(held);
    }
    while (!rill_list_is_empty(&self->seen_order))
        seen_free(self, rill_container_of(self->seen_order.next, seen_t, link));
    zhashx_destroy(&self->seen);
    free(self);
    *self_p = NULL;
}

void rill_barrier_hold(rill_barrier_t *self, const char *token, uint64_t deadline_ms, void *item)
{
    held_t *held = rill_xcalloc(1, sizeof(*held));
    held->token = rill_xstrdup(token);
    held->deadline_ms = deadline_ms;
    held->item = item;
    /* Sorted by deadline, searching from the end (usually O(1)). */
    rill_link_t *position = self->held.prev;
    while (position != &self->held &&
           rill_container_of(position, held_t, link)->deadline_ms > deadline_ms)
        position = position->prev;
    rill_list_insert_before(position->next, &held->link);
    self->held_count++;
}

void rill_barrier_seen(rill_barrier_t *self, const char *token, uint64_t now_ms,
                       rill_barrier_release_fn release, void *argument)
{
    seen_t *seen = zhashx_lookup(self->seen, token);
    if (seen != NULL)
        seen_free(self, seen);
    seen = rill_xcalloc(1, sizeof(*seen));
    seen->token = rill_xstrdup(token);
    seen->seen_ms = now_ms;
    zhashx_update(self->seen, token, seen);
    rill_list_push_back(&self->seen_order, &seen->link);
    /* Release matching items; the release callback must not touch the barrier. */
    rill_link_t *link = self->held.next;
    while (link != &self->held) {
        rill_link_t *next = link->next;
        held_t *held = rill_container_of(link, held_t, link);
        if (strcmp(held->token, token) == 0) {
            void *item = held->item;
            held_free(held);
            self->held_count--;
            release(item, 0, argument);
        }
        link = next;
    }
}

int rill_barrier_was_seen(rill_barrier_t *self, const char *token)
{
    return zhashx_lookup(self->seen, token) != NULL;
}

void rill_barrier_expire(rill_barrier_t *self, uint64_t now_ms, rill_barrier_release_fn release,
                         void *argument)
{
    while (!rill_list_is_empty(&self->held)) {
        held_t *held = rill_container_of(self->held.next, held_t, link);
        if (held->deadline_ms > now_ms)
            break;
        void *item = held->item;
        held_free(held);
        self->held_count--;
        release(item, 1, argument);
    }
    while (!rill_list_is_empty(&self->seen_order)) {
        seen_t *seen = rill_container_of(self->seen_order.next, seen_t, link);
        if (seen->seen_ms + RILL_BARRIER_MEMORY_MS > now_ms)
            break;
        seen_free(self, seen);
    }
}

size_t rill_barrier_held(rill_barrier_t *self)
{
    return self->held_count;
}
