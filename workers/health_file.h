/*
 * health_file.h - the worker's health file, and `rill-worker --check`.
 *
 * A worker has no port an orchestrator could ask, and a probe that asked
 * the broker would fail every worker during a broker outage. So the
 * worker itself says how it is: at each heartbeat (and when it joins) its
 * loop rewrites one small file (write to a temporary, rename: a reader
 * never sees half of one) with its pid, name, whether it is joined to a
 * broker, its heartbeat interval and the time, on CLOCK_MONOTONIC (one
 * clock for every process of a host, containers included; a wall clock
 * that steps would make a fresh file look stale). `--check` reads it:
 *
 *   alive   the file was rewritten within 3 heartbeats + 1 s: the loop
 *           runs (a worker killed, stopped or stuck stops rewriting it;
 *           one that exits cleanly removes it);
 *   joined  ... and it is joined to a broker (--check; --check-alive asks
 *           only for the first: a liveness probe must not restart workers
 *           during a broker outage - they hold their jobs' parts for it).
 *
 * The file: --health-file PATH (RILL_WORKER_HEALTH_FILE), else
 * RUN/health/NAME.json. One file per process: its state is the process's,
 * as the log's is (rill_log.h).
 */
#ifndef RILL_WORKER_HEALTH_FILE_H
#define RILL_WORKER_HEALTH_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The default path for a worker name in run_dir ('/' in the name becomes
 * '_'). 0, or -1 when out is too small. */
int rill_worker_health_default_path(const char *run_dir, const char *name, char *out, size_t out_size);

/* From now on this process keeps the file at path, for the worker name
 * (creates a missing parent directory, mode 0700). 0, or -1 (logged). */
int rill_worker_health_open(const char *path, const char *name);
/* Rewrites the file (nothing before open). A failure is logged once until
 * a write works again. */
void rill_worker_health_write(int joined, const char *broker, uint64_t heartbeat_ms);
/* Removes the file (a clean exit). */
void rill_worker_health_close(void);

/* --check: reads the file at path; need_joined asks for a joined worker.
 * One line: to out when healthy, else the reason to err. Returns the exit
 * status: 0 healthy, 1 not. */
int rill_worker_health_check(const char *path, int need_joined, FILE *out, FILE *err);

#endif
