/*
 * main.c - rill-frontend: flags, signals, the h2o loop and its listener.
 *
 * Owns the process: reads flags and environment, builds the one
 * rill_frontend_t, runs h2o's evloop on a single thread, and on SIGTERM or
 * SIGINT drains - stop accepting, end every open stream with its final
 * chunk (at most ~2 s for queued bytes to flush), close the sockets, free
 * everything - and exits 0. Signals reach the loop through a self-pipe.
 */
#include "broker_link.h"
#include "frontend.h"
#include "http_api.h"
#include "stream.h"
#include "subject_registry.h"

#include "rill_clock.h"
#include "rill_config.h"
#include "rill_endpoints.h"
#include "rill_log.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define LISTEN_BACKLOG 4096
#define DRAIN_DEADLINE_MS 2000

static rill_frontend_t frontend; /* static: reachable for LeakSanitizer */
static int signal_pipe[2] = {-1, -1};
static volatile sig_atomic_t stop_requested;

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
            "                      default ipc://RUN/control.sock)\n"
            "  --events EP         broker events endpoint (env RILL_EVENTS_ENDPOINT;\n"
            "                      default ipc://RUN/events.sock)\n"
            "  --config FILE       configuration file (env RILL_CONFIG)\n"
            "  --log LEVEL         error, warn, info or debug (env RILL_LOG; default info)\n"
            "  --help              show this text\n"
            "Signals: SIGTERM/SIGINT end every stream and exit; SIGHUP reloads the config file.\n",
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

/* The config file named at start, re-read on SIGHUP. */
static const char *config_path_for_reload;

/* h2o's own body limit sits above rill's, so an oversized body gets rill's
 * JSON 413 instead of h2o's plain-text one. */
static void apply_body_limit(rill_frontend_t *frontend)
{
    uint64_t entity_limit = frontend->config.max_body_bytes * 4;
    if (entity_limit < 16u * 1024 * 1024)
        entity_limit = 16u * 1024 * 1024;
    frontend->globalconf.max_request_entity_size = (size_t)entity_limit;
}

/* SIGHUP: a good new config replaces the old one for new requests (limits,
 * declared kinds, heartbeats); a bad one is refused with its reason. Open
 * streams and pending calls are untouched. */
static void reload_config(rill_frontend_t *frontend)
{
    if (rill_config_reload(config_path_for_reload, &frontend->config) != 0)
        return;
    apply_body_limit(frontend);
    frontend->heartbeat_timeout.timeout = frontend->config.stream_heartbeat_ms;
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
        reload_config(sock->data);
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

/* "HOST:PORT", "[V6]:PORT" or ":PORT" -> a listening socket, or -1. */
static int open_listener(const char *listen_address)
{
    char host[256];
    const char *colon = strrchr(listen_address, ':');
    if (colon == NULL || colon[1] == '\0' || (size_t)(colon - listen_address) >= sizeof(host)) {
        rill_log_error(NULL, "--listen wants HOST:PORT, not \"%s\"", listen_address);
        return -1;
    }
    const char *start = listen_address;
    size_t host_length = (size_t)(colon - listen_address);
    if (host_length >= 2 && start[0] == '[' && start[host_length - 1] == ']') {
        start++;
        host_length -= 2;
    }
    memcpy(host, start, host_length);
    host[host_length] = '\0';
    struct addrinfo hints, *addresses = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int status = getaddrinfo(host_length > 0 ? host : NULL, colon + 1, &hints, &addresses);
    if (status != 0) {
        rill_log_error(NULL, "cannot resolve %s: %s", listen_address, gai_strerror(status));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *address = addresses; address != NULL; address = address->ai_next) {
        fd = socket(address->ai_family, address->ai_socktype | SOCK_CLOEXEC, address->ai_protocol);
        if (fd < 0)
            continue;
        int on = 1;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == 0 &&
            bind(fd, address->ai_addr, address->ai_addrlen) == 0 && listen(fd, LISTEN_BACKLOG) == 0)
            break;
        status = errno;
        close(fd);
        fd = -1;
        errno = status;
    }
    freeaddrinfo(addresses);
    if (fd < 0)
        rill_log_error(NULL, "cannot listen on %s: %s", listen_address, strerror(errno));
    return fd;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err != NULL)
        return;
    /* A few per wakeup: the listening socket is level-triggered. */
    for (int i = 0; i < 64; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock == NULL)
            return;
        h2o_accept(&frontend.accept_context, sock);
    }
}

static int subscribe_subject(void *context, const char *topic, size_t length)
{
    rill_frontend_t *self = context;
    return rill_broker_link_subscribe(self->broker, topic, length);
}

static void unsubscribe_subject(void *context, const char *topic, size_t length)
{
    rill_frontend_t *self = context;
    if (self->broker != NULL)
        rill_broker_link_unsubscribe(self->broker, topic, length);
}

static void on_broker_event(void *context, const rill_event_t *event)
{
    rill_streams_on_event(context, event);
}

static void on_broker_drained(void *context)
{
    rill_streams_flush(context);
}

static void on_broker_restarted(void *context)
{
    rill_streams_broker_restarted(context);
}

static int endpoint_is_ipc(const char *endpoint)
{
    return strncmp(endpoint, "ipc://", 6) == 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"listen", required_argument, NULL, 'l'}, {"run-dir", required_argument, NULL, 'r'},
        {"control", required_argument, NULL, 'c'}, {"events", required_argument, NULL, 'e'},
        {"workers", required_argument, NULL, 'w'}, {"config", required_argument, NULL, 'f'},
        {"log", required_argument, NULL, 'L'},     {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    rill_log_init("frontend");
    rill_endpoints_t endpoints;
    rill_endpoints_from_environment(&endpoints);
    const char *listen_address = getenv("RILL_LISTEN");
    if (listen_address == NULL || listen_address[0] == '\0')
        listen_address = DEFAULT_LISTEN;
    const char *config_path = getenv("RILL_CONFIG");
    const char *log_level = getenv("RILL_LOG");
    int option;
    while ((option = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (option) {
        case 'l':
            listen_address = optarg;
            break;
        case 'r':
        case 'c':
        case 'e':
        case 'w': {
            const char *name = option == 'r'   ? "run-dir"
                               : option == 'c' ? "control"
                               : option == 'e' ? "events"
                                               : "workers";
            if (rill_endpoints_set(&endpoints, name, optarg) != 0) {
                fprintf(stderr, "rill-frontend: --%s value too long\n", name);
                return 2;
            }
            break;
        }
        case 'f':
            config_path = optarg;
            break;
        case 'L':
            log_level = optarg;
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
    if (log_level != NULL && log_level[0] != '\0' && rill_log_set_level_name(log_level) != 0) {
        fprintf(stderr, "rill-frontend: unknown log level \"%s\"\n", log_level);
        return 2;
    }
    char error[512];
    rill_config_defaults(&frontend.config);
    if (config_path != NULL && config_path[0] != '\0' &&
        rill_config_load(config_path, &frontend.config, error, sizeof(error)) != 0) {
        rill_log_error(NULL, "config %s refused: %s", config_path, error);
        return 2;
    }
    if (rill_endpoints_finish(&endpoints, error, sizeof(error)) != 0) {
        rill_log_error(NULL, "%s", error);
        return 2;
    }
    if ((endpoint_is_ipc(endpoints.control) || endpoint_is_ipc(endpoints.events)) &&
        rill_endpoints_prepare_run_dir(&endpoints, error, sizeof(error)) != 0) {
        rill_log_error(NULL, "%s", error);
        return 1;
    }
    if (install_signals() != 0) {
        rill_log_error(NULL, "cannot install signal handlers: %s", strerror(errno));
        return 1;
    }
    raise_file_limit();
    int listen_fd = open_listener(listen_address);
    if (listen_fd < 0)
        return 1;

    /* h2o: one host, one path, one handler that routes by itself. */
    h2o_config_init(&frontend.globalconf);
    apply_body_limit(&frontend);
    frontend.globalconf.server_name = h2o_iovec_init(H2O_STRLIT("rill"));
    h2o_hostconf_t *host = h2o_config_register_host(&frontend.globalconf,
                                                    h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    if (rill_http_api_register(&frontend, path) != 0) {
        rill_log_error(NULL, "cannot register the HTTP handler");
        return 1;
    }
    h2o_context_init(&frontend.context, h2o_evloop_create(), &frontend.globalconf);
    h2o_loop_t *loop = frontend.context.loop;
    frontend.accept_context.ctx = &frontend.context;
    frontend.accept_context.hosts = frontend.globalconf.hosts;
    h2o_linklist_init_anchor(&frontend.streams);
    rill_frontend_metrics_init(&frontend.metrics);
    h2o_linklist_init_anchor(&frontend.dirty_streams);
    h2o_timeout_init(loop, &frontend.heartbeat_timeout, frontend.config.stream_heartbeat_ms);
    h2o_linklist_init_anchor(&frontend.delayed_streams);
    h2o_timeout_init(loop, &frontend.flush_timeout, RILL_FLUSH_TICK_MS);
    frontend.flush_entry.cb = rill_streams_on_flush_tick;

    int exit_code = 0;
    frontend.subjects = rill_subject_registry_new(subscribe_subject, unsubscribe_subject, &frontend);
    rill_broker_link_callbacks_t callbacks = {
        .on_event = on_broker_event,
        .on_drained = on_broker_drained,
        .on_broker_restarted = on_broker_restarted,
        .context = &frontend,
    };
    frontend.broker = rill_broker_link_new(&frontend.context, &endpoints, &frontend.config, &callbacks);
    h2o_socket_t *listener = h2o_evloop_socket_create(loop, listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    h2o_socket_t *signal_watch =
        h2o_evloop_socket_create(loop, signal_pipe[0], H2O_SOCKET_FLAG_DONT_READ);
    if (frontend.subjects == NULL || frontend.broker == NULL || listener == NULL ||
        signal_watch == NULL) {
        rill_log_error(NULL, "cannot start (out of memory or broker sockets refused)");
        exit_code = 1;
        stop_requested = 1;
    } else {
        h2o_socket_read_start(listener, on_accept);
        signal_watch->data = &frontend;
        if (config_path != NULL && config_path[0] != '\0')
            config_path_for_reload = config_path;
        h2o_socket_read_start(signal_watch, on_signal_readable);
        rill_log_info(NULL, "listening on %s; broker at %s and %s", listen_address,
                      endpoints.control, endpoints.events);
    }

    while (!stop_requested)
        h2o_evloop_run(loop, INT32_MAX);

    /* Drain: no new connection, no new request; open streams end after
     * their queued bytes; calls still waiting for the broker get 503. */
    rill_log_info(NULL, "stopping: %zu open stream(s)", rill_streams_count(&frontend));
    frontend.shutting_down = 1;
    if (listener != NULL) {
        h2o_socket_read_stop(listener);
        h2o_socket_close(listener);
        listener = NULL;
    }
    h2o_context_request_shutdown(&frontend.context);
    if (frontend.broker != NULL)
        rill_broker_link_fail_all(frontend.broker);
    rill_streams_end_all(&frontend);
    uint64_t deadline = rill_clock_monotonic_ms() + DRAIN_DEADLINE_MS;
    while (rill_clock_monotonic_ms() < deadline &&
           (rill_streams_count(&frontend) > 0 ||
            !h2o_linklist_is_empty(&frontend.context.http1._conns) ||
            !h2o_linklist_is_empty(&frontend.context.http2._conns)))
        h2o_evloop_run(loop, 50);

    size_t left = rill_streams_count(&frontend);
    int connections_left = !h2o_linklist_is_empty(&frontend.context.http1._conns) ||
                           !h2o_linklist_is_empty(&frontend.context.http2._conns);
    rill_broker_link_destroy(&frontend.broker);
    if (signal_watch != NULL) {
        h2o_socket_read_stop(signal_watch);
        h2o_socket_close(signal_watch); /* closes signal_pipe[0] */
        signal_pipe[0] = -1;
    }
    h2o_evloop_run(loop, 0); /* frees the sockets closed above */
    if (left == 0 && !connections_left) {
        rill_subject_registry_destroy(&frontend.subjects);
        h2o_timeout_dispose(loop, &frontend.heartbeat_timeout);
        if (h2o_timeout_is_linked(&frontend.flush_entry))
            h2o_timeout_unlink(&frontend.flush_entry);
        h2o_timeout_dispose(loop, &frontend.flush_timeout);
        /* h2o_context_request_shutdown armed HTTP/2's GOAWAY re-send timer;
         * with no connection left it has nothing to do. */
        if (h2o_timeout_is_linked(&frontend.context.http2._graceful_shutdown_timeout))
            h2o_timeout_unlink(&frontend.context.http2._graceful_shutdown_timeout);
        h2o_context_dispose(&frontend.context);
        h2o_evloop_destroy(loop);
        h2o_config_dispose(&frontend.globalconf);
    } else {
        /* A client that never read its last bytes: h2o 2.2 cannot close a
         * connection from outside, so its state stays (reachable) at exit. */
        rill_log_warn(NULL, "%zu stream(s) still open after %d ms; exiting anyway", left,
                      DRAIN_DEADLINE_MS);
    }
    if (signal_pipe[0] >= 0)
        close(signal_pipe[0]);
    close(signal_pipe[1]);
    rill_log_info(NULL, "stopped");
    return exit_code;
}
