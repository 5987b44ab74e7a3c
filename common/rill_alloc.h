/*
 * rill_alloc.h - rill's one out-of-memory policy: allocation never fails.
 *
 * Every process of rill already dies when memory runs out: h2o's pool
 * allocator (h2o_mem_alloc_pool, h2o_mem_alloc_shared) and czmq (zmalloc,
 * zhashx, zlistx, zstr) abort on ENOMEM, and Linux overcommits, so a NULL
 * from malloc is close to unreachable. Recovery branches for it could never
 * be tested and were mostly dead. So rill does the same everywhere: these
 * wrappers print one line naming the size and abort(). Code that allocates
 * calls them and has no ENOMEM branch.
 *
 * What stays an error path is everything a peer or a client controls: bad
 * input, sizes over a configured limit, a full socket. Those are bounded by
 * limits (docs/CONFIG.md) before they reach an allocation, never by running
 * out of memory. Functions from libraries that return NULL for other
 * reasons (jansson's json_loads on bad text) are still checked.
 */
#ifndef RILL_ALLOC_H
#define RILL_ALLOC_H

#include <stddef.h>

void *rill_xmalloc(size_t size);
void *rill_xcalloc(size_t count, size_t size);
void *rill_xrealloc(void *pointer, size_t size);
char *rill_xstrdup(const char *text);
char *rill_xstrndup(const char *text, size_t length);
/* A copy of length bytes plus a NUL (a frame or a slice as a C string). */
char *rill_xmemdup_text(const void *bytes, size_t length);

#endif
