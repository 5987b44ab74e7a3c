/*
 * topic_table.h - every topic the broker has seen a message for: its seq
 * and the messages it retains (docs/API.md, POST /v1/topics/{name}).
 *
 * A topic is a small record (name, last seq), so its seqs do not restart
 * while the broker runs; the retained messages (a retention ring: the last
 * topic_retain_messages, none older than topic_retain_ms) are dropped as
 * they age, and the ring itself is freed when it empties. The records are
 * bounded too (max_topics): a client publishing to, or subscribing, ever
 * new names must not grow the broker without end. Past the bound a new
 * topic takes the place of an idle one (nothing retained, nobody listening),
 * the least recently used first, which is forgotten as a deleted topic is
 * (a client resuming it later is told topic_reset); with none idle, no new
 * topic is made. Pure bookkeeping: the XPUB is not touched here.
 */
#ifndef RILL_BROKER_TOPIC_TABLE_H
#define RILL_BROKER_TOPIC_TABLE_H

#include "list.h"
#include "retention.h"
#include "rill_protocol.h"

#include <stddef.h>
#include <stdint.h>

/* A topic's rate is its messages over the last this many seconds, per
 * second (docs/API.md, "Lists"). */
#define RILL_TOPIC_RATE_SECONDS 10

/* rill/8: an operation on a leased topic that waits for the lease to end
 * (topic_lease.c: a message to publish, a delete), one allocation: the
 * routing id, req and data bytes follow it. Freed with its topic. */
typedef struct rill_topic_waiting {
    struct rill_topic_waiting *next;
    int kind; /* topic_lease.c's */
    size_t routing_size;
    size_t req_size;
    size_t data_size;
    size_t key_size; /* rill/10: the message's publish key (0: none) */
    uint8_t bytes[]; /* routing, req, data, key */
} rill_topic_waiting_t;

/* A routing id longer than this never holds a lease (libzmq's own are 5). */
#define RILL_TOPIC_LEASE_ROUTING_MAX 32

/* rill/8: the frontend that numbers the topic itself, and what waits for it
 * (docs/PROTOCOL.md "Topic leases"; the decisions are topic_lease.c's). */
typedef struct {
    int state;                  /* topic_lease.c's: none, held, revoking */
    size_t holder_size;         /* the holder's control routing id */
    uint8_t holder[RILL_TOPIC_LEASE_ROUTING_MAX];
    size_t publisher_size;      /* the frontend whose message came last (0: a worker, or none) */
    uint8_t publisher[RILL_TOPIC_LEASE_ROUTING_MAX];
    uint64_t heard_ms;          /* monotonic: the holder last heard */
    uint64_t revoke_ms;         /* monotonic: REVOKE sent (revoking) */
    rill_link_t link;           /* in the broker's leased topics while state is not none */
    rill_topic_waiting_t *waiting; /* in arrival order */
    rill_topic_waiting_t **waiting_tail;
    size_t waiting_count;
} rill_topic_lease_t;

typedef struct {
    uint64_t last_seq;            /* seq of the last message; 0 = none yet */
    uint64_t last_event_ms;       /* monotonic ms of that message (sync: events.c) */
    rill_retention_t *retention;  /* NULL while nothing is retained */
    size_t subject_length;
    char subject[RILL_TOPIC_NAME_MAX + 3]; /* "t" + name + "/", NUL-terminated */
    uint64_t serial;              /* from 1, in the order topics were first seen (listing.h) */
    char epoch[RILL_TOPIC_EPOCH_LENGTH + 1]; /* drawn with the record: which numbering its seqs are of */
    uint64_t rate_second;         /* monotonic second of rate_counts[that % N] */
    uint32_t rate_counts[RILL_TOPIC_RATE_SECONDS]; /* messages per second, a ring */
    /* rill/6, a standby pair (mirror_marks.h): changed since last mirrored,
     * and the last seq the passive was sent. */
    rill_link_t mirror_link;
    uint64_t mirrored_seq;
    rill_topic_lease_t lease;     /* rill/8 */
} rill_topic_t;

typedef struct rill_topic_table rill_topic_table_t;

rill_topic_table_t *rill_topic_table_new(void);
void rill_topic_table_destroy(rill_topic_table_t **self_p);

/* Whether someone listens to the topic now (the broker's interest): such
 * a topic is never evicted. */
typedef int (*rill_topic_listened_fn)(void *argument, const rill_topic_t *topic);

/* Told of a topic the bound evicts, just before it is forgotten (the
 * broker counts it and tells a standby's mirror, as of a deleted topic). */
typedef void (*rill_topic_evicted_fn)(void *argument, const rill_topic_t *topic);

/* At most max topics (0: no bound), evicting idle ones past it; listened
 * tells which are idle, evicted (may be NULL) hears of each eviction. */
void rill_topic_table_set_bound(rill_topic_table_t *self, size_t max, rill_topic_listened_fn listened,
                                rill_topic_evicted_fn evicted, void *argument);

/* The topic named name (length bytes, a valid topic name), or NULL. */
rill_topic_t *rill_topic_table_find(rill_topic_table_t *self, const char *name, size_t length);
/* Finds or creates it. NULL for an invalid name (errno EINVAL), or when
 * creating it would pass the bound and no topic is idle (errno ENOSPC). */
rill_topic_t *rill_topic_table_get(rill_topic_table_t *self, const char *name, size_t length);

/* Forgets the topic (rill/3, DELETE /v1/topics/{name}): its retained
 * messages and its seq go; a later message creates it anew from seq 1.
 * The pointer is invalid afterwards. */
void rill_topic_table_remove(rill_topic_table_t *self, rill_topic_t *topic);

/* Gives the topic its next seq and retains a copy of data (at most
 * capacity messages; now_ms stamps it). Returns the seq. A message that
 * cannot be retained (capacity 0, or libzmq could not copy it) still gets
 * its seq: *retained says which. */
uint64_t rill_topic_table_append(rill_topic_table_t *self, rill_topic_t *topic, zmq_msg_t *data,
                                 uint64_t now_ms, size_t capacity, int *retained);
/* Drops the topic's messages retained before now_ms - retain_ms. */
void rill_topic_expire(rill_topic_t *topic, uint64_t now_ms, uint64_t retain_ms);
/* The same for every topic. */
void rill_topic_table_expire(rill_topic_table_t *self, uint64_t now_ms, uint64_t retain_ms);

/* Messages per second over the last RILL_TOPIC_RATE_SECONDS seconds. */
double rill_topic_rate(const rill_topic_t *topic, uint64_t now_ms);
/* The first retained seq (last_seq + 1 when nothing is retained). */
uint64_t rill_topic_first_seq(const rill_topic_t *topic);
size_t rill_topic_table_size(rill_topic_table_t *self);
/* Calls visit for every topic; visit must not add or remove topics. */
void rill_topic_table_foreach(rill_topic_table_t *self, void (*visit)(void *argument, rill_topic_t *topic),
                              void *argument);
/* Messages retained over all topics. */
size_t rill_topic_table_retained(rill_topic_table_t *self);

#endif
