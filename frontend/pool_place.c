/*
 * pool_place.c - see pool_place.h.
 */
#include "pool_place.h"

typedef struct {
    void *data;
    void (*dispose)(void *data);
} anchor_t;

static void anchor_dispose(void *bytes)
{
    anchor_t *anchor = bytes;
    anchor->dispose(anchor->data);
}

/* The bytes of a pool chunk: what an empty pool's offset says (h2o starts
 * an empty pool "at the end of" a chunk it has not got yet). */
static size_t chunk_bytes(void)
{
    static size_t size;
    if (size == 0) {
        h2o_mem_pool_t probe;
        h2o_mem_init_pool(&probe);
        size = probe.chunk_offset;
    }
    return size;
}

void *rill_pool_place(h2o_mem_pool_t *pool, size_t size, void (*dispose)(void *data))
{
    size_t rounded = (size + 15) & ~(size_t)15; /* as h2o_mem_alloc_pool rounds */
    size_t chunk = chunk_bytes();
    /* h2o puts a quarter chunk or more in a malloc of its own: no room saved. */
    if (pool->chunks == NULL || rounded >= chunk / 4 || pool->chunk_offset > chunk ||
        chunk - pool->chunk_offset < rounded + RILL_POOL_PLACE_SPARE)
        return h2o_mem_alloc_shared(pool, size, dispose);
    void *data = h2o_mem_alloc_pool(pool, size);
    anchor_t *anchor = h2o_mem_alloc_shared(pool, sizeof(*anchor), anchor_dispose);
    anchor->data = data;
    anchor->dispose = dispose;
    return data;
}
