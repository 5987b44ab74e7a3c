/*
 * worker_pool.c - worker records, credit and the choice of worker for a
 * batch. See worker_pool.h.
 */
#include "worker_pool.h"
#include "rill_alloc.h"
#include "rill_clock.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rill_worker_pool {
    zhashx_t *by_key;     /* hex routing id -> worker (not owning) */
    zhashx_t *by_session; /* session -> worker (not owning) */
    rill_link_t workers;  /* owning, in join order */
    uint64_t batch_serial;
    uint64_t join_serial; /* the last worker's serial */
};

static void routing_key(const uint8_t *routing_id, size_t size, char *key)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < size; i++) {
        key[2 * i] = digits[routing_id[i] >> 4];
        key[2 * i + 1] = digits[routing_id[i] & 15];
    }
    key[2 * size] = '\0';
}

static void worker_free(rill_worker_t *worker)
{
    /* Jobs still linked (only at shutdown) are unlinked, not freed. */
    while (!rill_list_is_empty(&worker->jobs))
        rill_list_remove(worker->jobs.next);
    free(worker->name);
    free(worker->host);
    free(worker);
}

rill_worker_pool_t *rill_worker_pool_new(void)
{
    rill_worker_pool_t *self = rill_xcalloc(1, sizeof(*self));
    self->by_key = zhashx_new(); /* czmq aborts on ENOMEM (rill_alloc.h) */
    self->by_session = zhashx_new();
    rill_list_init(&self->workers);
    return self;
}

void rill_worker_pool_destroy(rill_worker_pool_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_worker_pool_t *self = *self_p;
    while (!rill_list_is_empty(&self->workers)) {
        rill_worker_t *worker = rill_container_of(self->workers.next, rill_worker_t, pool_link);
        rill_list_remove(&worker->pool_link);
        worker_free(worker);
    }
    zhashx_destroy(&self->by_key);
    zhashx_destroy(&self->by_session);
    free(self);
    *self_p = NULL;
}

rill_worker_t *rill_worker_pool_add(rill_worker_pool_t *self, const uint8_t *routing_id,
                                    size_t routing_id_size, const rill_worker_spec_t *spec,
                                    uint64_t now_ms)
{
    if (routing_id_size == 0 || routing_id_size > RILL_ROUTING_ID_MAX ||
        spec->kind_count > RILL_CONFIG_MAX_KINDS)
        return NULL;
    rill_worker_t *worker = rill_xcalloc(1, sizeof(*worker));
    rill_list_init(&worker->jobs);
    memcpy(worker->routing_id, routing_id, routing_id_size);
    worker->routing_id_size = routing_id_size;
    routing_key(routing_id, routing_id_size, worker->key);
    if (zhashx_lookup(self->by_key, worker->key) != NULL ||
        (spec->session != NULL && zhashx_lookup(self->by_session, spec->session) != NULL) ||
        rill_worker_pool_update(worker, spec) != 0) {
        worker_free(worker);
        return NULL;
    }
    worker->last_seen_ms = now_ms;
    worker->serial = ++self->join_serial;
    worker->joined_wall_ms = rill_clock_wall_ms();
    zhashx_update(self->by_key, worker->key, worker);
    if (worker->session[0] != '\0')
        zhashx_update(self->by_session, worker->session, worker);
    rill_list_push_back(&self->workers, &worker->pool_link);
    return worker;
}

rill_worker_t *rill_worker_pool_find(rill_worker_pool_t *self, const uint8_t *routing_id,
                                     size_t routing_id_size)
{
    char key[2 * RILL_ROUTING_ID_MAX + 1];
    if (routing_id_size == 0 || routing_id_size > RILL_ROUTING_ID_MAX)
        return NULL;
    routing_key(routing_id, routing_id_size, key);
    return zhashx_lookup(self->by_key, key);
}

rill_worker_t *rill_worker_pool_find_session(rill_worker_pool_t *self, const char *session)
{
    return session != NULL && session[0] != '\0' ? zhashx_lookup(self->by_session, session) : NULL;
}

int rill_worker_pool_rekey(rill_worker_pool_t *self, rill_worker_t *worker, const uint8_t *routing_id,
                           size_t routing_id_size)
{
    char key[2 * RILL_ROUTING_ID_MAX + 1];
    if (routing_id_size == 0 || routing_id_size > RILL_ROUTING_ID_MAX)
        return -1;
    routing_key(routing_id, routing_id_size, key);
    rill_worker_t *holder = zhashx_lookup(self->by_key, key);
    if (holder == worker)
        return 0;
    if (holder != NULL)
        return -1;
    zhashx_delete(self->by_key, worker->key);
    memcpy(worker->routing_id, routing_id, routing_id_size);
    worker->routing_id_size = routing_id_size;
    memcpy(worker->key, key, sizeof(key));
    zhashx_update(self->by_key, worker->key, worker);
    return 0;
}

int rill_worker_pool_update(rill_worker_t *worker, const rill_worker_spec_t *spec)
{
    if (spec->kind_count > RILL_CONFIG_MAX_KINDS)
        return -1;
    for (size_t i = 0; i < spec->kind_count; i++) {
        if (spec->kinds[i] == NULL || strlen(spec->kinds[i]) >= RILL_CONFIG_KIND_NAME_MAX)
            return -1;
    }
    worker->kind_count = 0;
    for (size_t i = 0; i < spec->kind_count; i++)
        strcpy(worker->kinds[worker->kind_count++], spec->kinds[i]);
    free(worker->name);
    free(worker->host);
    worker->name = rill_xstrdup(spec->name != NULL ? spec->name : "");
    worker->host = rill_xstrdup(spec->host != NULL ? spec->host : "");
    worker->pid = spec->pid;
    if (spec->session != NULL && worker->session[0] == '\0')
        snprintf(worker->session, sizeof(worker->session), "%s", spec->session);
    worker->capacity = spec->credit > RILL_WORKER_CREDIT_MAX ? RILL_WORKER_CREDIT_MAX : spec->credit;
    rill_worker_recount_credit(worker);
    return 0;
}

void rill_worker_recount_credit(rill_worker_t *worker)
{
    worker->credit = worker->capacity > worker->held ? worker->capacity - worker->held : 0;
}

void rill_worker_pool_remove(rill_worker_pool_t *self, rill_worker_t **worker_p)
{
    if (worker_p == NULL || *worker_p == NULL)
        return;
    rill_worker_t *worker = *worker_p;
    zhashx_delete(self->by_key, worker->key);
    if (worker->session[0] != '\0' && zhashx_lookup(self->by_session, worker->session) == worker)
        zhashx_delete(self->by_session, worker->session);
    rill_list_remove(&worker->pool_link);
    worker_free(worker);
    *worker_p = NULL;
}

size_t rill_worker_pool_size(rill_worker_pool_t *self)
{
    return zhashx_size(self->by_key);
}

int rill_worker_serves(const rill_worker_t *worker, const char *kind)
{
    for (size_t i = 0; i < worker->kind_count; i++) {
        if (strcmp(worker->kinds[i], kind) == 0)
            return 1;
    }
    return 0;
}

int rill_worker_is_available(const rill_worker_t *worker)
{
    return !worker->draining && !worker->unreachable;
}

rill_worker_t *rill_worker_pool_first(rill_worker_pool_t *self)
{
    if (rill_list_is_empty(&self->workers))
        return NULL;
    return rill_container_of(self->workers.next, rill_worker_t, pool_link);
}

rill_worker_t *rill_worker_pool_next(rill_worker_pool_t *self, rill_worker_t *worker)
{
    if (worker->pool_link.next == &self->workers)
        return NULL;
    return rill_container_of(worker->pool_link.next, rill_worker_t, pool_link);
}

size_t rill_worker_pool_serving(rill_worker_pool_t *self, const char *kind)
{
    size_t count = 0;
    for (rill_worker_t *w = rill_worker_pool_first(self); w != NULL; w = rill_worker_pool_next(self, w)) {
        if (rill_worker_is_available(w) && rill_worker_serves(w, kind))
            count++;
    }
    return count;
}

uint64_t rill_worker_pool_free_credit(rill_worker_pool_t *self)
{
    uint64_t credit = 0;
    for (rill_worker_t *w = rill_worker_pool_first(self); w != NULL; w = rill_worker_pool_next(self, w)) {
        if (rill_worker_is_available(w))
            credit += w->credit;
    }
    return credit;
}

rill_worker_t *rill_worker_pool_choose(rill_worker_pool_t *self, const char *kind)
{
    rill_worker_t *best = NULL;
    for (rill_worker_t *w = rill_worker_pool_first(self); w != NULL; w = rill_worker_pool_next(self, w)) {
        if (!rill_worker_is_available(w) || w->credit == 0 || !rill_worker_serves(w, kind))
            continue;
        if (best == NULL || w->credit > best->credit ||
            (w->credit == best->credit && w->last_batch < best->last_batch))
            best = w;
    }
    return best;
}

rill_worker_t *rill_worker_pool_choose_near(rill_worker_pool_t *self, const char *kind, rill_worker_t *preferred)
{
    rill_worker_t *best = rill_worker_pool_choose(self, kind);
    if (best == NULL || preferred == NULL || preferred == best)
        return best;
    if (rill_worker_is_available(preferred) && preferred->credit > 0 && rill_worker_serves(preferred, kind) &&
        preferred->credit + preferred->capacity / 16 >= best->credit)
        return preferred;
    return best;
}

void rill_worker_pool_note_batch(rill_worker_pool_t *self, rill_worker_t *worker, size_t jobs)
{
    worker->credit = worker->credit > jobs ? worker->credit - jobs : 0;
    worker->held += jobs;
    worker->batches++;
    worker->last_batch = ++self->batch_serial;
}

void rill_worker_pool_forget_batch(rill_worker_pool_t *self, rill_worker_t *worker, size_t jobs)
{
    (void)self;
    worker->credit += jobs;
    worker->held = worker->held > jobs ? worker->held - jobs : 0;
    worker->batches = worker->batches > 0 ? worker->batches - 1 : 0;
}

void rill_worker_grant_credit(rill_worker_t *worker, uint64_t credit)
{
    worker->capacity += credit;
    if (worker->capacity > RILL_WORKER_CREDIT_MAX)
        worker->capacity = RILL_WORKER_CREDIT_MAX;
    rill_worker_add_credit(worker, credit);
}

void rill_worker_add_credit(rill_worker_t *worker, uint64_t credit)
{
    worker->credit += credit;
    if (worker->credit > RILL_WORKER_CREDIT_MAX)
        worker->credit = RILL_WORKER_CREDIT_MAX;
}
