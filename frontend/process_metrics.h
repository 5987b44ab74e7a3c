/*
 * process_metrics.h - the process_* and rill_build_info families of
 * /metrics, for the frontend itself, its broker and the broker's workers
 * (docs/METRICS.md "Processes").
 *
 * Each family may appear once in a scrape, so they are written here, by
 * the frontend, with a sample per process: its own stats read now, the
 * broker's and the workers' from the JSON frame of the broker's METRICS
 * reply (rill/5, docs/PROTOCOL.md).
 */
#ifndef RILL_FRONTEND_PROCESS_METRICS_H
#define RILL_FRONTEND_PROCESS_METRICS_H

#include "rill_buffer.h"

#include <stddef.h>

/* processes: the reply's JSON ({"broker":{…},"workers":[{"name","stats"}…]})
 * or NULL (no broker answer: the frontend's samples only). A JSON that is
 * not of that shape is ignored as far as it is wrong. */
void rill_process_metrics_render(rill_buffer_t *out, long pid, const char *processes, size_t processes_length);

#endif
