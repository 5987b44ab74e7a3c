/*
 * topic_lease.c - topic leases (rill/8). See topic_lease.h.
 */
#include "topic_lease.h"
#include "events.h"
#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_log.h"
#include "topic_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LEASE_NONE = 0, LEASE_HELD, LEASE_REVOKING };

/* A lease taken from a silent holder: the topic numbers on this many seqs
 * further. The holder may be alive behind a cut, and its own streams may
 * have messages it numbered in the 3 heartbeats before it stopped; a seq
 * of theirs given again would be dropped there as a duplicate, silently.
 * So none is given again, and every receiver sees one gap instead (as a
 * standby's takeover does, takeover.c). 2^20 is more than one frontend
 * takes in 3 heartbeats of HTTP publishes. */
#define LEASE_FENCE_SEQS (UINT64_C(1) << 20)

/* Operations that may wait for one topic's lease (wait_for_lease). */
#define RILL_TOPIC_WAITING_MAX 4096

/* What a queued operation is (rill_topic_waiting_t.kind). */
enum { WAITING_PUBLISH = 1, WAITING_WORKER, WAITING_DELETE };

static int holder_is(const rill_topic_t *topic, const rill_frame_t *routing)
{
    return topic->lease.holder_size == routing->size && routing->size > 0 &&
           memcmp(topic->lease.holder, routing->data, routing->size) == 0;
}

/* The topic's name, out of its subject "t<name>/". */
static rill_frame_t topic_name(const rill_topic_t *topic)
{
    return (rill_frame_t){(const uint8_t *)topic->subject + 1, topic->subject_length - 2};
}

/* A frontend numbers under its lease only while its last PONG is at most
 * 3 x heartbeat_ms old (broker_link.h); a heartbeat more, and the lease it
 * may still use is surely one it no longer does. */
static uint64_t silence_limit_ms(const rill_broker_t *self)
{
    return 4 * self->config.heartbeat_ms;
}

/* The frontend at routing sent the topic's latest message (0-size: a
 * worker): a lease goes to a frontend whose message follows its own. */
static void note_publisher(rill_topic_t *topic, const rill_frame_t *routing)
{
    size_t size = routing != NULL && routing->size <= RILL_TOPIC_LEASE_ROUTING_MAX ? routing->size : 0;
    if (size > 0)
        memcpy(topic->lease.publisher, routing->data, size);
    topic->lease.publisher_size = size;
}

/* Someone streams the topic (by name or through a wildcard). A lease only
 * saves its holder's own subscribers a round trip; a topic nobody follows
 * stays idle (topic_table.h: evictable), as it would without leases. */
static int listened(rill_broker_t *self, const rill_topic_t *topic)
{
    return rill_interest_count(self->interest, topic->subject) > 0 ||
           rill_interest_pattern_count(self->interest, topic->subject + 1, topic->subject_length - 2) > 0;
}

/* 1 when the frontend at routing now holds the topic's lease: it held it
 * already, or it gets it (its second message in a row, nothing waiting,
 * someone listening). */
static int grant(rill_broker_t *self, rill_topic_t *topic, const rill_frame_t *routing, uint64_t now_ms)
{
    rill_topic_lease_t *lease = &topic->lease;
    if (lease->state == LEASE_HELD && holder_is(topic, routing)) {
        lease->heard_ms = now_ms;
        return 1;
    }
    if (self->config.topic_lease_ms == 0 || lease->state != LEASE_NONE || lease->waiting != NULL ||
        routing->size == 0 || routing->size > RILL_TOPIC_LEASE_ROUTING_MAX ||
        lease->publisher_size != routing->size || memcmp(lease->publisher, routing->data, routing->size) != 0 ||
        !listened(self, topic))
        return 0;
    lease->state = LEASE_HELD;
    lease->holder_size = routing->size;
    memcpy(lease->holder, routing->data, routing->size);
    lease->heard_ms = now_ms;
    rill_list_push_back(&self->leased_topics, &lease->link);
    self->counters->topic_leases++;
    self->counters->topic_leases_granted++;
    rill_log_debug(NULL, "topic %s: leased to a frontend from seq %llu", topic->subject,
                   (unsigned long long)topic->last_seq + 1);
    return 1;
}

/* Asks the holder to give the lease back (once). */
static void ask_back(rill_broker_t *self, rill_topic_t *topic, uint64_t now_ms)
{
    rill_topic_lease_t *lease = &topic->lease;
    if (lease->state != LEASE_HELD)
        return;
    lease->state = LEASE_REVOKING;
    lease->revoke_ms = now_ms;
    rill_frame_t holder = {lease->holder, lease->holder_size};
    rill_frame_t name = topic_name(topic);
    (void)rill_broker_reply(self, &holder, RILL_COMMAND_REVOKE, &name, 1); /* unsent: the tick clears it */
}

static void queue(rill_topic_t *topic, int kind, const rill_frame_t *routing, rill_frame_t req, const void *data,
                  size_t size, rill_frame_t key)
{
    size_t routing_size = routing != NULL ? routing->size : 0;
    rill_topic_waiting_t *waiting = rill_xmalloc(sizeof(*waiting) + routing_size + req.size + size + key.size);
    waiting->next = NULL;
    waiting->kind = kind;
    waiting->routing_size = routing_size;
    waiting->req_size = req.size;
    waiting->data_size = size;
    waiting->key_size = key.size;
    uint8_t *at = waiting->bytes;
    if (routing_size > 0)
        memcpy(at, routing->data, routing_size);
    at += routing_size;
    if (req.size > 0)
        memcpy(at, req.data, req.size);
    at += req.size;
    if (size > 0)
        memcpy(at, data, size);
    at += size;
    if (key.size > 0)
        memcpy(at, key.data, key.size);
    rill_topic_lease_t *lease = &topic->lease;
    if (lease->waiting == NULL)
        lease->waiting_tail = &lease->waiting;
    *lease->waiting_tail = waiting;
    lease->waiting_tail = &waiting->next;
    lease->waiting_count++;
}

static void end_lease(rill_broker_t *self, rill_topic_t *topic, int revoked);

/* An operation waits for the topic's lease to end: REVOKE goes to the
 * holder (once). A queue past RILL_TOPIC_WAITING_MAX ends the lease at
 * once, as a silent holder's (the fence of end_lease): what waits is held
 * in the broker's memory, which a holder slow to answer must not grow. */
static void wait_for_lease(rill_broker_t *self, rill_topic_t *topic, int kind, const rill_frame_t *routing,
                           rill_frame_t req, const void *data, size_t size, rill_frame_t key)
{
    queue(topic, kind, routing, req, data, size, key);
    ask_back(self, topic, rill_clock_monotonic_ms());
    if (topic->lease.waiting_count >= RILL_TOPIC_WAITING_MAX)
        end_lease(self, topic, 0);
}

/* The topic a frontend's PUBLISH names, made if new; NULL when there is
 * no room for it (max_topics, every one in use), answered ERROR then. */
static rill_topic_t *topic_or_refusal(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t req,
                                      rill_frame_t name)
{
    rill_topic_t *topic = rill_topic_table_get(self->topics, (const char *)name.data, name.size);
    if (topic == NULL) {
        char text[160];
        snprintf(text, sizeof(text), "too many topics: max_topics (%llu) reached and every one is in use",
                 (unsigned long long)self->config.max_topics);
        rill_broker_reply_error(self, routing, req, "unavailable", text);
    }
    return topic;
}

/* A message whose key the topic knows (rill/10, publish_keys.h): 1 when
 * it was answered here (the same message: its seq again; another one:
 * conflict), 0 when it is new. The answer carries no lease flag, and the
 * frontend reads nothing of its lease from it (its seq may be long past). */
static int answer_known_key(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t req, rill_topic_t *topic,
                            rill_frame_t key, uint64_t hash)
{
    rill_frame_t name = topic_name(topic);
    const rill_publish_key_t *known =
        rill_publish_keys_find(self->publish_keys, (const char *)name.data, name.size, (const char *)key.data,
                               key.size, topic->epoch, rill_clock_monotonic_ms());
    if (known == NULL)
        return 0;
    if (known->hash != hash) {
        rill_broker_reply_error(self, routing, req, "conflict",
                                "this Idempotency-Key was used for another message on this topic");
        return 1;
    }
    self->counters->publish_repeats++;
    char answer[RILL_TOPIC_NAME_MAX + 80];
    snprintf(answer, sizeof(answer), "{\"topic\":\"%.*s\",\"seq\":%llu,\"repeated\":true}", (int)name.size,
             (const char *)name.data, (unsigned long long)known->seq);
    rill_frame_t arguments[2] = {req, rill_frame_from_string(answer)};
    (void)rill_broker_reply(self, routing, RILL_COMMAND_PUBLISHED, arguments, 2);
    return 1;
}

/* Publishes a frontend's message and answers PUBLISHED, with the lease
 * flag when the frontend holds the lease now (may_grant: it may get it).
 * A message with a key (rill/10) is published once per key. */
static void publish_and_answer(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t req, rill_topic_t *topic,
                               rill_frame_t data, rill_frame_t key, int may_grant)
{
    uint64_t hash = key.size > 0 ? rill_publish_keys_hash(data.data, data.size) : 0;
    if (key.size > 0 && answer_known_key(self, routing, req, topic, key, hash))
        return;
    uint64_t seq = 0;
    if (rill_events_publish_on_topic(self, topic, data.data, data.size, &seq) != 0) {
        rill_broker_reply_error(self, routing, req, "internal", "out of memory");
        return;
    }
    rill_frame_t name = topic_name(topic);
    if (key.size > 0)
        (void)rill_publish_keys_remember(self->publish_keys, (const char *)name.data, name.size,
                                         (const char *)key.data, key.size, topic->epoch, seq, hash,
                                         rill_clock_monotonic_ms(), 0, self->mirror != NULL && self->mirror->on);
    int leased = may_grant && grant(self, topic, routing, rill_clock_monotonic_ms());
    note_publisher(topic, routing);
    char answer[RILL_TOPIC_NAME_MAX + 64];
    snprintf(answer, sizeof(answer), "{\"topic\":\"%.*s\",\"seq\":%llu}", (int)name.size, (const char *)name.data,
             (unsigned long long)seq);
    rill_frame_t arguments[3] = {req, rill_frame_from_string(answer), rill_frame_from_string("1")};
    (void)rill_broker_reply(self, routing, RILL_COMMAND_PUBLISHED, arguments, leased ? 3 : 2);
}

/* A message the holder numbered (seq): the topic's next, or refused. */
static void accept_numbered(rill_broker_t *self, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_frame_t req = message->arguments[0];
    rill_frame_t name = message->arguments[1];
    rill_frame_t data = message->arguments[2];
    uint64_t seq = 0;
    (void)rill_frame_to_u64(message->arguments[3], &seq);
    rill_topic_t *topic = rill_topic_table_find(self->topics, (const char *)name.data, name.size);
    if (topic == NULL || topic->lease.state == LEASE_NONE || !holder_is(topic, routing) || seq <= topic->last_seq) {
        self->counters->topic_lease_refusals++;
        rill_log_warn(NULL, "topic %.*s: seq %llu numbered under a lease this broker does not know: refused",
                      (int)name.size, (const char *)name.data, (unsigned long long)seq);
        rill_broker_reply_error(self, routing, req, "lease_lost", "the topic's lease ended: publish again");
        return;
    }
    if (seq > topic->last_seq + 1) {
        /* Never seen: the holder skipped seqs. Its numbering stands (its
         * clients have them); the others see the jump as a gap. */
        rill_log_warn(NULL, "topic %s: leased seq %llu after %llu", topic->subject, (unsigned long long)seq,
                      (unsigned long long)topic->last_seq);
        topic->last_seq = seq - 1;
    }
    topic->lease.heard_ms = rill_clock_monotonic_ms();
    publish_and_answer(self, routing, req, topic, data, (rill_frame_t){NULL, 0}, 0);
}

void rill_topic_lease_publish(rill_broker_t *self, const rill_frame_t *routing, const rill_message_t *message)
{
    /* rill/10: an empty seq frame is no seq (a key follows it). */
    if (message->argument_count >= 4 && message->arguments[3].size > 0) {
        accept_numbered(self, routing, message);
        return;
    }
    rill_frame_t key = message->argument_count >= 5 ? message->arguments[4] : (rill_frame_t){NULL, 0};
    rill_topic_t *topic = topic_or_refusal(self, routing, message->arguments[0], message->arguments[1]);
    if (topic == NULL)
        return;
    /* The holder's own PUBLISH (sent before it knew of its lease, or after
     * it dropped it) is numbered at once unless something waits already:
     * its socket orders it with its leased ones. Anyone else's waits while
     * a lease stands. */
    if (topic->lease.waiting != NULL || (topic->lease.state != LEASE_NONE && !holder_is(topic, routing))) {
        wait_for_lease(self, topic, WAITING_PUBLISH, routing, message->arguments[0], message->arguments[2].data,
                       message->arguments[2].size, key);
        return;
    }
    publish_and_answer(self, routing, message->arguments[0], topic, message->arguments[2], key, 1);
}

int rill_topic_lease_publish_from_worker(rill_broker_t *self, const char *name, size_t length, const void *data,
                                         size_t size, uint64_t *seq)
{
    rill_topic_t *topic = rill_topic_table_get(self->topics, name, length);
    if (topic == NULL)
        return -1;
    if (topic->lease.state != LEASE_NONE || topic->lease.waiting != NULL) {
        wait_for_lease(self, topic, WAITING_WORKER, NULL, (rill_frame_t){NULL, 0}, data, size, (rill_frame_t){NULL, 0});
        return 1;
    }
    if (rill_events_publish_on_topic(self, topic, data, size, seq) != 0)
        return -1;
    note_publisher(topic, NULL);
    return 0;
}

int rill_topic_lease_delete_waits(rill_broker_t *self, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_frame_t name = message->arguments[1];
    rill_topic_t *topic = rill_topic_table_find(self->topics, (const char *)name.data, name.size);
    if (topic == NULL || (topic->lease.state == LEASE_NONE && topic->lease.waiting == NULL))
        return 0;
    wait_for_lease(self, topic, WAITING_DELETE, routing, message->arguments[0], NULL, 0, (rill_frame_t){NULL, 0});
    return 1;
}

/* What waited for the lease, in order. Nothing is leased meanwhile (a
 * grant would make the rest wait again), and the topic may go (a delete):
 * only its name is used. */
static void run_waiting(rill_broker_t *self, rill_topic_t *topic)
{
    rill_topic_waiting_t *waiting = topic->lease.waiting;
    topic->lease.waiting = NULL;
    topic->lease.waiting_tail = NULL;
    topic->lease.waiting_count = 0;
    char name_text[RILL_TOPIC_NAME_MAX + 1];
    rill_frame_t name = topic_name(topic);
    memcpy(name_text, name.data, name.size);
    name_text[name.size] = '\0';
    name = (rill_frame_t){(const uint8_t *)name_text, name.size};
    while (waiting != NULL) {
        rill_topic_waiting_t *next = waiting->next;
        rill_frame_t routing = {waiting->bytes, waiting->routing_size};
        rill_frame_t req = {waiting->bytes + waiting->routing_size, waiting->req_size};
        rill_frame_t data = {waiting->bytes + waiting->routing_size + waiting->req_size, waiting->data_size};
        rill_frame_t key = {data.data + data.size, waiting->key_size};
        uint64_t seq = 0;
        /* The topic is looked up anew: a delete before it may have removed
         * it (then it is made again, as a new message would). */
        if (waiting->kind == WAITING_PUBLISH) {
            rill_topic_t *now = topic_or_refusal(self, &routing, req, name);
            if (now != NULL)
                publish_and_answer(self, &routing, req, now, data, key, 0);
        } else if (waiting->kind == WAITING_WORKER) {
            rill_topic_t *now = rill_topic_table_get(self->topics, name_text, name.size);
            if (now == NULL || rill_events_publish_on_topic(self, now, data.data, data.size, &seq) != 0)
                rill_log_warn(NULL, "topic %s: a job's message could not be published", name_text);
        } else {
            rill_message_t message = {.command = RILL_COMMAND_TOPIC_DELETE, .argument_count = 2};
            message.arguments[0] = req;
            message.arguments[1] = name;
            rill_topic_admin_delete(self, &routing, &message);
        }
        free(waiting);
        waiting = next;
    }
}

/* The lease ends: given back (revoked 1), or taken (the holder silent). */
static void end_lease(rill_broker_t *self, rill_topic_t *topic, int revoked)
{
    rill_topic_lease_t *lease = &topic->lease;
    lease->state = LEASE_NONE;
    lease->holder_size = 0;
    rill_list_remove(&lease->link);
    self->counters->topic_leases--;
    if (revoked) {
        self->counters->topic_leases_revoked++;
        rill_log_debug(NULL, "topic %s: lease given back at seq %llu", topic->subject,
                       (unsigned long long)topic->last_seq);
    } else {
        self->counters->topic_leases_cleared++;
        topic->last_seq += LEASE_FENCE_SEQS;
        rill_log_warn(NULL, "topic %s: its lease holder is silent (or %zu operations wait for it); the broker "
                      "numbers it again from seq %llu", topic->subject, topic->lease.waiting_count,
                      (unsigned long long)topic->last_seq + 1);
    }
    run_waiting(self, topic);
}

void rill_topic_lease_revoked(rill_broker_t *self, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_frame_t name = message->arguments[0];
    rill_topic_t *topic = rill_topic_table_find(self->topics, (const char *)name.data, name.size);
    if (topic != NULL && topic->lease.state != LEASE_NONE && holder_is(topic, routing))
        end_lease(self, topic, 1);
}

void rill_topic_lease_heard(rill_broker_t *self, const rill_frame_t *routing, uint64_t now_ms)
{
    for (rill_link_t *link = self->leased_topics.next; link != &self->leased_topics; link = link->next) {
        rill_topic_t *topic = rill_container_of(link, rill_topic_t, lease.link);
        if (holder_is(topic, routing))
            topic->lease.heard_ms = now_ms;
    }
}

void rill_topic_lease_tick(rill_broker_t *self, uint64_t now_ms, uint64_t stalled_ms)
{
    uint64_t limit = silence_limit_ms(self);
    rill_link_t *link = self->leased_topics.next;
    while (link != &self->leased_topics) {
        rill_link_t *next = link->next; /* end_lease unlinks this one only */
        rill_topic_t *topic = rill_container_of(link, rill_topic_t, lease.link);
        rill_topic_lease_t *lease = &topic->lease;
        /* The broker's own stall is no holder's silence: what they sent
         * meanwhile waits unread in the socket. */
        lease->heard_ms = lease->heard_ms + stalled_ms < now_ms ? lease->heard_ms + stalled_ms : now_ms;
        if (lease->state == LEASE_REVOKING)
            lease->revoke_ms = lease->revoke_ms + stalled_ms < now_ms ? lease->revoke_ms + stalled_ms : now_ms;
        if (lease->state == LEASE_HELD && now_ms > lease->heard_ms + limit)
            end_lease(self, topic, 0);
        else if (lease->state == LEASE_REVOKING && now_ms > lease->revoke_ms + limit)
            end_lease(self, topic, 0);
        else if (lease->state == LEASE_HELD && (self->config.topic_lease_ms == 0 ||
                                                now_ms > topic->last_event_ms + self->config.topic_lease_ms))
            ask_back(self, topic, now_ms);
        link = next;
    }
}
