/*
 * main.c - rill-frontend: flags, signals and the loop.
 *
 * Reads flags and environment, makes the one frontend (frontend.h), runs
 * h2o's evloop on a single thread, and on SIGTERM or SIGINT drains it -
 * stop accepting, end every open stream with a closing notice carrying its
 * cursor (at most RILL_FRONTEND_DRAIN_MS for queued bytes to flush), close
 * the sockets, free everything - and exits 0. SIGHUP reloads the config file
 * and the TLS certificate (tls.h). Signals reach the loop through a self-pipe.
 */
#include "frontend.h"
#include "read_yield.h"
#include "write_pacing.h"

#include "rill_config.h"
#include "rill_endpoints.h"
#include "rill_log.h"
#include "rill_cpus.h"
#include "rill_scheduler.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define DEFAULT_LISTEN "127.0.0.1:8080"

static int signal_pipe[2] = {-1, -1};
static volatile sig_atomic_t stop_requested;
/* The config file named at start, re-read on SIGHUP. */
static const char *config_path_for_reload;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rill-frontend [options]\n"
            "\n"
            "The rill HTTP frontend: accepts jobs over HTTP and streams their events.\n"
            "\n"
            "  --listen HOST:PORT  address to serve HTTP on (env RILL_LISTEN; default %s)\n"
            "  --run-dir DIR       run directory of the ipc sockets (env RILL_RUN_DIR; default ./run)\n"
            "  --control EP        broker control endpoint (env RILL_CONTROL_ENDPOINT;\n"
            "                      default ipc://RUN/control.sock); EP,EP: a broker\n"
            "                      and its standby (docs/CONFIG.md \"Standby broker\")\n"
            "  --events EP         broker events endpoint (env RILL_EVENTS_ENDPOINT;\n"
            "                      default ipc://RUN/events.sock); a list as long as\n"
            "                      --control's, in the same order\n"
            "  --config FILE       configuration file (env RILL_CONFIG)\n"
            "  --tls-cert FILE     serve HTTPS (HTTP/2 by ALPN) with this PEM certificate chain\n"
            "                      (env RILL_TLS_CERT; else the config's tls_cert)\n"
            "  --tls-key FILE      ... and this PEM private key (env RILL_TLS_KEY; else tls_key)\n"
            "  --log LEVEL         error, warn, info or debug (env RILL_LOG; default info)\n"
            "  --help              show this text\n"
            "Env RILL_START_EPOCH_MS: the system's start (ms since the epoch; ./rill up sets it):\n"
            "log lines count ms from it, else from this process's start.\n"
            "Env RILL_BUSY_PERCENT: from that share of a CPU (default 80; 0: always) the\n"
            "frontend is busy and its streams' writes wait busy_flush_ms (docs/CONFIG.md).\n"
            "Signals: SIGTERM/SIGINT end every stream and exit; SIGHUP reloads the config file\n"
            "and the TLS certificate.\n",
            DEFAULT_LISTEN);
}

static void on_signal(int signal_number)
{
    int saved = errno;
    char byte = (char)signal_number;
    if (signal_number != SIGHUP)
        stop_requested = 1;
    if (signal_pipe[1] >= 0 && write(signal_pipe[1], &byte, 1) < 0) {
        /* the pipe is full: a stop is already pending */
    }
    errno = saved;
}

static void on_signal_readable(h2o_socket_t *sock, const char *err)
{
    (void)err;
    char buffer[64];
    ssize_t got;
    int reload = 0;
    while ((got = read(signal_pipe[0], buffer, sizeof(buffer))) > 0) {
        for (ssize_t i = 0; i < got; i++)
            reload |= buffer[i] == SIGHUP;
    }
    if (reload)
        rill_frontend_reload(sock->data, config_path_for_reload);
    /* h2o_evloop_run returns after this callback; main sees stop_requested. */
}

static int install_signals(void)
{
    if (pipe2(signal_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
        return -1;
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &action, NULL) != 0)
        return -1;
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGTERM, &action, NULL) != 0 || sigaction(SIGINT, &action, NULL) != 0 ||
        sigaction(SIGHUP, &action, NULL) != 0)
        return -1;
    return 0;
}

static void raise_file_limit(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
            rill_log_warn(NULL, "cannot raise the open file limit: %s", strerror(errno));
    }
}

static int endpoint_is_ipc(const char *endpoint)
{
    return strncmp(endpoint, "ipc://", 6) == 0;
}

/* What the flags and the environment say. */
typedef struct {
    rill_endpoints_t endpoints;
    const char *listen_address;
    const char *config_path;
    const char *log_level;
    rill_tls_options_t tls; /* its config_path is set once the flags are read */
} flags_t;

/* Returns -1 to go on, else the exit status (help, or a bad flag). */
static int read_flags(int argc, char **argv, flags_t *flags)
{
    static const struct option options[] = {
        {"listen", required_argument, NULL, 'l'}, {"run-dir", required_argument, NULL, 'r'},
        {"control", required_argument, NULL, 'c'}, {"events", required_argument, NULL, 'e'},
        {"workers", required_argument, NULL, 'w'}, {"config", required_argument, NULL, 'f'},
        {"log", required_argument, NULL, 'L'},     {"help", no_argument, NULL, 'h'},
        {"tls-cert", required_argument, NULL, 'C'}, {"tls-key", required_argument, NULL, 'K'},
        {NULL, 0, NULL, 0},
    };
    rill_endpoints_from_environment(&flags->endpoints);
    rill_endpoints_allow_lists(&flags->endpoints); /* a broker and its standby */
    flags->listen_address = getenv("RILL_LISTEN");
    if (flags->listen_address == NULL || flags->listen_address[0] == '\0')
        flags->listen_address = DEFAULT_LISTEN;
    flags->config_path = getenv("RILL_CONFIG");
    flags->tls.config_path = NULL;
    flags->log_level = getenv("RILL_LOG");
    flags->tls.cert_flag = getenv("RILL_TLS_CERT");
    flags->tls.key_flag = getenv("RILL_TLS_KEY");
    int option;
    while ((option = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (option) {
        case 'l':
            flags->listen_address = optarg;
            break;
        case 'r':
        case 'c':
        case 'e':
        case 'w': {
            const char *name = option == 'r'   ? "run-dir"
                               : option == 'c' ? "control"
                               : option == 'e' ? "events"
                                               : "workers";
            if (rill_endpoints_set(&flags->endpoints, name, optarg) != 0) {
                fprintf(stderr, "rill-frontend: --%s value too long\n", name);
                return 2;
            }
            break;
        }
        case 'f':
            flags->config_path = optarg;
            break;
        case 'L':
            flags->log_level = optarg;
            break;
        case 'C':
            flags->tls.cert_flag = optarg;
            break;
        case 'K':
            flags->tls.key_flag = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "rill-frontend: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (flags->log_level != NULL && flags->log_level[0] != '\0' &&
        rill_log_set_level_name(flags->log_level) != 0) {
        fprintf(stderr, "rill-frontend: unknown log level \"%s\"\n", flags->log_level);
        return 2;
    }
    return -1;
}

int main(int argc, char **argv)
{
    rill_log_init("frontend");
    flags_t flags;
    int status = read_flags(argc, argv, &flags);
    if (status >= 0)
        return status;
    char error[512];
    /* Before any thread: libzmq's inherit them. The frontend's default is
     * Linux's, so it keeps up with the events (rill_scheduler.h); its
     * CPUs, RILL_CPUS or RILL_PLACEMENT's (rill_cpus.h). */
    if (rill_scheduler_apply_from_environment(RILL_SCHEDULER_NORMAL, error, sizeof(error)) != 0 ||
        rill_cpus_apply_from_environment(RILL_PLACEMENT_FRONTEND, error, sizeof(error)) != 0) {
        fprintf(stderr, "rill-frontend: %s\n", error);
        return 2;
    }
    static rill_config_t config; /* large: not on the stack */
    rill_config_defaults(&config);
    if (flags.config_path != NULL && flags.config_path[0] != '\0' &&
        rill_config_load(flags.config_path, &config, error, sizeof(error)) != 0) {
        rill_log_error(NULL, "config %s refused: %s", flags.config_path, error);
        return 2;
    }
    if (rill_endpoints_finish(&flags.endpoints, error, sizeof(error)) != 0) {
        rill_log_error(NULL, "%s", error);
        return 2;
    }
    /* Index i of each list is one broker: they switch together. */
    if (rill_endpoints_count(flags.endpoints.control) != rill_endpoints_count(flags.endpoints.events)) {
        rill_log_error(NULL, "control endpoints \"%s\" and events endpoints \"%s\" must list as many "
                       "brokers, in the same order", flags.endpoints.control, flags.endpoints.events);
        return 2;
    }
    if ((endpoint_is_ipc(flags.endpoints.control) || endpoint_is_ipc(flags.endpoints.events)) &&
        rill_endpoints_prepare_run_dir(&flags.endpoints, error, sizeof(error)) != 0) {
        rill_log_error(NULL, "%s", error);
        return 1;
    }
    if (install_signals() != 0) {
        rill_log_error(NULL, "cannot install signal handlers: %s", strerror(errno));
        return 1;
    }
    raise_file_limit();
    flags.tls.config_path = flags.config_path;
    uint64_t busy_percent = 0;
    uint64_t read_yield_per_s = 0;
    if (rill_write_pacing_percent_from_environment(&busy_percent, error, sizeof(error)) != 0 ||
        rill_read_yield_from_environment(&read_yield_per_s, error, sizeof(error)) != 0) {
        rill_log_error(NULL, "%s", error);
        return 2;
    }
    rill_frontend_t *frontend = rill_frontend_new(&config, &flags.endpoints, flags.listen_address, &flags.tls);
    if (frontend == NULL)
        return 1;
    rill_frontend_set_busy_percent(frontend, busy_percent);
    rill_frontend_set_read_yield(frontend, read_yield_per_s);
    h2o_loop_t *loop = rill_frontend_loop(frontend);
    h2o_socket_t *signal_watch = h2o_evloop_socket_create(loop, signal_pipe[0], H2O_SOCKET_FLAG_DONT_READ);
    signal_watch->data = frontend;
    if (flags.config_path != NULL && flags.config_path[0] != '\0')
        config_path_for_reload = flags.config_path;
    h2o_socket_read_start(signal_watch, on_signal_readable);

    while (!stop_requested)
        h2o_evloop_run(loop, INT32_MAX);

    rill_frontend_drain(frontend);
    h2o_socket_read_stop(signal_watch);
    h2o_socket_close(signal_watch); /* closes signal_pipe[0] once the loop runs */
    rill_frontend_destroy(&frontend);
    close(signal_pipe[1]);
    rill_log_info(NULL, "stopped");
    return 0;
}
