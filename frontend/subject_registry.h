/*
 * subject_registry.h - which local streams want which subject (docs/API.md, docs/DESIGN.md).
 *
 * A subject is a SUB topic: "j<job id>" or "t<name>/". The frontend
 * subscribes its SUB socket to a subject once, when the first local stream
 * wants it, and unsubscribes when the last one leaves: the broker counts
 * frontends, the frontend counts its own clients (PROTOCOL.md, Interest).
 * Each (stream, subject) pair is a subscription; what the stream keeps for
 * the pair (the seq it expects: sequencer.h) is the owner's.
 *
 * Pure bookkeeping: the SUB socket is reached through two callbacks, so the
 * module is unit-tested without ZeroMQ or h2o.
 */
#ifndef RILL_FRONTEND_SUBJECT_REGISTRY_H
#define RILL_FRONTEND_SUBJECT_REGISTRY_H

#include "rill_protocol.h"

#include <stddef.h>
#include <stdint.h>

/* "t" + a topic name + "/" (PROTOCOL.md). */
#define RILL_SUBJECT_TOPIC_MAX (RILL_TOPIC_NAME_MAX + 2)

typedef struct rill_subject rill_subject_t;
typedef struct rill_subscription rill_subscription_t;
typedef struct rill_subject_registry rill_subject_registry_t;

struct rill_subscription {
    rill_subject_t *subject;
    void *owner;                   /* what the stream keeps for this subject */
    rill_subscription_t *previous; /* in the subject's list */
    rill_subscription_t *next;
};

struct rill_subject {
    rill_subscription_t *head;
    size_t count;
    unsigned flow_paused; /* this frontend told the broker FLOW 1 (flow.h) */
    unsigned followed;    /* rill/4: delivered through the follow subject, not subscribed
                             (docs/PROTOCOL.md "Direct delivery"): its removal calls no
                             unsubscribe; its owner tells the broker (UNFOLLOW) */
    unsigned refollowed;  /* followed, and subscribed too after a switch to a standby
                             broker: its removal unsubscribes AND its owner sends UNFOLLOW */
    size_t topic_length;
    char topic[]; /* NUL-terminated: "j<id>" or "t<name>/" */
};

/* Called when a subject gains its first or loses its last subscription.
 * subscribe may fail (returns -1): the add is then undone. */
typedef int (*rill_subject_subscribe_fn)(void *context, const char *topic, size_t length);
typedef void (*rill_subject_unsubscribe_fn)(void *context, const char *topic, size_t length);

rill_subject_registry_t *rill_subject_registry_new(rill_subject_subscribe_fn subscribe,
                                                   rill_subject_unsubscribe_fn unsubscribe,
                                                   void *context);
/* Every subscription should have been removed first (remaining ones are
 * freed without callbacks). */
void rill_subject_registry_destroy(rill_subject_registry_t **self);

/* A new subscription of owner to topic (length bytes, at most
 * RILL_SUBJECT_TOPIC_MAX). NULL on a bad topic or a subscribe failure. */
rill_subscription_t *rill_subject_registry_add(rill_subject_registry_t *self, const char *topic,
                                               size_t length, void *owner);
/* rill_subject_registry_add for a job the broker delivers to this frontend
 * directly (rill/4): a subject created here is marked followed and not
 * subscribed; one that exists stays as it is. */
rill_subscription_t *rill_subject_registry_add_followed(rill_subject_registry_t *self, const char *topic,
                                                        size_t length, void *owner);
/* Subscribes every followed subject and clears its mark (a restarted
 * broker knows no follower). Returns how many. */
size_t rill_subject_registry_subscribe_followed(rill_subject_registry_t *self);
/* The same after a switch to a standby broker, which may know the
 * followers: each is marked refollowed (its owner still UNFOLLOWs it). */
size_t rill_subject_registry_subscribe_followed_too(rill_subject_registry_t *self);
/* Removes and frees *subscription, clears it. NULL is fine. */
void rill_subject_registry_remove(rill_subject_registry_t *self,
                                  rill_subscription_t **subscription);
/* The subject for topic, or NULL when no local stream wants it. */
rill_subject_t *rill_subject_registry_find(rill_subject_registry_t *self, const char *topic,
                                           size_t length);
size_t rill_subject_registry_size(rill_subject_registry_t *self);
/* Calls visit for every subject (its count is its local streams); visit
 * must not add or remove subscriptions. */
void rill_subject_registry_foreach(rill_subject_registry_t *self,
                                   void (*visit)(void *argument, const rill_subject_t *subject),
                                   void *argument);

#endif
