/*
 * worker_link.c - the worker's link to the broker. See worker_link.h.
 */
#include "worker_link.h"

#include "rill_clock.h"
#include "rill_log.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rill_worker_link_open(rill_worker_link_t *self, const char *endpoint, uint64_t heartbeat_ms)
{
    memset(self, 0, sizeof(*self));
    self->heartbeat_ms = heartbeat_ms;
    self->last_heard_ns = rill_clock_monotonic_ns();
    self->zmq_context = zmq_ctx_new();
    self->dealer = self->zmq_context != NULL ? zmq_socket(self->zmq_context, ZMQ_DEALER) : NULL;
    if (self->dealer == NULL || rill_socket_configure(self->dealer) != 0) {
        rill_log_error(NULL, "cannot create the broker socket: %s", zmq_strerror(errno));
        return -1;
    }
    /* The socket holds little, the outbox the rest (worker_link.h). */
    int hwm = RILL_WORKER_OUTBOX_HIGH_MESSAGES;
    int configured = 0; /* RILL_SOCKET_HWM may make it smaller still */
    size_t configured_size = sizeof(configured);
    if (zmq_getsockopt(self->dealer, ZMQ_SNDHWM, &configured, &configured_size) == 0 && configured > 0 &&
        configured < hwm)
        hwm = configured;
    if (zmq_setsockopt(self->dealer, ZMQ_SNDHWM, &hwm, sizeof(hwm)) != 0) {
        rill_log_error(NULL, "cannot configure the broker socket: %s", zmq_strerror(errno));
        return -1;
    }
    if (zmq_connect(self->dealer, endpoint) != 0) {
        rill_log_error(NULL, "cannot connect to %s: %s", endpoint, zmq_strerror(errno));
        return -1;
    }
    rill_send_queue_init(&self->outbox, zmq_send, self->dealer);
    rill_send_queue_set_marks(&self->outbox, RILL_WORKER_OUTBOX_HIGH_MESSAGES, RILL_WORKER_OUTBOX_HIGH_BYTES,
                              RILL_WORKER_OUTBOX_LOW_MESSAGES, RILL_WORKER_OUTBOX_LOW_BYTES);
    return 0;
}

/* Stopping: what waits in the outbox (the last DONE, RETURN, BYE) gets the
 * socket's linger time to go, as what the socket holds does. */
static void flush_before_close(rill_worker_link_t *self)
{
    uint64_t deadline_ms = rill_clock_monotonic_ms() + RILL_SOCKET_LINGER_MS;
    while (self->dealer != NULL && rill_send_queue_flush(&self->outbox) > 0) {
        uint64_t now_ms = rill_clock_monotonic_ms();
        if (now_ms >= deadline_ms)
            break;
        zmq_pollitem_t item = {self->dealer, 0, ZMQ_POLLOUT, 0};
        if (zmq_poll(&item, 1, (long)(deadline_ms - now_ms)) < 0 && errno != EINTR)
            break;
    }
}

void rill_worker_link_close(rill_worker_link_t *self)
{
    flush_before_close(self);
    if (rill_send_queue_messages(&self->outbox) > 0)
        rill_log_warn(NULL, "stopping with %zu messages the broker did not take",
                      rill_send_queue_messages(&self->outbox));
    rill_send_queue_release(&self->outbox);
    if (self->dealer != NULL)
        zmq_close(self->dealer);
    if (self->zmq_context != NULL)
        zmq_ctx_term(self->zmq_context);
    self->dealer = NULL;
    self->zmq_context = NULL;
}

/* A broker listens: it welcomed us and was heard within three heartbeats. */
static int broker_listens(const rill_worker_link_t *self)
{
    return self->welcomed && !self->broker_silent;
}

int rill_worker_link_send(rill_worker_link_t *self, rill_command_t command, const rill_frame_t *arguments,
                          size_t count)
{
    if (command == RILL_COMMAND_PART) {
        int refuse = !broker_listens(self) && rill_send_queue_full(&self->outbox);
        if (refuse && !self->refusing_parts)
            rill_log_warn(NULL, "no broker takes parts and %zu messages wait: refusing parts",
                          rill_send_queue_messages(&self->outbox));
        self->refusing_parts = refuse;
        if (refuse) {
            self->parts_refused++;
            return -1;
        }
    }
    rill_frame_t frames[RILL_MESSAGE_MAX_FRAMES];
    if (count + 2 > RILL_MESSAGE_MAX_FRAMES)
        return -1; /* no message of ours has that many frames */
    frames[0] = rill_frame_from_string(RILL_PROTOCOL_VERSION);
    frames[1] = rill_frame_from_string(rill_command_name(command));
    for (size_t i = 0; i < count; i++)
        frames[2 + i] = arguments[i];
    rill_send_queue_send(&self->outbox, frames, count + 2);
    return 0;
}

void rill_worker_link_flush(rill_worker_link_t *self)
{
    if (rill_send_queue_flush(&self->outbox) < 0 && !self->socket_failed) {
        self->socket_failed = 1;
        rill_log_error(NULL, "cannot send to the broker: %s (%zu messages wait)", zmq_strerror(errno),
                       rill_send_queue_messages(&self->outbox));
    }
}

int rill_worker_link_pending(const rill_worker_link_t *self)
{
    return rill_send_queue_messages(&self->outbox) > 0;
}

int rill_worker_link_congested(const rill_worker_link_t *self)
{
    return rill_send_queue_full(&self->outbox) && broker_listens(self);
}

int rill_worker_link_send_job(rill_worker_link_t *self, rill_command_t command, const char *job_id)
{
    rill_frame_t argument = rill_frame_from_string(job_id);
    return rill_worker_link_send(self, command, &argument, 1);
}

void rill_worker_link_hello(rill_worker_link_t *self, const char *name, const rill_worker_kind_t *const *kinds,
                            size_t kind_count, uint64_t credit)
{
    char host[256] = "unknown";
    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "unknown");
    json_t *names = json_array();
    for (size_t i = 0; i < kind_count; i++)
        json_array_append_new(names, json_string(kinds[i]->name));
    json_t *hello = json_pack("{s:s, s:s, s:i, s:o, s:I}", "name", name, "host", host, "pid", (int)getpid(),
                              "kinds", names, "credit", (json_int_t)credit);
    char *text = hello != NULL ? json_dumps(hello, JSON_COMPACT) : NULL;
    if (text != NULL) {
        rill_frame_t argument = rill_frame_from_string(text);
        rill_worker_link_send(self, RILL_COMMAND_HELLO, &argument, 1);
    } else {
        rill_log_error(NULL, "cannot build HELLO"); /* a name that is not UTF-8 */
    }
    free(text);
    json_decref(hello);
}

int rill_worker_link_receive(rill_worker_link_t *self, rill_received_t *received, rill_message_t *message)
{
    while (rill_protocol_receive(self->dealer, received) > 0) {
        const char *error;
        if (rill_message_parse(RILL_CHANNEL_TO_WORKER, received->frames, received->count, message, &error) == 0) {
            self->last_heard_ns = rill_clock_monotonic_ns();
            if (self->broker_silent) {
                self->broker_silent = 0;
                rill_log_info(NULL, "broker heard again");
            }
            return 1;
        }
        self->malformed++;
        if (received->count > 0 && !rill_frame_equals(received->frames[0], RILL_PROTOCOL_VERSION))
            rill_log_error(NULL, "refusing broker message: protocol \"%.16s\", expected \"%s\"",
                           (const char *)received->frames[0].data, RILL_PROTOCOL_VERSION);
        else
            rill_log_warn(NULL, "malformed message from the broker dropped: %s", error);
        rill_received_close(received);
    }
    return 0;
}

int rill_worker_link_welcome(rill_worker_link_t *self, rill_frame_t body, size_t held)
{
    json_t *welcome = json_loadb((const char *)body.data, body.size, 0, NULL);
    const char *instance = json_string_value(json_object_get(welcome, "broker"));
    if (instance == NULL) {
        self->malformed++;
        rill_log_warn(NULL, "malformed WELCOME from the broker: dropped");
        json_decref(welcome);
        return 0;
    }
    int changed = strcmp(self->broker_instance, instance) != 0;
    int orphaned = self->broker_instance[0] != '\0' && changed && held > 0;
    if (orphaned)
        rill_log_warn(NULL, "broker restarted (%s -> %s): cancelling %zu jobs of the old one",
                      self->broker_instance, instance, held);
    json_int_t heartbeat_ms = json_integer_value(json_object_get(welcome, "heartbeat_ms"));
    if (heartbeat_ms >= 10 && heartbeat_ms <= 600000)
        self->heartbeat_ms = (uint64_t)heartbeat_ms; /* the broker judges us by its interval */
    if (!self->welcomed || changed)
        rill_log_info(NULL, "joined broker %s", instance);
    snprintf(self->broker_instance, sizeof(self->broker_instance), "%s", instance);
    self->welcomed = 1;
    json_decref(welcome);
    return orphaned;
}

void rill_worker_link_ping(rill_worker_link_t *self)
{
    uint64_t heartbeat_ns = self->heartbeat_ms * 1000000u;
    rill_worker_link_send(self, RILL_COMMAND_PING, NULL, 0);
    if (!self->broker_silent && rill_clock_monotonic_ns() - self->last_heard_ns > 3 * heartbeat_ns) {
        self->broker_silent = 1;
        rill_log_warn(NULL, "broker silent for %llu ms; still trying", (unsigned long long)(3 * self->heartbeat_ms));
    }
}
