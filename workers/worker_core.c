/*
 * worker_core.c - one worker process: broker link, held jobs, loop, plug-in API.
 *
 * Credit: the worker grants the broker `credit` job slots in HELLO; each job
 * of a BATCH takes one, each DONE/FAIL/RETURN (and a CANCEL from the broker)
 * gives one back, so the worker never holds more than it asked for.
 *
 * Liveness: PING every heartbeat_ms. The broker answers an unknown worker
 * with REJOIN (it restarted): the worker then says HELLO again, and if the
 * WELCOME names another broker instance, the jobs it held died with the old
 * broker and are cancelled here.
 *
 * Drain: SIGTERM sends BYE (no new jobs), lets held jobs finish for up to
 * drain_ms, then hands the rest back with RETURN so the broker re-dispatches
 * them, and exits. A second SIGTERM skips the wait.
 *
 * The loop polls the broker socket, the signalfd (SIGTERM, SIGINT, SIGHUP,
 * SIGCHLD) and every fd a kind watches; children are reaped on SIGCHLD.
 */
#include "worker_core.h"

#include "kinds.h"
#include "rill_clock.h"
#include "rill_job.h"
#include "rill_log.h"
#include "rill_protocol.h"
#include "timer_heap.h"

#include <czmq.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

struct rill_worker_job {
    char id[RILL_JOB_ID_LENGTH + 1];
    char *who;
    json_t *args;
    const rill_worker_kind_t *kind;
    void *state;
    uint64_t attempt;
};

/* An fd a kind watches. serial tells a watch from a later one on the same fd. */
typedef struct {
    int fd;
    short events;
    rill_worker_fd_callback_t callback;
    void *argument;
    uint64_t serial;
} fd_watch_t;

/* A child a kind spawned; terminating: cancelled, killed, reaped silently. */
typedef struct {
    pid_t pid;
    rill_worker_child_callback_t callback;
    void *argument;
    int terminating;
    rill_worker_timer_t kill_timer;
} child_t;

typedef struct {
    const rill_worker_options_t *options;
    rill_config_t config; /* options->config, then what SIGHUP loaded */
    fd_watch_t *watches;
    size_t watch_count;
    size_t watch_capacity;
    uint64_t watch_serial;
    zmq_pollitem_t *items; /* the loop's poll set: dealer, signalfd, watches */
    uint64_t *item_serials;
    size_t item_capacity;
    child_t **children;
    size_t child_count;
    size_t child_capacity;
    uint64_t heartbeat_ms; /* the config's until a WELCOME names the broker's */
    void *context;
    void *dealer;
    int signal_fd;
    rill_timer_heap_t timers;
    zhashx_t *jobs; /* id -> rill_worker_job_t*, owned */
    const rill_worker_kind_t *served[16];
    size_t served_count;
    char broker_instance[64];
    uint64_t last_heard_ns;
    int broker_silent;
    int welcomed;
    int draining;
    int running;
    rill_worker_timer_t heartbeat_timer;
    rill_worker_timer_t drain_timer;
    uint64_t malformed;
} worker_t;

_Static_assert(RILL_WORKER_FD_IN == ZMQ_POLLIN && RILL_WORKER_FD_OUT == ZMQ_POLLOUT &&
                   RILL_WORKER_FD_ERR == ZMQ_POLLERR,
               "rill_worker_kind.h's fd events are zmq_poll's");

/* The plug-in API reaches the one worker of this process through here. */
static worker_t *current_worker;

static void job_destroy(rill_worker_job_t **self)
{
    if (*self == NULL)
        return;
    free((*self)->who);
    json_decref((*self)->args);
    free(*self);
    *self = NULL;
}

static void job_table_free(void **item)
{
    job_destroy((rill_worker_job_t **)item);
}

static int send_command(worker_t *worker, rill_command_t command, const rill_frame_t *arguments,
                        size_t count)
{
    if (rill_protocol_send_command(worker->dealer, NULL, command, arguments, count, ZMQ_DONTWAIT) != 0) {
        rill_log_warn(NULL, "cannot send %s to the broker: %s", rill_command_name(command),
                      zmq_strerror(errno));
        return -1;
    }
    return 0;
}

static int send_job_command(worker_t *worker, rill_command_t command, const char *job_id)
{
    rill_frame_t argument = rill_frame_from_string(job_id);
    return send_command(worker, command, &argument, 1);
}

static void send_hello(worker_t *worker)
{
    char host[256] = "unknown";
    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "unknown");
    json_t *kinds = json_array();
    for (size_t i = 0; i < worker->served_count; i++)
        json_array_append_new(kinds, json_string(worker->served[i]->name));
    uint64_t held = zhashx_size(worker->jobs);
    uint64_t credit = worker->draining ? 0 : worker->options->credit > held ? worker->options->credit - held : 0;
    json_t *hello = json_pack("{s:s, s:s, s:i, s:o, s:I}", "name", worker->options->name, "host", host,
                              "pid", (int)getpid(), "kinds", kinds, "credit", (json_int_t)credit);
    char *text = hello != NULL ? json_dumps(hello, JSON_COMPACT) : NULL;
    if (text != NULL) {
        rill_frame_t argument = rill_frame_from_string(text);
        send_command(worker, RILL_COMMAND_HELLO, &argument, 1);
    } else {
        rill_log_error(NULL, "cannot build HELLO");
    }
    free(text);
    json_decref(hello);
}

/* Ends a job's life in this process: out of the table, freed. */
static void job_forget(worker_t *worker, rill_worker_job_t *job)
{
    zhashx_delete(worker->jobs, job->id); /* the table's destructor frees it */
    if (worker->draining && zhashx_size(worker->jobs) == 0)
        worker->running = 0;
}

/* ---- the plug-in API (rill_worker_kind.h) ---- */

const char *rill_worker_job_id(const rill_worker_job_t *job)
{
    return job->id;
}

const char *rill_worker_job_who(const rill_worker_job_t *job)
{
    return job->who;
}

json_t *rill_worker_job_args(const rill_worker_job_t *job)
{
    return job->args;
}

void *rill_worker_job_state(const rill_worker_job_t *job)
{
    return job->state;
}

void rill_worker_job_set_state(rill_worker_job_t *job, void *state)
{
    job->state = state;
}

int rill_worker_publish_part(rill_worker_job_t *job, const char *data, size_t length)
{
    rill_frame_t arguments[2] = {rill_frame_from_string(job->id), {(const uint8_t *)data, length}};
    rill_log_debug(job->who, "hop: job %s part sent to broker (%zu bytes)", job->id, length);
    return send_command(current_worker, RILL_COMMAND_PART, arguments, 2);
}

void rill_worker_job_done(rill_worker_job_t *job)
{
    rill_log_info(job->who, "job %s done", job->id);
    send_job_command(current_worker, RILL_COMMAND_DONE, job->id);
    job_forget(current_worker, job);
}

void rill_worker_job_fail(rill_worker_job_t *job, const char *code, const char *message)
{
    rill_log_info(job->who, "job %s failed: %s: %s", job->id, code, message);
    rill_frame_t arguments[3] = {rill_frame_from_string(job->id), rill_frame_from_string(code),
                                 rill_frame_from_string(message)};
    send_command(current_worker, RILL_COMMAND_FAIL, arguments, 3);
    job_forget(current_worker, job);
}

int rill_worker_timer_start(rill_worker_timer_t *timer, uint64_t delay_ms,
                            rill_worker_timer_callback_t callback, void *argument)
{
    timer->callback = callback;
    timer->argument = argument;
    return rill_timer_heap_arm(&current_worker->timers, timer,
                               rill_clock_monotonic_ns() + delay_ms * 1000000u);
}

void rill_worker_timer_stop(rill_worker_timer_t *timer)
{
    rill_timer_heap_disarm(&current_worker->timers, timer);
}

const rill_config_t *rill_worker_config(void)
{
    return &current_worker->config;
}

const char *rill_worker_run_dir(void)
{
    return current_worker->options->endpoints.run_dir;
}

static fd_watch_t *find_watch(worker_t *worker, int fd)
{
    for (size_t i = 0; i < worker->watch_count; i++) {
        if (worker->watches[i].fd == fd)
            return &worker->watches[i];
    }
    return NULL;
}

int rill_worker_fd_watch(int fd, short events, rill_worker_fd_callback_t callback, void *argument)
{
    worker_t *worker = current_worker;
    fd_watch_t *watch = find_watch(worker, fd);
    if (watch == NULL) {
        if (worker->watch_count == worker->watch_capacity) {
            size_t capacity = worker->watch_capacity > 0 ? worker->watch_capacity * 2 : 16;
            fd_watch_t *grown = realloc(worker->watches, capacity * sizeof(*grown));
            if (grown == NULL)
                return -1;
            worker->watches = grown;
            worker->watch_capacity = capacity;
        }
        watch = &worker->watches[worker->watch_count++];
        watch->fd = fd;
        watch->serial = ++worker->watch_serial;
    }
    watch->events = events;
    watch->callback = callback;
    watch->argument = argument;
    return 0;
}

void rill_worker_fd_unwatch(int fd)
{
    worker_t *worker = current_worker;
    fd_watch_t *watch = find_watch(worker, fd);
    if (watch == NULL)
        return;
    *watch = worker->watches[--worker->watch_count];
}

/* Builds the poll set; returns its size, or 0 when memory ran out. */
static size_t build_poll_items(worker_t *worker)
{
    size_t count = 2 + worker->watch_count;
    if (count > worker->item_capacity) {
        zmq_pollitem_t *items = realloc(worker->items, count * sizeof(*items));
        if (items != NULL)
            worker->items = items;
        uint64_t *serials = realloc(worker->item_serials, count * sizeof(*serials));
        if (serials != NULL)
            worker->item_serials = serials;
        if (items == NULL || serials == NULL)
            return 0;
        worker->item_capacity = count;
    }
    worker->items[0] = (zmq_pollitem_t){worker->dealer, 0, ZMQ_POLLIN, 0};
    worker->items[1] = (zmq_pollitem_t){NULL, worker->signal_fd, ZMQ_POLLIN, 0};
    for (size_t i = 0; i < worker->watch_count; i++) {
        worker->items[2 + i] = (zmq_pollitem_t){NULL, worker->watches[i].fd, worker->watches[i].events, 0};
        worker->item_serials[2 + i] = worker->watches[i].serial;
    }
    return count;
}

/* Calls back the watches that fired and are still the same watch. */
static void dispatch_fd_events(worker_t *worker, size_t count)
{
    for (size_t i = 2; i < count; i++) {
        if (worker->items[i].revents == 0)
            continue;
        fd_watch_t *watch = find_watch(worker, worker->items[i].fd);
        if (watch == NULL || watch->serial != worker->item_serials[i])
            continue;
        watch->callback(watch->argument, watch->fd, worker->items[i].revents);
    }
}

static child_t *find_child(worker_t *worker, pid_t pid, size_t *index)
{
    for (size_t i = 0; i < worker->child_count; i++) {
        if (worker->children[i]->pid == pid) {
            if (index != NULL)
                *index = i;
            return worker->children[i];
        }
    }
    return NULL;
}

int rill_worker_child_watch(pid_t pid, rill_worker_child_callback_t callback, void *argument)
{
    worker_t *worker = current_worker;
    child_t *child = find_child(worker, pid, NULL);
    if (child == NULL) {
        if (worker->child_count == worker->child_capacity) {
            size_t capacity = worker->child_capacity > 0 ? worker->child_capacity * 2 : 8;
            child_t **grown = realloc(worker->children, capacity * sizeof(*grown));
            if (grown == NULL)
                return -1;
            worker->children = grown;
            worker->child_capacity = capacity;
        }
        child = calloc(1, sizeof(*child));
        if (child == NULL)
            return -1;
        child->pid = pid;
        worker->children[worker->child_count++] = child;
    }
    child->callback = callback;
    child->argument = argument;
    return 0;
}

static void child_kill_now(void *argument)
{
    child_t *child = argument;
    rill_log_info(NULL, "child %d still there after SIGTERM: SIGKILL", (int)child->pid);
    kill(-child->pid, SIGKILL);
    kill(child->pid, SIGKILL);
}

void rill_worker_child_terminate(pid_t pid)
{
    worker_t *worker = current_worker;
    if (pid <= 0)
        return;
    if (rill_worker_child_watch(pid, NULL, NULL) != 0) {
        /* No memory to remember it: kill it at once; SIGCHLD cannot reap an
         * unknown pid, so wait for it here (SIGKILL makes this short). */
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return;
    }
    child_t *child = find_child(worker, pid, NULL);
    child->terminating = 1;
    kill(-pid, SIGTERM);
    kill(pid, SIGTERM);
    if (rill_worker_timer_start(&child->kill_timer, 1000, child_kill_now, child) != 0)
        child_kill_now(child);
}

/* SIGCHLD: reaps every child that exited; calls back the watched ones. */
static void reap_children(worker_t *worker)
{
    for (size_t i = 0; i < worker->child_count;) {
        child_t *child = worker->children[i];
        int status = 0;
        pid_t reaped = waitpid(child->pid, &status, WNOHANG);
        if (reaped == 0 || (reaped < 0 && errno == EINTR)) {
            i++;
            continue;
        }
        worker->children[i] = worker->children[--worker->child_count];
        rill_worker_timer_stop(&child->kill_timer);
        rill_worker_child_callback_t callback = child->terminating ? NULL : child->callback;
        void *callback_argument = child->argument;
        free(child);
        if (callback != NULL)
            callback(callback_argument, reaped, status); /* may watch or terminate others: rescan */
        i = 0;
    }
}

static void release_children(worker_t *worker)
{
    for (size_t i = 0; i < worker->child_count; i++) {
        child_t *child = worker->children[i];
        kill(-child->pid, SIGKILL);
        kill(child->pid, SIGKILL);
        waitpid(child->pid, NULL, 0);
        free(child);
    }
    free(worker->children);
    worker->children = NULL;
    worker->child_count = 0;
}

/* ---- messages from the broker ---- */

static void cancel_job(worker_t *worker, rill_worker_job_t *job)
{
    job->kind->cancel(job);
    job_forget(worker, job);
}

static void cancel_all_jobs(worker_t *worker, rill_command_t tell_broker)
{
    zlistx_t *ids = zhashx_keys(worker->jobs);
    if (ids == NULL)
        return;
    for (char *id = zlistx_first(ids); id != NULL; id = zlistx_next(ids)) {
        rill_worker_job_t *job = zhashx_lookup(worker->jobs, id);
        if (job == NULL)
            continue;
        if (tell_broker != RILL_COMMAND_INVALID)
            send_job_command(worker, tell_broker, job->id);
        cancel_job(worker, job);
    }
    zlistx_destroy(&ids);
}

static void handle_welcome(worker_t *worker, rill_frame_t body)
{
    json_t *welcome = json_loadb((const char *)body.data, body.size, 0, NULL);
    const char *instance = json_string_value(json_object_get(welcome, "broker"));
    if (instance == NULL) {
        worker->malformed++;
        rill_log_warn(NULL, "malformed WELCOME from the broker: dropped");
        json_decref(welcome);
        return;
    }
    if (worker->broker_instance[0] != '\0' && strcmp(worker->broker_instance, instance) != 0 &&
        zhashx_size(worker->jobs) > 0) {
        rill_log_warn(NULL, "broker restarted (%s -> %s): cancelling %zu jobs of the old one",
                      worker->broker_instance, instance, zhashx_size(worker->jobs));
        cancel_all_jobs(worker, RILL_COMMAND_INVALID);
    }
    json_int_t heartbeat_ms = json_integer_value(json_object_get(welcome, "heartbeat_ms"));
    if (heartbeat_ms >= 10 && heartbeat_ms <= 600000)
        worker->heartbeat_ms = (uint64_t)heartbeat_ms; /* the broker judges us by its interval */
    if (!worker->welcomed || strcmp(worker->broker_instance, instance) != 0)
        rill_log_info(NULL, "joined broker %s", instance);
    snprintf(worker->broker_instance, sizeof(worker->broker_instance), "%s", instance);
    worker->welcomed = 1;
    json_decref(welcome);
}

static const rill_worker_kind_t *served_kind(worker_t *worker, const char *name)
{
    for (size_t i = 0; i < worker->served_count; i++) {
        if (strcmp(worker->served[i]->name, name) == 0)
            return worker->served[i];
    }
    return NULL;
}

static void refuse_job(worker_t *worker, const char *id, const char *who, const char *code,
                       const char *message)
{
    rill_log_warn(who, "job %s refused: %s", id, message);
    rill_frame_t arguments[3] = {rill_frame_from_string(id), rill_frame_from_string(code),
                                 rill_frame_from_string(message)};
    send_command(worker, RILL_COMMAND_FAIL, arguments, 3);
}

static void handle_batch(worker_t *worker, rill_frame_t body)
{
    json_t *batch = json_loadb((const char *)body.data, body.size, 0, NULL);
    json_t *jobs = json_object_get(batch, "jobs");
    if (!json_is_array(jobs)) {
        worker->malformed++;
        rill_log_warn(NULL, "malformed BATCH from the broker: dropped");
        json_decref(batch);
        return;
    }
    size_t count = json_array_size(jobs);
    rill_worker_job_t **started = calloc(count > 0 ? count : 1, sizeof(*started));
    size_t started_count = 0;
    size_t index;
    json_t *item;
    json_array_foreach(jobs, index, item)
    {
        const char *id = json_string_value(json_object_get(item, "id"));
        const char *kind_name = json_string_value(json_object_get(item, "kind"));
        const char *who = json_string_value(json_object_get(item, "who"));
        if (id == NULL || !rill_job_id_is_valid((const uint8_t *)id, strlen(id)) || kind_name == NULL) {
            worker->malformed++;
            rill_log_warn(NULL, "malformed job in BATCH: dropped");
            continue;
        }
        if (zhashx_lookup(worker->jobs, id) != NULL) {
            rill_log_warn(who, "job %s sent twice: ignored", id);
            continue;
        }
        if (worker->draining) {
            send_job_command(worker, RILL_COMMAND_RETURN, id);
            continue;
        }
        const rill_worker_kind_t *kind = served_kind(worker, kind_name);
        if (kind == NULL) {
            refuse_job(worker, id, who, "unknown_kind", "this worker does not serve that kind");
            continue;
        }
        rill_worker_job_t *job = calloc(1, sizeof(*job));
        if (job == NULL || started == NULL) {
            free(job);
            refuse_job(worker, id, who, "no_memory", "the worker is out of memory");
            continue;
        }
        snprintf(job->id, sizeof(job->id), "%s", id);
        job->who = strdup(who != NULL ? who : "-");
        if (job->who == NULL) {
            free(job);
            refuse_job(worker, id, who, "no_memory", "the worker is out of memory");
            continue;
        }
        job->args = json_incref(json_object_get(item, "args"));
        job->kind = kind;
        job->attempt = (uint64_t)json_integer_value(json_object_get(item, "attempt"));
        zhashx_insert(worker->jobs, job->id, job);
        rill_log_info(job->who, "job %s (%s) started, attempt %llu", job->id, kind_name,
                      (unsigned long long)job->attempt);
        started[started_count++] = job;
    }
    /* One start call per kind present in the batch: a kind sees its whole batch. */
    rill_worker_job_t **group = started_count > 0 ? malloc(started_count * sizeof(*group)) : NULL;
    char (*group_ids)[RILL_JOB_ID_LENGTH + 1] =
        started_count > 0 ? malloc(started_count * sizeof(*group_ids)) : NULL;
    for (size_t i = 0; i < started_count; i++) {
        if (started[i] == NULL)
            continue;
        const rill_worker_kind_t *kind = started[i]->kind;
        size_t group_count = 0;
        for (size_t j = i; j < started_count; j++) {
            if (started[j] != NULL && started[j]->kind == kind) {
                if (group != NULL && group_ids != NULL) {
                    group[group_count] = started[j];
                    memcpy(group_ids[group_count], started[j]->id, sizeof(group_ids[0]));
                    group_count++;
                } else {
                    rill_worker_job_fail(started[j], "no_memory", "the worker is out of memory");
                }
                started[j] = NULL;
            }
        }
        if (group_count == 0 || kind->start(group, group_count) == 0)
            continue;
        /* The kind may have ended some jobs itself before it gave up: fail
         * only those still held (the others are freed; go by id). */
        for (size_t j = 0; j < group_count; j++) {
            rill_worker_job_t *job = zhashx_lookup(worker->jobs, group_ids[j]);
            if (job != NULL)
                rill_worker_job_fail(job, "start_failed", "the job kind could not start the batch");
        }
    }
    free(group);
    free(group_ids);
    free(started);
    json_decref(batch);
}

static void handle_message(worker_t *worker, rill_received_t *received)
{
    rill_message_t message;
    const char *error;
    if (rill_message_parse(RILL_CHANNEL_TO_WORKER, received->frames, received->count, &message, &error) != 0) {
        worker->malformed++;
        if (received->count > 0 && !rill_frame_equals(received->frames[0], RILL_PROTOCOL_VERSION))
            rill_log_error(NULL, "refusing broker message: protocol \"%.16s\", expected \"%s\"",
                           (const char *)received->frames[0].data, RILL_PROTOCOL_VERSION);
        else
            rill_log_warn(NULL, "malformed message from the broker dropped: %s", error);
        return;
    }
    worker->last_heard_ns = rill_clock_monotonic_ns();
    if (worker->broker_silent) {
        worker->broker_silent = 0;
        rill_log_info(NULL, "broker heard again");
    }
    switch (message.command) {
    case RILL_COMMAND_WELCOME:
        handle_welcome(worker, message.arguments[0]);
        break;
    case RILL_COMMAND_BATCH:
        handle_batch(worker, message.arguments[0]);
        break;
    case RILL_COMMAND_CANCEL: {
        char id[RILL_JOB_ID_LENGTH + 1];
        memcpy(id, message.arguments[0].data, RILL_JOB_ID_LENGTH);
        id[RILL_JOB_ID_LENGTH] = '\0';
        rill_worker_job_t *job = zhashx_lookup(worker->jobs, id);
        if (job != NULL) {
            rill_log_info(job->who, "job %s cancelled by the broker", job->id);
            cancel_job(worker, job);
        }
        break;
    }
    case RILL_COMMAND_REJOIN:
        rill_log_info(NULL, "broker does not know this worker: joining again");
        send_hello(worker);
        break;
    case RILL_COMMAND_PING:
    default:
        break;
    }
}

static void heartbeat_tick(void *argument)
{
    worker_t *worker = argument;
    uint64_t heartbeat_ns = worker->heartbeat_ms * 1000000u;
    send_command(worker, RILL_COMMAND_PING, NULL, 0);
    if (!worker->broker_silent && rill_clock_monotonic_ns() - worker->last_heard_ns > 3 * heartbeat_ns) {
        worker->broker_silent = 1;
        rill_log_warn(NULL, "broker silent for %llu ms; still trying",
                      (unsigned long long)(3 * worker->heartbeat_ms));
    }
    rill_worker_timer_start(&worker->heartbeat_timer, worker->heartbeat_ms,
                            heartbeat_tick, worker);
}

static void drain_deadline(void *argument)
{
    worker_t *worker = argument;
    rill_log_info(NULL, "drain time is up: handing %zu jobs back", zhashx_size(worker->jobs));
    cancel_all_jobs(worker, RILL_COMMAND_RETURN);
    worker->running = 0;
}

/* SIGHUP: re-read the config file; a bad one is refused and the old one stays.
 * Held jobs are untouched. */
static void reload_config(worker_t *worker)
{
    if (rill_config_reload(worker->options->config_path, &worker->config) == 0 && !worker->welcomed)
        worker->heartbeat_ms = worker->config.heartbeat_ms;
}

static void handle_signal(worker_t *worker)
{
    struct signalfd_siginfo info;
    while (read(worker->signal_fd, &info, sizeof(info)) == (ssize_t)sizeof(info)) {
        if (info.ssi_signo == SIGHUP) {
            reload_config(worker);
            continue;
        }
        if (info.ssi_signo == SIGCHLD) {
            reap_children(worker);
            continue;
        }
        if (worker->draining) {
            rill_log_info(NULL, "second signal: handing jobs back now");
            drain_deadline(worker);
            continue;
        }
        worker->draining = 1;
        rill_log_info(NULL, "signal %u: draining %zu jobs (at most %llu ms)", info.ssi_signo,
                      zhashx_size(worker->jobs), (unsigned long long)worker->options->drain_ms);
        send_command(worker, RILL_COMMAND_BYE, NULL, 0);
        if (zhashx_size(worker->jobs) == 0)
            worker->running = 0;
        else
            rill_worker_timer_start(&worker->drain_timer, worker->options->drain_ms, drain_deadline, worker);
    }
}

static int choose_kinds(worker_t *worker)
{
    const char *list = worker->options->kinds;
    for (size_t i = 0; rill_worker_builtin_kinds[i] != NULL; i++) {
        const rill_worker_kind_t *kind = rill_worker_builtin_kinds[i];
        int wanted = list == NULL;
        if (list != NULL) {
            size_t length = strlen(kind->name);
            for (const char *p = list; p != NULL && *p != '\0'; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
                if (strncmp(p, kind->name, length) == 0 && (p[length] == ',' || p[length] == '\0'))
                    wanted = 1;
            }
        }
        if (wanted && worker->served_count < sizeof(worker->served) / sizeof(worker->served[0]))
            worker->served[worker->served_count++] = kind;
    }
    if (worker->served_count == 0) {
        rill_log_error(NULL, "no known job kind in \"%s\"", list != NULL ? list : "");
        return -1;
    }
    return 0;
}

static int open_signals(worker_t *worker)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0)
        return -1;
    worker->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    return worker->signal_fd < 0 ? -1 : 0;
}

static void worker_release(worker_t *worker)
{
    if (worker->jobs != NULL)
        cancel_all_jobs(worker, RILL_COMMAND_INVALID);
    zhashx_destroy(&worker->jobs);
    for (size_t i = 0; i < worker->served_count; i++) {
        if (worker->served[i]->shutdown != NULL)
            worker->served[i]->shutdown();
    }
    release_children(worker);
    free(worker->watches);
    free(worker->items);
    free(worker->item_serials);
    rill_timer_heap_release(&worker->timers);
    if (worker->dealer != NULL)
        zmq_close(worker->dealer);
    if (worker->context != NULL)
        zmq_ctx_term(worker->context);
    if (worker->signal_fd >= 0)
        close(worker->signal_fd);
}

int rill_worker_run(const rill_worker_options_t *options)
{
    worker_t worker;
    memset(&worker, 0, sizeof(worker));
    worker.options = options;
    worker.config = options->config;
    worker.heartbeat_ms = options->config.heartbeat_ms;
    worker.signal_fd = -1;
    current_worker = &worker;
    rill_timer_heap_init(&worker.timers);
    int status = 1;
    if (choose_kinds(&worker) != 0)
        goto out;
    if (open_signals(&worker) != 0) {
        rill_log_error(NULL, "cannot watch signals: %s", strerror(errno));
        goto out;
    }
    worker.jobs = zhashx_new();
    worker.context = zmq_ctx_new();
    worker.dealer = worker.context != NULL ? zmq_socket(worker.context, ZMQ_DEALER) : NULL;
    if (worker.jobs == NULL || worker.dealer == NULL || rill_socket_configure(worker.dealer) != 0) {
        rill_log_error(NULL, "cannot create the broker socket: %s", zmq_strerror(errno));
        goto out;
    }
    zhashx_set_destructor(worker.jobs, job_table_free);
    if (zmq_connect(worker.dealer, options->endpoints.workers) != 0) {
        rill_log_error(NULL, "cannot connect to %s: %s", options->endpoints.workers, zmq_strerror(errno));
        goto out;
    }
    rill_log_info(NULL, "worker %s connecting to %s (credit %llu)", options->name,
                  options->endpoints.workers, (unsigned long long)options->credit);
    worker.last_heard_ns = rill_clock_monotonic_ns();
    send_hello(&worker);
    rill_worker_timer_start(&worker.heartbeat_timer, worker.heartbeat_ms, heartbeat_tick, &worker);

    worker.running = 1;
    while (worker.running) {
        long timeout_ms = -1;
        rill_worker_timer_t *first = rill_timer_heap_first(&worker.timers);
        if (first != NULL) {
            uint64_t now = rill_clock_monotonic_ns();
            timeout_ms = first->due_ns <= now ? 0 : (long)((first->due_ns - now + 999999) / 1000000);
        }
        size_t item_count = build_poll_items(&worker);
        if (item_count == 0) {
            rill_log_error(NULL, "out of memory for the poll set");
            goto out;
        }
        zmq_pollitem_t *items = worker.items;
        if (zmq_poll(items, (int)item_count, timeout_ms) < 0) {
            if (errno == EINTR)
                continue;
            rill_log_error(NULL, "poll failed: %s", zmq_strerror(errno));
            goto out;
        }
        if (items[0].revents & ZMQ_POLLIN) {
            rill_received_t received;
            int got;
            while (worker.running && (got = rill_protocol_receive(worker.dealer, &received)) > 0) {
                handle_message(&worker, &received);
                rill_received_close(&received);
            }
        }
        if (items[1].revents & ZMQ_POLLIN)
            handle_signal(&worker);
        dispatch_fd_events(&worker, item_count);
        rill_timer_heap_run(&worker.timers, rill_clock_monotonic_ns());
    }
    rill_log_info(NULL, "worker %s stopped", options->name);
    status = 0;
out:
    worker_release(&worker);
    current_worker = NULL;
    return status;
}
