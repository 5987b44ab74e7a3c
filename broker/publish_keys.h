/*
 * publish_keys.h - the keys of the messages published to topics, remembered
 * for a while, so that a message sent twice is published once (rill/10,
 * docs/PROTOCOL.md "Publish keys"; docs/API.md "Idempotency-Key").
 *
 * A PUBLISH may carry a key: the client's (its Idempotency-Key header) or
 * one the frontend drew for it (starting with '~'), which is what lets a
 * frontend send a PUBLISH again to the broker that answers after a switch
 * or a restart. The broker remembers each key of a topic with the seq its
 * message got and a hash of the message: the same key again with the same
 * message is answered with that seq and nothing is published; with another
 * message it is refused (conflict).
 *
 * Bounded in time and count: a client's key for client_ttl_ms, a drawn one
 * for RILL_PUBLISH_KEYS_DRAWN_TTL_MS (a switch is over within seconds),
 * and at most max_keys in all, past which the oldest drawn keys go first,
 * then the oldest clients' keys. A key belongs to one numbering of its
 * topic (the topic's epoch): a topic deleted or evicted and made again
 * knows none of its old keys.
 *
 * A standby pair's active mirrors each key after its message (mirror_out.c
 * asks for the keys not yet mirrored); the passive remembers them as they
 * come (mirror_in.c).
 */
#ifndef RILL_BROKER_PUBLISH_KEYS_H
#define RILL_BROKER_PUBLISH_KEYS_H

#include "list.h"
#include "rill_protocol.h"

#include <stddef.h>
#include <stdint.h>

/* How long a key the frontend drew is kept: a call asked again after a
 * switch comes within a few heartbeats. */
#define RILL_PUBLISH_KEYS_DRAWN_TTL_MS 30000

typedef struct rill_publish_key {
    rill_link_t order;       /* in its list (clients' or drawn), oldest first */
    rill_link_t unmirrored;  /* while the passive has not been sent it */
    uint64_t expires_ms;     /* monotonic */
    uint64_t seq;            /* the seq its message got */
    uint64_t hash;           /* of the message's bytes */
    char epoch[RILL_TOPIC_EPOCH_LENGTH + 1];
    size_t name_length;      /* text is "<topic name> <key>" */
    char text[];
} rill_publish_key_t;

typedef struct rill_publish_keys rill_publish_keys_t;

/* max_keys 0: no key is remembered (a message sent twice is published
 * twice). */
rill_publish_keys_t *rill_publish_keys_new(size_t max_keys, uint64_t client_ttl_ms);
void rill_publish_keys_destroy(rill_publish_keys_t **self_p);
/* A reloaded config's bounds; the oldest go at once past the new count. */
void rill_publish_keys_set_bounds(rill_publish_keys_t *self, size_t max_keys, uint64_t client_ttl_ms);

/* The hash remembered for a message's bytes. */
uint64_t rill_publish_keys_hash(const void *data, size_t size);

/* The key of topic name in epoch, NULL when not known (or expired). */
const rill_publish_key_t *rill_publish_keys_find(rill_publish_keys_t *self, const char *name, size_t name_length,
                                                 const char *key, size_t key_length, const char *epoch,
                                                 uint64_t now_ms);
/* Remembers a key (replacing one of the same text), to expire ttl_ms from
 * now (0: the ttl of its kind) and, when mirror is set, to be mirrored.
 * 0, or -1 when not remembered (max_keys 0, a key too long). */
int rill_publish_keys_remember(rill_publish_keys_t *self, const char *name, size_t name_length, const char *key,
                               size_t key_length, const char *epoch, uint64_t seq, uint64_t hash, uint64_t now_ms,
                               uint64_t ttl_ms, int mirror);
/* Drops every expired key; the tick calls it. */
void rill_publish_keys_expire(rill_publish_keys_t *self, uint64_t now_ms);
/* Forgets every key (a passive's new snapshot). */
void rill_publish_keys_clear(rill_publish_keys_t *self);
size_t rill_publish_keys_count(const rill_publish_keys_t *self);

/* The mirror: every key is to be sent (a snapshot starts), none is (the
 * mirror stops), the oldest one not sent yet (NULL: none), and that one
 * was sent. */
void rill_publish_keys_mirror_all(rill_publish_keys_t *self);
void rill_publish_keys_mirror_none(rill_publish_keys_t *self);
rill_publish_key_t *rill_publish_keys_next_unmirrored(rill_publish_keys_t *self);
void rill_publish_keys_mirrored(rill_publish_keys_t *self, rill_publish_key_t *key);

#endif
