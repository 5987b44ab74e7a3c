/*
 * id_index.h - items found by a text key (the broker's jobs by id), in one
 * open-addressing table.
 *
 * Why not czmq's zhashx: every PARTS entry a worker sends is one lookup of
 * its job among all the jobs the broker retains (60 s of them: hundreds of
 * thousands at full rate), so the lookup is a cache miss per step. zhashx
 * walks a chain of separately allocated items, each pointing at its key:
 * three misses and a strcmp per hit, about 9 % of the broker's main thread
 * at 50 k parts/s (docs/BENCHMARKS.md, 2026-11-30, 12:50). Here a slot
 * holds the key's 64-bit hash next to the item: a lookup reads one slot
 * (four to a cache line), compares hashes, and touches only the item it
 * returns, which the caller reads next anyway.
 *
 * The index does not own its items and keeps no copy of their keys: each
 * item's key is read through key_of (the job's own id), so an item must
 * not change its key while indexed. Linear probing with backward-shift
 * removal (no tombstones); the table doubles past 70 % full and halves
 * below 1/8, never under its first size.
 */
#ifndef RILL_BROKER_ID_INDEX_H
#define RILL_BROKER_ID_INDEX_H

#include <stddef.h>
#include <stdint.h>

typedef struct rill_id_index rill_id_index_t;

/* The key of an indexed item, NUL-terminated. */
typedef const char *(*rill_id_index_key_of_t)(const void *item);

rill_id_index_t *rill_id_index_new(rill_id_index_key_of_t key_of);
/* Frees the index, not its items. */
void rill_id_index_destroy(rill_id_index_t **self_p);
/* Adds item under its key. 0, or -1 when an item with that key is there
 * already (nothing changes). */
int rill_id_index_insert(rill_id_index_t *self, void *item);
/* The item whose key is key[0..length), or NULL. */
void *rill_id_index_find(const rill_id_index_t *self, const char *key, size_t length);
/* Removes item (found by its key). 0, or -1 when it is not indexed. */
int rill_id_index_remove(rill_id_index_t *self, const void *item);
/* Asks the CPU to fetch the slot where key's probe starts, so that a find
 * of it a little later hits the cache: a caller with a list of keys to look
 * up (a PARTS message's entries) prefetches the next while it handles one. */
void rill_id_index_prefetch(const rill_id_index_t *self, const char *key, size_t length);
size_t rill_id_index_size(const rill_id_index_t *self);
/* Iteration in no given order: *position starts at 0; returns the next
 * item, or NULL at the end. The index must not change meanwhile. */
void *rill_id_index_next(const rill_id_index_t *self, size_t *position);

#endif
