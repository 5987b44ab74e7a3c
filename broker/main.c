/*
 * main.c - rill-broker's process: flags, config, signals and the loop.
 *
 * Here the broker meets its sockets: main.c opens them (sockets.h), gives
 * the broker an outbox made of the channels' senders (outbox.h), and hands
 * each channel its socket when poll says it is readable. Nothing else in
 * broker/ knows both.
 *
 * Signals are blocked before any ZeroMQ thread exists and read from a
 * signalfd polled with the three sockets, so SIGTERM/SIGINT end the loop
 * cleanly (everything freed: the tests run under LeakSanitizer) and SIGHUP
 * reloads the config between two messages, never in the middle of one.
 * The loop: poll, drain each ready socket a burst at a time, run the timers,
 * dispatch if anything may have become dispatchable.
 */
#include "broker.h"
#include "check.h"
#include "control_channel.h"
#include "dispatch.h"
#include "events.h"
#include "events_channel.h"
#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_log.h"
#include "rill_cpus.h"
#include "rill_scheduler.h"
#include "colocate.h"
#include "rill_quiet_cpu.h"
#include "rill_run_lock.h"
#include "sockets.h"
#include "standby.h"
#include "tick.h"
#include "worker_channel.h"
#include "worker_life.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define TICK_MS 50

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rill-broker [options]\n"
            "\n"
            "The rill broker: holds the jobs and responses subjects, dispatches jobs to\n"
            "workers, tracks interest, retains events for replay.\n"
            "\n"
            "  --run-dir DIR   run directory for ipc sockets, mode 0700 (env RILL_RUN_DIR;\n"
            "                  default ./run)\n"
            "  --control EP    frontends' endpoint (env RILL_CONTROL_ENDPOINT;\n"
            "                  default ipc://DIR/control.sock)\n"
            "  --events EP     events endpoint (env RILL_EVENTS_ENDPOINT;\n"
            "                  default ipc://DIR/events.sock)\n"
            "  --workers EP    workers' endpoint (env RILL_WORKERS_ENDPOINT;\n"
            "                  default ipc://DIR/workers.sock)\n"
            "  --config FILE   JSON configuration (env RILL_CONFIG; default: built-in)\n"
            "  --log LEVEL     error, warn, info or debug (env RILL_LOG; default info)\n"
            "  --pair-bind EP  be the primary of a standby pair: bind the peer link there\n"
            "                  (env RILL_PAIR_BIND; docs/RELIABILITY.md \"Standby broker\")\n"
            "  --standby-of EP be the backup of the primary whose --pair-bind is EP\n"
            "                  (env RILL_STANDBY_OF)\n"
            "  --check         start no broker: PING the one at the control endpoint (a\n"
            "                  tcp://*:PORT bind is reached at 127.0.0.1:PORT) and exit 0\n"
            "                  when it answers, else 1 with the reason (a probe)\n"
            "  --timeout-ms N  how long --check waits for the answer (default 2000)\n"
            "  --help          this text\n"
            "\n"
            "Env RILL_START_EPOCH_MS: the system's start (ms since the epoch; ./rill up\n"
            "sets it): log lines count ms from it, else from this process's start.\n"
            "Env RILL_SCHEDULER: batch (default) or normal. Env RILL_COLOCATE_PARTS_PER_S:\n"
            "from that many job parts a second (default 30000; 0: never) every thread\n"
            "shares one CPU. Env RILL_PLACEMENT=split|none, RILL_CPUS=LIST,\n"
            "RILL_PLACEMENT_BUSY_PER_S: where it runs (docs/CONFIG.md).\n"
            "Signals: SIGTERM/SIGINT exit cleanly; SIGHUP reloads the config file.\n");
}

typedef struct {
    rill_endpoints_t endpoints;
    const char *config_path;
    const char *log_level;
    int check;           /* --check: probe a running broker, start none */
    uint64_t timeout_ms; /* --timeout-ms: its wait */
    const char *pair_bind;  /* --pair-bind: the primary of a standby pair (rill/6) */
    const char *standby_of; /* --standby-of: its backup */
} options_t;

/* 0 to run, 1 to exit 0 (help), 2 to exit 2 (usage). */
static int parse_options(int argc, char **argv, options_t *options)
{
    static const struct option long_options[] = {
        {"help", no_argument, NULL, 'h'},      {"run-dir", required_argument, NULL, 'r'},
        {"control", required_argument, NULL, 'c'}, {"events", required_argument, NULL, 'e'},
        {"workers", required_argument, NULL, 'w'}, {"config", required_argument, NULL, 'f'},
        {"log", required_argument, NULL, 'l'},     {"check", no_argument, NULL, 'k'},
        {"timeout-ms", required_argument, NULL, 't'}, {"pair-bind", required_argument, NULL, 'p'},
        {"standby-of", required_argument, NULL, 's'},   {NULL, 0, NULL, 0},
    };
    rill_endpoints_from_environment(&options->endpoints);
    options->config_path = getenv("RILL_CONFIG");
    options->log_level = getenv("RILL_LOG");
    options->check = 0;
    options->timeout_ms = 2000;
    options->pair_bind = getenv("RILL_PAIR_BIND");
    options->standby_of = getenv("RILL_STANDBY_OF");
    opterr = 0;
    int option;
    while ((option = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        const char *name = NULL;
        switch (option) {
        case 'h':
            usage(stdout);
            return 1;
        case 'r':
            name = "run-dir";
            break;
        case 'c':
            name = "control";
            break;
        case 'e':
            name = "events";
            break;
        case 'w':
            name = "workers";
            break;
        case 'f':
            options->config_path = optarg;
            break;
        case 'l':
            options->log_level = optarg;
            break;
        case 'k':
            options->check = 1;
            break;
        case 'p':
            options->pair_bind = optarg;
            break;
        case 's':
            options->standby_of = optarg;
            break;
        case 't': {
            char *end = NULL;
            unsigned long long value = strtoull(optarg, &end, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || value < 1 || value > 600000) {
                fprintf(stderr, "rill-broker: --timeout-ms must be a number from 1 to 600000\n");
                return 2;
            }
            options->timeout_ms = value;
            break;
        }
        default:
            fprintf(stderr, "rill-broker: unknown option or missing value: %s\n",
                    optind > 0 && optind <= argc ? argv[optind - 1] : "?");
            usage(stderr);
            return 2;
        }
        if (name != NULL && rill_endpoints_set(&options->endpoints, name, optarg) != 0) {
            fprintf(stderr, "rill-broker: --%s value too long\n", name);
            return 2;
        }
    }
    if (options->pair_bind != NULL && options->pair_bind[0] == '\0')
        options->pair_bind = NULL;
    if (options->standby_of != NULL && options->standby_of[0] == '\0')
        options->standby_of = NULL;
    if (options->pair_bind != NULL && options->standby_of != NULL) {
        fprintf(stderr, "rill-broker: --pair-bind (the primary) and --standby-of (the backup) exclude each other\n");
        return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "rill-broker: unexpected argument: %s\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return 0;
}

static int load_config(const char *path, rill_config_t *config, char *error, size_t error_size)
{
    if (path == NULL || path[0] == '\0') {
        rill_config_defaults(config);
        return 0;
    }
    return rill_config_load(path, config, error, error_size);
}

static int uses_ipc(const rill_endpoints_t *endpoints)
{
    return strncmp(endpoints->control, "ipc://", 6) == 0 || strncmp(endpoints->events, "ipc://", 6) == 0 ||
           strncmp(endpoints->workers, "ipc://", 6) == 0;
}

static void reload(rill_broker_t *broker, const char *path)
{
    rill_config_t config = broker->config;
    if (rill_config_reload(path, &config) == 0)
        rill_broker_set_config(broker, &config);
}

/* Returns 1 when the loop must end. */
static int read_signals(int fd, rill_broker_t *broker, const char *config_path)
{
    struct signalfd_siginfo info;
    int stop = 0;
    for (;;) {
        ssize_t got = read(fd, &info, sizeof(info));
        if (got != (ssize_t)sizeof(info))
            break;
        if (info.ssi_signo == SIGHUP) {
            reload(broker, config_path);
        } else {
            rill_log_info(NULL, "%s: exiting", info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
            stop = 1;
        }
    }
    return stop;
}

static int run(rill_broker_t *broker, rill_broker_sockets_t *sockets, rill_standby_t *standby,
               rill_colocate_t *colocate, rill_quiet_cpu_t *quiet, int signal_fd, const char *config_path)
{
    uint64_t next_tick = rill_clock_monotonic_ms() + TICK_MS;
    for (;;) {
        uint64_t now = rill_clock_monotonic_ms();
        long timeout = next_tick > now ? (long)(next_tick - now) : 0;
        /* A debounce quiet period or a buffer window may end before the tick. */
        /* (Not for a standby that does not serve: it dispatches nothing.) */
        int idle = standby != NULL && !rill_standby_serves(standby);
        uint64_t due = idle ? UINT64_MAX : rill_broker_next_due(broker);
        if (due != UINT64_MAX && (due <= now || (long)(due - now) < timeout))
            timeout = due > now ? (long)(due - now) : 0;
        if (broker->dispatch_needed && !idle)
            timeout = 0;
        /* The previous pass's follower batches leave now, before poll
         * (events.h): an event never waits for a later pass. */
        rill_events_flush(broker);
        /* A standby pair's active mirrors this pass's changes (standby.h). */
        if (standby != NULL && rill_standby_flush(standby, now))
            timeout = 0;
        /* Events the XPUB refused go first; while any wait, the workers
         * are not read (back-pressure: events_channel.h). */
        int events_wait = rill_events_channel_flush(sockets, now, broker->config.heartbeat_ms);
        if (rill_events_channel_take_risk(sockets))
            broker->events_at_risk_ms = now;
        if (events_wait && timeout > 1)
            timeout = 1;
        /* The two monitors (disconnects, only logged) are read on the
         * tick, not polled: zmq_poll costs each socket a few syscalls a
         * pass (libzmq's mailbox checks). */
        zmq_pollitem_t items[6] = {
            {sockets->workers, 0, events_wait ? 0 : ZMQ_POLLIN, 0},
            {sockets->control, 0, ZMQ_POLLIN, 0},
            {sockets->events, 0, ZMQ_POLLIN, 0},
            {NULL, signal_fd, ZMQ_POLLIN, 0},
            {standby != NULL ? rill_standby_link_socket(standby) : NULL, -1, ZMQ_POLLIN, 0},
            {standby != NULL ? rill_standby_monitor_socket(standby) : NULL, -1, ZMQ_POLLIN, 0},
        };
        if (zmq_poll(items, standby != NULL ? 6 : 4, timeout) < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ETERM)
                return 0;
            rill_log_error(NULL, "poll failed: %s", zmq_strerror(errno));
            return 1;
        }
        if ((items[3].revents & ZMQ_POLLIN) && read_signals(signal_fd, broker, config_path))
            return 0;
        /* Interest first: a barrier token or an unsubscribe may change what
         * the other two do with their messages. */
        if (items[2].revents & ZMQ_POLLIN)
            rill_events_channel_receive(broker, sockets->events);
        now = rill_clock_monotonic_ms();
        if (standby != NULL && (items[4].revents & ZMQ_POLLIN))
            rill_standby_read_link(standby, now);
        if (standby != NULL && (items[5].revents & ZMQ_POLLIN))
            rill_standby_read_monitor(standby, now);
        /* A broker of a pair that is not the active one answers nobody. */
        int serving = standby == NULL || rill_standby_serves(standby);
        if ((items[0].revents & ZMQ_POLLIN) && serving)
            rill_worker_channel_receive(broker, sockets->workers);
        else if (items[0].revents & ZMQ_POLLIN)
            rill_standby_drop_clients(standby, sockets->workers, 1, now);
        if ((items[1].revents & ZMQ_POLLIN) && serving)
            rill_control_channel_receive(broker, sockets->control);
        else if (items[1].revents & ZMQ_POLLIN)
            rill_standby_drop_clients(standby, sockets->control, 0, now);
        now = rill_clock_monotonic_ms();
        if (rill_events_channel_take_risk(sockets)) /* before the tick's syncs */
            broker->events_at_risk_ms = now;
        if (now >= next_tick) {
            /* Busy, its threads share a CPU (colocate.h). */
            rill_colocate_tick(colocate, broker->counters->parts, now);
            /* Quiet, on the frontend's CPU (rill_quiet_cpu.h). */
            rill_quiet_cpu_tick(quiet, broker->counters->events_published, now, rill_colocate_pinned(colocate));
            rill_broker_sockets_read_monitor(sockets, sockets->workers_monitor, "workers");
            rill_broker_sockets_read_monitor(sockets, sockets->control_monitor, "control");
            if (standby != NULL)
                rill_standby_tick(standby, now);
            if (standby == NULL || rill_standby_serves(standby))
                rill_broker_tick(broker, now);
            next_tick = now + TICK_MS;
        }
        if (standby != NULL && !rill_standby_serves(standby))
            continue; /* nor dispatch: the active does */
        rill_broker_reap(broker);
        if (due != UINT64_MAX && rill_clock_monotonic_ms() >= due)
            broker->dispatch_needed = 1;
        if (broker->dispatch_needed)
            rill_broker_dispatch(broker);
    }
}

int main(int argc, char **argv)
{
    /* jansson allocates through rill_alloc.h too: out of memory aborts
     * there as everywhere, so a NULL from jansson means bad input only. */
    json_set_alloc_funcs(rill_xmalloc, free);
    rill_log_init("broker");
    /* Blocks of 4 MiB and more (the retention rings of jobs with large
     * parts, the job index) get their own mappings: freed, they go back to
     * the kernel, and a ring grows by mremap without a second copy. glibc
     * would otherwise raise this threshold each time such a block is freed
     * and serve the next ones from its heap, where the holes they leave stay
     * resident (test_bounds.py's broker: 71-88 MB peak without it, 66-73 MB with it). */
    if (mallopt(M_MMAP_THRESHOLD, 4 << 20) != 1) /* refused under ASan's allocator */
        rill_log_debug(NULL, "mallopt(M_MMAP_THRESHOLD) refused: large blocks stay in the heap");
    options_t options;
    int parsed = parse_options(argc, argv, &options);
    if (parsed != 0)
        return parsed == 1 ? 0 : 2;
    if (options.log_level != NULL && options.log_level[0] != '\0' &&
        rill_log_set_level_name(options.log_level) != 0) {
        fprintf(stderr, "rill-broker: unknown log level \"%s\" (error, warn, info, debug)\n",
                options.log_level);
        return 2;
    }
    rill_config_t config;
    char error[512];
    /* Before any thread: libzmq's inherit them. The broker's default is
     * SCHED_BATCH (rill_scheduler.h); its CPUs, RILL_CPUS or
     * RILL_PLACEMENT's (rill_cpus.h). */
    if (rill_scheduler_apply_from_environment(RILL_SCHEDULER_BATCH, error, sizeof(error)) != 0 ||
        rill_cpus_apply_from_environment(RILL_PLACEMENT_BACKEND, error, sizeof(error)) != 0) {
        fprintf(stderr, "rill-broker: %s\n", error);
        return 2;
    }
    uint64_t colocate_above = 0, busy_per_s = 0;
    if (rill_colocate_threshold_from_environment(&colocate_above, error, sizeof(error)) != 0 ||
        rill_quiet_cpu_threshold_from_environment(&busy_per_s, error, sizeof(error)) != 0) {
        fprintf(stderr, "rill-broker: %s\n", error);
        return 2;
    }
    if (load_config(options.config_path, &config, error, sizeof(error)) != 0) {
        fprintf(stderr, "rill-broker: bad config: %s\n", error);
        return 2;
    }
    if (rill_endpoints_finish(&options.endpoints, error, sizeof(error)) != 0) {
        fprintf(stderr, "rill-broker: %s\n", error);
        return 2;
    }
    if (options.check)
        return rill_broker_check_run(options.endpoints.control, options.timeout_ms, config.max_message_bytes,
                                     stdout, stderr);
    if (uses_ipc(&options.endpoints) &&
        rill_endpoints_prepare_run_dir(&options.endpoints, error, sizeof(error)) != 0) {
        fprintf(stderr, "rill-broker: %s\n", error);
        return 1;
    }
    /* A run directory a broker used before has its lock file: workers may
     * run jobs of that broker and report them (the recovery window). */
    char lock_path[RILL_ENDPOINT_MAX + sizeof(RILL_RUN_LOCK_NAME) + 2];
    snprintf(lock_path, sizeof(lock_path), "%s/%s", options.endpoints.run_dir, RILL_RUN_LOCK_NAME);
    int first_broker = uses_ipc(&options.endpoints) && access(lock_path, F_OK) != 0;
    /* One broker per run directory (rill_run_lock.h): held until exit. */
    int run_lock = -1;
    if (uses_ipc(&options.endpoints) &&
        (run_lock = rill_run_lock_acquire(options.endpoints.run_dir, error, sizeof(error))) < 0) {
        fprintf(stderr, "rill-broker: %s\n", error);
        return 1;
    }
    /* Before any ZeroMQ thread exists, so every thread inherits the mask. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &signals, NULL) != 0) {
        fprintf(stderr, "rill-broker: cannot block signals: %s\n", strerror(errno));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    int signal_fd = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd < 0) {
        fprintf(stderr, "rill-broker: signalfd: %s\n", strerror(errno));
        return 1;
    }
    zsys_handler_set(NULL);
    rill_broker_sockets_t *sockets =
        rill_broker_sockets_new(&options.endpoints, config.max_message_bytes, config.heartbeat_ms, error,
                                sizeof(error));
    /* The broker's outbox: the channels' senders over these sockets. */
    rill_outbox_t outbox = {
        .context = sockets,
        .publish = rill_events_channel_publish,
        .send_worker = rill_worker_channel_send,
        .reply = rill_control_channel_reply,
    };
    rill_broker_t *broker = sockets != NULL ? rill_broker_new(&config, &outbox, error, sizeof(error)) : NULL;
    if (broker == NULL) {
        rill_log_error(NULL, "%s", error);
        rill_broker_sockets_destroy(&sockets);
        close(signal_fd);
        zsys_shutdown();
        return 1;
    }
    if (first_broker)
        rill_broker_end_recovery(broker);
    rill_standby_t *standby = NULL;
    if (options.pair_bind != NULL || options.standby_of != NULL) {
        standby = rill_standby_new(broker, options.pair_bind != NULL ? options.pair_bind : options.standby_of,
                                   options.pair_bind != NULL, error, sizeof(error));
        if (standby == NULL) {
            rill_log_error(NULL, "%s", error);
            rill_broker_destroy(&broker);
            rill_broker_sockets_destroy(&sockets);
            close(signal_fd);
            zsys_shutdown();
            rill_run_lock_release(&run_lock);
            return 1;
        }
    }
    rill_log_info(NULL, "broker %s up: workers %s, control %s, events %s; %zu kinds, heartbeat %llu ms%s",
                  broker->instance_id, options.endpoints.workers, options.endpoints.control,
                  options.endpoints.events, config.kind_count, (unsigned long long)config.heartbeat_ms,
                  first_broker ? "" : "; recovering the jobs workers still run");
    rill_colocate_t *colocate = rill_colocate_new(colocate_above);
    rill_quiet_cpu_t *quiet = rill_quiet_cpu_new(busy_per_s, "events");
    int status = run(broker, sockets, standby, colocate, quiet, signal_fd, options.config_path);
    rill_quiet_cpu_destroy(&quiet);
    rill_colocate_destroy(&colocate);
    rill_standby_destroy(&standby);
    rill_log_info(NULL, "broker %s down: %llu jobs submitted, %llu parts, %llu malformed",
                  broker->instance_id, (unsigned long long)broker->counters->jobs_submitted,
                  (unsigned long long)broker->counters->parts,
                  (unsigned long long)broker->counters->malformed);
    rill_broker_destroy(&broker);
    rill_broker_sockets_destroy(&sockets);
    close(signal_fd);
    zsys_shutdown();
    rill_run_lock_release(&run_lock);
    return status;
}
