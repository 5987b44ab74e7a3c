/*
 * worker_metrics.h - the broker's per-worker series and the processes'
 * stats it hands the frontend with its METRICS reply (docs/METRICS.md,
 * "Workers" and "Processes").
 *
 * A worker is labelled by its name (docs/PROTOCOL.md HELLO), which is
 * unique unless an operator gave two workers the same --name: the second
 * of a name then shows as "name~2", and so on, so no series appears twice
 * in a scrape. At most RILL_WORKER_METRICS_MAX workers are labelled (the
 * first to join); rill_workers_unlabelled counts the rest, so the label
 * set stays bounded however many workers come.
 */
#ifndef RILL_BROKER_WORKER_METRICS_H
#define RILL_BROKER_WORKER_METRICS_H

#include "rill_buffer.h"
#include "worker_pool.h"

#define RILL_WORKER_METRICS_MAX 256

/* rill_worker_jobs, rill_worker_credit, rill_worker_capacity,
 * rill_worker_parts_total, rill_worker_batches_total (each {worker}) and
 * rill_workers_unlabelled, all labelled process="broker". */
void rill_worker_metrics_render(rill_worker_pool_t *pool, rill_buffer_t *out);

/* {"broker":{its stats},"workers":[{"name":"<label>","stats":{…}},…]}:
 * this process's stats now and each labelled worker's from its last PING
 * (rill_process_stats.h). */
void rill_worker_metrics_processes_json(rill_worker_pool_t *pool, rill_buffer_t *out);

#endif
