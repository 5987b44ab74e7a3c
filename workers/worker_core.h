/*
 * worker_core.h - the rill-worker process minus its flags: its parts put
 * together (worker_context.h) and run in one loop until drained.
 */
#ifndef RILL_WORKER_CORE_H
#define RILL_WORKER_CORE_H

#include "worker_context.h"

/* Runs until SIGTERM/SIGINT has drained the worker. Returns the exit status. */
int rill_worker_run(const rill_worker_options_t *options);

#endif
