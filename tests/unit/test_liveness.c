/* test_liveness.c - tcp:// sockets get heartbeats, connect timeout and
 * keepalive from heartbeat_ms; ipc:// ones keep libzmq's defaults. (What
 * they do on a cut link: tests/netbed.) */
#include "rill_liveness.h"
#include "rill_test.h"

#include <zmq.h>

static int option(void *socket, int name)
{
    int value = -12345;
    size_t size = sizeof(value);
    CHECK(zmq_getsockopt(socket, name, &value, &size) == 0);
    return value;
}

int main(void)
{
    void *context = zmq_ctx_new();
    CHECK(context != NULL);

    CHECK(rill_liveness_is_tcp("tcp://10.0.0.5:5563"));
    CHECK(!rill_liveness_is_tcp("ipc://run/workers.sock"));
    CHECK(!rill_liveness_is_tcp("tcpx://nothing"));
    CHECK(!rill_liveness_is_tcp(NULL));

    void *tcp = zmq_socket(context, ZMQ_DEALER);
    CHECK(rill_liveness_configure(tcp, "tcp://127.0.0.1:5563", 1000) == 0);
    CHECK(option(tcp, ZMQ_HEARTBEAT_IVL) == 1000);
    CHECK(option(tcp, ZMQ_HEARTBEAT_TIMEOUT) == 2000);
    CHECK(option(tcp, ZMQ_HEARTBEAT_TTL) == 3000);
    CHECK(option(tcp, ZMQ_CONNECT_TIMEOUT) == 500);
    CHECK(option(tcp, ZMQ_TCP_KEEPALIVE) == 1);
    CHECK(option(tcp, ZMQ_TCP_KEEPALIVE_IDLE) == 2);
    CHECK(option(tcp, ZMQ_TCP_KEEPALIVE_INTVL) == 1);
    CHECK(option(tcp, ZMQ_TCP_KEEPALIVE_CNT) == 3);

    /* A short heartbeat: whole seconds for keepalive, a floor for connect. */
    CHECK(rill_liveness_configure(tcp, "tcp://127.0.0.1:5563", 50) == 0);
    CHECK(option(tcp, ZMQ_HEARTBEAT_IVL) == 50);
    CHECK(option(tcp, ZMQ_CONNECT_TIMEOUT) == 100);
    CHECK(option(tcp, ZMQ_TCP_KEEPALIVE_IDLE) == 2);
    /* A long one. */
    CHECK(rill_liveness_configure(tcp, "tcp://127.0.0.1:5563", 60000) == 0);
    CHECK(option(tcp, ZMQ_HEARTBEAT_TTL) == 180000);
    CHECK(option(tcp, ZMQ_TCP_KEEPALIVE_IDLE) == 120);
    zmq_close(tcp);

    void *ipc = zmq_socket(context, ZMQ_DEALER);
    int ivl = option(ipc, ZMQ_HEARTBEAT_IVL), keepalive = option(ipc, ZMQ_TCP_KEEPALIVE);
    CHECK(rill_liveness_configure(ipc, "ipc:///tmp/x.sock", 1000) == 0);
    CHECK(option(ipc, ZMQ_HEARTBEAT_IVL) == ivl);
    CHECK(option(ipc, ZMQ_TCP_KEEPALIVE) == keepalive);
    zmq_close(ipc);

    zmq_ctx_term(context);
    RILL_TEST_END();
}
