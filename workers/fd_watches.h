/*
 * fd_watches.h - the file descriptors kinds watch on the worker's loop, and
 * the zmq_poll set built from them each turn.
 *
 * A callback may unwatch any fd (its own or another job's) while the turn's
 * events are being dispatched, and the fd number may be reused at once by a
 * new watch: every watch carries a serial, and an event is dispatched only
 * to the very watch that was polled (rill_worker_kind.h promises no call
 * after unwatch).
 */
#ifndef RILL_WORKER_FD_WATCHES_H
#define RILL_WORKER_FD_WATCHES_H

#include "rill_worker_kind.h"

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

typedef struct {
    int fd;
    short events;
    rill_worker_fd_callback_t callback;
    void *argument;
    uint64_t serial;
} rill_fd_watch_t;

typedef struct {
    rill_fd_watch_t *watches;
    size_t count;
    size_t capacity;
    uint64_t serial;       /* of the newest watch */
    zmq_pollitem_t *items; /* the poll set: the fixed items, then one per watch */
    uint64_t *item_serials;
    size_t item_capacity;
} rill_fd_watches_t;

/* A zeroed rill_fd_watches_t is an empty one. */
void rill_fd_watches_release(rill_fd_watches_t *self);
void rill_fd_watches_watch(rill_fd_watches_t *self, int fd, short events, rill_worker_fd_callback_t callback,
                           void *argument);
void rill_fd_watches_unwatch(rill_fd_watches_t *self, int fd);
/* The poll set for this turn: the fixed_count fixed items first (the broker
 * socket, the signalfd), then every watch. Valid until the next call. */
zmq_pollitem_t *rill_fd_watches_poll_set(rill_fd_watches_t *self, const zmq_pollitem_t *fixed, size_t fixed_count,
                                         size_t *count);
/* After zmq_poll on that set: calls back the watches that fired and are
 * still the watch that was polled, while stop(argument) is 0 (stop may be
 * NULL). An event left undispatched is polled again next turn. */
void rill_fd_watches_dispatch(rill_fd_watches_t *self, size_t fixed_count, size_t count,
                              int (*stop)(void *argument), void *argument);

#endif
