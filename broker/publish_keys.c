/*
 * publish_keys.c - the keys of published messages, for a while. See
 * publish_keys.h.
 *
 * One hash (czmq's zhashx, keyed by the entry's own "<name> <key>" text)
 * finds a key; two lists, one per kind, hold them in the order they were
 * remembered, which is the order they expire in (one ttl per kind), so the
 * sweep and the count bound only ever look at a list's head.
 */
#include "publish_keys.h"
#include "rill_alloc.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rill_publish_keys {
    zhashx_t *index;     /* text -> rill_publish_key_t (the entry owns the text) */
    rill_link_t clients; /* the clients' keys, oldest first */
    rill_link_t drawn;   /* the frontends' drawn keys, oldest first */
    rill_link_t unmirrored;
    size_t count;
    size_t max_keys;
    uint64_t client_ttl_ms;
};

rill_publish_keys_t *rill_publish_keys_new(size_t max_keys, uint64_t client_ttl_ms)
{
    rill_publish_keys_t *self = rill_xcalloc(1, sizeof(*self));
    self->index = zhashx_new(); /* czmq aborts on ENOMEM (rill_alloc.h) */
    zhashx_set_key_duplicator(self->index, NULL);
    zhashx_set_key_destructor(self->index, NULL);
    rill_list_init(&self->clients);
    rill_list_init(&self->drawn);
    rill_list_init(&self->unmirrored);
    self->max_keys = max_keys;
    self->client_ttl_ms = client_ttl_ms;
    return self;
}

static void forget(rill_publish_keys_t *self, rill_publish_key_t *key)
{
    zhashx_delete(self->index, key->text);
    rill_list_remove(&key->order);
    rill_list_remove(&key->unmirrored);
    self->count--;
    free(key);
}

void rill_publish_keys_clear(rill_publish_keys_t *self)
{
    while (!rill_list_is_empty(&self->clients))
        forget(self, rill_container_of(self->clients.next, rill_publish_key_t, order));
    while (!rill_list_is_empty(&self->drawn))
        forget(self, rill_container_of(self->drawn.next, rill_publish_key_t, order));
}

void rill_publish_keys_destroy(rill_publish_keys_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_publish_keys_t *self = *self_p;
    rill_publish_keys_clear(self);
    zhashx_destroy(&self->index);
    free(self);
    *self_p = NULL;
}

/* The oldest key to give up for room: a drawn one first (it only guards a
 * call asked again, seconds long), then a client's. */
static void make_room(rill_publish_keys_t *self, size_t room)
{
    while (self->count > 0 && self->count + room > self->max_keys) {
        rill_link_t *list = !rill_list_is_empty(&self->drawn) ? &self->drawn : &self->clients;
        forget(self, rill_container_of(list->next, rill_publish_key_t, order));
    }
}

void rill_publish_keys_set_bounds(rill_publish_keys_t *self, size_t max_keys, uint64_t client_ttl_ms)
{
    self->max_keys = max_keys;
    self->client_ttl_ms = client_ttl_ms;
    make_room(self, 0);
}

uint64_t rill_publish_keys_hash(const void *data, size_t size)
{
    /* FNV-1a: tells a different message from the same one, which is all a
     * key's check needs (the messages are the client's own). */
    const uint8_t *bytes = data;
    uint64_t hash = 14695981039346656037ULL;
    for (size_t i = 0; i < size; i++) {
        hash ^= bytes[i];
        hash *= 1099511628211ULL;
    }
    return hash;
}

/* "<name> <key>" into text (of RILL_TOPIC_NAME_MAX + RILL_PUBLISH_KEY_MAX +
 * 3 bytes); its length, or 0 when either is too long. */
static size_t key_text(char *text, const char *name, size_t name_length, const char *key, size_t key_length)
{
    if (name_length == 0 || name_length > RILL_TOPIC_NAME_MAX || key_length == 0 ||
        key_length > RILL_PUBLISH_KEY_MAX + 1)
        return 0;
    memcpy(text, name, name_length);
    text[name_length] = ' ';
    memcpy(text + name_length + 1, key, key_length);
    text[name_length + 1 + key_length] = '\0';
    return name_length + 1 + key_length;
}

#define KEY_TEXT_MAX (RILL_TOPIC_NAME_MAX + RILL_PUBLISH_KEY_MAX + 3)

const rill_publish_key_t *rill_publish_keys_find(rill_publish_keys_t *self, const char *name, size_t name_length,
                                                 const char *key, size_t key_length, const char *epoch,
                                                 uint64_t now_ms)
{
    char text[KEY_TEXT_MAX];
    if (key_text(text, name, name_length, key, key_length) == 0)
        return NULL;
    rill_publish_key_t *found = zhashx_lookup(self->index, text);
    if (found == NULL || found->expires_ms <= now_ms || strcmp(found->epoch, epoch) != 0)
        return NULL;
    return found;
}

int rill_publish_keys_remember(rill_publish_keys_t *self, const char *name, size_t name_length, const char *key,
                               size_t key_length, const char *epoch, uint64_t seq, uint64_t hash, uint64_t now_ms,
                               uint64_t ttl_ms, int mirror)
{
    char text[KEY_TEXT_MAX];
    size_t length = key_text(text, name, name_length, key, key_length);
    if (length == 0 || self->max_keys == 0)
        return -1;
    rill_publish_key_t *old = zhashx_lookup(self->index, text);
    if (old != NULL)
        forget(self, old);
    make_room(self, 1);
    int drawn = key[0] == RILL_PUBLISH_KEY_DRAWN;
    rill_publish_key_t *entry = rill_xcalloc(1, sizeof(*entry) + length + 1);
    memcpy(entry->text, text, length + 1);
    entry->name_length = name_length;
    entry->seq = seq;
    entry->hash = hash;
    snprintf(entry->epoch, sizeof(entry->epoch), "%s", epoch);
    if (ttl_ms == 0)
        ttl_ms = drawn ? RILL_PUBLISH_KEYS_DRAWN_TTL_MS : self->client_ttl_ms;
    entry->expires_ms = now_ms + ttl_ms;
    /* A mirrored key may expire before one remembered earlier (its ttl was
     * what was left on the active): the lists stay close to expiry order,
     * and the sweep stops at the first key still alive. */
    rill_list_push_back(drawn ? &self->drawn : &self->clients, &entry->order);
    if (mirror)
        rill_list_push_back(&self->unmirrored, &entry->unmirrored);
    zhashx_insert(self->index, entry->text, entry);
    self->count++;
    return 0;
}

static void expire_list(rill_publish_keys_t *self, rill_link_t *list, uint64_t now_ms)
{
    while (!rill_list_is_empty(list)) {
        rill_publish_key_t *oldest = rill_container_of(list->next, rill_publish_key_t, order);
        if (oldest->expires_ms > now_ms)
            return;
        forget(self, oldest);
    }
}

void rill_publish_keys_expire(rill_publish_keys_t *self, uint64_t now_ms)
{
    expire_list(self, &self->clients, now_ms);
    expire_list(self, &self->drawn, now_ms);
}

size_t rill_publish_keys_count(const rill_publish_keys_t *self)
{
    return self->count;
}

void rill_publish_keys_mirror_none(rill_publish_keys_t *self)
{
    while (!rill_list_is_empty(&self->unmirrored))
        rill_list_remove(self->unmirrored.next);
}

void rill_publish_keys_mirror_all(rill_publish_keys_t *self)
{
    rill_publish_keys_mirror_none(self);
    rill_link_t *lists[2] = {&self->clients, &self->drawn};
    for (int i = 0; i < 2; i++)
        for (rill_link_t *link = lists[i]->next; link != lists[i]; link = link->next)
            rill_list_push_back(&self->unmirrored, &rill_container_of(link, rill_publish_key_t, order)->unmirrored);
}

rill_publish_key_t *rill_publish_keys_next_unmirrored(rill_publish_keys_t *self)
{
    if (rill_list_is_empty(&self->unmirrored))
        return NULL;
    return rill_container_of(self->unmirrored.next, rill_publish_key_t, unmirrored);
}

void rill_publish_keys_mirrored(rill_publish_keys_t *self, rill_publish_key_t *key)
{
    (void)self;
    rill_list_remove(&key->unmirrored);
}
