/*
 * worker_core.h - the rill-worker process minus its flags: the link to the
 * broker (HELLO, credit, heartbeats, BATCH/CANCEL), the jobs it holds, the
 * loop with its timers and signals, and the plug-in API of rill_worker_kind.h.
 */
#ifndef RILL_WORKER_CORE_H
#define RILL_WORKER_CORE_H

#include "rill_config.h"
#include "rill_endpoints.h"

#include <stdint.h>

typedef struct {
    rill_config_t config;
    rill_endpoints_t endpoints;
    char name[128];
    uint64_t credit;      /* jobs held at most */
    uint64_t drain_ms;    /* on SIGTERM: time to finish held jobs before handing them back */
    const char *kinds;    /* comma-separated subset of built-in kinds, or NULL for all */
    const char *config_path; /* re-read on SIGHUP; NULL = built-in defaults */
} rill_worker_options_t;

/* Runs until SIGTERM/SIGINT has drained the worker. Returns the exit status. */
int rill_worker_run(const rill_worker_options_t *options);

#endif
