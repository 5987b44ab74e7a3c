/*
 * children.c - child processes on the worker's loop. See children.h.
 */
#include "children.h"

#include "rill_alloc.h"
#include "rill_log.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

/* terminating: cancelled, killed if it lingers, reaped silently. */
struct rill_child {
    pid_t pid;
    rill_worker_child_callback_t callback;
    void *argument;
    int terminating;
    rill_worker_timer_t kill_timer;
};

void rill_children_init(rill_children_t *self, rill_timer_heap_t *timers)
{
    self->children = NULL;
    self->count = 0;
    self->capacity = 0;
    self->timers = timers;
}

static void kill_group(pid_t pid, int signal_number)
{
    kill(-pid, signal_number);
    kill(pid, signal_number);
}

void rill_children_release(rill_children_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        rill_child_t *child = self->children[i];
        rill_timer_heap_disarm(self->timers, &child->kill_timer);
        kill_group(child->pid, SIGKILL);
        waitpid(child->pid, NULL, 0);
        free(child);
    }
    free(self->children);
    self->children = NULL;
    self->count = 0;
    self->capacity = 0;
}

static rill_child_t *find_child(rill_children_t *self, pid_t pid)
{
    for (size_t i = 0; i < self->count; i++) {
        if (self->children[i]->pid == pid)
            return self->children[i];
    }
    return NULL;
}

void rill_children_watch(rill_children_t *self, pid_t pid, rill_worker_child_callback_t callback, void *argument)
{
    rill_child_t *child = find_child(self, pid);
    if (child == NULL) {
        if (self->count == self->capacity) {
            self->capacity = self->capacity > 0 ? self->capacity * 2 : 8;
            self->children = rill_xrealloc(self->children, self->capacity * sizeof(*self->children));
        }
        child = rill_xcalloc(1, sizeof(*child));
        child->pid = pid;
        self->children[self->count++] = child;
    }
    child->callback = callback;
    child->argument = argument;
}

static void kill_now(void *argument)
{
    rill_child_t *child = argument;
    rill_log_info(NULL, "child %d still there after SIGTERM: SIGKILL", (int)child->pid);
    kill_group(child->pid, SIGKILL);
}

void rill_children_terminate(rill_children_t *self, pid_t pid)
{
    if (pid <= 0)
        return;
    rill_children_watch(self, pid, NULL, NULL);
    rill_child_t *child = find_child(self, pid);
    child->terminating = 1;
    kill_group(pid, SIGTERM);
    rill_timer_heap_start(self->timers, &child->kill_timer, 1000, kill_now, child);
}

void rill_children_reap(rill_children_t *self)
{
    for (size_t i = 0; i < self->count;) {
        rill_child_t *child = self->children[i];
        int status = 0;
        pid_t reaped = waitpid(child->pid, &status, WNOHANG);
        if (reaped == 0 || (reaped < 0 && errno == EINTR)) {
            i++;
            continue;
        }
        self->children[i] = self->children[--self->count];
        rill_timer_heap_disarm(self->timers, &child->kill_timer);
        rill_worker_child_callback_t callback = child->terminating ? NULL : child->callback;
        void *callback_argument = child->argument;
        free(child);
        if (callback != NULL)
            callback(callback_argument, reaped, status); /* may watch or terminate others: rescan */
        i = 0;
    }
}
