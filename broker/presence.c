/*
 * presence.c - per-frontend reports of subjects followed by several local
 * streams. See presence.h. One czmq zhashx of frontends (by routing id in
 * hex), each holding a zhashx of subject -> count; expired frontends are
 * dropped lazily, on the next report or question.
 */
#include "presence.h"
#include "rill_alloc.h"

#include <czmq.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define ROUTING_MAX 255
#define SUBJECT_MAX 256

typedef struct {
    uint64_t expires_ms; /* monotonic */
    zhashx_t *counts;    /* subject -> uint64_t* */
} frontend_t;

struct rill_presence {
    zhashx_t *frontends; /* routing id in hex -> frontend_t */
};

static void free_count(void **item)
{
    free(*item);
    *item = NULL;
}

static void free_frontend(void **item)
{
    if (item == NULL || *item == NULL)
        return;
    frontend_t *frontend = *item;
    zhashx_destroy(&frontend->counts);
    free(frontend);
    *item = NULL;
}

rill_presence_t *rill_presence_new(void)
{
    rill_presence_t *self = rill_xcalloc(1, sizeof(*self));
    self->frontends = zhashx_new(); /* czmq aborts on ENOMEM (rill_alloc.h) */
    zhashx_set_destructor(self->frontends, free_frontend);
    return self;
}

void rill_presence_destroy(rill_presence_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_presence_t *self = *self_p;
    zhashx_destroy(&self->frontends);
    free(self);
    *self_p = NULL;
}

static void expire(rill_presence_t *self, uint64_t now_ms)
{
    zlistx_t *keys = zhashx_keys(self->frontends);
    for (const char *key = zlistx_first(keys); key != NULL; key = zlistx_next(keys)) {
        frontend_t *frontend = zhashx_lookup(self->frontends, key);
        if (frontend != NULL && frontend->expires_ms <= now_ms)
            zhashx_delete(self->frontends, key);
    }
    zlistx_destroy(&keys);
}

static int subject_is_valid(const char *subject)
{
    size_t length = strlen(subject);
    return length >= 2 && length <= SUBJECT_MAX && (subject[0] == 'j' || subject[0] == 't');
}

int rill_presence_report(rill_presence_t *self, const uint8_t *routing, size_t routing_size,
                         const char *json, size_t length, uint64_t now_ms)
{
    if (routing_size == 0 || routing_size > ROUTING_MAX)
        return -1;
    json_t *root = json_loadb(json, length, 0, NULL);
    json_t *interval = json_object_get(root, "interval_ms");
    json_t *subjects = json_object_get(root, "subjects");
    if (!json_is_integer(interval) || !json_is_object(subjects)) {
        json_decref(root);
        return -1;
    }
    json_int_t interval_ms = json_integer_value(interval);
    if (interval_ms < RILL_PRESENCE_INTERVAL_MIN_MS)
        interval_ms = RILL_PRESENCE_INTERVAL_MIN_MS;
    if (interval_ms > RILL_PRESENCE_INTERVAL_MAX_MS)
        interval_ms = RILL_PRESENCE_INTERVAL_MAX_MS;
    char key[2 * ROUTING_MAX + 1];
    for (size_t i = 0; i < routing_size; i++)
        snprintf(key + 2 * i, 3, "%02x", routing[i]);
    frontend_t *frontend = rill_xcalloc(1, sizeof(*frontend));
    frontend->expires_ms = now_ms + 3 * (uint64_t)interval_ms;
    frontend->counts = zhashx_new();
    zhashx_set_destructor(frontend->counts, free_count);
    const char *subject;
    json_t *value;
    json_object_foreach(subjects, subject, value)
    {
        if (!json_is_integer(value) || json_integer_value(value) < 2 || !subject_is_valid(subject))
            continue;
        uint64_t *count = rill_xmalloc(sizeof(*count));
        *count = (uint64_t)json_integer_value(value);
        zhashx_update(frontend->counts, subject, count);
    }
    json_decref(root);
    expire(self, now_ms);
    if (zhashx_size(frontend->counts) == 0) {
        /* Nothing followed twice: the frontend needs no entry. */
        zhashx_delete(self->frontends, key);
        free_frontend((void **)&frontend);
        return 0;
    }
    zhashx_update(self->frontends, key, frontend);
    return 0;
}

uint64_t rill_presence_extra(rill_presence_t *self, const char *subject, uint64_t now_ms)
{
    uint64_t extra = 0;
    for (frontend_t *frontend = zhashx_first(self->frontends); frontend != NULL;
         frontend = zhashx_next(self->frontends)) {
        if (frontend->expires_ms <= now_ms)
            continue;
        const uint64_t *count = zhashx_lookup(frontend->counts, subject);
        if (count != NULL)
            extra += *count - 1;
    }
    return extra;
}

size_t rill_presence_frontends(rill_presence_t *self, uint64_t now_ms)
{
    size_t live = 0;
    for (frontend_t *frontend = zhashx_first(self->frontends); frontend != NULL;
         frontend = zhashx_next(self->frontends))
        live += frontend->expires_ms > now_ms;
    return live;
}
