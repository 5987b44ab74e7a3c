/* rill_failover.c - see rill_failover.h. */
#include "rill_failover.h"

#include "rill_clock.h"
#include "rill_liveness.h"
#include "rill_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

void rill_failover_init(rill_failover_t *self, void *zmq_context, uint64_t heartbeat_ms)
{
    memset(self, 0, sizeof(*self));
    self->zmq_context = zmq_context;
    self->hold_ms = 2 * heartbeat_ms;
    /* switched_ms 0: the first switch may come at once (a broker killed
     * moments after the client started). */
}

int rill_failover_add(rill_failover_t *self, void *socket, const char *list, const char *name)
{
    char error[RILL_ENDPOINT_MAX + 128];
    if (self->socket_count >= RILL_FAILOVER_SOCKETS) {
        rill_log_error(NULL, "%s: too many sockets to switch together", name);
        return -1;
    }
    size_t index = self->socket_count;
    int count = rill_endpoints_split(list, name, self->endpoints[index], error, sizeof(error));
    if (count < 0) {
        rill_log_error(NULL, "%s", error);
        return -1;
    }
    if (index > 0 && (size_t)count != self->count) {
        rill_log_error(NULL, "%s endpoints \"%s\": as many as the others are needed", name, list);
        return -1;
    }
    self->count = (size_t)count;
    /* Liveness options hold for every later connect: set them when either
     * broker is reached over tcp:// (rill_liveness.h). */
    const char *liveness = self->endpoints[index][0];
    for (int i = 0; i < count; i++)
        if (rill_liveness_is_tcp(self->endpoints[index][i]))
            liveness = self->endpoints[index][i];
    if (rill_liveness_configure(socket, liveness, self->hold_ms / 2) != 0 ||
        zmq_connect(socket, self->endpoints[index][0]) != 0) {
        rill_log_error(NULL, "cannot connect to %s: %s", self->endpoints[index][0], zmq_strerror(errno));
        return -1;
    }
    self->sockets[index] = socket;
    self->socket_count++;
    return 0;
}

int rill_failover_start(rill_failover_t *self)
{
    if (self->count < 2 || self->socket_count == 0)
        return 0;
    char address[64];
    snprintf(address, sizeof(address), "inproc://rill-failover-%p", (void *)self);
    self->monitor = zmq_socket(self->zmq_context, ZMQ_PAIR);
    if (self->monitor == NULL || zmq_socket_monitor(self->sockets[0], address,
                                                             ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0 ||
        zmq_connect(self->monitor, address) != 0) {
        rill_log_error(NULL, "cannot watch the broker connection: %s", zmq_strerror(errno));
        rill_failover_release(self);
        return -1;
    }
    /* Read it empty once: until a read finds its pipe empty, libzmq does
     * not wake its ZMQ_FD for a new event (an fd watched edge-triggered
     * would never fire). */
    (void)rill_failover_disconnected(self);
    rill_log_info(NULL, "brokers %s (first) and %s (its standby): switching on a closed connection or "
                  "%llu ms of silence", self->endpoints[0][0], self->endpoints[0][1],
                  (unsigned long long)self->hold_ms);
    return 0;
}

void rill_failover_release(rill_failover_t *self)
{
    if (self->monitor == NULL)
        return;
    /* Stop the monitor before its reader goes. */
    if (self->socket_count > 0)
        (void)zmq_socket_monitor(self->sockets[0], NULL, 0);
    int linger = 0;
    zmq_setsockopt(self->monitor, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_close(self->monitor);
    self->monitor = NULL;
}

int rill_failover_enabled(const rill_failover_t *self)
{
    return self->count >= 2;
}

void *rill_failover_monitor(const rill_failover_t *self)
{
    return self->monitor;
}

const char *rill_failover_endpoint(const rill_failover_t *self, size_t index)
{
    return index < self->socket_count ? self->endpoints[index][self->current] : "";
}

int rill_failover_disconnected(rill_failover_t *self)
{
    if (self->monitor == NULL)
        return 0;
    int disconnected = 0;
    const char *other = self->endpoints[0][1 - self->current];
    for (;;) {
        /* An event: [uint16 event, uint32 value] then the endpoint. */
        zmq_msg_t head, where;
        zmq_msg_init(&head);
        if (zmq_msg_recv(&head, self->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&head);
            break;
        }
        int more = zmq_msg_more(&head);
        uint16_t event = 0;
        if (zmq_msg_size(&head) >= sizeof(event))
            memcpy(&event, zmq_msg_data(&head), sizeof(event));
        zmq_msg_close(&head);
        if (!more)
            continue;
        zmq_msg_init(&where);
        if (zmq_msg_recv(&where, self->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&where);
            break;
        }
        /* One of the broker left behind (its connection ends after the
         * switch) is not news. */
        size_t size = zmq_msg_size(&where);
        int from_other = size == strlen(other) && memcmp(zmq_msg_data(&where), other, size) == 0;
        zmq_msg_close(&where);
        if (event == ZMQ_EVENT_DISCONNECTED && !from_other)
            disconnected = 1;
        else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && !from_other)
            self->connected = 1;
    }
    return disconnected;
}

int rill_failover_may_switch(const rill_failover_t *self)
{
    return self->count >= 2 && rill_clock_monotonic_ms() - self->switched_ms >= self->hold_ms;
}

int rill_failover_switch(rill_failover_t *self, const char *why)
{
    if (self->count < 2)
        return -1;
    size_t next = 1 - self->current;
    for (size_t i = 0; i < self->socket_count; i++) {
        /* ENOENT: the old connection is gone already; nothing to undo. */
        if (zmq_disconnect(self->sockets[i], self->endpoints[i][self->current]) != 0 && errno != ENOENT)
            rill_log_warn(NULL, "disconnect from %s: %s", self->endpoints[i][self->current],
                          zmq_strerror(errno));
        if (zmq_connect(self->sockets[i], self->endpoints[i][next]) != 0) {
            rill_log_error(NULL, "cannot connect to %s: %s", self->endpoints[i][next], zmq_strerror(errno));
            /* Back where they were, every socket together. */
            for (size_t j = 0; j <= i; j++) {
                if (j < i)
                    (void)zmq_disconnect(self->sockets[j], self->endpoints[j][next]);
                (void)zmq_connect(self->sockets[j], self->endpoints[j][self->current]);
            }
            self->switched_ms = rill_clock_monotonic_ms();
            return -1;
        }
    }
    rill_log_warn(NULL, "broker %s %s: switching to %s (switch %llu)", self->endpoints[0][self->current], why,
                  self->endpoints[0][next], (unsigned long long)(self->switches + 1));
    self->current = next;
    self->connected = 0;
    self->switched_ms = rill_clock_monotonic_ms();
    self->switches++;
    return 0;
}
