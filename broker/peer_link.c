/*
 * peer_link.c - the socket between the two brokers of a standby pair. See
 * peer_link.h.
 */
#include "peer_link.h"
#include "rill_alloc.h"
#include "rill_liveness.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Each command: its name and its arguments' count. */
static const struct {
    const char *name;
    size_t arguments;
} commands[] = {
    [RILL_PEER_STATE] = {"STATE", 1},
    [RILL_PEER_SYNC] = {"SYNC", 0},
    [RILL_PEER_MIRROR] = {"MIRROR", 2},
};
#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static int configure(void *raw, const char *endpoint, int bound, uint64_t max_message_bytes, uint64_t heartbeat_ms)
{
    int one = 1;
    if (rill_socket_configure(raw, max_message_bytes) != 0 ||
        rill_liveness_configure(raw, endpoint, heartbeat_ms) != 0 ||
        rill_socket_cap_hwm(raw, ZMQ_SNDHWM, RILL_PEER_LINK_HWM) != 0 ||
        rill_socket_cap_hwm(raw, ZMQ_RCVHWM, RILL_PEER_LINK_HWM) != 0)
        return -1;
    /* A ROUTER fails a send to a peer that is not there; a DEALER queues
     * nothing for a connection not made (no old STATEs when it comes). */
    if (bound)
        return zmq_setsockopt(raw, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
    return zmq_setsockopt(raw, ZMQ_IMMEDIATE, &one, sizeof(one));
}

rill_peer_link_t *rill_peer_link_new(const char *endpoint, int bound, uint64_t max_message_bytes,
                                     uint64_t heartbeat_ms, char *error, size_t error_size)
{
    rill_peer_link_t *self = rill_xcalloc(1, sizeof(*self));
    self->bound = bound;
    self->socket = zsock_new(bound ? ZMQ_ROUTER : ZMQ_DEALER);
    if (self->socket == NULL) {
        snprintf(error, error_size, "cannot create the peer link's socket");
        rill_peer_link_destroy(&self);
        return NULL;
    }
    self->raw = zsock_resolve(self->socket);
    if (configure(self->raw, endpoint, bound, max_message_bytes, heartbeat_ms) != 0) {
        snprintf(error, error_size, "cannot configure the peer link's socket: %s", zmq_strerror(errno));
        rill_peer_link_destroy(&self);
        return NULL;
    }
    if (zmq_socket_monitor(self->raw, "inproc://rill-monitor-peer", ZMQ_EVENT_DISCONNECTED) != 0 ||
        (self->monitor = zsock_new(ZMQ_PAIR)) == NULL ||
        zsock_connect(self->monitor, "inproc://rill-monitor-peer") != 0) {
        snprintf(error, error_size, "cannot monitor the peer link: %s", zmq_strerror(errno));
        rill_peer_link_destroy(&self);
        return NULL;
    }
    int linked = bound ? zsock_bind(self->socket, "%s", endpoint) : zsock_connect(self->socket, "%s", endpoint);
    if (linked < 0) {
        snprintf(error, error_size, "cannot %s the peer link to %s: %s", bound ? "bind" : "connect", endpoint,
                 zmq_strerror(errno));
        rill_peer_link_destroy(&self);
        return NULL;
    }
    return self;
}

void rill_peer_link_destroy(rill_peer_link_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_peer_link_t *self = *self_p;
    zsock_destroy(&self->monitor);
    zsock_destroy(&self->socket);
    free(self);
    *self_p = NULL;
}

int rill_peer_link_send(rill_peer_link_t *self, rill_peer_command_t command, const rill_frame_t *arguments,
                        size_t count)
{
    if (self->bound && self->peer_size == 0) {
        errno = EHOSTUNREACH;
        return -1;
    }
    if ((size_t)command >= COMMAND_COUNT || count > 2) {
        errno = EINVAL;
        return -1;
    }
    rill_frame_t frames[4] = {rill_frame_from_string(RILL_PROTOCOL_VERSION),
                              rill_frame_from_string(commands[command].name)};
    for (size_t i = 0; i < count; i++)
        frames[2 + i] = arguments[i];
    rill_frame_t routing = {self->peer, self->peer_size};
    return rill_protocol_send(self->raw, self->bound ? &routing : NULL, frames, 2 + count, ZMQ_DONTWAIT);
}

/* [version, command, arguments…]: 0, or -1 with *why. */
static int parse(const rill_frame_t *frames, size_t count, rill_peer_message_t *message, const char **why)
{
    if (count < 2 || !rill_frame_equals(frames[0], RILL_PROTOCOL_VERSION)) {
        *why = "not " RILL_PROTOCOL_VERSION;
        return -1;
    }
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        if (!rill_frame_equals(frames[1], commands[i].name))
            continue;
        if (count - 2 != commands[i].arguments) {
            *why = "the wrong number of frames";
            return -1;
        }
        message->command = (rill_peer_command_t)i;
        message->argument_count = count - 2;
        for (size_t j = 0; j < message->argument_count; j++)
            message->arguments[j] = frames[2 + j];
        if (message->command == RILL_PEER_STATE && frames[2].size == 0) {
            *why = "an empty state";
            return -1;
        }
        uint64_t seq;
        if (message->command == RILL_PEER_MIRROR && rill_frame_to_u64(frames[2], &seq) != 0) {
            *why = "a malformed mirror seq";
            return -1;
        }
        return 0;
    }
    *why = "an unknown command";
    return -1;
}

int rill_peer_link_receive(rill_peer_link_t *self, rill_received_t *received, rill_peer_message_t *message,
                           const char **why)
{
    int got = rill_protocol_receive(self->raw, received);
    if (got <= 0)
        return 0;
    size_t skip = self->bound ? 1 : 0;
    if (received->truncated || received->count <= skip) {
        *why = "too many frames, or none";
        rill_received_close(received);
        return -1;
    }
    if (parse(received->frames + skip, received->count - skip, message, why) != 0) {
        rill_received_close(received);
        return -1;
    }
    if (self->bound && received->frames[0].size > 0 && received->frames[0].size <= RILL_PEER_ROUTING_MAX) {
        /* The peer is whoever spoke last: a backup that started over comes
         * back on a new routing id. */
        memcpy(self->peer, received->frames[0].data, received->frames[0].size);
        self->peer_size = received->frames[0].size;
    }
    return 1;
}

int rill_peer_link_read_monitor(rill_peer_link_t *self)
{
    int closed = 0;
    for (int i = 0; i < 64; i++) {
        rill_received_t received;
        if (rill_protocol_receive(zsock_resolve(self->monitor), &received) != 1)
            break;
        if (received.count == 2 && received.frames[0].size == 6) {
            uint16_t event;
            memcpy(&event, received.frames[0].data, sizeof(event));
            closed |= event == ZMQ_EVENT_DISCONNECTED;
        }
        rill_received_close(&received);
    }
    return closed;
}
