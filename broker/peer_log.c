/*
 * peer_log.c - per-peer log rate limit. See peer_log.h.
 */
#include "peer_log.h"
#include "rill_alloc.h"

#include <czmq.h>
#include <stdlib.h>

struct rill_peer_log {
    zhashx_t *last; /* peer -> uint64_t* (monotonic ms of its last line) */
};

static void free_time(void **item)
{
    free(*item);
    *item = NULL;
}

rill_peer_log_t *rill_peer_log_new(void)
{
    rill_peer_log_t *self = rill_xcalloc(1, sizeof(*self));
    self->last = zhashx_new(); /* czmq aborts on ENOMEM (rill_alloc.h) */
    zhashx_set_destructor(self->last, free_time);
    return self;
}

void rill_peer_log_destroy(rill_peer_log_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    zhashx_destroy(&(*self_p)->last);
    free(*self_p);
    *self_p = NULL;
}

int rill_peer_log_allow(rill_peer_log_t *self, const char *peer, uint64_t now_ms)
{
    return rill_peer_log_allow_every(self, peer, now_ms, RILL_PEER_LOG_WINDOW_MS);
}

int rill_peer_log_allow_every(rill_peer_log_t *self, const char *peer, uint64_t now_ms, uint64_t interval_ms)
{
    uint64_t *last = zhashx_lookup(self->last, peer);
    if (last != NULL) {
        if (now_ms - *last < interval_ms)
            return 0;
        *last = now_ms;
        return 1;
    }
    last = rill_xmalloc(sizeof(*last));
    *last = now_ms;
    zhashx_update(self->last, peer, last);
    return 1;
}

void rill_peer_log_prune(rill_peer_log_t *self, uint64_t now_ms)
{
    zlistx_t *keys = zhashx_keys(self->last);
    for (const char *peer = zlistx_first(keys); peer != NULL; peer = zlistx_next(keys)) {
        uint64_t *last = zhashx_lookup(self->last, peer);
        if (last != NULL && now_ms - *last >= RILL_PEER_LOG_WINDOW_MS)
            zhashx_delete(self->last, peer);
    }
    zlistx_destroy(&keys);
}

size_t rill_peer_log_size(rill_peer_log_t *self)
{
    return zhashx_size(self->last);
}
