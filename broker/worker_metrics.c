/*
 * worker_metrics.c - see worker_metrics.h. Walks the pool at scrape time
 * only; the delivery path just bumps worker->parts and worker->batches.
 */
#include "worker_metrics.h"

#include "rill_metrics.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABELS "process=\"broker\""

/* The label of worker, the index-th of the pool: its name, or "name~N"
 * for the N-th worker of that name (pool order). */
static void label_of(rill_worker_pool_t *pool, const rill_worker_t *worker, char *out, size_t size)
{
    const char *name = worker->name != NULL ? worker->name : "";
    unsigned same = 1;
    for (rill_worker_t *other = rill_worker_pool_first(pool); other != NULL && other != worker;
         other = rill_worker_pool_next(pool, other))
        if (other->name != NULL && strcmp(other->name, name) == 0)
            same++;
    if (same == 1)
        snprintf(out, size, "%s", name);
    else
        snprintf(out, size, "%s~%u", name, same);
}

typedef enum { FIELD_JOBS, FIELD_CREDIT, FIELD_CAPACITY, FIELD_PARTS, FIELD_BATCHES } field_t;

static const struct {
    const char *name, *type, *help;
    field_t field;
} families[] = {
    {"rill_worker_jobs", "gauge", "Jobs a worker runs for the broker now.", FIELD_JOBS},
    {"rill_worker_credit", "gauge", "Jobs the broker may still send a worker (its free credit).", FIELD_CREDIT},
    {"rill_worker_capacity", "gauge", "The credit a worker granted in all.", FIELD_CAPACITY},
    {"rill_worker_parts_total", "counter", "Parts the broker accepted from a worker since it joined.", FIELD_PARTS},
    {"rill_worker_batches_total", "counter", "Batches the broker sent a worker since it joined.", FIELD_BATCHES},
};

static uint64_t value_of(const rill_worker_t *worker, field_t field)
{
    switch (field) {
    case FIELD_JOBS:
        return worker->held;
    case FIELD_CREDIT:
        return worker->credit;
    case FIELD_CAPACITY:
        return worker->capacity;
    case FIELD_PARTS:
        return worker->parts;
    case FIELD_BATCHES:
        return worker->batches;
    }
    return 0;
}

void rill_worker_metrics_render(rill_worker_pool_t *pool, rill_buffer_t *out)
{
    char label[512];
    for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
        rill_metrics_family(out, families[f].name, families[f].type, families[f].help);
        size_t shown = 0;
        for (rill_worker_t *worker = rill_worker_pool_first(pool);
             worker != NULL && shown < RILL_WORKER_METRICS_MAX; worker = rill_worker_pool_next(pool, worker), shown++) {
            label_of(pool, worker, label, sizeof(label));
            rill_metrics_sample(out, families[f].name, LABELS, "worker", label, value_of(worker, families[f].field));
        }
    }
    size_t size = rill_worker_pool_size(pool);
    rill_metrics_family(out, "rill_workers_unlabelled", "gauge",
                        "Workers beyond the first 256, left out of the per-worker series.");
    rill_metrics_sample(out, "rill_workers_unlabelled", LABELS, NULL, NULL,
                        size > RILL_WORKER_METRICS_MAX ? size - RILL_WORKER_METRICS_MAX : 0);
}

void rill_worker_metrics_processes_json(rill_worker_pool_t *pool, rill_buffer_t *out)
{
    rill_process_stats_t own;
    char stats[512];
    (void)rill_process_stats_read(&own);
    if (rill_process_stats_to_json(&own, stats, sizeof(stats)) != 0)
        snprintf(stats, sizeof(stats), "{}");
    rill_buffer_printf(out, "{\"broker\":%s,\"workers\":[", stats);
    char label[512];
    size_t shown = 0, written = 0;
    for (rill_worker_t *worker = rill_worker_pool_first(pool); worker != NULL && shown < RILL_WORKER_METRICS_MAX;
         worker = rill_worker_pool_next(pool, worker), shown++) {
        if (!worker->has_process || rill_process_stats_to_json(&worker->process, stats, sizeof(stats)) != 0)
            continue;
        label_of(pool, worker, label, sizeof(label));
        json_t *name = json_string(label); /* NULL for a name that is not UTF-8 */
        char *quoted = name != NULL ? json_dumps(name, JSON_ENCODE_ANY) : NULL;
        json_decref(name);
        if (quoted == NULL)
            continue;
        rill_buffer_printf(out, "%s{\"name\":%s,\"stats\":%s}", written++ > 0 ? "," : "", quoted, stats);
        free(quoted);
    }
    rill_buffer_append(out, "]}", 2);
}
