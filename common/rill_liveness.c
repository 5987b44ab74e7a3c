/*
 * rill_liveness.c - ZeroMQ heartbeats, connect timeout and TCP keepalive on
 * tcp:// sockets. See rill_liveness.h.
 */
#include "rill_liveness.h"

#include <string.h>
#include <zmq.h>

int rill_liveness_is_tcp(const char *endpoint)
{
    return endpoint != NULL && strncmp(endpoint, "tcp://", 6) == 0;
}

static int set_int(void *socket, int option, uint64_t value)
{
    int number = value > 6553599 ? 6553599 : (int)value; /* ZMQ_HEARTBEAT_TTL's bound, the lowest */
    return zmq_setsockopt(socket, option, &number, sizeof(number));
}

int rill_liveness_configure(void *socket, const char *endpoint, uint64_t heartbeat_ms)
{
    if (!rill_liveness_is_tcp(endpoint))
        return 0;
    if (heartbeat_ms == 0)
        heartbeat_ms = 1000;
    uint64_t seconds = heartbeat_ms < 1000 ? 1 : heartbeat_ms / 1000;
    if (set_int(socket, ZMQ_HEARTBEAT_IVL, heartbeat_ms) != 0 ||
        set_int(socket, ZMQ_HEARTBEAT_TIMEOUT, 2 * heartbeat_ms) != 0 ||
        set_int(socket, ZMQ_HEARTBEAT_TTL, 3 * heartbeat_ms) != 0 ||
        set_int(socket, ZMQ_CONNECT_TIMEOUT, heartbeat_ms / 2 < 100 ? 100 : heartbeat_ms / 2) != 0 ||
        set_int(socket, ZMQ_TCP_KEEPALIVE, 1) != 0 ||
        set_int(socket, ZMQ_TCP_KEEPALIVE_IDLE, 2 * seconds) != 0 ||
        set_int(socket, ZMQ_TCP_KEEPALIVE_INTVL, seconds) != 0 ||
        set_int(socket, ZMQ_TCP_KEEPALIVE_CNT, 3) != 0)
        return -1;
    return 0;
}
