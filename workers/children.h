/*
 * children.h - the child processes kinds spawned, reaped on SIGCHLD.
 *
 * The worker blocks SIGCHLD and reads it from its signalfd; on each, every
 * known child is polled with waitpid(WNOHANG), so no exit is missed when
 * several arrive as one signal. A child being terminated (a cancelled job's)
 * is killed if it outlives its SIGTERM by a second, and reaped silently.
 */
#ifndef RILL_WORKER_CHILDREN_H
#define RILL_WORKER_CHILDREN_H

#include "rill_worker_kind.h"
#include "timer_heap.h"

#include <stddef.h>
#include <sys/types.h>

typedef struct rill_child rill_child_t;

typedef struct {
    rill_child_t **children;
    size_t count;
    size_t capacity;
    rill_timer_heap_t *timers; /* where the one-second kill timers run */
} rill_children_t;

void rill_children_init(rill_children_t *self, rill_timer_heap_t *timers);
/* Kills (SIGKILL) and reaps every child still there, and frees the set. */
void rill_children_release(rill_children_t *self);
void rill_children_watch(rill_children_t *self, pid_t pid, rill_worker_child_callback_t callback, void *argument);
void rill_children_terminate(rill_children_t *self, pid_t pid);
/* SIGCHLD: reaps every child that exited; calls back the watched ones. */
void rill_children_reap(rill_children_t *self);

#endif
