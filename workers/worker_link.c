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
    if (zmq_connect(self->dealer, endpoint) != 0) {
        rill_log_error(NULL, "cannot connect to %s: %s", endpoint, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

void rill_worker_link_close(rill_worker_link_t *self)
{
    if (self->dealer != NULL)
        zmq_close(self->dealer);
    if (self->zmq_context != NULL)
        zmq_ctx_term(self->zmq_context);
    self->dealer = NULL;
    self->zmq_context = NULL;
}

int rill_worker_link_send(rill_worker_link_t *self, rill_command_t command, const rill_frame_t *arguments,
                          size_t count)
{
    if (rill_protocol_send_command(self->dealer, NULL, command, arguments, count, ZMQ_DONTWAIT) != 0) {
        rill_log_warn(NULL, "cannot send %s to the broker: %s", rill_command_name(command), zmq_strerror(errno));
        return -1;
    }
    return 0;
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
