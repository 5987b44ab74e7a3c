/* test_names.c - the names the wire carries (common/rill_names.h): job
 * ids, topic names and epochs, publish keys (rill/10), at and past their
 * bounds. */
#include "rill_names.h"
#include "rill_test.h"

#include <string.h>

static int key_is_valid(const char *key, int drawn_allowed)
{
    return rill_publish_key_is_valid(key, strlen(key), drawn_allowed);
}

static void test_job_ids(void)
{
    const char *good = "0123456789abcdef0123456789abcdef";
    CHECK(rill_job_id_is_valid((const uint8_t *)good, 32));
    CHECK(!rill_job_id_is_valid((const uint8_t *)good, 31));
    CHECK(!rill_job_id_is_valid((const uint8_t *)"0123456789ABCDEF0123456789abcdef", 32));
    CHECK(!rill_job_id_is_valid((const uint8_t *)"0123456789abcdef0123456789abcdeg", 32));
}

static void test_topic_names_and_epochs(void)
{
    CHECK(rill_topic_name_is_valid("news.eu_1-a", 11));
    CHECK(!rill_topic_name_is_valid("", 0) && !rill_topic_name_is_valid("a b", 3) && !rill_topic_name_is_valid("a:b", 3));
    char name[RILL_TOPIC_NAME_MAX + 1];
    memset(name, 'n', sizeof(name));
    CHECK(rill_topic_name_is_valid(name, RILL_TOPIC_NAME_MAX) && !rill_topic_name_is_valid(name, sizeof(name)));
    CHECK(rill_topic_epoch_is_valid("00ff12ab", 8));
    CHECK(!rill_topic_epoch_is_valid("00FF12AB", 8) && !rill_topic_epoch_is_valid("00ff12a", 7));
}

static void test_publish_keys(void)
{
    CHECK(key_is_valid("order-17:v1.a_b", 0) && key_is_valid("order-17:v1.a_b", 1));
    /* A drawn key ('~' first) only where the wire allows it. */
    CHECK(key_is_valid("~0123abcd", 1) && !key_is_valid("~0123abcd", 0));
    const char *bad[] = {"", "~", "~~x", "two words", "k\n", "{}", "tab\tkey", "é"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(!key_is_valid(bad[i], 1));
    char key[RILL_PUBLISH_KEY_MAX + 2];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    CHECK(!rill_publish_key_is_valid(key, RILL_PUBLISH_KEY_MAX + 1, 1) &&
          rill_publish_key_is_valid(key, RILL_PUBLISH_KEY_MAX, 1));
    key[0] = RILL_PUBLISH_KEY_DRAWN; /* '~' and 128 more */
    CHECK(rill_publish_key_is_valid(key, RILL_PUBLISH_KEY_MAX + 1, 1) &&
          !rill_publish_key_is_valid(key, RILL_PUBLISH_KEY_MAX + 1, 0));
}

int main(void)
{
    test_job_ids();
    test_topic_names_and_epochs();
    test_publish_keys();
    RILL_TEST_END();
}
