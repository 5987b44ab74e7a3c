/*
 * standby.c - a broker as one of a standby pair. See standby.h.
 */
#include "standby.h"
#include "mirror_in.h"
#include "mirror_out.h"
#include "pair.h"
#include "peer_link.h"
#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_log.h"
#include "sockets.h"
#include "takeover.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Worker routing ids remembered while not active (REJOIN on takeover). */
#define HEARD_MAX 4096
#define IGNORED_LOG_MS 60000

typedef struct {
    uint8_t routing[RILL_ROUTING_ID_MAX];
    size_t size;
    uint64_t heard_ms;
} heard_t;

struct rill_standby {
    rill_broker_t *broker;
    rill_pair_t pair;
    rill_peer_link_t *link;
    rill_mirror_out_t out;
    rill_mirror_in_t in;
    rill_outbox_t serving;  /* the broker's real outbox */
    zhashx_t *heard;        /* routing id in hex -> heard_t */
    uint64_t next_state_ms;
    uint64_t sync_asked_ms; /* 0: ask at the next tick */
    uint64_t ignored;       /* client messages dropped since the last log line */
    uint64_t ignored_logged_ms;
};

/* ---- the silent outbox: a broker that does not serve says nothing ------- */

static int silent_publish(void *context, zmq_msg_t *event)
{
    (void)context;
    zmq_msg_close(event);
    return 0;
}

static int silent_send(void *context, const rill_frame_t *routing, rill_command_t command,
                       const rill_frame_t *arguments, size_t count)
{
    (void)context, (void)routing, (void)command, (void)arguments, (void)count;
    return 0;
}

static void set_serving(rill_standby_t *self, int serving)
{
    if (serving) {
        self->broker->outbox = self->serving;
        return;
    }
    self->broker->outbox = (rill_outbox_t){.context = self->serving.context, .publish = silent_publish,
                                           .send_worker = silent_send, .reply = silent_send};
}

static void heard_free(void **item)
{
    free(*item);
    *item = NULL;
}

rill_standby_t *rill_standby_new(rill_broker_t *broker, const char *endpoint, int primary, char *error,
                                 size_t error_size)
{
    rill_standby_t *self = rill_xcalloc(1, sizeof(*self));
    self->broker = broker;
    self->link = rill_peer_link_new(endpoint, primary, broker->config.max_message_bytes, broker->config.heartbeat_ms,
                                    error, error_size);
    if (self->link == NULL) {
        free(self);
        return NULL;
    }
    uint64_t now = rill_clock_monotonic_ms();
    rill_pair_init(&self->pair, primary, broker->config.heartbeat_ms, now);
    broker->counters->standby_state = (uint64_t)self->pair.state;
    self->serving = broker->outbox;
    set_serving(self, 0);
    self->heard = zhashx_new();
    zhashx_set_destructor(self->heard, heard_free);
    if (broker->mirror == NULL)
        broker->mirror = rill_mirror_marks_new(); /* off until a passive asks */
    rill_log_info(NULL, "standby: %s of a pair, peer link %s %s: serving nobody until active",
                  primary ? "primary" : "backup", primary ? "bound to" : "connected to", endpoint);
    return self;
}

void rill_standby_destroy(rill_standby_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_standby_t *self = *self_p;
    self->broker->outbox = self->serving;
    zhashx_destroy(&self->heard);
    rill_peer_link_destroy(&self->link);
    free(self);
    *self_p = NULL;
}

int rill_standby_serves(const rill_standby_t *self)
{
    return rill_pair_serves(&self->pair);
}

void *rill_standby_link_socket(rill_standby_t *self)
{
    return self->link->raw;
}

void *rill_standby_monitor_socket(rill_standby_t *self)
{
    return zsock_resolve(self->link->monitor);
}

static void send_state(rill_standby_t *self, uint64_t now_ms)
{
    rill_frame_t state = rill_frame_from_string(rill_pair_state_name(self->pair.state));
    /* Lost when the peer is not there yet: the next heartbeat goes again. */
    (void)rill_peer_link_send(self->link, RILL_PEER_STATE, &state, 1);
    self->next_state_ms = now_ms + self->broker->config.heartbeat_ms;
}

/* REJOIN to every worker heard while not active, in the last 2 heartbeats:
 * they say HELLO at once instead of after their silence. */
static void rejoin_workers(rill_standby_t *self, uint64_t now_ms)
{
    size_t sent = 0;
    for (heard_t *heard = zhashx_first(self->heard); heard != NULL; heard = zhashx_next(self->heard)) {
        if (now_ms - heard->heard_ms > 2 * self->broker->config.heartbeat_ms)
            continue;
        rill_frame_t routing = {heard->routing, heard->size};
        sent += rill_broker_send_routing(self->broker, &routing, RILL_COMMAND_REJOIN, NULL, 0) == 0;
    }
    zhashx_purge(self->heard);
    if (sent > 0)
        rill_log_info(NULL, "standby: REJOIN sent to %zu workers heard while not active", sent);
}

/* What a change of state means for the broker. */
static void changed(rill_standby_t *self, rill_pair_state_t was, uint64_t now_ms)
{
    rill_pair_state_t state = self->pair.state;
    self->broker->counters->standby_state = (uint64_t)state;
    if (state == RILL_PAIR_PASSIVE && was == RILL_PAIR_ACTIVE)
        rill_log_warn(NULL, "standby: %s -> %s (%s): clients leave this broker on its silence",
                      rill_pair_state_name(was), rill_pair_state_name(state), self->pair.why);
    else
        rill_log_info(NULL, "standby: %s -> %s (%s)", rill_pair_state_name(was), rill_pair_state_name(state),
                      self->pair.why);
    if (state == RILL_PAIR_ACTIVE) {
        /* A primary's first start serves as it is; a backup or passive
         * takes over with what it mirrored (or, with nothing, as a
         * restarted broker does: workers report their jobs). */
        if (was != RILL_PAIR_PRIMARY || self->in.broker[0] != '\0')
            rill_takeover_run(self->broker, self->in.complete ? self->in.broker : NULL, self->in.started_ms, now_ms);
        rill_mirror_in_reset(&self->in);
        self->in.complete = 0;
        self->broker->last_tick_ms = now_ms; /* not serving was no stall */
        set_serving(self, 1);
        rejoin_workers(self, now_ms);
    } else if (state == RILL_PAIR_PASSIVE) {
        set_serving(self, 0);
        rill_mirror_out_stop(&self->out, self->broker);
        if (was == RILL_PAIR_ACTIVE)
            rill_takeover_yield(self->broker);
        self->sync_asked_ms = 0;
    }
    send_state(self, now_ms); /* the peer learns it at once */
}

static void ask_snapshot(rill_standby_t *self, uint64_t now_ms)
{
    if (self->pair.state != RILL_PAIR_PASSIVE || self->in.receiving || rill_pair_peer_lost(&self->pair, now_ms))
        return;
    if (self->sync_asked_ms != 0 && now_ms - self->sync_asked_ms < 2 * self->broker->config.heartbeat_ms)
        return;
    if (rill_peer_link_send(self->link, RILL_PEER_SYNC, NULL, 0) == 0)
        self->sync_asked_ms = now_ms;
}

static void handle(rill_standby_t *self, const rill_peer_message_t *message, uint64_t now_ms)
{
    rill_pair_state_t was = self->pair.state;
    switch (message->command) {
    case RILL_PEER_STATE: {
        int lost = rill_pair_peer_lost(&self->pair, now_ms);
        rill_pair_state_t peer = rill_pair_state_from_name((const char *)message->arguments[0].data,
                                                           message->arguments[0].size);
        if (peer == RILL_PAIR_NONE) {
            rill_log_warn(NULL, "standby: the peer sent an unknown state");
            return;
        }
        if (rill_pair_peer_state(&self->pair, peer, now_ms))
            changed(self, was, now_ms);
        else if (lost)
            rill_log_info(NULL, "standby: the peer is heard again (%s)", rill_pair_state_name(peer));
        if (lost && self->pair.state == RILL_PAIR_PASSIVE)
            self->sync_asked_ms = 0; /* the link came back: a fresh snapshot */
        /* A passive this active stopped mirroring (it took it for lost)
         * may not know: it gets a snapshot without asking, at most one
         * per 2 heartbeats. */
        if (self->pair.state == RILL_PAIR_ACTIVE && peer == RILL_PAIR_PASSIVE &&
            !rill_mirror_out_running(&self->out, self->broker) &&
            now_ms - self->out.started_ms >= 2 * self->broker->config.heartbeat_ms)
            rill_mirror_out_start(&self->out, self->broker);
        break;
    }
    case RILL_PEER_SYNC:
        rill_pair_peer_heard(&self->pair, now_ms);
        /* A snapshot that just began answers this SYNC already. */
        if (self->pair.state == RILL_PAIR_ACTIVE &&
            !(self->out.snapshot_open && now_ms - self->out.started_ms < self->broker->config.heartbeat_ms))
            rill_mirror_out_start(&self->out, self->broker);
        break;
    case RILL_PEER_MIRROR: {
        rill_pair_peer_heard(&self->pair, now_ms);
        if (self->pair.state != RILL_PAIR_PASSIVE)
            return;
        uint64_t seq = 0;
        (void)rill_frame_to_u64(message->arguments[0], &seq);
        if (rill_mirror_in_apply(&self->in, self->broker, seq, message->arguments[1], now_ms) != 0)
            self->sync_asked_ms = 0;
        break;
    }
    default:
        break;
    }
}

void rill_standby_read_link(rill_standby_t *self, uint64_t now_ms)
{
    for (int i = 0; i < RILL_BROKER_BURST; i++) {
        rill_received_t received;
        rill_peer_message_t message;
        const char *why = NULL;
        int got = rill_peer_link_receive(self->link, &received, &message, &why);
        if (got == 0)
            return;
        if (got < 0) {
            rill_log_warn(NULL, "standby: dropped a malformed message from the peer: %s", why);
            continue;
        }
        handle(self, &message, now_ms);
        rill_received_close(&received);
    }
}

void rill_standby_read_monitor(rill_standby_t *self, uint64_t now_ms)
{
    if (!rill_peer_link_read_monitor(self->link) || self->pair.peer_closed)
        return; /* a reconnect that failed again is no news */
    rill_log_info(NULL, "standby: the peer link's connection closed: the peer is lost");
    rill_pair_peer_closed(&self->pair);
    rill_standby_tick(self, now_ms);
}

void rill_standby_drop_clients(rill_standby_t *self, void *socket, int workers, uint64_t now_ms)
{
    for (int i = 0; i < RILL_BROKER_BURST; i++) {
        rill_received_t received;
        if (rill_protocol_receive(socket, &received) != 1)
            break;
        rill_pair_client(&self->pair, now_ms);
        self->ignored++;
        const rill_frame_t *routing = &received.frames[0];
        if (workers && received.count > 0 && routing->size > 0 && routing->size <= RILL_ROUTING_ID_MAX &&
            zhashx_size(self->heard) < HEARD_MAX) {
            char key[2 * RILL_ROUTING_ID_MAX + 1];
            rill_routing_to_text(routing, key, sizeof(key));
            heard_t *heard = zhashx_lookup(self->heard, key);
            if (heard == NULL) {
                heard = rill_xcalloc(1, sizeof(*heard));
                memcpy(heard->routing, routing->data, routing->size);
                heard->size = routing->size;
                zhashx_insert(self->heard, key, heard);
            }
            heard->heard_ms = now_ms;
        }
        rill_received_close(&received);
    }
    if (now_ms - self->ignored_logged_ms >= IGNORED_LOG_MS) {
        rill_log_info(NULL, "standby: %s: %llu client messages left unanswered since the last line",
                      rill_pair_state_name(self->pair.state), (unsigned long long)self->ignored);
        self->ignored = 0;
        self->ignored_logged_ms = now_ms;
    }
}

void rill_standby_tick(rill_standby_t *self, uint64_t now_ms)
{
    rill_pair_state_t was = self->pair.state;
    if (rill_pair_tick(&self->pair, now_ms))
        changed(self, was, now_ms);
    if (now_ms >= self->next_state_ms)
        send_state(self, now_ms);
    if (self->pair.state == RILL_PAIR_ACTIVE && rill_pair_peer_lost(&self->pair, now_ms) &&
        self->broker->mirror != NULL && self->broker->mirror->on) {
        rill_log_info(NULL, "standby: the passive is lost: no more mirroring until it asks again");
        rill_mirror_out_stop(&self->out, self->broker);
    }
    if (self->pair.state == RILL_PAIR_PASSIVE && rill_pair_peer_lost(&self->pair, now_ms))
        rill_mirror_in_reset(&self->in);
    ask_snapshot(self, now_ms);
    /* A bounded table: when full, those heard since come in again. */
    if (zhashx_size(self->heard) >= HEARD_MAX)
        zhashx_purge(self->heard);
}

static int send_mirror(void *context, const rill_frame_t *arguments, size_t count)
{
    return rill_peer_link_send(context, RILL_PEER_MIRROR, arguments, count);
}

int rill_standby_flush(rill_standby_t *self, uint64_t now_ms)
{
    if (self->pair.state != RILL_PAIR_ACTIVE)
        return 0;
    return rill_mirror_out_flush(&self->out, self->broker, send_mirror, self->link, now_ms);
}
