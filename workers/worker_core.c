/*
 * worker_core.c - one worker process: its parts put together, and the loop.
 *
 * The loop polls the broker socket, the signalfd (SIGTERM, SIGINT, SIGHUP,
 * SIGCHLD), a timerfd and every fd a kind watches, then runs the timers
 * that are due.
 * Messages from the broker are dispatched here: BATCH, CANCEL and PAUSE to the job
 * registry, WELCOME and REJOIN to the link (worker_link.h says what they
 * mean) and then to the registry (which jobs go on, which stop).
 *
 * Back-pressure: what the worker sends waits in the link's outbox until the
 * socket takes it (the broker socket is polled for POLLOUT meanwhile).
 * While the outbox is over its high-water mark and a broker listens, the
 * kinds are not served: their fds are not polled and their timers (a heap
 * of their own) do not run, so a child blocks on its stdout pipe, a tailed
 * file is not read and an upstream body waits in TCP; the core's own work
 * (messages from the broker, signals, heartbeats, children) goes on. Under
 * the low-water mark the kinds are served again (worker_link.h).
 *
 * Timers: the timerfd wakes the loop when the first timer is due, to the
 * microsecond (zmq_poll's timeout counts whole milliseconds: a timer due in
 * 2.1 ms fired at 3, and the demo jobs of many clients, each on its own
 * phase, fired in millisecond clumps that went down the path as bursts).
 * The loop waits for the kinds' timers at most once a millisecond, though
 * (two while the worker is busy: timer_gap.h): a worker with thousands of
 * jobs still sends each run's parts as one PARTS batch (docs/BENCHMARKS.md,
 * 2026-12-02 06:50).
 *
 * Drain: SIGTERM sends BYE (no new jobs), lets held jobs finish for up to
 * drain_ms, then hands the rest back with RETURN so the broker re-dispatches
 * them, and exits. A second SIGTERM skips the wait. SIGHUP re-reads the
 * config; SIGCHLD reaps children (children.h).
 */
#include "worker_core.h"

#include "rill_clock.h"
#include "rill_log.h"
#include "rill_messages.h"
#include "rill_protocol.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* HELLO (when none is unanswered): the credit it grants in all - none
 * beyond what it holds while draining - and the jobs it runs. */
static void send_hello(rill_worker_context_t *worker)
{
    uint64_t held = rill_job_registry_count(&worker->jobs);
    rill_hello_job_t *jobs = NULL;
    size_t count = rill_job_registry_report(&worker->jobs, &jobs);
    rill_worker_link_hello(&worker->link, worker->options->name, worker->jobs.served, worker->jobs.served_count,
                           worker->draining ? held : worker->options->credit, jobs, count);
    free(jobs);
}

/* A draining worker stops once it holds no job. */
static int keep_running(rill_worker_context_t *worker)
{
    if (worker->draining && rill_job_registry_count(&worker->jobs) == 0)
        worker->running = 0;
    return worker->running;
}

/* ---- messages from the broker ---- */

static void handle_batch(rill_worker_context_t *worker, rill_frame_t body)
{
    rill_batch_read_t batch;
    char error[256];
    if (rill_batch_read(body.data, body.size, &batch, error, sizeof(error)) != 0) {
        worker->link.malformed++;
        rill_log_warn(NULL, "malformed BATCH from the broker: dropped (%s)", error);
        return;
    }
    /* A malformed entry (valid = 0) is dropped there; the rest still runs. */
    rill_job_registry_start(&worker->jobs, batch.jobs, batch.count, batch.ordered, worker->draining);
    rill_batch_read_release(&batch);
}

static void handle_cancel(rill_worker_context_t *worker, rill_frame_t job_id)
{
    char id[RILL_JOB_ID_LENGTH + 1];
    memcpy(id, job_id.data, RILL_JOB_ID_LENGTH);
    id[RILL_JOB_ID_LENGTH] = '\0';
    rill_worker_job_t *job = rill_job_registry_find(&worker->jobs, id);
    if (job != NULL) {
        rill_log_info(rill_worker_job_who(job), "job %s cancelled by the broker", id);
        rill_job_registry_cancel(&worker->jobs, job);
    }
}

/* PAUSE id 0|1: a job this worker no longer holds is none of its business. */
static void handle_pause(rill_worker_context_t *worker, rill_frame_t job_id, rill_frame_t flag)
{
    char id[RILL_JOB_ID_LENGTH + 1];
    memcpy(id, job_id.data, RILL_JOB_ID_LENGTH);
    id[RILL_JOB_ID_LENGTH] = '\0';
    rill_worker_job_t *job = rill_job_registry_find(&worker->jobs, id);
    if (job != NULL)
        rill_job_registry_pause(&worker->jobs, job, flag.data[0] == '1');
}

static void send_topic_message(void *argument, const char *job_id, const char *topic, const char *data, size_t length)
{
    rill_worker_context_t *worker = argument;
    rill_frame_t frames[3] = {rill_frame_from_string(job_id), rill_frame_from_string(topic),
                              {(const uint8_t *)data, length}};
    rill_worker_link_send(&worker->link, RILL_COMMAND_TOPIC, frames, 3);
}

/* Joined again: the topic messages made meanwhile go now, after the
 * WELCOME's cancels (a cancelled job's are ignored by the broker). */
static void send_held_topic_messages(rill_worker_context_t *worker)
{
    size_t held = rill_topic_hold_count(worker->topic_hold);
    uint64_t dropped = rill_topic_hold_dropped(worker->topic_hold);
    if (held == 0 && dropped == 0)
        return;
    rill_topic_hold_send(worker->topic_hold, send_topic_message, worker);
    rill_log_info(NULL, "sent %zu topic message(s) held while no broker was joined%s", held,
                  dropped > 0 ? " (and markers for those dropped past the hold's bound)" : "");
    if (dropped > 0)
        rill_log_warn(NULL, "%llu topic message(s) dropped past the hold's bound (worker_hold_parts, worker_hold_bytes)",
                      (unsigned long long)dropped);
}

static void handle_welcome(rill_worker_context_t *worker, rill_frame_t body)
{
    rill_welcome_t welcome;
    char error[256];
    if (rill_welcome_decode(body.data, body.size, &welcome, error, sizeof(error)) != 0) {
        worker->link.malformed++;
        rill_log_warn(NULL, "malformed WELCOME from the broker: dropped (%s)", error);
        return;
    }
    rill_worker_link_welcome(&worker->link, &welcome);
    rill_job_registry_rejoined(&worker->jobs, &welcome);
    rill_welcome_release(&welcome);
    send_held_topic_messages(worker);
}

static void handle_message(rill_worker_context_t *worker, const rill_message_t *message)
{
    switch (message->command) {
    case RILL_COMMAND_WELCOME:
        handle_welcome(worker, message->arguments[0]);
        break;
    case RILL_COMMAND_BATCH:
        /* (rill/7) Several batches in one message: each as if it came alone. */
        for (size_t i = 0; i < message->argument_count; i++)
            handle_batch(worker, message->arguments[i]);
        break;
    case RILL_COMMAND_CANCEL:
        handle_cancel(worker, message->arguments[0]);
        break;
    case RILL_COMMAND_PAUSE:
        handle_pause(worker, message->arguments[0], message->arguments[1]);
        break;
    case RILL_COMMAND_REJOIN:
        rill_worker_link_rejoin(&worker->link);
        send_hello(worker);
        break;
    case RILL_COMMAND_PING:
    default:
        break;
    }
}

static void receive_messages(rill_worker_context_t *worker)
{
    rill_received_t received;
    rill_message_t message;
    while (keep_running(worker) && rill_worker_link_receive(&worker->link, &received, &message) > 0) {
        handle_message(worker, &message);
        rill_received_close(&received);
    }
}

/* ---- timers and signals ---- */

static void failover_tick(void *argument);

/* A broker and its standby (rill_failover.h): on the other one, HELLO at
 * once (the re-join: its jobs and held parts). The broker's silence is
 * judged again when it would reach 2 heartbeats, not a heartbeat later. */
static void check_failover(rill_worker_context_t *worker, int disconnected)
{
    if (rill_worker_link_failover(&worker->link, disconnected))
        send_hello(worker);
    uint64_t due_ms = rill_worker_link_silence_due_ms(&worker->link);
    if (due_ms != UINT64_MAX)
        rill_timer_heap_start(&worker->timers, &worker->failover_timer, due_ms, failover_tick, worker);
}

static void failover_tick(void *argument)
{
    check_failover(argument, 0);
}

static void heartbeat_tick(void *argument)
{
    rill_worker_context_t *worker = argument;
    check_failover(worker, 0);
    rill_worker_link_ping(&worker->link);
    if (!worker->link.joined)
        send_hello(worker); /* not before the last one is a heartbeat old */
    else /* an end older than this was not lost with a dying connection (sent_ends.h) */
        rill_job_registry_prune_ends(&worker->jobs, rill_clock_monotonic_ns() -
                                     RILL_SENT_END_KEEP_HEARTBEATS * worker->link.heartbeat_ms * 1000000u);
    rill_timer_heap_start(&worker->timers, &worker->heartbeat_timer, worker->link.heartbeat_ms, heartbeat_tick, worker);
}

/* Split-placed, quiet: on the frontend's CPU (rill_quiet_cpu.h). */
static void quiet_tick(void *argument)
{
    rill_worker_context_t *worker = argument;
    rill_quiet_cpu_tick(worker->quiet, worker->link.parts_sent, rill_clock_monotonic_ms(), 0);
    rill_timer_heap_start(&worker->timers, &worker->quiet_timer, RILL_QUIET_CPU_WINDOW_MS, quiet_tick, worker);
}

static void drain_deadline(void *argument)
{
    rill_worker_context_t *worker = argument;
    rill_log_info(NULL, "drain time is up: handing %zu jobs back", rill_job_registry_count(&worker->jobs));
    rill_job_registry_cancel_all(&worker->jobs, RILL_COMMAND_RETURN);
    worker->running = 0;
}

/* SIGHUP: re-read the config file; a bad one is refused and the old one stays.
 * Held jobs are untouched. */
static void reload_config(rill_worker_context_t *worker)
{
    if (rill_config_reload(worker->options->config_path, &worker->config) != 0)
        return;
    if (!worker->link.welcomed)
        worker->link.heartbeat_ms = worker->config.heartbeat_ms;
    rill_job_registry_set_hold(&worker->jobs, worker->config.worker_hold_parts, worker->config.worker_hold_bytes);
}

static void start_draining(rill_worker_context_t *worker, unsigned signal_number)
{
    size_t held = rill_job_registry_count(&worker->jobs);
    worker->draining = 1;
    rill_log_info(NULL, "signal %u: draining %zu jobs (at most %llu ms)", signal_number, held,
                  (unsigned long long)worker->options->drain_ms);
    rill_worker_link_send(&worker->link, RILL_COMMAND_BYE, NULL, 0);
    if (held == 0)
        worker->running = 0;
    else
        rill_timer_heap_start(&worker->timers, &worker->drain_timer, worker->options->drain_ms, drain_deadline, worker);
}

static void handle_signals(rill_worker_context_t *worker)
{
    struct signalfd_siginfo info;
    while (read(worker->signal_fd, &info, sizeof(info)) == (ssize_t)sizeof(info)) {
        if (info.ssi_signo == SIGHUP) {
            reload_config(worker);
        } else if (info.ssi_signo == SIGCHLD) {
            rill_children_reap(&worker->children);
        } else if (worker->draining) {
            rill_log_info(NULL, "second signal: handing jobs back now");
            drain_deadline(worker);
        } else {
            start_draining(worker, info.ssi_signo);
        }
    }
}

static int open_signals(rill_worker_context_t *worker)
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

/* ---- the loop ---- */

/* The path to the broker is full: the kinds wait (the loop's predicate). */
static int congested(void *argument)
{
    rill_worker_context_t *worker = argument;
    return rill_worker_link_congested(&worker->link);
}

/* The timerfd set to fire at wake_ns (CLOCK_MONOTONIC); 0, or -1 when
 * there is none. */
static int arm_wake(rill_worker_context_t *worker, uint64_t wake_ns)
{
    if (worker->wake_fd < 0)
        return -1;
    if (worker->wake_armed_ns == wake_ns)
        return 0;
    struct itimerspec at = {.it_value = {.tv_sec = (time_t)(wake_ns / 1000000000u),
                                         .tv_nsec = (long)(wake_ns % 1000000000u)}};
    if (timerfd_settime(worker->wake_fd, TFD_TIMER_ABSTIME, &at, NULL) != 0)
        return -1;
    worker->wake_armed_ns = wake_ns;
    return 0;
}

/* Until the first timer that may run: the core's, and the kinds' unless
 * paused. With the timerfd armed for it, the poll waits for that (-1). */
static long poll_timeout_ms(rill_worker_context_t *worker, int paused)
{
    uint64_t now = rill_clock_monotonic_ns();
    uint64_t wake = rill_timer_heap_wake_ns(&worker->timers, now, 0);
    if (!paused) {
        /* A run that waits for one to come due follows the last by at least
         * the gap; one already due (a demo part at interval 0) runs at once. */
        uint64_t gap = rill_timer_gap_update(&worker->kind_timer_gap, worker->link.parts_sent, now);
        uint64_t kinds = rill_timer_heap_wake_ns(&worker->kind_timers, now, worker->kinds_ran_ns + gap);
        if (kinds < wake)
            wake = kinds;
    }
    if (wake == UINT64_MAX)
        return -1;
    if (wake <= now)
        return 0;
    if (arm_wake(worker, wake) == 0)
        return -1;
    return (long)((wake - now + 999999) / 1000000); /* no timerfd: up to a millisecond late */
}

/* The timerfd fired: read, so that it is quiet until armed again. */
static void wake_fired(rill_worker_context_t *worker)
{
    uint64_t expirations;
    if (read(worker->wake_fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
        rill_log_warn(NULL, "timerfd read failed: %s", strerror(errno));
    worker->wake_armed_ns = 0;
}

/* Runs until stopped; returns 0, or -1 when polling failed. */
static int run_loop(rill_worker_context_t *worker)
{
    enum { BROKER, SIGNALS, MONITOR, WAKE, FIXED_ITEMS };
    void *monitor = rill_worker_link_monitor(&worker->link);
    zmq_pollitem_t fixed[FIXED_ITEMS] = {
        [BROKER] = {worker->link.dealer, 0, ZMQ_POLLIN, 0},
        [SIGNALS] = {NULL, worker->signal_fd, ZMQ_POLLIN, 0},
        /* Only with a standby: else an fd poll(2) ignores. */
        [MONITOR] = {monitor, -1, monitor != NULL ? ZMQ_POLLIN : 0, 0},
        [WAKE] = {NULL, worker->wake_fd, ZMQ_POLLIN, 0}, /* -1 (none): ignored */
    };
    worker->running = 1;
    while (keep_running(worker)) {
        rill_worker_link_flush(&worker->link);
        int paused = congested(worker);
        fixed[BROKER].events = (short)(ZMQ_POLLIN | (rill_worker_link_pending(&worker->link) ? ZMQ_POLLOUT : 0));
        long timeout_ms = poll_timeout_ms(worker, paused);
        size_t count = FIXED_ITEMS;
        zmq_pollitem_t *items =
            paused ? fixed : rill_fd_watches_poll_set(&worker->fd_watches, fixed, FIXED_ITEMS, &count);
        if (zmq_poll(items, (int)count, timeout_ms) < 0) {
            if (errno == EINTR)
                continue;
            rill_log_error(NULL, "poll failed: %s", zmq_strerror(errno));
            return -1;
        }
        if (items[BROKER].revents & ZMQ_POLLOUT)
            rill_worker_link_flush(&worker->link);
        if (items[BROKER].revents & ZMQ_POLLIN)
            receive_messages(worker);
        if (items[SIGNALS].revents & ZMQ_POLLIN)
            handle_signals(worker);
        if (items[WAKE].revents & ZMQ_POLLIN)
            wake_fired(worker);
        if (items[MONITOR].revents & ZMQ_POLLIN)
            check_failover(worker, rill_failover_disconnected(&worker->link.failover));
        if (!paused)
            rill_fd_watches_dispatch(&worker->fd_watches, FIXED_ITEMS, count, congested, worker);
        uint64_t now = rill_clock_monotonic_ns();
        rill_timer_heap_run(&worker->timers, now);
        if (rill_timer_heap_run_until(&worker->kind_timers, now, congested, worker) > 0)
            worker->kinds_ran_ns = now;
    }
    return 0;
}

static void worker_release(rill_worker_context_t *worker)
{
    rill_quiet_cpu_destroy(&worker->quiet);
    rill_job_registry_release(&worker->jobs);
    rill_topic_hold_destroy(&worker->topic_hold);
    rill_children_release(&worker->children);
    rill_fd_watches_release(&worker->fd_watches);
    rill_timer_heap_release(&worker->kind_timers);
    rill_timer_heap_release(&worker->timers);
    rill_worker_link_close(&worker->link);
    if (worker->signal_fd >= 0)
        close(worker->signal_fd);
    if (worker->wake_fd >= 0)
        close(worker->wake_fd);
}

int rill_worker_run(const rill_worker_options_t *options)
{
    rill_worker_context_t worker;
    memset(&worker, 0, sizeof(worker));
    worker.options = options;
    worker.config = options->config;
    worker.signal_fd = -1;
    worker.wake_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (worker.wake_fd < 0)
        rill_log_warn(NULL, "timerfd_create failed (%s): timers fire up to a millisecond late", strerror(errno));
    worker.topic_hold = rill_topic_hold_new();
    rill_timer_heap_init(&worker.timers);
    rill_timer_heap_init(&worker.kind_timers);
    rill_timer_gap_init(&worker.kind_timer_gap, options->gap_busy_per_s);
    rill_children_init(&worker.children, &worker.timers);
    rill_job_registry_init(&worker.jobs, &worker.link, &worker, &worker.kind_timers);
    rill_job_registry_set_hold(&worker.jobs, worker.config.worker_hold_parts, worker.config.worker_hold_bytes);
    int status = 1;
    if (rill_job_registry_serve(&worker.jobs, options->kinds) != 0)
        goto out;
    if (open_signals(&worker) != 0) {
        rill_log_error(NULL, "cannot watch signals: %s", strerror(errno));
        goto out;
    }
    if (rill_worker_link_open(&worker.link, options->endpoints.workers, options->config.heartbeat_ms,
                              options->config.max_message_bytes) != 0)
        goto out;
    rill_log_info(NULL, "worker %s connecting to %s (credit %llu)", options->name, options->endpoints.workers,
                  (unsigned long long)options->credit);
    send_hello(&worker);
    rill_timer_heap_start(&worker.timers, &worker.heartbeat_timer, worker.link.heartbeat_ms, heartbeat_tick, &worker);
    worker.quiet = rill_quiet_cpu_new(options->busy_per_s, "parts");
    if (worker.quiet != NULL)
        quiet_tick(&worker);
    if (run_loop(&worker) == 0) {
        rill_log_info(NULL, "worker %s stopped", options->name);
        status = 0;
    }
out:
    worker_release(&worker);
    return status;
}
