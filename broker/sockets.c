/*
 * sockets.c - opening the broker's three sockets and the one burst-receive
 * loop the two ROUTER channels share. See sockets.h.
 */
#include "sockets.h"
#include "rill_alloc.h"
#include "rill_liveness.h"
#include "rill_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static zsock_t *open_socket(int type, const char *endpoint, const char *what, uint64_t max_message_bytes,
                            uint64_t heartbeat_ms, char *error, size_t error_size)
{
    zsock_t *socket = zsock_new(type);
    if (socket == NULL) {
        snprintf(error, error_size, "cannot create the %s socket", what);
        return NULL;
    }
    void *raw = zsock_resolve(socket);
    int one = 1;
    int failed = rill_socket_configure(raw, max_message_bytes) != 0;
    /* tcp://: a silent peer's connection is closed (rill_liveness.h). */
    if (!failed)
        failed = rill_liveness_configure(raw, endpoint, heartbeat_ms) != 0;
    if (!failed && type == ZMQ_ROUTER)
        failed = zmq_setsockopt(raw, ZMQ_ROUTER_MANDATORY, &one, sizeof(one)) != 0;
    /* A worker's parts wait in its own outbox, not here (rill_protocol.h). */
    if (!failed && strcmp(what, "workers") == 0)
        failed = rill_socket_cap_hwm(raw, ZMQ_RCVHWM, RILL_WORKER_PIPE_HWM) != 0;
    if (!failed && type == ZMQ_XPUB)
        failed = zmq_setsockopt(raw, ZMQ_XPUB_VERBOSER, &one, sizeof(one)) != 0 ||
                 zmq_setsockopt(raw, ZMQ_XPUB_NODROP, &one, sizeof(one)) != 0;
    if (failed) {
        snprintf(error, error_size, "cannot configure the %s socket: %s", what, zmq_strerror(errno));
        zsock_destroy(&socket);
        return NULL;
    }
    if (zsock_bind(socket, "%s", endpoint) < 0) {
        snprintf(error, error_size, "cannot bind the %s socket to %s: %s", what, endpoint,
                 zmq_strerror(errno));
        zsock_destroy(&socket);
        return NULL;
    }
    return socket;
}

/* A PAIR that receives the disconnects of raw (docs/PROTOCOL.md, "Bounds"). */
static zsock_t *open_monitor(void *raw, const char *what, char *error, size_t error_size)
{
    char endpoint[64];
    snprintf(endpoint, sizeof(endpoint), "inproc://rill-monitor-%s", what);
    zsock_t *monitor = NULL;
    if (zmq_socket_monitor(raw, endpoint, ZMQ_EVENT_DISCONNECTED) == 0 &&
        (monitor = zsock_new(ZMQ_PAIR)) != NULL && zsock_connect(monitor, "%s", endpoint) != 0)
        zsock_destroy(&monitor);
    if (monitor == NULL)
        snprintf(error, error_size, "cannot monitor the %s socket: %s", what, zmq_strerror(errno));
    return monitor;
}

rill_broker_sockets_t *rill_broker_sockets_new(const rill_endpoints_t *endpoints, uint64_t max_message_bytes,
                                               uint64_t heartbeat_ms, char *error, size_t error_size)
{
    rill_broker_sockets_t *self = rill_xcalloc(1, sizeof(*self));
    self->workers_socket = open_socket(ZMQ_ROUTER, endpoints->workers, "workers", max_message_bytes,
                                       heartbeat_ms, error, error_size);
    if (self->workers_socket != NULL)
        self->control_socket = open_socket(ZMQ_ROUTER, endpoints->control, "control", max_message_bytes,
                                           heartbeat_ms, error, error_size);
    if (self->control_socket != NULL)
        self->events_socket = open_socket(ZMQ_XPUB, endpoints->events, "events", max_message_bytes,
                                          heartbeat_ms, error, error_size);
    if (self->events_socket == NULL) {
        rill_broker_sockets_destroy(&self);
        return NULL;
    }
    self->max_message_bytes = max_message_bytes;
    self->workers_monitor = open_monitor(zsock_resolve(self->workers_socket), "workers", error, error_size);
    if (self->workers_monitor != NULL)
        self->control_monitor = open_monitor(zsock_resolve(self->control_socket), "control", error, error_size);
    if (self->control_monitor == NULL) {
        rill_broker_sockets_destroy(&self);
        return NULL;
    }
    self->workers = zsock_resolve(self->workers_socket);
    self->control = zsock_resolve(self->control_socket);
    self->events = zsock_resolve(self->events_socket);
    rill_send_queue_init(&self->events_waiting, zmq_send, self->events);
    return self;
}

void rill_broker_sockets_destroy(rill_broker_sockets_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_broker_sockets_t *self = *self_p;
    rill_send_queue_release(&self->events_waiting);
    zsock_destroy(&self->control_monitor);
    zsock_destroy(&self->workers_monitor);
    zsock_destroy(&self->events_socket);
    zsock_destroy(&self->control_socket);
    zsock_destroy(&self->workers_socket);
    free(self);
    *self_p = NULL;
}

void rill_broker_sockets_receive(void *socket, const char *name,
                                 void (*handle)(void *argument, rill_received_t *received),
                                 void *argument)
{
    size_t bytes = 0;
    for (int i = 0; i < RILL_BROKER_BURST && bytes < RILL_BROKER_BURST_BYTES; i++) {
        rill_received_t received;
        int got = rill_protocol_receive(socket, &received);
        if (got == 0)
            return;
        if (got < 0) {
            if (errno != EINTR && errno != EAGAIN)
                rill_log_warn(NULL, "%s socket receive failed: %s", name, zmq_strerror(errno));
            return;
        }
        for (size_t frame = 0; frame < received.count; frame++)
            bytes += received.frames[frame].size;
        if (received.count >= 1)
            handle(argument, &received);
        rill_received_close(&received);
    }
}

void rill_broker_sockets_read_monitor(rill_broker_sockets_t *self, zsock_t *monitor, const char *name)
{
    void *raw = zsock_resolve(monitor);
    for (int i = 0; i < RILL_BROKER_BURST; i++) {
        rill_received_t received;
        if (rill_protocol_receive(raw, &received) != 1)
            return;
        /* [uint16 event, uint32 fd] [endpoint]: only DISCONNECTED is asked for. */
        if (received.count == 2 && received.frames[0].size == 6) {
            uint16_t event;
            memcpy(&event, received.frames[0].data, sizeof(event));
            if (event == ZMQ_EVENT_DISCONNECTED)
                rill_log_info(NULL, "a peer of the %s socket disconnected (%.*s): it went away, or libzmq "
                              "refused what it sent (a frame over max_message_bytes %llu)", name,
                              (int)received.frames[1].size, (const char *)received.frames[1].data,
                              (unsigned long long)self->max_message_bytes);
        }
        rill_received_close(&received);
    }
}
