/*
 * broker_link.c - see broker_link.h. The only file that touches ZeroMQ.
 */
#include "rill_event_batch.h"
#include "broker_link.h"
#include "broker_calls.h"
#include "read_yield.h"

#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_failover.h"
#include "rill_log.h"

#include <czmq.h>
#include <errno.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rill_broker_link {
    h2o_context_t *context;
    rill_broker_link_callbacks_t callbacks;
    uint64_t heartbeat_ms;
    uint64_t max_message_bytes; /* each socket's ZMQ_MAXMSGSIZE (config) */
    void *zmq_context;
    void *control; /* DEALER -> broker ROUTER */
    void *events;  /* SUB <- broker XPUB */
    h2o_socket_t *control_watch;
    h2o_socket_t *events_watch;
    rill_failover_t failover; /* one broker, or one and its standby */
    h2o_socket_t *monitor_watch;
    int switched; /* switched since the last PONG: the next one says who answers */
    h2o_timeout_t ping_timeout;
    h2o_timeout_entry_t ping_entry;
    h2o_timeout_t silence_timeout; /* 2 x heartbeat_ms */
    h2o_timeout_entry_t silence_entry; /* re-armed by every message */
    h2o_timeout_entry_t drain_entry; /* on the context's zero_timeout */
    rill_broker_calls_t *calls; /* in flight: broker_calls.h */
    uint64_t last_pong_ms;
    char broker_id[128];
    long workers;
    int silent; /* on_broker_silent was called; no PONG since */
    int draining;
    int drain_again;
    rill_read_yield_t read_yield; /* while busy, libzmq hands a burst over first */
    uint64_t events_read;         /* its measure of busy */
    uint64_t malformed;
    uint64_t malformed_logged_ms;
    /* rill/4: "d" + a random id + "/", subscribed for the link's life: the
     * broker publishes the jobs this frontend's submits stream under it
     * (docs/PROTOCOL.md, "Direct delivery"). */
    char follow[RILL_BROKER_FOLLOW_SIZE];
};

static void drain(rill_broker_link_t *self);

static void schedule_drain(rill_broker_link_t *self)
{
    if (self->draining) {
        self->drain_again = 1;
        return;
    }
    if (!h2o_timeout_is_linked(&self->drain_entry))
        h2o_timeout_link(self->context->loop, &self->context->zero_timeout, &self->drain_entry);
}

static void on_drain_entry(h2o_timeout_entry_t *entry)
{
    drain(H2O_STRUCT_FROM_MEMBER(rill_broker_link_t, drain_entry, entry));
}

static void count_malformed(rill_broker_link_t *self, const char *what, const char *reason)
{
    self->malformed++;
    uint64_t now = rill_clock_monotonic_ms();
    /* Logged once a minute at most: a noisy peer must not flood the log. */
    if (self->malformed_logged_ms == 0 || now - self->malformed_logged_ms >= 60000) {
        self->malformed_logged_ms = now;
        rill_log_warn(NULL, "dropped malformed %s from broker: %s (%llu dropped so far)", what,
                      reason, (unsigned long long)self->malformed);
    }
}

static void handle_pong(rill_broker_link_t *self, const rill_message_t *message)
{
    json_error_t error;
    json_t *pong = json_loadb((const char *)message->arguments[0].data, message->arguments[0].size,
                              0, &error);
    const char *broker = json_string_value(json_object_get(pong, "broker"));
    json_t *workers = json_object_get(pong, "workers");
    if (broker == NULL || broker[0] == '\0' || strlen(broker) >= sizeof(self->broker_id) ||
        !json_is_integer(workers)) {
        count_malformed(self, "PONG", "expected {\"broker\":\"…\",\"workers\":N}");
        json_decref(pong);
        return;
    }
    int restarted = self->broker_id[0] != '\0' && strcmp(self->broker_id, broker) != 0;
    int back = self->silent;
    /* The standby answers with the pair's id: repair what the switch missed. */
    int switched = self->switched && !restarted;
    self->switched = 0;
    int first = !back && (self->broker_id[0] == '\0' || !rill_broker_link_is_connected(self));
    snprintf(self->broker_id, sizeof(self->broker_id), "%s", broker);
    self->workers = (long)json_integer_value(workers);
    self->last_pong_ms = rill_clock_monotonic_ms();
    self->silent = 0;
    json_decref(pong);
    /* Another broker answers: the calls the last one may not have seen
     * go again, before anything the callbacks below ask of it (a stream's
     * FETCH of a job whose SUBMIT is among them). */
    if (switched || restarted) {
        size_t resent = rill_broker_calls_resend(self->calls);
        if (resent > 0)
            rill_log_info(NULL, "%zu request(s) in flight asked again of broker %s", resent, self->broker_id);
    }
    size_t held = rill_broker_calls_send_unsent(self->calls);
    if (held > 0)
        rill_log_info(NULL, "%zu request(s) held for a broker sent to broker %s", held, self->broker_id);
    if (back) {
        rill_log_info(NULL, "broker %s answers again", self->broker_id);
        if (self->callbacks.on_broker_back != NULL)
            self->callbacks.on_broker_back(self->callbacks.context, self->broker_id);
    }
    if (switched) {
        rill_log_info(NULL, "broker %s answers at %s: repairing what the switch missed", self->broker_id,
                      rill_failover_endpoint(&self->failover, 0));
        if (self->callbacks.on_broker_switched != NULL)
            self->callbacks.on_broker_switched(self->callbacks.context);
    }
    if (restarted) {
        rill_log_warn(NULL, "broker restarted: now instance %s", self->broker_id);
        if (self->callbacks.on_broker_restarted != NULL)
            self->callbacks.on_broker_restarted(self->callbacks.context);
    } else if (first) {
        rill_log_info(NULL, "connected to broker %s (%ld workers)", self->broker_id, self->workers);
    }
}

static void handle_control(rill_broker_link_t *self, rill_received_t *received)
{
    rill_message_t message;
    const char *error = NULL;
    if (received->truncated) {
        count_malformed(self, "control message", "too many frames");
        return;
    }
    if (rill_message_parse(RILL_CHANNEL_TO_FRONTEND, received->frames, received->count, &message,
                           &error) != 0) {
        count_malformed(self, "control message", error);
        return;
    }
    switch (message.command) {
    case RILL_COMMAND_PONG:
        handle_pong(self, &message);
        return;
    case RILL_COMMAND_REVOKE: /* rill/8 */
        if (self->callbacks.on_revoke != NULL)
            self->callbacks.on_revoke(self->callbacks.context, message.arguments[0].data, message.arguments[0].size);
        return;
    case RILL_COMMAND_SUBMITTED:
    case RILL_COMMAND_STATUS:
    case RILL_COMMAND_ERROR:
    case RILL_COMMAND_REPLAY:
    case RILL_COMMAND_PUBLISHED:
    case RILL_COMMAND_TOPIC_DELETED: /* rill/3 */
    case RILL_COMMAND_TOPIC_MATCHED:
    case RILL_COMMAND_METRICS:
    case RILL_COMMAND_LIST:
        if (rill_broker_calls_answer(self->calls, &message) != 0)
            count_malformed(self, "reply", "unknown req");
        return;
    default:
        count_malformed(self, "control message", "command not for a frontend");
        return;
    }
}

/* Every event read goes to on_event; counted for read_yield.h. */
static void deliver_event(rill_broker_link_t *self, const rill_event_t *event)
{
    self->events_read++;
    if (self->callbacks.on_event != NULL)
        self->callbacks.on_event(self->callbacks.context, event);
}

/* rill/4: a follower's batch (docs/PROTOCOL.md "Direct delivery"): each
 * entry goes to on_event in order, exactly as if it had come alone. Bad
 * framing drops the batch whole; a bad entry is dropped alone, as a lone
 * malformed event would be (the seq jump after it is repaired by FETCH). */
static void handle_batch(rill_broker_link_t *self, rill_frame_t frame)
{
    rill_event_batch_t batch;
    const char *error = NULL;
    if (rill_event_batch_open(frame, &batch, &error) != 0) {
        count_malformed(self, "event batch", error);
        return;
    }
    rill_event_t event;
    int got;
    while ((got = rill_event_batch_next(&batch, &event, &error)) != 0) {
        if (got < 0)
            count_malformed(self, "event", error);
        else
            deliver_event(self, &event);
    }
}

static void handle_event(rill_broker_link_t *self, rill_received_t *received)
{
    rill_event_t event;
    const char *error = NULL;
    if (!received->truncated && received->count == 1 && rill_event_is_batch(received->frames[0])) {
        handle_batch(self, received->frames[0]);
        return;
    }
    if (received->truncated ||
        rill_event_parse(received->frames, received->count, &event, &error) != 0) {
        count_malformed(self, "event", received->truncated ? "too many frames" : error);
        return;
    }
    deliver_event(self, &event);
}

/* A sign of life: the silence starts again from now. */
static void heard_from_broker(rill_broker_link_t *self)
{
    if (h2o_timeout_is_linked(&self->silence_entry))
        h2o_timeout_unlink(&self->silence_entry);
    h2o_timeout_link(self->context->loop, &self->silence_timeout, &self->silence_entry);
}

static int has_input(void *socket)
{
    int events = 0;
    size_t size = sizeof(events);
    if (zmq_getsockopt(socket, ZMQ_EVENTS, &events, &size) != 0)
        return 0;
    return (events & ZMQ_POLLIN) != 0;
}

/* Reads everything both sockets hold; never stops early (an edge-triggered
 * fd would not wake us again for what is left). */
static void drain(rill_broker_link_t *self)
{
    if (self->draining) {
        self->drain_again = 1;
        return;
    }
    self->draining = 1;
    if (h2o_timeout_is_linked(&self->drain_entry))
        h2o_timeout_unlink(&self->drain_entry);
    do {
        self->drain_again = 0;
        rill_received_t received;
        /* Events first, and their streams flushed before any reply is
         * handled: a publish's event and its PUBLISHED come together, and
         * the subscribers' bytes should not wait behind the publisher's
         * answer (two sockets: no order between them to keep). */
        int events = 0;
        for (;;) {
            int got = rill_protocol_receive(self->events, &received);
            if (got <= 0)
                break;
            events++;
            handle_event(self, &received);
            rill_received_close(&received);
        }
        if (events > 0 && self->callbacks.on_drained != NULL)
            self->callbacks.on_drained(self->callbacks.context);
        int messages = 0;
        for (;;) {
            int got = rill_protocol_receive(self->control, &received);
            if (got <= 0)
                break;
            messages++;
            handle_control(self, &received);
            rill_received_close(&received);
        }
        if (messages + events > 0)
            heard_from_broker(self);
    } while (self->drain_again || has_input(self->control) || has_input(self->events));
    self->draining = 0;
}

static int send_ping(rill_broker_link_t *self)
{
    int sent = rill_protocol_send_command(self->control, NULL, RILL_COMMAND_PING, NULL, 0, ZMQ_DONTWAIT);
    if (sent != 0)
        rill_log_debug(NULL, "PING not sent: %s", zmq_strerror(errno));
    schedule_drain(self);
    return sent;
}

/* Switched, and the handshake with the other broker is done: PING now (a
 * refusal until the DEALER attaches the pipe is tried at its next wakeup). */
static void ping_when_connected(rill_broker_link_t *self)
{
    if (self->switched && self->failover.connected && send_ping(self) == 0)
        self->failover.connected = 0;
}

/* Every heartbeat_ms when connected; every 100 ms while looking for a
 * broker, so a frontend is ready moments after its broker is. */
static void link_ping_timer(rill_broker_link_t *self)
{
    h2o_timeout_t *timeout = rill_broker_link_is_connected(self)
                                 ? &self->ping_timeout
                                 : &self->context->hundred_ms_timeout;
    h2o_timeout_link(self->context->loop, timeout, &self->ping_entry);
}

/* Silent from now: once per silence, the owner is told. */
static void become_silent(rill_broker_link_t *self, int switched)
{
    if (self->silent)
        return;
    self->silent = 1;
    if (!switched) /* else the switch's line says it */
        rill_log_warn(NULL, "nothing from broker %s for %llu ms", self->broker_id,
                      (unsigned long long)(2 * self->heartbeat_ms));
    if (self->callbacks.on_broker_silent != NULL)
        self->callbacks.on_broker_silent(self->callbacks.context);
}

/* To the other broker of the pair (rill_failover.h): silent until it
 * PONGs (PINGed at once, then every 100 ms); its silence moves on again. */
static void switch_broker(rill_broker_link_t *self, const char *why)
{
    if (rill_failover_switch(&self->failover, why) != 0)
        return;
    self->switched = 1;
    rill_broker_calls_hold(self->calls); /* asked again when the other answers */
    self->workers = -1; /* the silence is the switch's: no "no PONG" line */
    become_silent(self, 1);
    heard_from_broker(self); /* the silence counts from the switch */
    send_ping(self);
    if (h2o_timeout_is_linked(&self->ping_entry))
        h2o_timeout_unlink(&self->ping_entry);
    link_ping_timer(self);
}

static void on_readable(h2o_socket_t *sock, const char *err)
{
    rill_broker_link_t *self = sock->data;
    if (err != NULL)
        rill_log_warn(NULL, "zmq fd watch: %s", err);
    /* The monitor (with a standby only): the broker closed the connection. */
    if (sock != self->monitor_watch) {
        drain(self);
        /* Busy: what libzmq's I/O thread still decodes of this burst is
         * read in one more pass, not one wakeup a message (read_yield.h). */
        if (rill_read_yield_wakeup(&self->read_yield, self->events_read, h2o_now(self->context->loop))) {
            (void)sched_yield(); /* cannot fail on Linux */
            drain(self);
        }
    } else if (rill_failover_disconnected(&self->failover) && rill_failover_may_switch(&self->failover))
        switch_broker(self, "closed the connection");
    ping_when_connected(self);
}

static void on_ping_timer(h2o_timeout_entry_t *entry)
{
    rill_broker_link_t *self = H2O_STRUCT_FROM_MEMBER(rill_broker_link_t, ping_entry, entry);
    send_ping(self);
    if (self->last_pong_ms != 0 && !rill_broker_link_is_connected(self) &&
        self->broker_id[0] != '\0') {
        /* Logged once per loss: the id stays, so a restart is still seen. */
        if (self->workers != -1)
            rill_log_warn(NULL, "no PONG from broker %s for %llu ms", self->broker_id,
                          (unsigned long long)(3 * self->heartbeat_ms));
        self->workers = -1;
    }
    link_ping_timer(self);
}

static void on_silence(h2o_timeout_entry_t *entry)
{
    rill_broker_link_t *self = H2O_STRUCT_FROM_MEMBER(rill_broker_link_t, silence_entry, entry);
    /* After a stall of this process the sockets may hold what ends the
     * silence: read them first. */
    drain(self);
    if (h2o_timeout_is_linked(&self->silence_entry))
        return;
    if (!rill_failover_enabled(&self->failover)) {
        become_silent(self, 0);
        return;
    }
    /* Every switch re-arms this timer: the hold has passed by the loop's
     * clock (the monotonic one, ahead of it, once skipped a period). */
    switch_broker(self, "was silent for 2 heartbeats");
}

static h2o_socket_t *watch(rill_broker_link_t *self, void *socket)
{
    int fd;
    size_t size = sizeof(fd);
    if (zmq_getsockopt(socket, ZMQ_FD, &fd, &size) != 0)
        return NULL;
    /* h2o closes what it is given: give it a dup, never zmq's own fd. */
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0)
        return NULL;
    /* h2o's allocation aborts when memory runs out (rill_alloc.h). */
    h2o_socket_t *sock = h2o_evloop_socket_create(self->context->loop, copy,
                                                  H2O_SOCKET_FLAG_DONT_READ);
    sock->data = self;
    h2o_socket_read_start(sock, on_readable);
    return sock;
}

/* How the call table's messages leave (broker_calls.h). */
static int tell(rill_broker_link_t *self, rill_command_t command, const rill_frame_t *arguments,
                size_t argument_count, int quiet);
static int switching(rill_broker_link_t *self);

/* A call's send that fails is logged by the call table, which knows
 * whether it holds the call for the next broker or gives it up. */
static int send_call(void *context, rill_command_t command, const rill_frame_t *frames, size_t count)
{
    return tell(context, command, frames, count, 1);
}

/* endpoints: one, or a broker and its standby (rill_failover.h). */
static void *open_socket(rill_broker_link_t *self, int type, const char *endpoints, const char *name)
{
    void *socket = zmq_socket(self->zmq_context, type);
    if (socket == NULL)
        return NULL;
    int immediate = 1;
    if (rill_socket_configure(socket, self->max_message_bytes) != 0 ||
        /* DEALER: queue nothing for a broker that is not connected, so a
         * request fails at once instead of reaching a later broker. */
        (type == ZMQ_DEALER &&
         zmq_setsockopt(socket, ZMQ_IMMEDIATE, &immediate, sizeof(immediate)) != 0)) {
        rill_log_error(NULL, "cannot set up the %s socket: %s", name, zmq_strerror(errno));
        zmq_close(socket);
        return NULL;
    }
    /* Liveness options, then the connect to the first endpoint. */
    if (rill_failover_add(&self->failover, socket, endpoints, name) != 0) {
        zmq_close(socket);
        return NULL;
    }
    return socket;
}

rill_broker_link_t *rill_broker_link_new(h2o_context_t *context, const rill_endpoints_t *endpoints,
                                         const rill_config_t *config,
                                         const rill_broker_link_callbacks_t *callbacks)
{
    rill_broker_link_t *self = rill_xcalloc(1, sizeof(*self));
    self->context = context;
    self->callbacks = *callbacks;
    self->heartbeat_ms = config->heartbeat_ms > 0 ? config->heartbeat_ms : 1000;
    self->max_message_bytes = config->max_message_bytes;
    self->drain_entry.cb = on_drain_entry;
    rill_read_yield_init(&self->read_yield, RILL_READ_YIELD_DEFAULT_PER_S);
    self->ping_entry.cb = on_ping_timer;
    self->silence_entry.cb = on_silence;
    h2o_timeout_init(context->loop, &self->ping_timeout, self->heartbeat_ms);
    h2o_timeout_init(context->loop, &self->silence_timeout, 2 * self->heartbeat_ms);
    self->calls = rill_broker_calls_new(context->loop, send_call, self);
    self->zmq_context = zmq_ctx_new();
    if (self->zmq_context == NULL)
        goto fail;
    char id[RILL_ID_TEXT_SIZE];
    if (rill_id_generate(id) != 0)
        goto fail;
    snprintf(self->follow, sizeof(self->follow), "%c%s/", RILL_SUBJECT_FOLLOW, id);
    rill_failover_init(&self->failover, self->zmq_context, self->heartbeat_ms);
    self->control = open_socket(self, ZMQ_DEALER, endpoints->control, "control");
    self->events = self->control != NULL ? open_socket(self, ZMQ_SUB, endpoints->events, "events") : NULL;
    /* Subscribed once: a reconnecting SUB sends it again by itself (to a
     * switched-to broker too). */
    if (self->control == NULL || self->events == NULL ||
        zmq_setsockopt(self->events, ZMQ_SUBSCRIBE, self->follow, strlen(self->follow)) != 0 ||
        rill_failover_start(&self->failover) != 0)
        goto fail;
    self->control_watch = watch(self, self->control);
    self->events_watch = watch(self, self->events);
    if (self->control_watch == NULL || self->events_watch == NULL)
        goto fail;
    if (rill_failover_monitor(&self->failover) != NULL &&
        (self->monitor_watch = watch(self, rill_failover_monitor(&self->failover))) == NULL)
        goto fail;
    send_ping(self);
    link_ping_timer(self);
    if (rill_failover_enabled(&self->failover))
        heard_from_broker(self); /* a first broker that never answers is left too */
    return self;
fail:
    rill_broker_link_destroy(&self);
    return NULL;
}

void rill_broker_link_destroy(rill_broker_link_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_broker_link_t *self = *self_p;
    *self_p = NULL;
    rill_broker_calls_destroy(&self->calls);
    h2o_timeout_entry_t *entries[] = {&self->ping_entry, &self->drain_entry, &self->silence_entry};
    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
        if (h2o_timeout_is_linked(entries[i]))
            h2o_timeout_unlink(entries[i]);
    h2o_timeout_dispose(self->context->loop, &self->ping_timeout);
    h2o_timeout_dispose(self->context->loop, &self->silence_timeout);
    h2o_socket_t *watches[] = {self->control_watch, self->events_watch, self->monitor_watch};
    for (size_t i = 0; i < sizeof(watches) / sizeof(watches[0]); i++) {
        if (watches[i] != NULL) {
            h2o_socket_read_stop(watches[i]);
            h2o_socket_close(watches[i]);
        }
    }
    rill_failover_release(&self->failover); /* before the socket it monitors */
    /* Exit must not wait for a broker that is gone: drop what is unsent. */
    int linger = 0;
    void *sockets[] = {self->control, self->events};
    for (size_t i = 0; i < sizeof(sockets) / sizeof(sockets[0]); i++) {
        if (sockets[i] != NULL) {
            zmq_setsockopt(sockets[i], ZMQ_LINGER, &linger, sizeof(linger));
            zmq_close(sockets[i]);
        }
    }
    if (self->zmq_context != NULL)
        zmq_ctx_term(self->zmq_context);
    free(self);
}

const char *rill_broker_link_follow_subject(rill_broker_link_t *self)
{
    return self->follow;
}

/* Switched to the other broker of a pair, which has not answered yet, and
 * a broker answered lately: the standby is taking over. A request now is
 * held for it (broker_calls.h), not refused. Both brokers down: after 5
 * heartbeats without a PONG, refused again at once. */
static int switching(rill_broker_link_t *self)
{
    return self->switched && self->last_pong_ms != 0 &&
           rill_clock_monotonic_ms() - self->last_pong_ms <= 5 * self->heartbeat_ms;
}

int rill_broker_link_takes_calls(rill_broker_link_t *self)
{
    return rill_broker_link_is_connected(self) || switching(self);
}

int rill_broker_link_is_connected(rill_broker_link_t *self)
{
    /* Silent (nothing for 2 x heartbeat_ms, on_silence): not connected
     * from that moment, so a submit gets 503 at once, not after a PONG
     * older than 3 x heartbeat_ms or a call's timeout. */
    return self->last_pong_ms != 0 && !self->silent &&
           rill_clock_monotonic_ms() - self->last_pong_ms <= 3 * self->heartbeat_ms;
}

const char *rill_broker_link_broker_id(rill_broker_link_t *self)
{
    return self->broker_id;
}

uint64_t rill_broker_link_malformed(rill_broker_link_t *self)
{
    return self->malformed;
}

uint64_t rill_broker_link_switches(rill_broker_link_t *self)
{
    return self->failover.switches;
}

long rill_broker_link_workers(rill_broker_link_t *self)
{
    return self->workers < 0 ? 0 : self->workers;
}

int rill_broker_link_subscribe(rill_broker_link_t *self, const char *topic, size_t length)
{
    int result = zmq_setsockopt(self->events, ZMQ_SUBSCRIBE, topic, length);
    if (result != 0)
        rill_log_error(NULL, "subscribe failed: %s", zmq_strerror(errno));
    schedule_drain(self);
    return result == 0 ? 0 : -1;
}

void rill_broker_link_unsubscribe(rill_broker_link_t *self, const char *topic, size_t length)
{
    if (zmq_setsockopt(self->events, ZMQ_UNSUBSCRIBE, topic, length) != 0)
        rill_log_error(NULL, "unsubscribe failed: %s", zmq_strerror(errno));
    schedule_drain(self);
}

int rill_broker_link_subscribe_barrier(rill_broker_link_t *self, char *token)
{
    token[0] = '\0';
    if (rill_id_generate(token + 1) != 0)
        return -1;
    token[0] = RILL_SUBJECT_BARRIER;
    if (rill_broker_link_subscribe(self, token, RILL_BARRIER_TOKEN_SIZE - 1) != 0) {
        token[0] = '\0';
        return -1;
    }
    return 0;
}

void rill_broker_link_unsubscribe_barrier(rill_broker_link_t *self, char *token)
{
    if (token[0] != '\0' && self != NULL)
        rill_broker_link_unsubscribe(self, token, RILL_BARRIER_TOKEN_SIZE - 1);
    token[0] = '\0';
}

rill_broker_call_t *rill_broker_link_call(rill_broker_link_t *self, rill_command_t command,
                                          const rill_frame_t *arguments, size_t argument_count,
                                          rill_broker_reply_fn reply, void *owner)
{
    /* Held when it cannot be sent yet, as long as the link takes calls:
     * the broker's connection may be gone before its silence is noticed
     * (a primary just killed), and the next broker to answer takes it. */
    return rill_broker_calls_start(self->calls, command, arguments, argument_count, reply, owner,
                                   rill_broker_link_takes_calls(self));
}

static int tell(rill_broker_link_t *self, rill_command_t command, const rill_frame_t *arguments,
                size_t argument_count, int quiet)
{
    int sent = rill_protocol_send_command(self->control, NULL, command, arguments, argument_count,
                                          ZMQ_DONTWAIT);
    int saved = errno;
    schedule_drain(self);
    if (sent != 0 && !quiet)
        rill_log_warn(NULL, "%s not sent to broker: %s", rill_command_name(command), zmq_strerror(saved));
    errno = saved;
    return sent == 0 ? 0 : -1;
}

int rill_broker_link_tell(rill_broker_link_t *self, rill_command_t command,
                          const rill_frame_t *arguments, size_t argument_count)
{
    return tell(self, command, arguments, argument_count, 0);
}

void rill_broker_link_cancel(rill_broker_link_t *self, rill_broker_call_t **call)
{
    rill_broker_calls_cancel(self->calls, call);
}

void rill_broker_link_fail_all(rill_broker_link_t *self)
{
    rill_broker_calls_fail_all(self->calls);
}

uint64_t rill_broker_link_resent(rill_broker_link_t *self)
{
    return rill_broker_calls_resent(self->calls);
}

void rill_broker_link_set_read_yield(rill_broker_link_t *self, uint64_t busy_per_s)
{
    rill_read_yield_init(&self->read_yield, busy_per_s);
}

uint64_t rill_broker_link_read_yields(const rill_broker_link_t *self)
{
    return self->read_yield.yields;
}
