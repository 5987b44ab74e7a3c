/*
 * fake_broker.c - the broker's end of workers.sock for worker tests. See
 * fake_broker.h.
 */
#include "fake_broker.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WORKER_ARGUMENTS_MAX 24

long fake_broker_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

int fake_broker_open(fake_broker_t *self, const char *run_dir_template, const char *config_text)
{
    memset(self, 0, sizeof(*self));
    self->routing.data = self->routing_data;
    snprintf(self->run_dir, sizeof(self->run_dir), "%s", run_dir_template);
    if (mkdtemp(self->run_dir) == NULL) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(self->config_path, sizeof(self->config_path), "%s/config.json", self->run_dir);
    FILE *config = fopen(self->config_path, "w");
    if (config == NULL) {
        perror("config");
        return -1;
    }
    fprintf(config, "%s\n", config_text);
    fclose(config);
    char endpoint[160];
    snprintf(endpoint, sizeof(endpoint), "ipc://%s/workers.sock", self->run_dir);
    self->context = zmq_ctx_new();
    self->router = zmq_socket(self->context, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(self->router, ZMQ_LINGER, &linger, sizeof(linger));
    if (zmq_bind(self->router, endpoint) != 0) {
        fprintf(stderr, "bind %s: %s\n", endpoint, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

void fake_broker_start_worker(fake_broker_t *self, const char *worker_path, ...)
{
    const char *arguments[WORKER_ARGUMENTS_MAX + 6] = {worker_path, "--run-dir", self->run_dir, "--config",
                                                       self->config_path};
    size_t count = 5;
    va_list list;
    va_start(list, worker_path);
    for (const char *flag = va_arg(list, const char *); flag != NULL && count < WORKER_ARGUMENTS_MAX + 5;
         flag = va_arg(list, const char *))
        arguments[count++] = flag;
    va_end(list);
    arguments[count] = NULL;
    self->worker_pid = fork();
    if (self->worker_pid == 0) {
        execv(worker_path, (char *const *)arguments);
        _exit(127);
    }
}

/* The next id of the done frame being handed out, as a DONE: 1, or 0 when
 * none is left (-1: a malformed id). */
static int next_batched_done(fake_broker_t *self, rill_received_t *received, rill_message_t *message,
                             const char **error)
{
    if (self->done == NULL)
        return 0;
    rill_frame_t done = {self->done, self->done_size};
    rill_frame_t id;
    int got = rill_parts_next_done(done, &self->done_offset, &id, error);
    if (got != 1) {
        free(self->done);
        self->done = NULL;
        return got;
    }
    received->count = 0; /* the caller closes it: nothing to close */
    received->truncated = 0;
    memset(message, 0, sizeof(*message));
    message->command = RILL_COMMAND_DONE;
    message->argument_count = 1;
    message->arguments[0] = id;
    self->batched_dones++;
    return 1;
}

/* The next entry of the PARTS batch being handed out, as a PART, then the
 * ids of its done frame: 1, or 0 when none is left (-1: a malformed entry). */
static int next_batched_part(fake_broker_t *self, rill_received_t *received, rill_message_t *message,
                             const char **error)
{
    if (self->batch == NULL)
        return next_batched_done(self, received, message, error);
    rill_frame_t batch = {self->batch, self->batch_size};
    rill_parts_entry_t entry;
    int got = rill_parts_next(batch, &self->batch_offset, &entry, error);
    if (got != 1) {
        free(self->batch);
        self->batch = NULL;
        return got == 0 ? next_batched_done(self, received, message, error) : got;
    }
    received->count = 0; /* the caller closes it: nothing to close */
    received->truncated = 0;
    memset(message, 0, sizeof(*message));
    message->command = RILL_COMMAND_PART;
    message->argument_count = 3;
    message->arguments[0] = entry.id;
    message->arguments[1].data = (const uint8_t *)self->seq_text;
    message->arguments[1].size = rill_u64_to_text(entry.seq, self->seq_text);
    message->arguments[2] = entry.data;
    return 1;
}

int fake_broker_receive(fake_broker_t *self, rill_received_t *received, rill_message_t *message,
                        const char **error)
{
    int batched = next_batched_part(self, received, message, error);
    if (batched != 0)
        return batched;
    if (rill_protocol_receive(self->router, received) != 1)
        return 0;
    *error = "too short";
    if (received->count < 2 || rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, received->frames + 1,
                                                  received->count - 1, message, error) != 0) {
        rill_received_close(received);
        return -1;
    }
    self->routing.size = received->frames[0].size < sizeof(self->routing_data) ? received->frames[0].size : 0;
    memcpy(self->routing_data, received->frames[0].data, self->routing.size);
    if (message->command == RILL_COMMAND_PARTS) {
        /* rill/3: handed out entry by entry, as the PARTs they stand for. */
        self->parts_messages++;
        self->batch_size = message->arguments[0].size;
        self->batch = malloc(self->batch_size);
        self->batch_offset = 0;
        if (self->batch != NULL)
            memcpy(self->batch, message->arguments[0].data, self->batch_size);
        self->done_size = message->argument_count > 1 ? message->arguments[1].size : 0;
        self->done = self->done_size > 0 ? malloc(self->done_size) : NULL;
        self->done_offset = 0;
        if (self->done != NULL)
            memcpy(self->done, message->arguments[1].data, self->done_size);
        rill_received_close(received);
        return next_batched_part(self, received, message, error) == 1 ? 1 : -1;
    }
    return 1;
}

int fake_broker_send(fake_broker_t *self, rill_command_t command, const char *argument)
{
    rill_frame_t frame = rill_frame_from_string(argument != NULL ? argument : "");
    return rill_protocol_send_command(self->router, &self->routing, command, &frame, argument != NULL ? 1 : 0,
                                      ZMQ_DONTWAIT);
}

int fake_broker_welcome(fake_broker_t *self, unsigned heartbeat_ms)
{
    char text[160];
    snprintf(text, sizeof(text),
             "{\"broker\":\"fakefakefakefakefakefakefakefake\",\"heartbeat_ms\":%u,\"adopted\":{},"
             "\"cancelled\":[]}",
             heartbeat_ms);
    return fake_broker_send(self, RILL_COMMAND_WELCOME, text);
}

void fake_broker_pump(fake_broker_t *self, long ms, int (*stop)(void *context), fake_broker_message_fn on_message,
                      void *context)
{
    long deadline = fake_broker_now_ms() + ms;
    while (stop == NULL || !stop(context)) {
        if (self->routing.size > 0 && fake_broker_now_ms() >= self->next_ping_ms) {
            fake_broker_send(self, RILL_COMMAND_PING, NULL);
            self->next_ping_ms = fake_broker_now_ms() + 50;
        }
        rill_received_t received;
        rill_message_t message;
        const char *error = NULL;
        int got;
        while ((got = fake_broker_receive(self, &received, &message, &error)) != 0) {
            on_message(context, got == 1 ? &message : NULL, error);
            if (got == 1)
                rill_received_close(&received);
        }
        long left = deadline - fake_broker_now_ms();
        if (left <= 0)
            return;
        zmq_pollitem_t item = {self->router, 0, ZMQ_POLLIN, 0};
        zmq_poll(&item, 1, left < 20 ? left : 20);
    }
}

int fake_broker_close(fake_broker_t *self)
{
    int status = -1;
    if (self->worker_pid > 0) {
        kill(self->worker_pid, SIGTERM);
        waitpid(self->worker_pid, &status, 0);
    }
    free(self->batch);
    free(self->done);
    self->batch = NULL;
    if (self->router != NULL)
        zmq_close(self->router);
    if (self->context != NULL)
        zmq_ctx_term(self->context);
    unlink(self->config_path);
    char tail[96];
    snprintf(tail, sizeof(tail), "%s/tail", self->run_dir);
    rmdir(tail); /* the worker makes the default tail_root */
    rmdir(self->run_dir);
    return status;
}
