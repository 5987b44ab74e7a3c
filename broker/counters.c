/*
 * counters.c - allocation of the counters struct and its per-kind table.
 * See counters.h for why all counting lives in one place.
 */
#include "counters.h"
#include "rill_alloc.h"

#include <stdlib.h>

/* Jobs per batch: 1 (no pipeline) up to buffer_max's range. */
static const uint64_t batch_size_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};

static void free_counters_item(void **item)
{
    free(*item);
    *item = NULL;
}

rill_counters_t *rill_counters_new(void)
{
    rill_counters_t *self = rill_xcalloc(1, sizeof(*self));
    self->kinds = zhashx_new(); /* czmq aborts on ENOMEM (rill_alloc.h) */
    zhashx_set_destructor(self->kinds, free_counters_item);
    self->pipelines = zhashx_new();
    zhashx_set_destructor(self->pipelines, free_counters_item);
    rill_histogram_init(&self->batch_sizes, batch_size_bounds,
                        sizeof(batch_size_bounds) / sizeof(batch_size_bounds[0]));
    return self;
}

void rill_counters_destroy(rill_counters_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_counters_t *self = *self_p;
    zhashx_destroy(&self->kinds);
    zhashx_destroy(&self->pipelines);
    free(self);
    *self_p = NULL;
}

rill_kind_counters_t *rill_counters_kind(rill_counters_t *self, const char *kind)
{
    rill_kind_counters_t *counters = zhashx_lookup(self->kinds, kind);
    if (counters != NULL)
        return counters;
    counters = rill_xcalloc(1, sizeof(*counters));
    zhashx_update(self->kinds, kind, counters);
    return counters;
}

rill_pipeline_counters_t *rill_counters_pipeline(rill_counters_t *self, const char *pipeline)
{
    rill_pipeline_counters_t *counters = zhashx_lookup(self->pipelines, pipeline);
    if (counters != NULL)
        return counters;
    counters = rill_xcalloc(1, sizeof(*counters));
    zhashx_update(self->pipelines, pipeline, counters);
    return counters;
}
