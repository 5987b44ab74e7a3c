/*
 * rill_worker_kind.h - the interface a job kind implements inside rill-worker.
 *
 * A new kind is one C file in workers/ that fills a rill_worker_kind_t and is
 * listed in workers/kinds.c. The worker core owns jobs, sockets and credit;
 * the kind only starts work, emits parts, and ends each job exactly once.
 *
 * Ownership: the core allocates every rill_worker_job_t and frees it after
 * the kind ended it (rill_worker_job_done / _fail) or after cancel() returned.
 * After either, the kind must not touch the job again.
 *
 * Everything runs on the worker's one thread, in its one loop (zmq_poll):
 * a kind never blocks and never starts a thread. What a kind waits on is
 * registered here: timers, file descriptors (rill_worker_fd_watch) and child
 * processes (rill_worker_child_watch). cancel() must release all of it at
 * once: unwatch its fds, stop its timers, terminate its children.
 */
#ifndef RILL_WORKER_KIND_H
#define RILL_WORKER_KIND_H

#include "rill_config.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct rill_worker_job rill_worker_job_t;

typedef struct {
    const char *name;
    /* Starts a batch of jobs of this kind (a pipeline may group several into
     * one batch). Returns 0; on -1 the core fails every job of the batch the
     * kind has not ended itself (a kind may end some jobs, then give up). */
    int (*start)(rill_worker_job_t **jobs, size_t count);
    /* Stops one job at once and releases what the kind holds for it. */
    void (*cancel)(rill_worker_job_t *job);
    /* Optional (may be NULL): called once when the worker stops, after every
     * job was cancelled, to release what the kind shares between jobs. */
    void (*shutdown)(void);
} rill_worker_kind_t;

/* The worker's configuration as it is now (a SIGHUP may replace it between
 * two loop turns: copy what a job needs at start, keep no pointer into it),
 * and its run directory (where a relative tail_root lives). */
const rill_config_t *rill_worker_config(void);
const char *rill_worker_run_dir(void);

const char *rill_worker_job_id(const rill_worker_job_t *job);
const char *rill_worker_job_who(const rill_worker_job_t *job);
json_t *rill_worker_job_args(const rill_worker_job_t *job); /* borrowed; may be NULL */
void *rill_worker_job_state(const rill_worker_job_t *job);
void rill_worker_job_set_state(rill_worker_job_t *job, void *state);

/* Publishes one part: data is a JSON text. Returns 0 or -1 (the part could not
 * be queued; the job should fail). */
int rill_worker_publish_part(rill_worker_job_t *job, const char *data, size_t length);
void rill_worker_job_done(rill_worker_job_t *job);
void rill_worker_job_fail(rill_worker_job_t *job, const char *code, const char *message);

/* One-shot timer on the worker's loop. The caller owns the storage (embed it
 * in the job's state): starting and stopping allocate nothing. Zero it before
 * first use. Starting an active timer re-arms it. */
typedef void (*rill_worker_timer_callback_t)(void *argument);
typedef struct {
    uint64_t due_ns;
    size_t heap_index; /* 0 = not armed; else position + 1 in the loop's heap */
    rill_worker_timer_callback_t callback;
    void *argument;
} rill_worker_timer_t;

int rill_worker_timer_start(rill_worker_timer_t *timer, uint64_t delay_ms,
                            rill_worker_timer_callback_t callback, void *argument);
void rill_worker_timer_stop(rill_worker_timer_t *timer);

/* File descriptors on the worker's loop. events and revents are
 * RILL_WORKER_FD_IN / _OUT (and _ERR in revents); they equal ZMQ_POLLIN,
 * ZMQ_POLLOUT and ZMQ_POLLERR. Watching an fd already watched
 * replaces its events, callback and argument. Unwatch before closing the fd.
 * A callback may watch and unwatch any fd, end jobs, and start timers; after
 * an fd was unwatched its callback is not called again, even for events the
 * same loop turn already saw. Returns 0, or -1 (ENOMEM). */
#define RILL_WORKER_FD_IN 1
#define RILL_WORKER_FD_OUT 2
#define RILL_WORKER_FD_ERR 4
typedef void (*rill_worker_fd_callback_t)(void *argument, int fd, short revents);
int rill_worker_fd_watch(int fd, short events, rill_worker_fd_callback_t callback, void *argument);
void rill_worker_fd_unwatch(int fd);

/* Child processes. The core reaps children through its signalfd (SIGCHLD):
 * a watched child's callback gets its wait status once it exited. A kind
 * that spawns must give the child an empty signal mask and default signal
 * dispositions (the worker blocks SIGCHLD, SIGTERM, SIGINT, SIGHUP).
 * rill_worker_child_terminate() is for cancel: it drops the watch, sends
 * SIGTERM to the child's process group, SIGKILL one second later if it is
 * still there, and reaps it; the kind forgets the pid at once. */
typedef void (*rill_worker_child_callback_t)(void *argument, pid_t pid, int wait_status);
int rill_worker_child_watch(pid_t pid, rill_worker_child_callback_t callback, void *argument);
void rill_worker_child_terminate(pid_t pid);

#endif
