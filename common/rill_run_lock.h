/*
 * rill_run_lock.h - one broker per run directory.
 *
 * The ipc sockets of a run directory can be bound again by a second broker
 * (ZeroMQ unlinks and re-binds the socket file), which silently steals them
 * from the first: its workers and frontends would then talk to whichever
 * broker bound last. So a broker holds an exclusive flock(2) on
 * DIR/broker.lock for its whole life, with its pid written inside; a second
 * one fails at once and names the holder. The kernel drops the lock when
 * the holder dies, however it dies, so a stale file never blocks a restart.
 * `./rill up` checks the same lock before it starts anything.
 */
#ifndef RILL_RUN_LOCK_H
#define RILL_RUN_LOCK_H

#include <stddef.h>

#define RILL_RUN_LOCK_NAME "broker.lock"

/* Takes the lock of run_dir (the directory must exist). Returns an open fd
 * to keep for the process's life, or -1 with a reason in error ("... is in
 * use by rill-broker pid N" when another process holds it). */
int rill_run_lock_acquire(const char *run_dir, char *error, size_t error_size);
/* Releases and closes; *fd becomes -1. A negative *fd is fine. */
void rill_run_lock_release(int *fd);

#endif
