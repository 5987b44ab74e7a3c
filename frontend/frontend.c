/*
 * frontend.c - see frontend.h. The order of construction is the order of
 * dependence: h2o's configuration and context, the broker link (its events
 * come back through callbacks registered here, so the link knows nothing
 * of streams), the streams, then the HTTP handler that uses them all.
 */
#include "frontend.h"

#include "broker_link.h"
#include "http_api.h"
#include "memory_trim.h"
#include "metrics.h"
#include "presence.h"
#include "streams.h"
#include "tls.h"
#include "topic_leases.h"

#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_json_text.h"
#include "rill_log.h"

#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_BACKLOG 4096

struct rill_frontend {
    rill_config_t config;
    h2o_globalconf_t globalconf;
    h2o_context_t context;
    h2o_accept_ctx_t accept_context;
    h2o_socket_t *listener;
    rill_tls_t *tls; /* NULL: cleartext (tls.h) */
    rill_broker_link_t *broker;
    rill_streams_t *streams;
    rill_topic_leases_t *leases;        /* publishes, and topics numbered here (rill/8) */
    rill_presence_reporter_t *presence; /* PRESENCE to the broker (presence.h) */
    rill_frontend_metrics_t metrics; /* /metrics: frontend/metrics.h */
    rill_http_api_context_t api;     /* what the HTTP handler is lent */
    /* Freed memory back to the kernel after a burst (memory_trim.h): a
     * tick every RILL_MEMORY_TRIM_TICK_MS while connections are open or
     * a trim is due, armed again by the next accept. */
    uint64_t accepted;
    rill_memory_trim_t trim;
    h2o_timeout_t trim_timeout;
    h2o_timeout_entry_t trim_entry;
};

/* What must stay reachable at exit, for LeakSanitizer: a frontend whose
 * clients never read their last bytes (frontend.h), and the multithread
 * queue h2o_context_init makes - h2o 2.2's h2o_context_dispose closes it
 * but never frees it (evloop builds; later versions of h2o do). */
static rill_frontend_t *left_at_exit;
static h2o_multithread_queue_t *h2o_queue_at_exit;

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

static int has_connections(rill_frontend_t *self)
{
    return !h2o_linklist_is_empty(&self->context.http1._conns) ||
           !h2o_linklist_is_empty(&self->context.http2._conns);
}

static void on_trim_tick(h2o_timeout_entry_t *entry)
{
    rill_frontend_t *self = H2O_STRUCT_FROM_MEMBER(rill_frontend_t, trim_entry, entry);
    if (rill_memory_trim_tick(&self->trim, self->accepted, rill_streams_count(self->streams)))
        (void)malloc_trim(0); /* 1 if memory went back, 0 if there was none to give */
    if (self->trim.dirty || has_connections(self))
        h2o_timeout_link(self->context.loop, &self->trim_timeout, &self->trim_entry);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    rill_frontend_t *self = listener->data;
    if (err != NULL)
        return;
    if (!h2o_timeout_is_linked(&self->trim_entry))
        h2o_timeout_link(self->context.loop, &self->trim_timeout, &self->trim_entry);
    /* A few per wakeup: the listening socket is level-triggered. */
    for (int i = 0; i < 64; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock == NULL)
            return;
        self->accepted++;
        h2o_accept(&self->accept_context, sock);
    }
}

static void close_listener(rill_frontend_t *self)
{
    if (self->listener == NULL)
        return;
    h2o_socket_read_stop(self->listener);
    h2o_socket_close(self->listener);
    self->listener = NULL;
}

/* h2o's own body limit sits above rill's, so an oversized body gets rill's
 * JSON 413 instead of h2o's plain-text one. */
static void apply_body_limit(rill_frontend_t *self)
{
    uint64_t entity_limit = self->config.max_body_bytes * 4;
    if (entity_limit < 16u * 1024 * 1024)
        entity_limit = 16u * 1024 * 1024;
    self->globalconf.max_request_entity_size = (size_t)entity_limit;
}

/* The broker link's events, for the streams. */
static void on_broker_event(void *context, const rill_event_t *event)
{
    rill_frontend_t *self = context;
    rill_streams_on_event(self->streams, event);
}

static void on_broker_drained(void *context)
{
    rill_frontend_t *self = context;
    rill_streams_flush(self->streams);
}

/* Notices (docs/API.md, "Notices"): the broker went silent, and is back. */
static void on_broker_silent(void *context)
{
    rill_frontend_t *self = context;
    rill_topic_leases_drop_all(self->leases);
    rill_streams_notice(self->streams, "broker_unavailable", "{}");
}

static void on_broker_back(void *context, const char *broker_id)
{
    rill_frontend_t *self = context;
    char data[sizeof("{\"broker\":}") + 2 * 128 + 8];
    size_t at = (size_t)snprintf(data, sizeof(data), "{\"broker\":");
    size_t written = rill_json_escape(data + at, sizeof(data) - at - 2, broker_id, strlen(broker_id));
    if (written == 0)
        return;
    memcpy(data + at + written, "}", 2);
    rill_streams_notice(self->streams, "broker_available", data);
}

static void on_broker_restarted(void *context)
{
    rill_frontend_t *self = context;
    rill_topic_leases_drop_all(self->leases);
    rill_streams_broker_restarted(self->streams);
}

static void on_broker_switched(void *context)
{
    rill_frontend_t *self = context;
    rill_topic_leases_drop_all(self->leases);
    rill_streams_broker_switched(self->streams);
}

/* A message this frontend numbered under a topic lease (topic_leases.h)
 * goes to its local streams at once when they are few. Many are served
 * better by the SUB socket's copy: the streams then take the events that
 * queue up meanwhile in one write each (a publish handler that wrote to a
 * thousand streams per message would write a thousand times per message;
 * BENCHMARKS.md 2026-12-01 13:00: 88 k against 247 k deliveries/s). */
#define LEASED_LOCAL_STREAMS_MAX 8

static void on_leased_event(void *context, const rill_event_t *event)
{
    rill_frontend_t *self = context;
    rill_subject_t *subject =
        rill_subject_registry_find(self->streams->subjects, (const char *)event->topic.data, event->topic.size);
    if (subject == NULL || subject->count <= LEASED_LOCAL_STREAMS_MAX)
        rill_streams_on_event(self->streams, event);
}

/* REVOKE (rill/8): the broker takes a topic's numbering back. */
static void on_broker_revoke(void *context, const uint8_t *name, size_t length)
{
    rill_frontend_t *self = context;
    rill_topic_leases_revoke(self->leases, name, length);
}

rill_frontend_t *rill_frontend_new(const rill_config_t *config, const rill_endpoints_t *endpoints,
                                   const char *listen_address, const rill_tls_options_t *tls_options)
{
    rill_tls_t *tls = NULL;
    if (rill_tls_open(&tls, tls_options, config) != 0)
        return NULL;
    int listen_fd = open_listener(listen_address);
    if (listen_fd < 0) {
        rill_tls_destroy(&tls);
        return NULL;
    }
    rill_frontend_t *self = rill_xcalloc(1, sizeof(*self));
    self->tls = tls;
    self->config = *config;
    rill_frontend_metrics_init(&self->metrics);

    /* h2o: one host, one path, one handler that routes by itself. */
    h2o_config_init(&self->globalconf);
    apply_body_limit(self);
    self->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("rill"));
    h2o_hostconf_t *host = h2o_config_register_host(&self->globalconf,
                                                    h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    rill_http_api_register(path, &self->api);
    h2o_context_init(&self->context, h2o_evloop_create(), &self->globalconf);
    h2o_loop_t *loop = self->context.loop;
    rill_memory_trim_init(&self->trim);
    h2o_timeout_init(loop, &self->trim_timeout, RILL_MEMORY_TRIM_TICK_MS);
    self->trim_entry.cb = on_trim_tick;
    self->accept_context.ctx = &self->context;
    self->accept_context.hosts = self->globalconf.hosts;
    self->accept_context.ssl_ctx = rill_tls_ssl_ctx(self->tls);
    self->listener = h2o_evloop_socket_create(loop, listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    self->listener->data = self;

    rill_broker_link_callbacks_t callbacks = {
        .on_event = on_broker_event,
        .on_drained = on_broker_drained,
        .on_broker_silent = on_broker_silent,
        .on_broker_back = on_broker_back,
        .on_broker_restarted = on_broker_restarted,
        .on_broker_switched = on_broker_switched,
        .on_revoke = on_broker_revoke,
        .context = self,
    };
    self->broker = rill_broker_link_new(&self->context, endpoints, &self->config, &callbacks);
    self->streams = rill_streams_new(loop, &self->config, self->broker, &self->metrics);
    if (self->broker != NULL) {
        rill_topic_leases_sink_t sink = {.deliver = on_leased_event, .flush = on_broker_drained, .context = self};
        self->leases = rill_topic_leases_new(self->broker, &sink);
        self->streams->leases = self->leases;
    }
    if (self->broker != NULL)
        self->presence = rill_presence_reporter_new(loop, self->streams->subjects, self->broker,
                                                    self->config.heartbeat_ms, self->config.max_message_bytes / 2);
    self->api = (rill_http_api_context_t){
        .config = &self->config,
        .broker = self->broker,
        .streams = self->streams,
        .metrics = &self->metrics,
    };
    if (self->broker == NULL) {
        rill_log_error(NULL, "cannot start: the broker's sockets were refused");
        rill_frontend_destroy(&self);
        return NULL;
    }
    h2o_socket_read_start(self->listener, on_accept);
    rill_log_info(NULL, "listening on %s (%s); broker at %s and %s", listen_address,
                  self->tls != NULL ? "https" : "http", endpoints->control, endpoints->events);
    return self;
}

h2o_loop_t *rill_frontend_loop(rill_frontend_t *self)
{
    return self->context.loop;
}

void rill_frontend_set_busy_percent(rill_frontend_t *self, uint64_t busy_percent)
{
    rill_write_pacing_set_busy_percent(&self->streams->outputs.pacing, busy_percent);
}

void rill_frontend_set_read_yield(rill_frontend_t *self, uint64_t busy_per_s)
{
    if (self->broker != NULL)
        rill_broker_link_set_read_yield(self->broker, busy_per_s);
}

void rill_frontend_reload(rill_frontend_t *self, const char *config_path)
{
    if (rill_config_reload(config_path, &self->config) == 0) {
        apply_body_limit(self);
        rill_outputs_set_heartbeat_ms(&self->streams->outputs, self->config.stream_heartbeat_ms);
        rill_outputs_set_busy_flush_ms(&self->streams->outputs, self->config.busy_flush_ms);
    }
    /* The certificate files are re-read even when the config was refused
     * or there is none (flags only): that is how a certificate rotates. */
    rill_tls_reload(self->tls, &self->config, self->globalconf.handshake_timeout);
    self->accept_context.ssl_ctx = rill_tls_ssl_ctx(self->tls);
}

/* TLS connections still in their handshake belong to no HTTP connection
 * list: h2o closes them at its handshake timeout, so make it now. */
static void close_handshakes(rill_frontend_t *self)
{
    h2o_timeout_run(self->context.loop, &self->context.handshake_timeout, UINT64_MAX);
}

void rill_frontend_drain(rill_frontend_t *self)
{
    /* No new connection, no new request; open streams end after their
     * queued bytes; calls still waiting for the broker get 503. */
    rill_log_info(NULL, "stopping: %zu open stream(s)", rill_streams_count(self->streams));
    rill_streams_stop(self->streams);
    close_listener(self);
    close_handshakes(self);
    h2o_context_request_shutdown(&self->context);
    rill_broker_link_fail_all(self->broker);
    rill_streams_end_all(self->streams);
    uint64_t deadline = rill_clock_monotonic_ms() + RILL_FRONTEND_DRAIN_MS;
    while (rill_clock_monotonic_ms() < deadline &&
           (rill_streams_left(self->streams) > 0 || has_connections(self)))
        h2o_evloop_run(self->context.loop, 50);
}

void rill_frontend_destroy(rill_frontend_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_frontend_t *self = *self_p;
    *self_p = NULL;
    h2o_loop_t *loop = self->context.loop;
    if (h2o_timeout_is_linked(&self->trim_entry))
        h2o_timeout_unlink(&self->trim_entry);
    h2o_timeout_dispose(loop, &self->trim_timeout);
    rill_streams_stop(self->streams);
    close_listener(self);
    close_handshakes(self);
    size_t left = rill_streams_left(self->streams);
    int connections_left = has_connections(self);
    rill_presence_reporter_destroy(&self->presence);
    rill_broker_link_destroy(&self->broker);
    rill_topic_leases_destroy(&self->leases);
    rill_streams_forget_broker(self->streams);
    self->api.broker = NULL;
    h2o_evloop_run(loop, 0); /* frees the sockets closed above */
    if (left > 0 || connections_left) {
        rill_log_warn(NULL, "%zu stream(s) still open after %d ms; exiting anyway", left,
                      RILL_FRONTEND_DRAIN_MS);
        left_at_exit = self;
        return;
    }
    rill_streams_destroy(&self->streams);
    h2o_evloop_run(loop, 0); /* frees the socket of the streams' connection watch */
    /* h2o_context_request_shutdown armed HTTP/2's GOAWAY re-send timer;
     * with no connection left it has nothing to do. */
    if (h2o_timeout_is_linked(&self->context.http2._graceful_shutdown_timeout))
        h2o_timeout_unlink(&self->context.http2._graceful_shutdown_timeout);
    h2o_queue_at_exit = self->context.queue;
    h2o_context_dispose(&self->context);
    h2o_evloop_destroy(loop);
    h2o_config_dispose(&self->globalconf);
    rill_tls_destroy(&self->tls);
    free(self);
}
