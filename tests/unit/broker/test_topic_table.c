/* test_topic_table.c - topic seqs and retained messages (broker/topic_table.c). */
#include "rill_test.h"
#include "topic_table.h"

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

int main(void)
{
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
