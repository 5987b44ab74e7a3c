/*
 * pair.c - the Binary Star state machine of a standby pair. See pair.h for
 * the rules; this file only applies them.
 */
#include "pair.h"

#include <string.h>

static const char *state_names[] = {
    [RILL_PAIR_NONE] = "none",       [RILL_PAIR_PRIMARY] = "primary", [RILL_PAIR_BACKUP] = "backup",
    [RILL_PAIR_ACTIVE] = "active",   [RILL_PAIR_PASSIVE] = "passive",
};

void rill_pair_init(rill_pair_t *self, int primary, uint64_t heartbeat_ms, uint64_t now_ms)
{
    memset(self, 0, sizeof(*self));
    self->primary = primary;
    self->state = primary ? RILL_PAIR_PRIMARY : RILL_PAIR_BACKUP;
    self->heartbeat_ms = heartbeat_ms > 0 ? heartbeat_ms : 1;
    self->started_ms = now_ms;
    self->why = "started";
}

const char *rill_pair_state_name(rill_pair_state_t state)
{
    if (state < RILL_PAIR_NONE || state > RILL_PAIR_PASSIVE)
        return "none";
    return state_names[state];
}

rill_pair_state_t rill_pair_state_from_name(const char *name, size_t length)
{
    for (int state = RILL_PAIR_PRIMARY; state <= RILL_PAIR_PASSIVE; state++) {
        if (strlen(state_names[state]) == length && memcmp(state_names[state], name, length) == 0)
            return (rill_pair_state_t)state;
    }
    return RILL_PAIR_NONE;
}

static int change(rill_pair_t *self, rill_pair_state_t state, const char *why)
{
    if (self->state == state)
        return 0;
    self->state = state;
    self->why = why;
    return 1;
}

int rill_pair_peer_state(rill_pair_t *self, rill_pair_state_t peer, uint64_t now_ms)
{
    if (peer == RILL_PAIR_NONE)
        return 0;
    self->peer_heard_ms = now_ms;
    self->peer_state = peer;
    self->peer_closed = 0;
    switch (self->state) {
    case RILL_PAIR_PRIMARY:
        if (peer == RILL_PAIR_ACTIVE)
            return change(self, RILL_PAIR_PASSIVE, "the peer is active");
        if (peer == RILL_PAIR_BACKUP || peer == RILL_PAIR_PASSIVE)
            return change(self, RILL_PAIR_ACTIVE, "the peer is a backup");
        return 0;
    case RILL_PAIR_BACKUP:
        if (peer == RILL_PAIR_ACTIVE)
            return change(self, RILL_PAIR_PASSIVE, "the peer is active");
        return 0;
    case RILL_PAIR_ACTIVE:
        if (peer == RILL_PAIR_ACTIVE && !self->primary)
            return change(self, RILL_PAIR_PASSIVE, "two actives: the backup yields to the primary");
        return 0;
    case RILL_PAIR_PASSIVE:
        if (peer == RILL_PAIR_PRIMARY || peer == RILL_PAIR_BACKUP)
            return change(self, RILL_PAIR_ACTIVE, "the peer started over");
        if (peer == RILL_PAIR_PASSIVE && self->primary)
            return change(self, RILL_PAIR_ACTIVE, "two passives: the primary serves");
        return 0;
    case RILL_PAIR_NONE:
        return 0;
    }
    return 0;
}

void rill_pair_peer_heard(rill_pair_t *self, uint64_t now_ms)
{
    self->peer_heard_ms = now_ms;
    self->peer_closed = 0;
}

void rill_pair_peer_closed(rill_pair_t *self)
{
    self->peer_closed = 1;
}

void rill_pair_client(rill_pair_t *self, uint64_t now_ms)
{
    self->client_ms = now_ms;
}

int rill_pair_peer_lost(const rill_pair_t *self, uint64_t now_ms)
{
    if (self->peer_closed)
        return 1;
    uint64_t since = self->peer_heard_ms != 0 ? self->peer_heard_ms : self->started_ms;
    return now_ms >= since && now_ms - since >= 2 * self->heartbeat_ms;
}

int rill_pair_tick(rill_pair_t *self, uint64_t now_ms)
{
    if (self->state == RILL_PAIR_ACTIVE)
        return 0;
    int client_recent = self->client_ms != 0 && now_ms >= self->client_ms &&
                        now_ms - self->client_ms <= 2 * self->heartbeat_ms;
    if (client_recent && rill_pair_peer_lost(self, now_ms))
        return change(self, RILL_PAIR_ACTIVE, "the peer is lost and a client came");
    return 0;
}

int rill_pair_serves(const rill_pair_t *self)
{
    return self->state == RILL_PAIR_ACTIVE;
}
