/*
 * worker_life.h - a worker joins (HELLO), grants credit, drains (BYE), and
 * is declared gone: silent for three heartbeats, unreachable, or saying
 * HELLO again. Its running jobs are then retried elsewhere (job_life.h).
 * worker_pool.h keeps the records; this file decides what happens to them.
 */
#ifndef RILL_BROKER_WORKER_LIFE_H
#define RILL_BROKER_WORKER_LIFE_H

#include "broker.h"

/* Any message from routing: the worker it comes from (its last_seen_ms
 * stamped), or NULL when none is known by that routing id. */
rill_worker_t *rill_broker_worker_heard(rill_broker_t *self, const rill_frame_t *routing);
/* HELLO from routing with its decoded fields. known: the worker that
 * connection was (it lost its session: its jobs are stopped and retried),
 * or NULL. Registers the worker and sends WELCOME. */
void rill_broker_worker_hello(rill_broker_t *self, rill_worker_t *known, const rill_frame_t *routing,
                              const rill_worker_spec_t *spec);
/* CREDIT: the worker can take credit more jobs. */
void rill_broker_worker_credit(rill_broker_t *self, rill_worker_t *worker, uint64_t credit);
/* BYE: it takes no more batches and leaves once its jobs ended. */
void rill_broker_worker_bye(rill_broker_t *self, rill_worker_t *worker);
/* A worker is gone: its jobs are retried, it is forgotten. */
void rill_broker_worker_gone(rill_broker_t *self, rill_worker_t *worker, const char *why);
/* Declares unreachable workers gone (a send to them failed). */
void rill_broker_reap(rill_broker_t *self);
/* PING to every reachable worker (on each heartbeat). */
void rill_broker_ping_workers(rill_broker_t *self);
/* Declares gone every worker silent for three heartbeats. */
void rill_broker_bury_silent_workers(rill_broker_t *self, uint64_t now_ms);

#endif
