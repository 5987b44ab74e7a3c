/*
 * peer_log.c - per-peer log rate limit. See peer_log.h.
 */
#include "peer_log.h"

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
    rill_peer_log_t *self = calloc(1, sizeof(*self));
    if (self == NULL)
        return NULL;
    self->last = zhashx_new();
    if (self->last == NULL) {
        free(self);
        return NULL;
    }
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
    uint64_t *last = zhashx_lookup(self->last, peer);
    if (last != NULL) {
        if (now_ms - *last < RILL_PEER_LOG_WINDOW_MS)
            return 0;
        *last = now_ms;
        return 1;
    }
    last = malloc(sizeof(*last));
    if (last == NULL)
        return 1; /* log anyway: better a line too many than none */
    *last = now_ms;
    if (zhashx_insert(self->last, peer, last) != 0)
        free(last);
    return 1;
}

void rill_peer_log_prune(rill_peer_log_t *self, uint64_t now_ms)
{
    zlistx_t *keys = zhashx_keys(self->last);
    if (keys == NULL)
        return;
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
