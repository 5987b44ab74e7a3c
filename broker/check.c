/*
 * check.c - see check.h.
 */
#include "check.h"

#include "rill_clock.h"
#include "rill_endpoints.h"
#include "rill_protocol.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

int rill_broker_check_endpoint(const char *bound, char *out, size_t out_size)
{
    static const struct {
        const char *host;
        const char *local;
    } wildcards[] = {{"tcp://*:", "tcp://127.0.0.1:"},
                     {"tcp://0.0.0.0:", "tcp://127.0.0.1:"},
                     {"tcp://[::]:", "tcp://[::1]:"}};
    for (size_t i = 0; i < sizeof(wildcards) / sizeof(wildcards[0]); i++) {
        size_t length = strlen(wildcards[i].host);
        if (strncmp(bound, wildcards[i].host, length) == 0) {
            int written = snprintf(out, out_size, "%s%s", wildcards[i].local, bound + length);
            return written < 0 || (size_t)written >= out_size ? -1 : 0;
        }
    }
    int written = snprintf(out, out_size, "%s", bound);
    return written < 0 || (size_t)written >= out_size ? -1 : 0;
}

/* The PONG's line on out. 0, or -1 with the reason in reason. */
static int report_pong(const rill_message_t *message, FILE *out, char *reason, size_t reason_size)
{
    json_error_t error;
    json_t *pong = json_loadb((const char *)message->arguments[0].data, message->arguments[0].size, 0, &error);
    const char *broker = json_string_value(json_object_get(pong, "broker"));
    json_t *workers = json_object_get(pong, "workers");
    if (broker == NULL || !json_is_integer(workers)) {
        snprintf(reason, reason_size, "its PONG is malformed");
        json_decref(pong);
        return -1;
    }
    fprintf(out, "broker %s alive: %lld workers%s\n", broker, (long long)json_integer_value(workers),
            json_is_true(json_object_get(pong, "recovering")) ? ", recovering" : "");
    json_decref(pong);
    return 0;
}

/* Sends PING, waits up to timeout_ms for the PONG. 0 when it came and was
 * reported, else -1 with the reason. */
static int ping(void *dealer, const char *endpoint, uint64_t timeout_ms, FILE *out, char *reason,
                size_t reason_size)
{
    struct stat socket_file;
    if (strncmp(endpoint, "ipc://", 6) == 0 && stat(endpoint + 6, &socket_file) != 0) {
        /* No socket file, no broker: no need to wait for the timeout. */
        snprintf(reason, reason_size, "no broker at %s: %s", endpoint, strerror(errno));
        return -1;
    }
    if (zmq_connect(dealer, endpoint) != 0) {
        snprintf(reason, reason_size, "cannot connect to %s: %s", endpoint, zmq_strerror(errno));
        return -1;
    }
    /* Queued until the connection is made: no ZMQ_IMMEDIATE on this socket. */
    if (rill_protocol_send_command(dealer, NULL, RILL_COMMAND_PING, NULL, 0, ZMQ_DONTWAIT) != 0) {
        snprintf(reason, reason_size, "cannot send PING to %s: %s", endpoint, zmq_strerror(errno));
        return -1;
    }
    uint64_t deadline = rill_clock_monotonic_ms() + timeout_ms;
    for (;;) {
        uint64_t now = rill_clock_monotonic_ms();
        if (now >= deadline)
            break;
        zmq_pollitem_t item = {dealer, 0, ZMQ_POLLIN, 0};
        int ready = zmq_poll(&item, 1, (long)(deadline - now));
        if (ready < 0 && errno != EINTR) {
            snprintf(reason, reason_size, "poll failed: %s", zmq_strerror(errno));
            return -1;
        }
        if (ready <= 0)
            continue;
        rill_received_t received;
        if (rill_protocol_receive(dealer, &received) <= 0)
            continue;
        rill_message_t message;
        const char *why = NULL;
        int pong = rill_message_parse(RILL_CHANNEL_TO_FRONTEND, received.frames, received.count, &message,
                                      &why) == 0 &&
                   message.command == RILL_COMMAND_PONG;
        int result = pong ? report_pong(&message, out, reason, reason_size) : 0;
        rill_received_close(&received);
        if (pong)
            return result;
        /* Anything else is not the answer: wait on for the PONG. */
    }
    snprintf(reason, reason_size, "no PONG from %s within %llu ms", endpoint, (unsigned long long)timeout_ms);
    return -1;
}

int rill_broker_check_run(const char *control, uint64_t timeout_ms, uint64_t max_message_bytes, FILE *out,
                          FILE *err)
{
    char endpoint[RILL_ENDPOINT_MAX];
    char reason[RILL_ENDPOINT_MAX + 128];
    if (rill_broker_check_endpoint(control, endpoint, sizeof(endpoint)) != 0) {
        fprintf(err, "rill-broker --check: endpoint too long: %s\n", control);
        return 1;
    }
    void *context = zmq_ctx_new();
    void *dealer = context != NULL ? zmq_socket(context, ZMQ_DEALER) : NULL;
    int linger = 0;
    int result = -1;
    if (dealer == NULL) {
        snprintf(reason, sizeof(reason), "cannot make a ZeroMQ socket: %s", zmq_strerror(errno));
    } else if (rill_socket_configure(dealer, max_message_bytes) != 0 ||
               zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof(linger)) != 0) {
        snprintf(reason, sizeof(reason), "cannot configure a ZeroMQ socket: %s", zmq_strerror(errno));
    } else {
        result = ping(dealer, endpoint, timeout_ms, out, reason, sizeof(reason));
    }
    if (dealer != NULL)
        zmq_close(dealer);
    if (context != NULL)
        zmq_ctx_term(context);
    if (result != 0) {
        fprintf(err, "rill-broker --check: %s\n", reason);
        return 1;
    }
    return 0;
}
