/*
 * worker_channel.c - the jobs subject: the ROUTER socket workers talk to.
 *
 * Translates worker messages (docs/PROTOCOL.md, "Worker ⇄ broker") into the
 * job-life operations of broker.c, and owns the one way of sending to a
 * worker: ROUTER_MANDATORY makes a vanished worker a send error, which marks
 * it unreachable so the next reap retries its jobs elsewhere.
 */
#include "broker.h"
#include "rill_clock.h"
#include "rill_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Frame index of argument i in a received message: routing, version, command. */
#define ARGUMENT_PART(i) (3 + (i))

int rill_worker_channel_send(rill_broker_t *self, rill_worker_t *worker, rill_command_t command,
                             const rill_frame_t *arguments, size_t count)
{
    if (worker->unreachable)
        return -1;
    rill_frame_t routing = {worker->routing_id, worker->routing_id_size};
    if (rill_protocol_send_command(self->workers, &routing, command, arguments, count, ZMQ_DONTWAIT) == 0)
        return 0;
    rill_log_warn(NULL, "worker %s (%s pid %lld): cannot send %s: %s", worker->name, worker->host,
                  (long long)worker->pid, rill_command_name(command), zmq_strerror(errno));
    worker->unreachable = 1;
    self->reap_needed = 1;
    return -1;
}

static int send_to_routing(rill_broker_t *self, const rill_frame_t *routing, rill_command_t command,
                           const rill_frame_t *arguments, size_t count)
{
    if (rill_protocol_send_command(self->workers, routing, command, arguments, count, ZMQ_DONTWAIT) != 0) {
        rill_log_debug(NULL, "cannot send %s to a worker: %s", rill_command_name(command),
                       zmq_strerror(errno));
        return -1;
    }
    return 0;
}

/* Reads HELLO's json into spec; strings point into root. 0 or -1 with reason. */
static int parse_hello(json_t *root, rill_worker_spec_t *spec, const char **reason)
{
    memset(spec, 0, sizeof(*spec));
    json_t *name = json_object_get(root, "name");
    json_t *host = json_object_get(root, "host");
    json_t *pid = json_object_get(root, "pid");
    json_t *kinds = json_object_get(root, "kinds");
    json_t *credit = json_object_get(root, "credit");
    if (!json_is_object(root)) {
        *reason = "HELLO: not a JSON object";
        return -1;
    }
    if (!json_is_string(name) || json_string_length(name) == 0 || json_string_length(name) > 256) {
        *reason = "HELLO: \"name\" must be a string of 1 to 256 bytes";
        return -1;
    }
    if (host != NULL && (!json_is_string(host) || json_string_length(host) > 256)) {
        *reason = "HELLO: \"host\" must be a string of at most 256 bytes";
        return -1;
    }
    if (pid != NULL && (!json_is_integer(pid) || json_integer_value(pid) < 0)) {
        *reason = "HELLO: \"pid\" must be a non-negative integer";
        return -1;
    }
    if (!json_is_array(kinds) || json_array_size(kinds) == 0 ||
        json_array_size(kinds) > RILL_CONFIG_MAX_KINDS) {
        *reason = "HELLO: \"kinds\" must be an array of 1 to 32 names";
        return -1;
    }
    if (!json_is_integer(credit) || json_integer_value(credit) < 0 ||
        json_integer_value(credit) > RILL_WORKER_CREDIT_MAX) {
        *reason = "HELLO: \"credit\" must be an integer from 0 to 1000000";
        return -1;
    }
    size_t index;
    json_t *kind;
    json_array_foreach(kinds, index, kind)
    {
        if (!json_is_string(kind) || json_string_length(kind) == 0 ||
            json_string_length(kind) >= RILL_CONFIG_KIND_NAME_MAX) {
            *reason = "HELLO: each kind must be a string of 1 to 63 bytes";
            return -1;
        }
        spec->kinds[spec->kind_count++] = json_string_value(kind);
    }
    spec->name = json_string_value(name);
    spec->host = host != NULL ? json_string_value(host) : "";
    spec->pid = pid != NULL ? (int64_t)json_integer_value(pid) : 0;
    spec->credit = (uint64_t)json_integer_value(credit);
    return 0;
}

static void handle_hello(rill_broker_t *self, rill_worker_t *known, const rill_frame_t *routing,
                         const rill_frame_t *frames, size_t count, const rill_message_t *message)
{
    json_error_t parse_error;
    json_t *root = json_loadb((const char *)message->arguments[0].data, message->arguments[0].size,
                              JSON_REJECT_DUPLICATES, &parse_error);
    const char *reason = "HELLO: malformed JSON";
    rill_worker_spec_t spec;
    if (root == NULL || parse_hello(root, &spec, &reason) != 0) {
        rill_broker_malformed(self, "workers", routing, frames, count, reason);
        json_decref(root);
        return;
    }
    if (known != NULL) {
        /* Same connection says HELLO again: it lost its session. Its jobs
         * are stopped and retried like those of a lost worker. */
        rill_link_t *link;
        for (link = known->jobs.next; link != &known->jobs; link = link->next) {
            rill_job_t *job = rill_container_of(link, rill_job_t, worker_link);
            rill_frame_t id = {(const uint8_t *)job->id, RILL_JOB_ID_LENGTH};
            (void)send_to_routing(self, routing, RILL_COMMAND_CANCEL, &id, 1);
        }
        rill_broker_worker_gone(self, known, "said HELLO again");
    }
    uint64_t now = rill_clock_monotonic_ms();
    rill_worker_t *worker = rill_worker_pool_add(self->pool, routing->data, routing->size, &spec, now);
    if (worker == NULL) {
        rill_log_error(NULL, "cannot register worker %s: out of memory or bad routing id", spec.name);
        json_decref(root);
        return;
    }
    json_decref(root);
    self->counters->workers_alive++;
    self->counters->workers_joined++;
    char kinds[RILL_CONFIG_MAX_KINDS * RILL_CONFIG_KIND_NAME_MAX];
    size_t used = 0;
    kinds[0] = '\0';
    for (size_t i = 0; i < worker->kind_count; i++) {
        int written = snprintf(kinds + used, sizeof(kinds) - used, "%s%s", i ? "," : "", worker->kinds[i]);
        if (written > 0)
            used += (size_t)written;
        if (!rill_config_declares_kind(&self->config, worker->kinds[i]))
            rill_log_warn(NULL, "worker %s serves kind \"%s\", which the config does not declare",
                          worker->name, worker->kinds[i]);
    }
    rill_log_info(NULL, "worker %s (%s pid %lld) joined: kinds %s, credit %llu", worker->name,
                  worker->host, (long long)worker->pid, kinds, (unsigned long long)worker->credit);
    worker->heartbeat_ms = self->config.heartbeat_ms;
    json_t *welcome = json_pack("{s:s, s:I}", "broker", self->instance_id, "heartbeat_ms",
                                (json_int_t)self->config.heartbeat_ms);
    char *text = welcome != NULL ? json_dumps(welcome, JSON_COMPACT) : NULL;
    json_decref(welcome);
    if (text == NULL) {
        rill_log_error(NULL, "out of memory welcoming worker %s", worker->name);
        return;
    }
    rill_frame_t frame = rill_frame_from_string(text);
    (void)rill_worker_channel_send(self, worker, RILL_COMMAND_WELCOME, &frame, 1);
    free(text);
    self->dispatch_needed = 1;
}

/* The job named by frame if it is running on worker; else NULL (counted). */
static rill_job_t *held_job(rill_broker_t *self, rill_worker_t *worker, rill_frame_t id,
                            rill_command_t command)
{
    rill_job_t *job = rill_job_table_find_frame(self->jobs, id.data, id.size);
    if (job != NULL && job->state == RILL_JOB_RUNNING && job->worker == worker)
        return job;
    self->counters->parts_ignored++;
    rill_log_debug(job != NULL ? job->who : NULL, "ignored %s for job %.*s from worker %s: %s",
                   rill_command_name(command), (int)id.size, (const char *)id.data, worker->name,
                   job == NULL ? "unknown job" : "not running there");
    return NULL;
}

/* A part is one line of NDJSON and one SSE data: line on every stream. A
 * worker (maybe not ours) may send pretty-printed JSON: outside strings a
 * line break is only whitespace, and inside one it is invalid JSON anyway,
 * so turning CR and LF into spaces, in place, keeps the framing and the
 * meaning. Usually there is none: memchr finds that fast. */
static void flatten_line_breaks(void *bytes, size_t size)
{
    char *text = bytes;
    char *end = text + size;
    for (char *c = memchr(text, '\n', size); c != NULL; c = memchr(c, '\n', (size_t)(end - c)))
        *c = ' ';
    for (char *c = memchr(text, '\r', size); c != NULL; c = memchr(c, '\r', (size_t)(end - c)))
        *c = ' ';
}

static void handle_message(rill_broker_t *self, rill_received_t *received, const rill_frame_t *routing)
{
    const rill_frame_t *frames = received->frames + 1;
    size_t count = received->count - 1;
    rill_message_t message;
    const char *reason = NULL;
    if (received->truncated) {
        rill_broker_malformed(self, "workers", routing, frames, count, "too many frames");
        return;
    }
    if (rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, frames, count, &message, &reason) != 0) {
        rill_broker_malformed(self, "workers", routing, frames, count, reason);
        return;
    }
    rill_worker_t *worker = rill_worker_pool_find(self->pool, routing->data, routing->size);
    if (worker != NULL)
        worker->last_seen_ms = rill_clock_monotonic_ms();
    if (message.command == RILL_COMMAND_HELLO) {
        handle_hello(self, worker, routing, frames, count, &message);
        return;
    }
    if (worker == NULL) {
        /* Known by no one here (the broker restarted, or the worker was
         * declared dead): ask it to say HELLO again. */
        rill_log_debug(NULL, "%s from an unknown worker: REJOIN", rill_command_name(message.command));
        (void)send_to_routing(self, routing, RILL_COMMAND_REJOIN, NULL, 0);
        return;
    }
    rill_job_t *job;
    switch (message.command) {
    case RILL_COMMAND_CREDIT: {
        uint64_t credit = 0;
        (void)rill_frame_to_u64(message.arguments[0], &credit);
        rill_worker_add_credit(worker, credit);
        self->dispatch_needed = 1;
        break;
    }
    case RILL_COMMAND_PART:
        job = held_job(self, worker, message.arguments[0], message.command);
        if (job != NULL) {
            zmq_msg_t *data = &received->parts[ARGUMENT_PART(1)];
            flatten_line_breaks(zmq_msg_data(data), zmq_msg_size(data));
            (void)rill_events_publish(self, job, RILL_EVENT_PART, data);
        }
        break;
    case RILL_COMMAND_DONE:
        job = held_job(self, worker, message.arguments[0], message.command);
        if (job != NULL)
            rill_broker_end_job(self, job, RILL_JOB_DONE, NULL, NULL, 0);
        break;
    case RILL_COMMAND_FAIL:
        job = held_job(self, worker, message.arguments[0], message.command);
        if (job != NULL) {
            char *code = rill_frame_strdup(message.arguments[1]);
            char *text = rill_frame_strdup(message.arguments[2]);
            rill_broker_end_job(self, job, RILL_JOB_FAILED, code != NULL ? code : "error",
                                text != NULL ? text : "", 0);
            free(code);
            free(text);
        }
        break;
    case RILL_COMMAND_RETURN:
        job = held_job(self, worker, message.arguments[0], message.command);
        if (job != NULL) {
            rill_broker_unassign(self, job, 1);
            rill_broker_retry_job(self, job, "worker_left");
        }
        break;
    case RILL_COMMAND_BYE:
        if (!worker->draining)
            rill_log_info(NULL, "worker %s (%s pid %lld) is draining: %llu jobs left", worker->name,
                          worker->host, (long long)worker->pid, (unsigned long long)worker->held);
        worker->draining = 1;
        break;
    case RILL_COMMAND_PING:
        break;
    default:
        rill_broker_malformed(self, "workers", routing, frames, count, "command not for the broker");
        break;
    }
}

void rill_worker_channel_receive(rill_broker_t *self)
{
    for (int i = 0; i < RILL_BROKER_BURST; i++) {
        rill_received_t received;
        int got = rill_protocol_receive(self->workers, &received);
        if (got == 0)
            return;
        if (got < 0) {
            if (errno != EINTR && errno != EAGAIN)
                rill_log_warn(NULL, "workers socket receive failed: %s", zmq_strerror(errno));
            return;
        }
        if (received.count >= 1) {
            rill_frame_t routing = received.frames[0];
            handle_message(self, &received, &routing);
        }
        rill_received_close(&received);
    }
}
