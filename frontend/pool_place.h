/*
 * pool_place.h - per-request state in the free room of the request's pool.
 *
 * h2o_mem_alloc_shared, the usual home of a handler's state with a dispose
 * callback, is one malloc of its own. Every h2o request already holds a 4 KiB
 * pool chunk of which an open stream uses about 1 KiB (h2o 2.2.5: headers,
 * response headers, the flattened response head): state placed in the rest
 * of it costs no memory of its own - about 0.5 KiB less per idle stream
 * (docs/DESIGN.md, "Performance"). Only a small anchor (the dispose call)
 * is a malloc.
 */
#ifndef RILL_FRONTEND_POOL_PLACE_H
#define RILL_FRONTEND_POOL_PLACE_H

#include <h2o.h>

/* Room kept free in the chunk for what h2o allocates after a handler (the
 * response head): state goes in only when this much is left after it. */
#define RILL_POOL_PLACE_SPARE 1024

/* size bytes that live until pool is cleared, where dispose(data) is called
 * first (as h2o_mem_alloc_shared's, without its reference count: the bytes
 * never outlive the pool). In the current pool chunk when it has room for
 * them and RILL_POOL_PLACE_SPARE more, else h2o_mem_alloc_shared. The bytes
 * are not zeroed. */
void *rill_pool_place(h2o_mem_pool_t *pool, size_t size, void (*dispose)(void *data));

#endif
