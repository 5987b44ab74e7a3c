/*
 * id_index.c - the open-addressing table of id_index.h.
 *
 * A slot is {hash, item}; item NULL is an empty slot. The hash is never 0
 * for an item (0 is mapped to 1), so comparing hashes first rejects other
 * keys without touching their items.
 */
#include "id_index.h"
#include "rill_alloc.h"

#include <stdlib.h>
#include <string.h>

#define FIRST_CAPACITY 1024 /* slots; a power of two */

typedef struct {
    uint64_t hash;
    void *item;
} slot_t;

struct rill_id_index {
    slot_t *slots;
    size_t capacity; /* a power of two */
    size_t size;
    rill_id_index_key_of_t key_of;
};

/* Eight bytes at a time: a job id is 32 hex digits, four words. Ids are
 * random, but every word is mixed in, so keys that share a prefix (a
 * test's, or text a client made up) spread as well. */
static uint64_t hash_key(const char *key, size_t length)
{
    uint64_t hash = length * 0x9e3779b97f4a7c15ULL;
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, key, sizeof(word));
        hash = (hash ^ word) * 0x9e3779b97f4a7c15ULL;
        hash ^= hash >> 29;
        key += 8;
        length -= 8;
    }
    if (length > 0) {
        uint64_t word = 0;
        memcpy(&word, key, length);
        hash = (hash ^ word) * 0x9e3779b97f4a7c15ULL;
        hash ^= hash >> 29;
    }
    hash ^= hash >> 32;
    return hash != 0 ? hash : 1;
}

/* Exactly key[0..length): a key holding a NUL, or a prefix, is another. */
static int key_equals(const rill_id_index_t *self, const void *item, const char *key, size_t length)
{
    const char *item_key = self->key_of(item);
    return strnlen(item_key, length + 1) == length && memcmp(item_key, key, length) == 0;
}

rill_id_index_t *rill_id_index_new(rill_id_index_key_of_t key_of)
{
    rill_id_index_t *self = rill_xcalloc(1, sizeof(*self));
    self->capacity = FIRST_CAPACITY;
    self->slots = rill_xcalloc(self->capacity, sizeof(slot_t));
    self->key_of = key_of;
    return self;
}

void rill_id_index_destroy(rill_id_index_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free((*self_p)->slots);
    free(*self_p);
    *self_p = NULL;
}

/* Puts an item known to be absent into slots (of capacity slots). */
static void place(slot_t *slots, size_t capacity, uint64_t hash, void *item)
{
    size_t mask = capacity - 1;
    size_t at = (size_t)hash & mask;
    while (slots[at].item != NULL)
        at = (at + 1) & mask;
    slots[at].hash = hash;
    slots[at].item = item;
}

static void resize(rill_id_index_t *self, size_t capacity)
{
    slot_t *slots = rill_xcalloc(capacity, sizeof(slot_t));
    for (size_t i = 0; i < self->capacity; i++)
        if (self->slots[i].item != NULL)
            place(slots, capacity, self->slots[i].hash, self->slots[i].item);
    free(self->slots);
    self->slots = slots;
    self->capacity = capacity;
}

/* The slot holding key, or the empty slot where its probe ends. */
static size_t probe(const rill_id_index_t *self, uint64_t hash, const char *key, size_t length)
{
    size_t mask = self->capacity - 1;
    size_t at = (size_t)hash & mask;
    while (self->slots[at].item != NULL) {
        if (self->slots[at].hash == hash && key_equals(self, self->slots[at].item, key, length))
            return at;
        at = (at + 1) & mask;
    }
    return at;
}

int rill_id_index_insert(rill_id_index_t *self, void *item)
{
    const char *key = self->key_of(item);
    size_t length = strlen(key);
    uint64_t hash = hash_key(key, length);
    if (self->slots[probe(self, hash, key, length)].item != NULL)
        return -1;
    /* Past 70 % full, probes grow long: double first. */
    if ((self->size + 1) * 10 > self->capacity * 7)
        resize(self, self->capacity * 2);
    place(self->slots, self->capacity, hash, item);
    self->size++;
    return 0;
}

void *rill_id_index_find(const rill_id_index_t *self, const char *key, size_t length)
{
    return self->slots[probe(self, hash_key(key, length), key, length)].item;
}

int rill_id_index_remove(rill_id_index_t *self, const void *item)
{
    const char *key = self->key_of(item);
    size_t length = strlen(key);
    size_t at = probe(self, hash_key(key, length), key, length);
    if (self->slots[at].item != item)
        return -1;
    /* Backward shift: each later slot of the run that may sit closer to
     * its home moves into the hole, so a probe never stops early. */
    size_t mask = self->capacity - 1;
    size_t hole = at;
    size_t next = (hole + 1) & mask;
    while (self->slots[next].item != NULL) {
        size_t home = (size_t)self->slots[next].hash & mask;
        /* next may move to hole unless its home lies cyclically in (hole, next]. */
        int stays = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next);
        if (!stays) {
            self->slots[hole] = self->slots[next];
            hole = next;
        }
        next = (next + 1) & mask;
    }
    self->slots[hole].item = NULL;
    self->slots[hole].hash = 0;
    self->size--;
    /* Give memory back after a wave of retained jobs expires. */
    if (self->capacity > FIRST_CAPACITY && self->size * 8 < self->capacity)
        resize(self, self->capacity / 2);
    return 0;
}

void rill_id_index_prefetch(const rill_id_index_t *self, const char *key, size_t length)
{
    __builtin_prefetch(&self->slots[(size_t)hash_key(key, length) & (self->capacity - 1)]);
}

size_t rill_id_index_size(const rill_id_index_t *self)
{
    return self->size;
}

void *rill_id_index_next(const rill_id_index_t *self, size_t *position)
{
    while (*position < self->capacity) {
        void *item = self->slots[(*position)++].item;
        if (item != NULL)
            return item;
    }
    return NULL;
}
