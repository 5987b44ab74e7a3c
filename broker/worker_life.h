/*
 * worker_life.h - a worker joins (HELLO), joins again (HELLO of a session
 * the broker knows: after a pause, or a reconnect on a new routing id, with
 * the jobs it still runs), grants credit, drains (BYE), and is declared
 * gone: silent for three heartbeats, unreachable, or starting a new
 * session. Its running jobs are then retried elsewhere (job_life.h).
 * worker_pool.h keeps the records; this file decides what happens to them.
 */
#ifndef RILL_BROKER_WORKER_LIFE_H
#define RILL_BROKER_WORKER_LIFE_H

#include "broker.h"

/* Any message from routing: the worker it comes from (its last_seen_ms
 * stamped), or NULL when none is known by that routing id. */
rill_worker_t *rill_broker_worker_heard(rill_broker_t *self, const rill_frame_t *routing);
/* A message other than HELLO from a routing id no worker has (the broker
 * restarted, or declared it dead): REJOIN, at most once per heartbeat per
 * routing id however many messages it had queued. */
void rill_broker_worker_unknown(rill_broker_t *self, const rill_frame_t *routing, rill_command_t command);
/* HELLO from routing. A session the broker knows is the same worker,
 * idempotently (on a new routing id it reconnected: its record moves
 * there); a known routing id with another session started over (its jobs
 * are retried). Each job it reports is adopted or cancelled
 * (rill_broker_adopt_job); its free credit is its credit less the jobs it
 * holds; WELCOME tells it all. */
void rill_broker_worker_hello(rill_broker_t *self, const rill_frame_t *routing, const rill_hello_t *hello);
/* CREDIT: the worker can take credit more jobs. What it announces in all
 * (HELLO, then CREDIT) is believed up to the config's max_worker_credit;
 * past it the credit is capped, and logged. */
void rill_broker_worker_credit(rill_broker_t *self, rill_worker_t *worker, uint64_t credit);
/* BYE: it takes no more batches and leaves once its jobs ended. */
void rill_broker_worker_bye(rill_broker_t *self, rill_worker_t *worker);
/* A worker is gone: its jobs are retried (the loss counted against their
 * retries when counted), it is forgotten. */
void rill_broker_worker_gone(rill_broker_t *self, rill_worker_t *worker, const char *why, int counted);
/* Declares unreachable workers gone (a send to them failed). */
void rill_broker_reap(rill_broker_t *self);
/* PING to every reachable worker (on each heartbeat). */
void rill_broker_ping_workers(rill_broker_t *self);
/* Declares gone every worker silent for three heartbeats; when none at all
 * was heard within that window, their jobs' losses do not count. */
void rill_broker_bury_silent_workers(rill_broker_t *self, uint64_t now_ms);
/* The broker's own loop did not run for stalled_ms (SIGSTOP, swapping): it
 * could not hear anyone, so every worker's silence restarts from its last
 * message plus that pause. */
void rill_broker_forgive_stall(rill_broker_t *self, uint64_t now_ms, uint64_t stalled_ms);

#endif
