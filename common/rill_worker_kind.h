/*
 * rill_worker_kind.h - the interface a job kind implements inside rill-worker.
 *
 * A kind is one file, workers/kind_<name>.c, in two halves:
 *  - its arguments: their type, their parser and, from the parser, the
 *    check rill_kind_<name> (RILL_KIND_ARGUMENTS, rill_kind_args.h).
 *    librill compiles this half, so the frontend refuses bad args at
 *    submit without linking anything of the worker (no core, no libcurl);
 *  - under #ifdef RILL_WORKER, how a job runs: a rill_worker_kind_t
 *    rill_worker_kind_<name> (below). rill-worker compiles the whole file
 *    with -DRILL_WORKER; its running half parses args with the very parser
 *    the frontend ran. The two builds define different symbols, so nothing
 *    is defined twice.
 * Adding a kind: that file, its line in common/rill_kind_list.h (the one
 * table: it gives librill its checks, the config its default kinds and the
 * worker its kinds), its name in meson.build's rill_kind_sources, and a test.
 *
 * The worker core owns jobs, sockets and credit; a kind only starts work,
 * emits parts, and ends each job exactly once. The core hands every call a
 * context (rill_worker_context_t): everything a kind does to the worker -
 * publish, done, fail, timers, fd and child watches, the config - goes
 * through it, so a kind holds no global pointer to the worker.
 *
 * Starting: most kinds run each job on its own and set start_job; the core
 * calls it once per job of a BATCH. A kind that gains from seeing the batch
 * as a whole (http: one list request for many item jobs) sets start_batch
 * instead and is called once per BATCH with all of its jobs there. Either
 * way the kind ends, at once or later, every job it was given: a job it
 * cannot start it fails itself (rill_worker_job_fail) with a reason.
 * An ordered BATCH (docs/PROTOCOL.md, rill/3): start_job is called for
 * each job only once the one before it ended; start_batch gets the jobs at
 * once, in order, and should publish and end them in that order.
 *
 * Ownership: the core allocates every rill_worker_job_t and frees it after
 * the kind ended it (rill_worker_job_done / _fail) or after cancel()
 * returned. After either, the kind must not touch the job again.
 *
 * Everything runs on the worker's one thread, in its one loop (zmq_poll):
 * a kind never blocks and never starts a thread. What a kind waits on is
 * registered here: timers, file descriptors (rill_worker_fd_watch) and child
 * processes (rill_worker_child_watch). cancel() must release all of it at
 * once: unwatch its fds, stop its timers, terminate its children.
 *
 * Allocation never fails (common/rill_alloc.h), so nothing here reports
 * out-of-memory; what can fail is what a peer controls (a full socket).
 */
#ifndef RILL_WORKER_KIND_H
#define RILL_WORKER_KIND_H

#include "rill_config.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct rill_worker_context rill_worker_context_t;
typedef struct rill_worker_job rill_worker_job_t;

typedef struct {
    const char *name;
    /* Exactly one of the two starts is set (see above). */
    void (*start_job)(rill_worker_context_t *context, rill_worker_job_t *job);
    void (*start_batch)(rill_worker_context_t *context, rill_worker_job_t **jobs, size_t count);
    /* Stops one job at once and releases what the kind holds for it. */
    void (*cancel)(rill_worker_context_t *context, rill_worker_job_t *job);
    /* Optional (may be NULL): called once when the worker stops, after every
     * job was cancelled, to release what the kind shares between jobs. */
    void (*shutdown)(rill_worker_context_t *context);
    /* Optional (may be NULL): every client of the job is behind (paused 1:
     * the broker's PAUSE, docs/PROTOCOL.md "Flow"), or no longer (0).
     * Called on a change only, never for a job that ended. While paused
     * the kind stops reading the job's source - unwatches the child's
     * stdout (the child blocks on its pipe), stops reading the file, the
     * upstream body, stops its timers - and picks up where it stopped when
     * resumed. It may still publish what it already read. A kind without
     * it just goes on (its clients meet the slow-client limits). */
    void (*pause)(rill_worker_context_t *context, rill_worker_job_t *job, int paused);
} rill_worker_kind_t;

/* The worker's configuration as it is now (a SIGHUP may replace it between
 * two loop turns: copy what a job needs at start, keep no pointer into it),
 * and its run directory (where a relative tail_root lives). */
const rill_config_t *rill_worker_config(const rill_worker_context_t *context);
const char *rill_worker_run_dir(const rill_worker_context_t *context);

const char *rill_worker_job_id(const rill_worker_job_t *job);
const char *rill_worker_job_who(const rill_worker_job_t *job);
json_t *rill_worker_job_args(const rill_worker_job_t *job); /* borrowed; may be NULL */
/* The same args as the JSON text of an object, as the BATCH carried them
 * (compact, no escapes: rill_batch_fast.h), or NULL with *length 0 when
 * there is none at hand (no args, or a BATCH the worker had to decode in
 * full: then only rill_worker_job_args has them). Borrowed. A kind that
 * reads what it needs from the text (rill_kind_args_integers_text) spares
 * the job a JSON parse; rill_worker_job_args parses it on its first call. */
const char *rill_worker_job_args_text(const rill_worker_job_t *job, size_t *length);
void *rill_worker_job_state(const rill_worker_job_t *job);
void rill_worker_job_set_state(rill_worker_job_t *job, void *state);

/* Publishes one part: data is a JSON text. Returns 0, or -1 when the part
 * could not be queued to the broker (the job should fail). */
int rill_worker_publish_part(rill_worker_context_t *context, rill_worker_job_t *job, const char *data,
                             size_t length);
/* Publishes data (a JSON text) as one message on the topic named topic
 * (rill/5 TOPIC; the broker numbers it in the topic's sequence, as a
 * POST /v1/topics/{name} would), for as long as the job runs. Unlike a
 * part it is not held for a re-send after a broker restart: while no broker
 * is joined it is dropped and counted in the worker's log. Returns 0, or -1
 * when data is over max_part_bytes (the job should fail). */
int rill_worker_publish_topic(rill_worker_context_t *context, rill_worker_job_t *job, const char *topic,
                              const char *data, size_t length);
void rill_worker_job_done(rill_worker_context_t *context, rill_worker_job_t *job);
void rill_worker_job_fail(rill_worker_context_t *context, rill_worker_job_t *job, const char *code,
                          const char *message);

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

void rill_worker_timer_start(rill_worker_context_t *context, rill_worker_timer_t *timer, uint64_t delay_ms,
                             rill_worker_timer_callback_t callback, void *argument);
/* The same at an instant of CLOCK_MONOTONIC (rill_clock_monotonic_ns), for a
 * kind that keeps a fixed rate: each due instant one interval after the last
 * one's, not after the (later) instant the loop ran it. */
void rill_worker_timer_start_at(rill_worker_context_t *context, rill_worker_timer_t *timer, uint64_t due_ns,
                                rill_worker_timer_callback_t callback, void *argument);
void rill_worker_timer_stop(rill_worker_context_t *context, rill_worker_timer_t *timer);

/* File descriptors on the worker's loop. events and revents are
 * RILL_WORKER_FD_IN / _OUT (and _ERR in revents); they equal ZMQ_POLLIN,
 * ZMQ_POLLOUT and ZMQ_POLLERR. Watching an fd already watched
 * replaces its events, callback and argument. Unwatch before closing the fd.
 * A callback may watch and unwatch any fd, end jobs, and start timers; after
 * an fd was unwatched its callback is not called again, even for events the
 * same loop turn already saw. */
#define RILL_WORKER_FD_IN 1
#define RILL_WORKER_FD_OUT 2
#define RILL_WORKER_FD_ERR 4
typedef void (*rill_worker_fd_callback_t)(void *argument, int fd, short revents);
void rill_worker_fd_watch(rill_worker_context_t *context, int fd, short events, rill_worker_fd_callback_t callback,
                          void *argument);
void rill_worker_fd_unwatch(rill_worker_context_t *context, int fd);

/* Child processes. The core reaps children through its signalfd (SIGCHLD):
 * a watched child's callback gets its wait status once it exited. A kind
 * that spawns must give the child an empty signal mask and default signal
 * dispositions (the worker blocks SIGCHLD, SIGTERM, SIGINT, SIGHUP).
 * rill_worker_child_terminate() is for cancel: it drops the watch, sends
 * SIGTERM to the child's process group, SIGKILL one second later if it is
 * still there, and reaps it; the kind forgets the pid at once. */
typedef void (*rill_worker_child_callback_t)(void *argument, pid_t pid, int wait_status);
void rill_worker_child_watch(rill_worker_context_t *context, pid_t pid, rill_worker_child_callback_t callback,
                             void *argument);
void rill_worker_child_terminate(rill_worker_context_t *context, pid_t pid);

#endif
