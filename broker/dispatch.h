/*
 * dispatch.h - handing ready jobs to workers while credit allows.
 *
 * Due debounced jobs go to their groups, each pipeline group whose window
 * closed sends one batch (pipeline.h), then the ready queue goes FIFO, a
 * batch of one per job. The worker for a batch is worker_pool.h's choice;
 * the BATCH goes out through the outbox and each job starts (job_life.h).
 * A pipeline's batch goes at once; the ready queue's batches of one job go
 * at the end of the pass, those for one worker in ONE BATCH message of a
 * frame each (rill/7), and start once it went.
 */
#ifndef RILL_BROKER_DISPATCH_H
#define RILL_BROKER_DISPATCH_H

#include "broker.h"

/* One dispatch pass; clears dispatch_needed. */
void rill_broker_dispatch(rill_broker_t *self);
/* Monotonic ms when a pipeline may next have something to dispatch
 * (debounce or buffer window), UINT64_MAX if nothing waits on time. */
uint64_t rill_broker_next_due(rill_broker_t *self);

#endif
