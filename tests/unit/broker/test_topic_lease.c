/* test_topic_lease.c - topic leases (rill/8, broker/topic_lease.h) without
 * sockets: when a lease is granted, a holder's numbered messages accepted
 * or refused, what else would number the topic queued behind REVOKE and
 * run after REVOKED, a silent holder's lease taken, an idle one revoked,
 * and a stall of the broker forgiven. */
#include "fake_outbox.h"
#include "listeners.h"
#include "rill_clock.h"
#include "rill_log.h"
#include "rill_test.h"
#include "tick.h"
#include "topic_lease.h"

#include <stdio.h>
#include <string.h>

static rill_broker_t *new_broker(void)
{
    rill_config_t config;
    rill_config_defaults(&config);
    return fake_outbox_broker(&config);
}

static void finish(rill_broker_t **broker)
{
    rill_broker_destroy(broker);
    forget_recorded();
}

/* A frontend subscribes (1) or unsubscribes (0) "t<name>/" on the XPUB. */
static void listen_to(rill_broker_t *broker, const char *name, int on)
{
    uint8_t message[160];
    int length = snprintf((char *)message + 1, sizeof(message) - 1, "t%s/", name);
    message[0] = on ? 1 : 0;
    rill_broker_subscription(broker, message, (size_t)length + 1);
}

/* PUBLISH req name data [seq] from routing. */
static void publish(rill_broker_t *broker, const char *routing, const char *req, const char *name, const char *data,
                    const char *seq)
{
    rill_frame_t from = rill_frame_from_string(routing);
    rill_message_t message = {.command = RILL_COMMAND_PUBLISH, .argument_count = seq != NULL ? 4 : 3};
    message.arguments[0] = rill_frame_from_string(req);
    message.arguments[1] = rill_frame_from_string(name);
    message.arguments[2] = rill_frame_from_string(data);
    if (seq != NULL)
        message.arguments[3] = rill_frame_from_string(seq);
    rill_topic_lease_publish(broker, &from, &message);
}

static void revoked(rill_broker_t *broker, const char *routing, const char *name)
{
    rill_frame_t from = rill_frame_from_string(routing);
    rill_message_t message = {.command = RILL_COMMAND_REVOKED, .argument_count = 1};
    message.arguments[0] = rill_frame_from_string(name);
    rill_topic_lease_revoked(broker, &from, &message);
}

static const sent_t *last_reply(void)
{
    return fake.reply_count > 0 ? &fake.replies[fake.reply_count - 1] : NULL;
}

/* The last reply is PUBLISHED req {"topic":name,"seq":seq}, leased or not. */
static int published_as(const char *req, const char *name, unsigned seq, int leased)
{
    const sent_t *reply = last_reply();
    char answer[200];
    snprintf(answer, sizeof(answer), "{\"topic\":\"%s\",\"seq\":%u}", name, seq);
    return reply != NULL && reply->command == RILL_COMMAND_PUBLISHED && strcmp(reply->frames[0], req) == 0 &&
           strcmp(reply->frames[1], answer) == 0 && reply->count == (leased ? 3u : 2u) &&
           (!leased || strcmp(reply->frames[2], "1") == 0);
}

static rill_topic_t *topic(rill_broker_t *broker, const char *name)
{
    return rill_topic_table_find(broker->topics, name, strlen(name));
}

/* "fa" publishes two messages to name, which someone follows: the lease is fa's. */
static void leased_to_fa(rill_broker_t *broker, const char *name)
{
    listen_to(broker, name, 1);
    publish(broker, "fa", "r1", name, "1", NULL);
    publish(broker, "fa", "r2", name, "2", NULL);
    CHECK(published_as("r2", name, 2, 1));
}

static void test_grant_and_numbered_messages(void)
{
    rill_broker_t *broker = new_broker();
    /* Nobody listens: no lease, however many in a row. */
    publish(broker, "fa", "r1", "quiet", "{}", NULL);
    publish(broker, "fa", "r2", "quiet", "{}", NULL);
    CHECK(published_as("r2", "quiet", 2, 0) && broker->counters->topic_leases_granted == 0);
    /* Listened: the second message in a row from one frontend gets it. */
    listen_to(broker, "news", 1);
    publish(broker, "fa", "r3", "news", "1", NULL);
    CHECK(published_as("r3", "news", 1, 0));
    publish(broker, "fa", "r4", "news", "2", NULL);
    CHECK(published_as("r4", "news", 2, 1) && broker->counters->topic_leases == 1);
    /* The holder's numbered message: the topic's next; retained and published. */
    publish(broker, "fa", "r5", "news", "3", "3");
    CHECK(published_as("r5", "news", 3, 0) && topic(broker, "news")->last_seq == 3);
    CHECK(strcmp(last_published()->subject, "tnews/") == 0 && last_published()->seq == 3 &&
          strcmp(last_published()->data, "3") == 0);
    /* A seq past the next: the holder's numbering stands (a gap for others). */
    publish(broker, "fa", "r6", "news", "5", "5");
    CHECK(published_as("r6", "news", 5, 0) && topic(broker, "news")->last_seq == 5);
    /* Refused: a seq already given, another frontend's seq, a topic not leased. */
    publish(broker, "fa", "r7", "news", "x", "5");
    CHECK(last_reply()->command == RILL_COMMAND_ERROR && strcmp(last_reply()->frames[1], "lease_lost") == 0);
    publish(broker, "fb", "r8", "news", "x", "6");
    CHECK(last_reply()->command == RILL_COMMAND_ERROR && strcmp(last_reply()->routing, "fb") == 0);
    publish(broker, "fa", "r9", "quiet", "x", "3");
    CHECK(last_reply()->command == RILL_COMMAND_ERROR && broker->counters->topic_lease_refusals == 3);
    CHECK(topic(broker, "news")->last_seq == 5 && topic(broker, "quiet")->last_seq == 2);
    /* The holder's own PUBLISH without seq is numbered at once, and says the lease stands. */
    publish(broker, "fa", "r10", "news", "6", NULL);
    CHECK(published_as("r10", "news", 6, 1));
    /* Turned off: no grant. */
    broker->config.topic_lease_ms = 0;
    listen_to(broker, "off", 1);
    publish(broker, "fa", "r11", "off", "1", NULL);
    publish(broker, "fa", "r12", "off", "2", NULL);
    CHECK(published_as("r12", "off", 2, 0));
    finish(&broker);
}

static void test_others_wait_for_revoked(void)
{
    rill_broker_t *broker = new_broker();
    leased_to_fa(broker, "news");
    CHECK(broker->counters->topic_leases == 1);
    forget_recorded();
    /* Another frontend, a worker, a delete: each waits; one REVOKE goes. */
    publish(broker, "fb", "b1", "news", "\"b\"", NULL);
    uint64_t seq = 0;
    CHECK(rill_topic_lease_publish_from_worker(broker, "news", 4, "\"w\"", 3, &seq) == 1);
    rill_frame_t from_b = rill_frame_from_string("fb");
    rill_message_t delete = {.command = RILL_COMMAND_TOPIC_DELETE, .argument_count = 2};
    delete.arguments[0] = rill_frame_from_string("d1");
    delete.arguments[1] = rill_frame_from_string("news");
    CHECK(rill_topic_lease_delete_waits(broker, &from_b, &delete) == 1);
    publish(broker, "fb", "b2", "news", "\"b2\"", NULL);
    CHECK(fake.reply_count == 1 && fake.replies[0].command == RILL_COMMAND_REVOKE &&
          strcmp(fake.replies[0].routing, "fa") == 0 && strcmp(fake.replies[0].frames[0], "news") == 0);
    CHECK(topic(broker, "news")->lease.waiting_count == 4 && fake.published_count == 0);
    /* The holder's numbered messages before its REVOKED still count. */
    publish(broker, "fa", "r3", "news", "3", "3");
    CHECK(published_as("r3", "news", 3, 0));
    /* A REVOKED from another frontend, or for another topic, changes nothing. */
    revoked(broker, "fb", "news");
    revoked(broker, "fa", "other");
    CHECK(broker->counters->topic_leases == 1 && topic(broker, "news")->lease.waiting_count == 4);
    forget_recorded();
    revoked(broker, "fa", "news");
    CHECK(broker->counters->topic_leases == 0 && broker->counters->topic_leases_revoked == 1);
    /* In arrival order: b's message (4), the worker's (5), the delete (last 5), b2 anew (1). */
    CHECK(fake.reply_count == 3 && fake.replies[0].command == RILL_COMMAND_PUBLISHED &&
          strcmp(fake.replies[0].frames[1], "{\"topic\":\"news\",\"seq\":4}") == 0 &&
          fake.replies[1].command == RILL_COMMAND_TOPIC_DELETED &&
          strcmp(fake.replies[1].frames[1], "{\"topic\":\"news\",\"last\":5}") == 0 &&
          strcmp(fake.replies[2].frames[1], "{\"topic\":\"news\",\"seq\":1}") == 0 && fake.replies[2].count == 2);
    CHECK(fake.published_count == 4 && fake.published[1].seq == 5 && strcmp(fake.published[1].data, "\"w\"") == 0 &&
          strcmp(fake.published[2].event, "deleted") == 0);
    /* The late holder's numbered message: refused. */
    publish(broker, "fa", "r4", "news", "4", "2");
    CHECK(last_reply()->command == RILL_COMMAND_ERROR && strcmp(last_reply()->frames[1], "lease_lost") == 0);
    finish(&broker);
}

static void test_a_long_queue_ends_the_lease(void)
{
    rill_broker_t *broker = new_broker();
    leased_to_fa(broker, "news");
    uint64_t seq = 0;
    for (int i = 0; i < 4095; i++)
        CHECK(rill_topic_lease_publish_from_worker(broker, "news", 4, "0", 1, &seq) == 1);
    CHECK(broker->counters->topic_leases == 1 && topic(broker, "news")->lease.waiting_count == 4095);
    forget_recorded();
    uint64_t published = broker->counters->events_published;
    CHECK(rill_topic_lease_publish_from_worker(broker, "news", 4, "0", 1, &seq) == 1);
    CHECK(broker->counters->topic_leases == 0 && broker->counters->topic_leases_cleared == 1);
    CHECK(topic(broker, "news")->lease.waiting == NULL && topic(broker, "news")->last_seq == 2 + (UINT64_C(1) << 20) + 4096);
    CHECK(fake.published[0].seq == 3 + (UINT64_C(1) << 20)); /* the fake records the first 256 */
    CHECK(broker->counters->events_published - published + broker->counters->publish_failures == 4096);
    finish(&broker);
}

/* A tick at now_ms, the previous one just before it (no stall). */
static void tick_at(rill_broker_t *broker, uint64_t now_ms)
{
    broker->last_tick_ms = now_ms - 20;
    rill_broker_tick(broker, now_ms);
}

static void test_silence_idle_and_stall(void)
{
    rill_broker_t *broker = new_broker();
    uint64_t heartbeat = broker->config.heartbeat_ms;
    broker->config.topic_lease_ms = 3600000; /* not idle, until said */
    listen_to(broker, "a", 1);
    listen_to(broker, "b", 1);
    for (int i = 0; i < 2; i++) {
        publish(broker, "fa", "r", "a", "1", NULL);
        publish(broker, "fb", "r", "b", "1", NULL);
    }
    CHECK(broker->counters->topic_leases == 2);
    uint64_t now = rill_clock_monotonic_ms();
    /* fb's PINGs go on, fa's stop: after 4 heartbeats fa's lease is taken. */
    rill_frame_t fb = rill_frame_from_string("fb");
    rill_topic_lease_heard(broker, &fb, now + 3 * heartbeat);
    tick_at(broker, now + 4 * heartbeat - 10);
    CHECK(broker->counters->topic_leases == 2);
    tick_at(broker, now + 4 * heartbeat + 10);
    CHECK(broker->counters->topic_leases == 1 && broker->counters->topic_leases_cleared == 1);
    CHECK(topic(broker, "a")->lease.state == 0 && topic(broker, "b")->lease.state != 0);
    /* No seq the silent holder may have given is given again. */
    CHECK(topic(broker, "a")->last_seq == 2 + (UINT64_C(1) << 20));
    /* A stall of the broker itself (no tick for 10 heartbeats) takes no lease. */
    rill_topic_lease_heard(broker, &fb, now + 4 * heartbeat + 10);
    rill_broker_tick(broker, now + 14 * heartbeat);
    CHECK(broker->counters->topic_leases == 1 && broker->counters->topic_leases_cleared == 1);
    /* Idle for topic_lease_ms: REVOKE, then cleared if unanswered. */
    forget_recorded();
    broker->config.topic_lease_ms = 1;
    rill_topic_lease_heard(broker, &fb, now + 14 * heartbeat + 50);
    tick_at(broker, now + 14 * heartbeat + 60);
    CHECK(fake.reply_count == 1 && fake.replies[0].command == RILL_COMMAND_REVOKE &&
          strcmp(fake.replies[0].routing, "fb") == 0);
    tick_at(broker, now + 18 * heartbeat + 50);
    CHECK(broker->counters->topic_leases == 1); /* within 4 heartbeats of the REVOKE */
    tick_at(broker, now + 18 * heartbeat + 70);
    CHECK(broker->counters->topic_leases == 0 && broker->counters->topic_leases_cleared == 2);
    /* A leased topic is never evicted; forgetting the state ends every lease. */
    broker->config.topic_lease_ms = 10000;
    publish(broker, "fa", "r", "a", "1", NULL);
    publish(broker, "fa", "r", "a", "1", NULL);
    CHECK(broker->counters->topic_leases == 1);
    rill_broker_forget_state(broker);
    CHECK(broker->counters->topic_leases == 0 && rill_list_is_empty(&broker->leased_topics));
    finish(&broker);
}

/* The last reply is PUBLISHED req {"topic":name,"seq":seq,"repeated":true}. */
static int repeated_as(const char *req, const char *name, unsigned seq)
{
    const sent_t *reply = last_reply();
    char answer[200];
    snprintf(answer, sizeof(answer), "{\"topic\":\"%s\",\"seq\":%u,\"repeated\":true}", name, seq);
    return reply != NULL && reply->command == RILL_COMMAND_PUBLISHED && strcmp(reply->frames[0], req) == 0 &&
           strcmp(reply->frames[1], answer) == 0 && reply->count == 2;
}

static int refused_with(const char *req, const char *code)
{
    const sent_t *reply = last_reply();
    return reply != NULL && reply->command == RILL_COMMAND_ERROR && strcmp(reply->frames[0], req) == 0 &&
           strcmp(reply->frames[1], code) == 0;
}

static void test_publish_keys(void)
{
    rill_broker_t *broker = new_broker();
    fake_publish_keyed(broker, "fa", "r1", "news", "{\"a\":1}", "order-17");
    CHECK(published_as("r1", "news", 1, 0) && fake.published_count == 1);
    /* The same key and message again, from any frontend: its seq, nothing published. */
    fake_publish_keyed(broker, "fb", "r2", "news", "{\"a\":1}", "order-17");
    CHECK(repeated_as("r2", "news", 1) && fake.published_count == 1 && broker->counters->publish_repeats == 1);
    /* Another message with that key: refused. The key on another topic: its own. */
    fake_publish_keyed(broker, "fa", "r3", "news", "{\"a\":2}", "order-17");
    CHECK(refused_with("r3", "conflict") && fake.published_count == 1);
    fake_publish_keyed(broker, "fa", "r4", "other", "{\"a\":1}", "order-17");
    CHECK(published_as("r4", "other", 1, 0) && fake.published_count == 2);
    /* A drawn key, and no key: each message is new. */
    fake_publish_keyed(broker, "fa", "r5", "news", "{}", "~00ff");
    publish(broker, "fa", "r6", "news", "{}", NULL);
    CHECK(published_as("r6", "news", 3, 0) && fake.published_count == 4);
    fake_publish_keyed(broker, "fa", "r7", "news", "{}", "~00ff");
    CHECK(repeated_as("r7", "news", 2));
    /* Expired: a drawn key after its 30 s, a client's after publish_key_ttl_ms. */
    uint64_t now = rill_clock_monotonic_ms();
    rill_publish_keys_expire(broker->publish_keys, now + RILL_PUBLISH_KEYS_DRAWN_TTL_MS + 1);
    CHECK(rill_publish_keys_count(broker->publish_keys) == 2);
    fake_publish_keyed(broker, "fa", "r8", "news", "{}", "~00ff");
    CHECK(published_as("r8", "news", 4, 0));
    rill_publish_keys_expire(broker->publish_keys, now + broker->config.publish_key_ttl_ms + 1);
    CHECK(rill_publish_keys_count(broker->publish_keys) == 0);
    fake_publish_keyed(broker, "fa", "r9", "news", "{\"a\":1}", "order-17");
    CHECK(published_as("r9", "news", 5, 0));
    /* A topic made again (deleted, evicted) knows none of its old keys. */
    rill_topic_table_remove(broker->topics, topic(broker, "news"));
    fake_publish_keyed(broker, "fa", "r10", "news", "{\"a\":1}", "order-17");
    CHECK(published_as("r10", "news", 1, 0));
    finish(&broker);
}

/* Two sendings of one keyed message wait behind another frontend's lease:
 * when it ends, the first is published and the second answered with its seq. */
static void test_publish_keys_behind_a_lease(void)
{
    rill_broker_t *broker = new_broker();
    leased_to_fa(broker, "news");
    fake_publish_keyed(broker, "fb", "k1", "news", "{\"b\":1}", "b-1");
    fake_publish_keyed(broker, "fb", "k2", "news", "{\"b\":1}", "b-1");
    CHECK(last_reply()->command == RILL_COMMAND_REVOKE && topic(broker, "news")->lease.waiting_count == 2);
    size_t before = fake.published_count;
    revoked(broker, "fa", "news");
    CHECK(fake.published_count == before + 1 && repeated_as("k2", "news", 3));
    finish(&broker);
}

int main(void)
{
    rill_log_set_level_name("error");
    test_publish_keys();
    test_publish_keys_behind_a_lease();
    test_grant_and_numbered_messages();
    test_others_wait_for_revoked();
    test_a_long_queue_ends_the_lease();
    test_silence_idle_and_stall();
    RILL_TEST_END();
}
