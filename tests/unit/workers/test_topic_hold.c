/* test_topic_hold.c - topic messages held while no broker is joined
 * (workers/topic_hold.c): order, the bound, the markers of what it dropped. */
#include "rill_test.h"
#include "topic_hold.h"

#include <stdio.h>
#include <string.h>

#define JOB_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define JOB_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char sent[2048];

static void record(void *argument, const char *job_id, const char *topic, const char *data, size_t length)
{
    (void)argument;
    size_t at = strlen(sent);
    snprintf(sent + at, sizeof(sent) - at, "%s%c/%s/%.*s", at > 0 ? "|" : "", job_id[0], topic, (int)length, data);
}

int main(void)
{
    rill_topic_hold_t *hold = rill_topic_hold_new();
    CHECK(rill_topic_hold_count(hold) == 0 && rill_topic_hold_dropped(hold) == 0);
    /* Nothing held: nothing sent. */
    CHECK(rill_topic_hold_send(hold, record, NULL) == 0 && sent[0] == '\0');

    /* In order, across jobs and topics; the hold is empty after. */
    rill_topic_hold_add(hold, JOB_A, "news", "1", 1, 10, 1000);
    rill_topic_hold_add(hold, JOB_B, "sport", "{\"x\":2}", 7, 10, 1000);
    rill_topic_hold_add(hold, JOB_A, "news", "3", 1, 10, 1000);
    CHECK(rill_topic_hold_count(hold) == 3);
    CHECK(rill_topic_hold_send(hold, record, NULL) == 3);
    CHECKF(strcmp(sent, "a/news/1|b/sport/{\"x\":2}|a/news/3") == 0, "%s", sent);
    CHECK(rill_topic_hold_count(hold) == 0);

    /* Past 3 messages the oldest go; the topic that lost some gets a
     * marker ahead of its first held message. */
    sent[0] = '\0';
    for (int i = 1; i <= 5; i++) {
        char text[8];
        snprintf(text, sizeof(text), "%d", i);
        rill_topic_hold_add(hold, JOB_A, "news", text, strlen(text), 3, 1000);
    }
    rill_topic_hold_add(hold, JOB_B, "sport", "6", 1, 4, 1000); /* a larger bound now: news 3,4,5 + sport 6 */
    CHECK(rill_topic_hold_count(hold) == 4 && rill_topic_hold_dropped(hold) == 2);
    CHECK(rill_topic_hold_send(hold, record, NULL) == 5);
    CHECKF(strcmp(sent, "a/news/{\"worker\":\"dropped\",\"messages\":2,\"reason\":\"no broker joined\"}"
                        "|a/news/3|a/news/4|a/news/5|b/sport/6") == 0, "%s", sent);
    CHECK(rill_topic_hold_dropped(hold) == 0);

    /* By bytes: 10 bytes at most. A topic whose every message went still
     * gets its marker, after the rest. */
    sent[0] = '\0';
    rill_topic_hold_add(hold, JOB_B, "gone", "12345678", 8, 100, 10);
    rill_topic_hold_add(hold, JOB_A, "kept", "abcdefgh", 8, 100, 10); /* 16 bytes: "gone" goes */
    CHECK(rill_topic_hold_count(hold) == 1 && rill_topic_hold_dropped(hold) == 1);
    CHECK(rill_topic_hold_send(hold, record, NULL) == 2);
    CHECKF(strcmp(sent, "a/kept/abcdefgh|b/gone/{\"worker\":\"dropped\",\"messages\":1,\"reason\":\"no broker joined\"}") == 0,
           "%s", sent);

    /* A message larger than the whole bound is dropped at once, and told. */
    sent[0] = '\0';
    rill_topic_hold_add(hold, JOB_A, "big", "0123456789ABC", 13, 100, 10);
    CHECK(rill_topic_hold_count(hold) == 0 && rill_topic_hold_dropped(hold) == 1);
    CHECK(rill_topic_hold_send(hold, record, NULL) == 1 && strstr(sent, "a/big/{\"worker\":\"dropped\"") == sent);

    /* Destroyed with messages held: no leak (ASan). */
    rill_topic_hold_add(hold, JOB_A, "news", "1", 1, 10, 1000);
    rill_topic_hold_destroy(&hold);
    CHECK(hold == NULL);
    rill_topic_hold_destroy(&hold);
    RILL_TEST_END();
}
