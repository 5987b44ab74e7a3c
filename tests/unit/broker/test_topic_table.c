/* test_topic_table.c - topic seqs and retained messages (broker/topic_table.c). */
#include "rill_test.h"
#include "topic_table.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static uint64_t append(rill_topic_table_t *table, rill_topic_t *topic, const char *text,
                       uint64_t now_ms, size_t capacity)
{
    zmq_msg_t message;
    zmq_msg_init_size(&message, strlen(text));
    memcpy(zmq_msg_data(&message), text, strlen(text));
    int retained = -1;
    uint64_t seq = rill_topic_table_append(table, topic, &message, now_ms, capacity, &retained);
    CHECK(retained == (capacity > 0));
    zmq_msg_close(&message);
    return seq;
}

/* The test's "interest": topics whose name starts with 'L' are listened to. */
static int listened(void *argument, const rill_topic_t *topic)
{
    (void)argument;
    return topic->subject[1] == 'L';
}

static void count_eviction(void *argument, const rill_topic_t *topic)
{
    (void)topic;
    (*(uint64_t *)argument)++;
}

/* max_topics: past the bound an idle topic (nothing retained, nobody
 * listening), the least recently used, makes room; with none idle, no new
 * topic. */
static void test_bound(void)
{
    rill_topic_table_t *table = rill_topic_table_new();
    uint64_t evicted = 0;
    rill_topic_table_set_bound(table, 3, listened, count_eviction, &evicted);
    rill_topic_t *a = rill_topic_table_get(table, "a", 1);
    rill_topic_t *listened_topic = rill_topic_table_get(table, "L1", 2);
    rill_topic_t *b = rill_topic_table_get(table, "b", 1);
    CHECK(a != NULL && listened_topic != NULL && b != NULL && rill_topic_table_size(table) == 3);
    CHECK(append(table, a, "1", 10, 5) == 1);  /* a retains: not idle; and now most recent */
    CHECK(append(table, b, "1", 11, 0) == 1);  /* b keeps nothing: idle */
    /* The fourth: b (idle) goes, though a was used before it: a retains. */
    rill_topic_t *c = rill_topic_table_get(table, "c", 1);
    CHECK(c != NULL && rill_topic_table_size(table) == 3 && evicted == 1);
    CHECK(rill_topic_table_find(table, "b", 1) == NULL);
    CHECK(rill_topic_table_find(table, "a", 1) == a && rill_topic_table_find(table, "L1", 2) == listened_topic);
    /* A lookup of an existing topic never evicts. */
    CHECK(rill_topic_table_get(table, "c", 1) == c && evicted == 1);
    /* c idle goes next; then a retains, L1 is listened, d is the newest. */
    rill_topic_t *d = rill_topic_table_get(table, "d", 1);
    CHECK(d != NULL && evicted == 2 && rill_topic_table_find(table, "c", 1) == NULL);
    CHECK(append(table, d, "1", 12, 5) == 1);
    errno = 0;
    CHECK(rill_topic_table_get(table, "e", 1) == NULL && errno == ENOSPC);
    CHECK(rill_topic_table_size(table) == 3 && evicted == 2);
    errno = 0;
    CHECK(rill_topic_table_get(table, "bad name", 8) == NULL && errno == EINVAL);
    /* a's message ages out: a is idle again, and makes room. */
    rill_topic_expire(a, 100000, 1000);
    rill_topic_t *e = rill_topic_table_get(table, "e", 1);
    CHECK(e != NULL && evicted == 3 && rill_topic_table_find(table, "a", 1) == NULL);
    /* A topic made again after its eviction starts from seq 1, as a deleted one. */
    rill_topic_expire(d, 100000, 1000);
    rill_topic_t *b_again = rill_topic_table_get(table, "b", 1);
    CHECK(b_again != NULL && b_again->last_seq == 0 && evicted == 4);
    /* Bound 0: none. */
    rill_topic_table_set_bound(table, 0, listened, count_eviction, &evicted);
    for (int i = 0; i < 10; i++) {
        char name[8];
        snprintf(name, sizeof(name), "n%d", i);
        CHECK(rill_topic_table_get(table, name, strlen(name)) != NULL);
    }
    CHECK(rill_topic_table_size(table) == 13 && evicted == 4);
    rill_topic_table_destroy(&table);
}

int main(void)
{
    test_bound();
    rill_topic_table_t *table = rill_topic_table_new();
    CHECK(table != NULL);
    CHECK(rill_topic_table_find(table, "news", 4) == NULL);
    CHECK(rill_topic_table_get(table, "bad name", 8) == NULL);
    CHECK(rill_topic_table_get(table, "", 0) == NULL);
    char long_name[130];
    memset(long_name, 'a', sizeof(long_name));
    CHECK(rill_topic_table_get(table, long_name, 129) == NULL);
    CHECK(rill_topic_table_get(table, long_name, 128) != NULL);

    rill_topic_t *news = rill_topic_table_get(table, "news", 4);
    CHECK(news != NULL && news->last_seq == 0);
    CHECK(strcmp(news->subject, "tnews/") == 0 && news->subject_length == 6);
    CHECK(rill_topic_table_get(table, "news", 4) == news);
    CHECK(rill_topic_table_find(table, "news", 4) == news);
    CHECK(rill_topic_table_find(table, "new", 3) == NULL);
    CHECK(rill_topic_first_seq(news) == 1);

    /* Seqs from 1; at most `capacity` kept, oldest first out. */
    for (int i = 1; i <= 5; i++) {
        char text[16];
        snprintf(text, sizeof(text), "{\"n\":%d}", i);
        CHECK(append(table, news, text, 1000 + 100 * (uint64_t)i, 3) == (uint64_t)i);
    }
    CHECK(news->last_seq == 5 && rill_retention_count(news->retention) == 3);
    CHECK(rill_topic_first_seq(news) == 3);
    CHECK(rill_topic_table_retained(table) == 3);

    /* Age: retained at 1300, 1400, 1500; 1000 ms later with retain 1000 ms,
     * the one of 1300 has had its time. */
    rill_topic_expire(news, 2300, 1000);
    CHECK(rill_topic_first_seq(news) == 4 && rill_retention_count(news->retention) == 2);
    rill_topic_table_expire(table, 10000, 1000);
    CHECK(news->retention == NULL);
    CHECK(rill_topic_first_seq(news) == 6); /* nothing retained: last + 1 */

    /* The record stays: seqs never restart. */
    CHECK(append(table, news, "1", 20000, 3) == 6);
    CHECK(rill_topic_first_seq(news) == 6);
    /* A smaller capacity (SIGHUP) applies at the next message. */
    CHECK(append(table, news, "2", 20001, 3) == 7);
    CHECK(append(table, news, "3", 20002, 1) == 8);
    CHECK(rill_retention_count(news->retention) == 1 && rill_topic_first_seq(news) == 8);
    /* Capacity 0 keeps nothing, and still counts. */
    CHECK(append(table, news, "4", 20003, 0) == 9);
    CHECK(news->retention == NULL && rill_topic_first_seq(news) == 10);

    /* Topics are independent. */
    rill_topic_t *other = rill_topic_table_get(table, "a.b_c-D9", 8);
    CHECK(other != NULL && other != news);
    CHECK(append(table, other, "{}", 1, 100) == 1);
    CHECK(rill_topic_table_size(table) == 3);

    /* rill/4: a deleted topic is forgotten, retention and seq; it starts anew. */
    CHECK(append(table, other, "{}", 2, 100) == 2);
    rill_topic_table_remove(table, other);
    CHECK(rill_topic_table_find(table, "a.b_c-D9", 8) == NULL && rill_topic_table_size(table) == 2);
    other = rill_topic_table_get(table, "a.b_c-D9", 8);
    CHECK(other != NULL && other->last_seq == 0 && append(table, other, "{}", 3, 100) == 1);
    rill_topic_table_destroy(&table);
    CHECK(table == NULL);
    rill_topic_table_destroy(&table);
    RILL_TEST_END();
}
