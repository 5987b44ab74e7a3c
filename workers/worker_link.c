/*
 * worker_link.c - the worker's link to the broker. See worker_link.h.
 */
#include "worker_link.h"

#include "health_file.h"
#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_log.h"
#include "rill_process_stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rill_worker_link_open(rill_worker_link_t *self, const char *endpoints, uint64_t heartbeat_ms,
                          uint64_t max_message_bytes)
{
    memset(self, 0, sizeof(*self));
    self->heartbeat_ms = heartbeat_ms;
    self->last_heard_ns = rill_clock_monotonic_ns();
    if (rill_id_generate(self->session) != 0) {
        rill_log_error(NULL, "no randomness for the worker's session id");
        return -1;
    }
    self->zmq_context = zmq_ctx_new();
    self->dealer = self->zmq_context != NULL ? zmq_socket(self->zmq_context, ZMQ_DEALER) : NULL;
    if (self->dealer == NULL || rill_socket_configure(self->dealer, max_message_bytes) != 0) {
        rill_log_error(NULL, "cannot create the broker socket: %s", zmq_strerror(errno));
        return -1;
    }
    /* The socket holds little, the outbox the rest (worker_link.h). */
    if (rill_socket_cap_hwm(self->dealer, ZMQ_SNDHWM, RILL_WORKER_PIPE_HWM) != 0) {
        rill_log_error(NULL, "cannot configure the broker socket: %s", zmq_strerror(errno));
        return -1;
    }
    /* Liveness options (rill_liveness.h), the connect, and with a standby
     * the monitor of the connection. */
    rill_failover_init(&self->failover, self->zmq_context, heartbeat_ms);
    if (rill_failover_add(&self->failover, self->dealer, endpoints, "workers") != 0 ||
        rill_failover_start(&self->failover) != 0)
        return -1;
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

/* A job's end waiting for the turn's PARTS (rill_worker_link_send_end). */
struct rill_worker_link_end {
    char job_id[RILL_JOB_ID_LENGTH + 1];
    char *code; /* NULL: DONE */
    char *message;
};

/* The ends that waited for the batch, in their order, into the outbox,
 * but the DONEs the PARTS message carried (marked sent: code NULL, job id
 * emptied). */
static void send_ends(rill_worker_link_t *self)
{
    for (size_t i = 0; i < self->end_count; i++) {
        struct rill_worker_link_end *end = &self->ends[i];
        int done = end->code == NULL;
        if (done && end->job_id[0] == '\0')
            continue;
        rill_frame_t frames[5] = {rill_frame_from_string(RILL_PROTOCOL_VERSION),
                                  rill_frame_from_string(rill_command_name(done ? RILL_COMMAND_DONE : RILL_COMMAND_FAIL)),
                                  rill_frame_from_string(end->job_id)};
        if (!done) {
            frames[3] = rill_frame_from_string(end->code);
            frames[4] = rill_frame_from_string(end->message);
        }
        rill_send_queue_send(&self->outbox, frames, done ? 3 : 5);
        free(end->code);
        free(end->message);
    }
    self->end_count = 0;
}

/* The parts of this turn, as one PARTS message, into the outbox, with the
 * ids of the jobs done after them in its second frame (rill/7, up to
 * RILL_PARTS_MAX_DONE); then the other ends that waited for them. */
static void seal_batch(rill_worker_link_t *self)
{
    if (self->batch_entries > 0) {
        char done[RILL_PARTS_MAX_DONE * (RILL_JOB_ID_LENGTH + 1)];
        size_t done_length = 0, done_count = 0;
        for (size_t i = 0; i < self->end_count && done_count < RILL_PARTS_MAX_DONE; i++) {
            struct rill_worker_link_end *end = &self->ends[i];
            if (end->code != NULL)
                continue;
            rill_parts_add_done(done, &done_length, end->job_id);
            end->job_id[0] = '\0';
            done_count++;
        }
        rill_frame_t frames[4] = {rill_frame_from_string(RILL_PROTOCOL_VERSION),
                                  rill_frame_from_string(rill_command_name(RILL_COMMAND_PARTS)),
                                  {(const uint8_t *)self->batch, self->batch_length},
                                  {(const uint8_t *)done, done_length}};
        rill_send_queue_send(&self->outbox, frames, done_count > 0 ? 4 : 3);
        self->batch_length = 0;
        self->batch_entries = 0;
    }
    if (self->end_count > 0)
        send_ends(self);
}

void rill_worker_link_close(rill_worker_link_t *self)
{
    seal_batch(self);
    flush_before_close(self);
    if (rill_send_queue_messages(&self->outbox) > 0)
        rill_log_warn(NULL, "stopping with %zu messages the broker did not take",
                      rill_send_queue_messages(&self->outbox));
    rill_send_queue_release(&self->outbox);
    free(self->batch);
    self->batch = NULL;
    free(self->ends); /* empty: seal_batch sent them */
    self->ends = NULL;
    self->end_count = self->end_capacity = 0;
    self->batch_length = self->batch_capacity = self->batch_entries = 0;
    rill_failover_release(&self->failover);
    if (self->dealer != NULL)
        zmq_close(self->dealer);
    if (self->zmq_context != NULL)
        zmq_ctx_term(self->zmq_context);
    self->dealer = NULL;
    self->zmq_context = NULL;
}

/* A broker listens: it welcomed this worker and has not asked it to join
 * again nor fallen silent since (rill_worker_link_unjoin). While none does,
 * parts are only held (job_registry.c), so there is nothing to pause. */
static int broker_listens(const rill_worker_link_t *self)
{
    return self->joined;
}

int rill_worker_link_send(rill_worker_link_t *self, rill_command_t command, const rill_frame_t *arguments,
                          size_t count)
{
    rill_frame_t frames[RILL_MESSAGE_MAX_FRAMES];
    if (count + 2 > RILL_MESSAGE_MAX_FRAMES)
        return -1; /* no message of ours has that many frames */
    frames[0] = rill_frame_from_string(RILL_PROTOCOL_VERSION);
    frames[1] = rill_frame_from_string(rill_command_name(command));
    for (size_t i = 0; i < count; i++)
        frames[2 + i] = arguments[i];
    seal_batch(self); /* the parts before it go first */
    rill_send_queue_send(&self->outbox, frames, count + 2);
    return 0;
}

int rill_worker_link_send_part(rill_worker_link_t *self, const char *job_id, uint64_t seq, const char *data,
                               size_t length)
{
    self->parts_sent++;
    if (length > RILL_PARTS_ENTRY_MAX_DATA) {
        char seq_text[24];
        rill_frame_t arguments[3] = {rill_frame_from_string(job_id), {(const uint8_t *)seq_text, 0},
                                     {(const uint8_t *)data, length}};
        arguments[1].size = rill_u64_to_text(seq, seq_text);
        return rill_worker_link_send(self, RILL_COMMAND_PART, arguments, 3);
    }
    if (self->batch_entries > 0 && (self->batch_entries >= RILL_PARTS_MAX_ENTRIES ||
                                    self->batch_length + RILL_PARTS_ENTRY_HEADER_MAX + length > RILL_PARTS_MAX_BYTES))
        seal_batch(self);
    size_t need = self->batch_length + RILL_PARTS_ENTRY_HEADER_MAX + length;
    if (need > self->batch_capacity) {
        self->batch_capacity = need > 4096 ? need * 2 : 4096;
        self->batch = rill_xrealloc(self->batch, self->batch_capacity);
    }
    self->batch_length += rill_parts_entry_header(self->batch + self->batch_length, job_id, seq, length);
    if (length > 0)
        memcpy(self->batch + self->batch_length, data, length);
    self->batch_length += length;
    self->batch_entries++;
    return 0;
}

int rill_worker_link_send_end(rill_worker_link_t *self, const char *job_id, const char *code, const char *message)
{
    if (self->batch_entries == 0) { /* no part to wait for: at once */
        rill_frame_t arguments[3] = {rill_frame_from_string(job_id), rill_frame_from_string(code != NULL ? code : ""),
                                     rill_frame_from_string(message != NULL ? message : "")};
        return rill_worker_link_send(self, code == NULL ? RILL_COMMAND_DONE : RILL_COMMAND_FAIL, arguments,
                                     code == NULL ? 1 : 3);
    }
    if (self->end_count == self->end_capacity) {
        self->end_capacity = self->end_capacity > 0 ? 2 * self->end_capacity : 16;
        self->ends = rill_xrealloc(self->ends, self->end_capacity * sizeof(*self->ends));
    }
    struct rill_worker_link_end *end = &self->ends[self->end_count++];
    snprintf(end->job_id, sizeof(end->job_id), "%s", job_id);
    end->code = code != NULL ? rill_xstrdup(code) : NULL;
    end->message = code != NULL ? rill_xstrdup(message != NULL ? message : "") : NULL;
    return 0;
}

void rill_worker_link_flush(rill_worker_link_t *self)
{
    seal_batch(self);
    if (rill_send_queue_flush(&self->outbox) < 0 && !self->socket_failed) {
        self->socket_failed = 1;
        rill_log_error(NULL, "cannot send to the broker: %s (%zu messages wait)", zmq_strerror(errno),
                       rill_send_queue_messages(&self->outbox));
    }
}

int rill_worker_link_pending(const rill_worker_link_t *self)
{
    return rill_send_queue_messages(&self->outbox) > 0 || self->batch_entries > 0 || self->end_count > 0;
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

int rill_worker_link_hello(rill_worker_link_t *self, const char *name, const rill_worker_kind_t *const *kinds,
                           size_t kind_count, uint64_t credit, const rill_hello_job_t *jobs, size_t job_count)
{
    uint64_t now = rill_clock_monotonic_ns();
    /* One at a time: its answer may be on the way (a broker that comes
     * back answers every HELLO it finds queued). */
    if (self->hello_pending && now - self->hello_sent_ns < self->heartbeat_ms * 1000000u)
        return 0;
    char host[256] = "unknown";
    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "unknown");
    rill_hello_t hello = {.name = name, .host = host, .pid = (int64_t)getpid(), .credit = credit,
                          .session = self->session, .jobs = (rill_hello_job_t *)jobs, .job_count = job_count};
    for (size_t i = 0; i < kind_count && i < RILL_CONFIG_MAX_KINDS; i++)
        hello.kinds[hello.kind_count++] = kinds[i]->name;
    char *text = rill_hello_encode(&hello);
    rill_frame_t argument = rill_frame_from_string(text);
    rill_worker_link_send(self, RILL_COMMAND_HELLO, &argument, 1);
    free(text);
    self->hello_pending = 1;
    self->hello_sent_ns = now;
    return 1;
}

void rill_worker_link_unjoin(rill_worker_link_t *self, const char *why)
{
    if (!self->joined)
        return;
    self->joined = 0;
    self->join_epoch++;
    rill_log_warn(NULL, "%s: joining again; parts are held until the broker welcomes this worker", why);
}

void rill_worker_link_rejoin(rill_worker_link_t *self)
{
    rill_worker_link_unjoin(self, "the broker does not know this worker");
    if (self->hello_unheard) {
        self->hello_unheard = 0;
        self->hello_pending = 0;
    }
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

int rill_worker_link_welcome(rill_worker_link_t *self, const rill_welcome_t *welcome)
{
    int changed = strcmp(self->broker_instance, welcome->broker) != 0;
    if (self->broker_instance[0] != '\0' && changed)
        rill_log_warn(NULL, "broker restarted (%s -> %s): its jobs were reported to the new one",
                      self->broker_instance, welcome->broker);
    if (welcome->heartbeat_ms >= 10 && welcome->heartbeat_ms <= 600000) {
        self->heartbeat_ms = welcome->heartbeat_ms; /* the broker judges us by its interval */
        self->failover.hold_ms = 2 * self->heartbeat_ms;
    }
    if (!self->joined || changed)
        rill_log_info(NULL, "joined broker %s: %zu jobs go on, %zu cancelled", welcome->broker,
                      welcome->adopted_count, welcome->cancelled_count);
    snprintf(self->broker_instance, sizeof(self->broker_instance), "%s", welcome->broker);
    self->welcomed = 1;
    self->joined = 1;
    self->hello_pending = 0;
    self->hello_unheard = 0;
    rill_worker_health_write(1, self->broker_instance, self->heartbeat_ms);
    return changed;
}

void rill_worker_link_ping(rill_worker_link_t *self)
{
    uint64_t heartbeat_ns = self->heartbeat_ms * 1000000u;
    /* rill/5: the PING carries what this process costs, for the broker's
     * METRICS reply (docs/METRICS.md "Processes"). */
    rill_process_stats_t stats;
    char stats_json[512];
    (void)rill_process_stats_read(&stats);
    if (rill_process_stats_to_json(&stats, stats_json, sizeof(stats_json)) == 0) {
        rill_frame_t frame = rill_frame_from_string(stats_json);
        rill_worker_link_send(self, RILL_COMMAND_PING, &frame, 1);
    } else {
        rill_worker_link_send(self, RILL_COMMAND_PING, NULL, 0);
    }
    if (!self->broker_silent && rill_clock_monotonic_ns() - self->last_heard_ns > 3 * heartbeat_ns) {
        self->broker_silent = 1;
        /* Over tcp:// the DEALER's ZeroMQ heartbeat has closed the dead
         * connection by now and connects again by itself, keeping what it
         * queued (rill_liveness.h); the HELLO goes out on the new one. */
        rill_log_warn(NULL, "broker silent for %llu ms: connecting again", (unsigned long long)(3 * self->heartbeat_ms));
        rill_worker_link_unjoin(self, "the broker fell silent");
    }
    /* Each heartbeat says the loop runs, and whether it is joined (health_file.h). */
    rill_worker_health_write(self->joined, self->broker_instance, self->heartbeat_ms);
}

void *rill_worker_link_monitor(const rill_worker_link_t *self)
{
    return rill_failover_monitor(&self->failover);
}

/* Silence counts from the last message, or from the last switch. */
static uint64_t silent_from_ns(const rill_worker_link_t *self)
{
    uint64_t switched_ns = self->failover.switched_ms * 1000000u;
    return switched_ns > self->last_heard_ns ? switched_ns : self->last_heard_ns;
}

uint64_t rill_worker_link_silence_due_ms(const rill_worker_link_t *self)
{
    if (!rill_failover_enabled(&self->failover))
        return UINT64_MAX;
    uint64_t due_ns = silent_from_ns(self) + 2 * self->heartbeat_ms * 1000000u;
    uint64_t now = rill_clock_monotonic_ns();
    return due_ns <= now ? 0 : (due_ns - now + 999999) / 1000000;
}

int rill_worker_link_failover(rill_worker_link_t *self, int disconnected)
{
    if (!rill_failover_may_switch(&self->failover))
        return 0;
    int silent = rill_clock_monotonic_ns() - silent_from_ns(self) >= 2 * self->heartbeat_ms * 1000000u;
    if (!disconnected && !silent)
        return 0;
    const char *why = disconnected ? "closed the connection" : "was silent for 2 heartbeats";
    if (rill_failover_switch(&self->failover, why) != 0)
        return 0;
    rill_worker_link_unjoin(self, "switched to the other broker");
    self->hello_pending = 0; /* one asked of the broker left behind is moot */
    self->hello_unheard = 1;
    return 1;
}
