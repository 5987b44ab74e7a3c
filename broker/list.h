/*
 * list.h - intrusive doubly-linked lists for the broker.
 *
 * A job sits in several lists at once (ready queue, deadline order, expiry
 * order, the jobs of its worker); embedding the links in the job makes every
 * insert and removal O(1) and allocation-free, and lets a job be unlinked
 * from wherever it is without searching. A link whose next is NULL is in no
 * list.
 */
#ifndef RILL_BROKER_LIST_H
#define RILL_BROKER_LIST_H

#include <stddef.h>

typedef struct rill_link {
    struct rill_link *prev;
    struct rill_link *next;
} rill_link_t;

#define rill_container_of(pointer, type, member) ((type *)((char *)(pointer)-offsetof(type, member)))

static inline void rill_list_init(rill_link_t *head)
{
    head->prev = head;
    head->next = head;
}

static inline int rill_list_is_empty(const rill_link_t *head)
{
    return head->next == head;
}

static inline int rill_link_is_linked(const rill_link_t *link)
{
    return link->next != NULL;
}

/* Inserts link just before position (before the head = at the end). */
static inline void rill_list_insert_before(rill_link_t *position, rill_link_t *link)
{
    link->prev = position->prev;
    link->next = position;
    position->prev->next = link;
    position->prev = link;
}

static inline void rill_list_push_back(rill_link_t *head, rill_link_t *link)
{
    rill_list_insert_before(head, link);
}

static inline void rill_list_push_front(rill_link_t *head, rill_link_t *link)
{
    rill_list_insert_before(head->next, link);
}

static inline void rill_list_remove(rill_link_t *link)
{
    if (link->next == NULL)
        return;
    link->prev->next = link->next;
    link->next->prev = link->prev;
    link->prev = NULL;
    link->next = NULL;
}

static inline size_t rill_list_length(const rill_link_t *head)
{
    size_t length = 0;
    for (const rill_link_t *link = head->next; link != head; link = link->next)
        length++;
    return length;
}

#endif
