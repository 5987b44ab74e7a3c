/*
 * subject_registry.c - see subject_registry.h. Subjects live in a czmq
 * zhashx keyed by their own topic text (no key copy); each holds an
 * intrusive doubly linked list of its subscriptions, so adding and removing
 * a stream is O(1) and fan-out walks only the interested streams.
 */
#include "subject_registry.h"

#include "rill_alloc.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

struct rill_subject_registry {
    zhashx_t *subjects;
    rill_subject_subscribe_fn subscribe;
    rill_subject_unsubscribe_fn unsubscribe;
    void *context;
};

rill_subject_registry_t *rill_subject_registry_new(rill_subject_subscribe_fn subscribe,
                                                   rill_subject_unsubscribe_fn unsubscribe,
                                                   void *context)
{
    rill_subject_registry_t *self = rill_xcalloc(1, sizeof(*self));
    self->subjects = zhashx_new(); /* czmq aborts when memory runs out */
    /* Keys point into the subject itself: no duplicate, no destructor. */
    zhashx_set_key_duplicator(self->subjects, NULL);
    zhashx_set_key_destructor(self->subjects, NULL);
    self->subscribe = subscribe;
    self->unsubscribe = unsubscribe;
    self->context = context;
    return self;
}

void rill_subject_registry_destroy(rill_subject_registry_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_subject_registry_t *self = *self_p;
    *self_p = NULL;
    rill_subject_t *subject = zhashx_first(self->subjects);
    while (subject != NULL) {
        rill_subscription_t *subscription = subject->head;
        while (subscription != NULL) {
            rill_subscription_t *next = subscription->next;
            free(subscription);
            subscription = next;
        }
        free(subject);
        subject = zhashx_next(self->subjects);
    }
    zhashx_destroy(&self->subjects);
    free(self);
}

static int topic_copy(char *buffer, const char *topic, size_t length)
{
    if (length == 0 || length > RILL_SUBJECT_TOPIC_MAX || memchr(topic, '\0', length) != NULL)
        return -1;
    memcpy(buffer, topic, length);
    buffer[length] = '\0';
    return 0;
}

rill_subject_t *rill_subject_registry_find(rill_subject_registry_t *self, const char *topic,
                                           size_t length)
{
    char key[RILL_SUBJECT_TOPIC_MAX + 1];
    if (topic_copy(key, topic, length) != 0)
        return NULL;
    return zhashx_lookup(self->subjects, key);
}

size_t rill_subject_registry_size(rill_subject_registry_t *self)
{
    return zhashx_size(self->subjects);
}

static rill_subscription_t *add(rill_subject_registry_t *self, const char *topic, size_t length, void *owner,
                                int followed)
{
    rill_subject_t *subject = rill_subject_registry_find(self, topic, length);
    int created = 0;
    if (subject == NULL) {
        if (length == 0 || length > RILL_SUBJECT_TOPIC_MAX || memchr(topic, '\0', length) != NULL)
            return NULL;
        subject = rill_xcalloc(1, sizeof(*subject) + length + 1);
        memcpy(subject->topic, topic, length);
        subject->topic[length] = '\0';
        subject->topic_length = length;
        if (zhashx_insert(self->subjects, subject->topic, subject) != 0) {
            free(subject);
            return NULL;
        }
        created = 1;
    }
    if (created && followed)
        subject->followed = 1;
    else if (created && self->subscribe != NULL &&
             self->subscribe(self->context, subject->topic, subject->topic_length) != 0) {
        zhashx_delete(self->subjects, subject->topic);
        free(subject);
        return NULL;
    }
    rill_subscription_t *subscription = rill_xcalloc(1, sizeof(*subscription));
    subscription->subject = subject;
    subscription->owner = owner;
    subscription->next = subject->head;
    if (subject->head != NULL)
        subject->head->previous = subscription;
    subject->head = subscription;
    subject->count++;
    return subscription;
}

rill_subscription_t *rill_subject_registry_add(rill_subject_registry_t *self, const char *topic,
                                               size_t length, void *owner)
{
    return add(self, topic, length, owner, 0);
}

rill_subscription_t *rill_subject_registry_add_followed(rill_subject_registry_t *self, const char *topic,
                                                        size_t length, void *owner)
{
    return add(self, topic, length, owner, 1);
}

static size_t subscribe_followed(rill_subject_registry_t *self, unsigned refollowed)
{
    size_t count = 0;
    for (rill_subject_t *subject = zhashx_first(self->subjects); subject != NULL;
         subject = zhashx_next(self->subjects)) {
        if (!subject->followed)
            continue;
        /* A failed subscribe (the socket is gone: the frontend stops)
         * leaves it as it was. */
        if (self->subscribe != NULL && self->subscribe(self->context, subject->topic, subject->topic_length) != 0)
            continue;
        subject->followed = 0;
        subject->refollowed = refollowed;
        count++;
    }
    return count;
}

size_t rill_subject_registry_subscribe_followed(rill_subject_registry_t *self)
{
    return subscribe_followed(self, 0);
}

size_t rill_subject_registry_subscribe_followed_too(rill_subject_registry_t *self)
{
    return subscribe_followed(self, 1);
}

void rill_subject_registry_remove(rill_subject_registry_t *self,
                                  rill_subscription_t **subscription_p)
{
    if (subscription_p == NULL || *subscription_p == NULL)
        return;
    rill_subscription_t *subscription = *subscription_p;
    *subscription_p = NULL;
    rill_subject_t *subject = subscription->subject;
    if (subscription->previous != NULL)
        subscription->previous->next = subscription->next;
    else
        subject->head = subscription->next;
    if (subscription->next != NULL)
        subscription->next->previous = subscription->previous;
    subject->count--;
    free(subscription);
    if (subject->count == 0) {
        if (self->unsubscribe != NULL && !subject->followed)
            self->unsubscribe(self->context, subject->topic, subject->topic_length);
        zhashx_delete(self->subjects, subject->topic);
        free(subject);
    }
}

void rill_subject_registry_foreach(rill_subject_registry_t *self,
                                   void (*visit)(void *argument, const rill_subject_t *subject),
                                   void *argument)
{
    for (rill_subject_t *subject = zhashx_first(self->subjects); subject != NULL;
         subject = zhashx_next(self->subjects))
        visit(argument, subject);
}
