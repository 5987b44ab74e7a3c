/* test_failover.c - a client's switch between a broker and its standby, on
 * real ZeroMQ sockets over ipc://: the monitor reports the first broker's
 * closed connection, the switch moves the DEALER and the SUB together, and
 * the SUB sends its subscriptions to the standby by itself. */
#include "rill_failover.h"
#include "rill_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

/* Waits up to timeout_ms for a message on socket; its first frame in buffer. */
static int receive(void *socket, char *buffer, size_t size, long timeout_ms)
{
    zmq_pollitem_t item = {socket, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, timeout_ms) <= 0)
        return -1;
    int got = zmq_recv(socket, buffer, size - 1, 0);
    if (got < 0)
        return -1;
    buffer[got < (int)size - 1 ? got : (int)size - 1] = '\0';
    int more = 0;
    size_t more_size = sizeof(more);
    while (zmq_getsockopt(socket, ZMQ_RCVMORE, &more, &more_size) == 0 && more) {
        char rest[256];
        int part = zmq_recv(socket, rest, sizeof(rest), 0);
        if (part < 0)
            break;
        /* A ROUTER's first frame is the routing id: keep the payload. */
        memcpy(buffer, rest, (size_t)part < size - 1 ? (size_t)part : size - 1);
        buffer[(size_t)part < size - 1 ? (size_t)part : size - 1] = '\0';
    }
    return 0;
}

/* Polls the monitor until it reports the closed connection (or timeout). */
static int wait_disconnected(rill_failover_t *failover, long timeout_ms)
{
    for (long waited = 0; waited < timeout_ms; waited += 10) {
        zmq_pollitem_t item = {rill_failover_monitor(failover), 0, ZMQ_POLLIN, 0};
        (void)zmq_poll(&item, 1, 10);
        if (rill_failover_disconnected(failover))
            return 1;
    }
    return 0;
}

int main(void)
{
    char dir[] = "/tmp/rill-failover-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char control_a[128], control_b[128], events_a[128], events_b[128];
    snprintf(control_a, sizeof(control_a), "ipc://%s/a-control.sock", dir);
    snprintf(control_b, sizeof(control_b), "ipc://%s/b-control.sock", dir);
    snprintf(events_a, sizeof(events_a), "ipc://%s/a-events.sock", dir);
    snprintf(events_b, sizeof(events_b), "ipc://%s/b-events.sock", dir);
    char control_list[300], events_list[300];
    snprintf(control_list, sizeof(control_list), "%s,%s", control_a, control_b);
    snprintf(events_list, sizeof(events_list), "%s,%s", events_a, events_b);

    void *context = zmq_ctx_new();
    int linger = 0, verbose = 1;
    void *router_a = zmq_socket(context, ZMQ_ROUTER), *router_b = zmq_socket(context, ZMQ_ROUTER);
    void *xpub_a = zmq_socket(context, ZMQ_XPUB), *xpub_b = zmq_socket(context, ZMQ_XPUB);
    void *brokers[] = {router_a, router_b, xpub_a, xpub_b};
    for (int i = 0; i < 4; i++)
        zmq_setsockopt(brokers[i], ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(xpub_b, ZMQ_XPUB_VERBOSE, &verbose, sizeof(verbose));
    CHECK(zmq_bind(router_a, control_a) == 0 && zmq_bind(router_b, control_b) == 0);
    CHECK(zmq_bind(xpub_a, events_a) == 0 && zmq_bind(xpub_b, events_b) == 0);

    /* One endpoint: no monitor, nothing to switch to. */
    rill_failover_t single;
    void *lone = zmq_socket(context, ZMQ_DEALER);
    zmq_setsockopt(lone, ZMQ_LINGER, &linger, sizeof(linger));
    rill_failover_init(&single, context, 100);
    CHECK(rill_failover_add(&single, lone, control_a, "control") == 0);
    CHECK(rill_failover_start(&single) == 0);
    CHECK(!rill_failover_enabled(&single) && rill_failover_monitor(&single) == NULL);
    CHECK(rill_failover_switch(&single, "test") == -1 && !rill_failover_may_switch(&single));
    rill_failover_release(&single);
    zmq_close(lone);

    /* Lists of different lengths are refused. */
    rill_failover_t mismatched;
    void *d = zmq_socket(context, ZMQ_DEALER), *s = zmq_socket(context, ZMQ_SUB);
    zmq_setsockopt(d, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    rill_failover_init(&mismatched, context, 100);
    CHECK(rill_failover_add(&mismatched, d, control_list, "control") == 0);
    CHECK(rill_failover_add(&mismatched, s, events_a, "events") == -1);
    rill_failover_release(&mismatched);
    zmq_close(d);
    zmq_close(s);

    /* Two: connected to the first. */
    rill_failover_t failover;
    void *dealer = zmq_socket(context, ZMQ_DEALER), *sub = zmq_socket(context, ZMQ_SUB);
    zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof(linger));
    rill_failover_init(&failover, context, 100);
    CHECK(rill_failover_add(&failover, dealer, control_list, "control") == 0);
    CHECK(rill_failover_add(&failover, sub, events_list, "events") == 0);
    CHECK(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "dfollow/", 8) == 0);
    CHECK(rill_failover_start(&failover) == 0);
    CHECK(rill_failover_enabled(&failover) && rill_failover_monitor(&failover) != NULL);
    CHECK(strcmp(rill_failover_endpoint(&failover, 0), control_a) == 0);
    CHECK(strcmp(rill_failover_endpoint(&failover, 1), events_a) == 0);
    CHECK(rill_failover_may_switch(&failover)); /* no switch yet: at once */
    char buffer[256];
    CHECK(zmq_send(dealer, "one", 3, 0) == 3);
    CHECK(receive(router_a, buffer, sizeof(buffer), 2000) == 0 && strcmp(buffer, "one") == 0);

    /* The first broker goes: its connection closes, the monitor says so. */
    zmq_close(router_a);
    zmq_close(xpub_a);
    CHECK(wait_disconnected(&failover, 3000) == 1);
    CHECK(rill_failover_switch(&failover, "closed the connection") == 0);
    CHECK(failover.switches == 1 && failover.current == 1);
    CHECK(strcmp(rill_failover_endpoint(&failover, 0), control_b) == 0);
    CHECK(strcmp(rill_failover_endpoint(&failover, 1), events_b) == 0);
    CHECK(!rill_failover_may_switch(&failover)); /* held 2 x heartbeat_ms */
    /* The same sockets reach the standby; the SUB re-sends its subscription. */
    CHECK(zmq_send(dealer, "two", 3, 0) == 3);
    CHECK(receive(router_b, buffer, sizeof(buffer), 2000) == 0 && strcmp(buffer, "two") == 0);
    CHECK(receive(xpub_b, buffer, sizeof(buffer), 2000) == 0 && memcmp(buffer, "\001dfollow/", 9) == 0);
    /* The monitor saw the handshake with the standby. */
    for (int i = 0; i < 100 && !failover.connected; i++) {
        zmq_pollitem_t item = {rill_failover_monitor(&failover), 0, ZMQ_POLLIN, 0};
        (void)zmq_poll(&item, 1, 10);
        (void)rill_failover_disconnected(&failover);
    }
    CHECK(failover.connected == 1);
    usleep(210 * 1000);
    CHECK(rill_failover_may_switch(&failover));

    rill_failover_release(&failover);
    zmq_close(dealer);
    zmq_close(sub);
    zmq_close(router_b);
    zmq_close(xpub_b);
    zmq_ctx_term(context);
    char command[128];
    snprintf(command, sizeof(command), "rm -rf %s", dir);
    CHECK(system(command) == 0);
    RILL_TEST_END();
}
