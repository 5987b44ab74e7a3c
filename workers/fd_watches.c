/*
 * fd_watches.c - file descriptors on the worker's loop. See fd_watches.h.
 */
#include "fd_watches.h"

#include "rill_alloc.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(RILL_WORKER_FD_IN == ZMQ_POLLIN && RILL_WORKER_FD_OUT == ZMQ_POLLOUT &&
                   RILL_WORKER_FD_ERR == ZMQ_POLLERR,
               "rill_worker_kind.h's fd events are zmq_poll's");

void rill_fd_watches_release(rill_fd_watches_t *self)
{
    free(self->watches);
    free(self->items);
    free(self->item_serials);
    memset(self, 0, sizeof(*self));
}

static rill_fd_watch_t *find_watch(rill_fd_watches_t *self, int fd)
{
    for (size_t i = 0; i < self->count; i++) {
        if (self->watches[i].fd == fd)
            return &self->watches[i];
    }
    return NULL;
}

void rill_fd_watches_watch(rill_fd_watches_t *self, int fd, short events, rill_worker_fd_callback_t callback,
                           void *argument)
{
    rill_fd_watch_t *watch = find_watch(self, fd);
    if (watch == NULL) {
        if (self->count == self->capacity) {
            self->capacity = self->capacity > 0 ? self->capacity * 2 : 16;
            self->watches = rill_xrealloc(self->watches, self->capacity * sizeof(*self->watches));
        }
        watch = &self->watches[self->count++];
        watch->fd = fd;
        watch->serial = ++self->serial;
    }
    watch->events = events;
    watch->callback = callback;
    watch->argument = argument;
}

void rill_fd_watches_unwatch(rill_fd_watches_t *self, int fd)
{
    rill_fd_watch_t *watch = find_watch(self, fd);
    if (watch != NULL)
        *watch = self->watches[--self->count];
}

zmq_pollitem_t *rill_fd_watches_poll_set(rill_fd_watches_t *self, const zmq_pollitem_t *fixed, size_t fixed_count,
                                         size_t *count)
{
    *count = fixed_count + self->count;
    if (*count > self->item_capacity) {
        self->item_capacity = *count;
        self->items = rill_xrealloc(self->items, *count * sizeof(*self->items));
        self->item_serials = rill_xrealloc(self->item_serials, *count * sizeof(*self->item_serials));
    }
    memcpy(self->items, fixed, fixed_count * sizeof(*fixed));
    for (size_t i = 0; i < self->count; i++) {
        self->items[fixed_count + i] = (zmq_pollitem_t){NULL, self->watches[i].fd, self->watches[i].events, 0};
        self->item_serials[fixed_count + i] = self->watches[i].serial;
    }
    return self->items;
}

void rill_fd_watches_dispatch(rill_fd_watches_t *self, size_t fixed_count, size_t count,
                              int (*stop)(void *argument), void *argument)
{
    for (size_t i = fixed_count; i < count; i++) {
        if (self->items[i].revents == 0)
            continue;
        if (stop != NULL && stop(argument))
            return;
        rill_fd_watch_t *watch = find_watch(self, self->items[i].fd);
        if (watch == NULL || watch->serial != self->item_serials[i])
            continue;
        watch->callback(watch->argument, watch->fd, self->items[i].revents);
    }
}
