/* test_publish_keys.c - the keys of published messages (rill/10,
 * broker/publish_keys.h): found by topic, key and epoch; expired by kind;
 * past the count bound the drawn keys go first; the mirror's list. */
#include "publish_keys.h"
#include "rill_test.h"

#include <string.h>

static const char *epoch = "0000abcd";

static int remember(rill_publish_keys_t *keys, const char *name, const char *key, uint64_t seq, uint64_t now)
{
    return rill_publish_keys_remember(keys, name, strlen(name), key, strlen(key), epoch, seq,
                                      rill_publish_keys_hash(key, strlen(key)), now, 0, 1);
}

static const rill_publish_key_t *find(rill_publish_keys_t *keys, const char *name, const char *key, uint64_t now)
{
    return rill_publish_keys_find(keys, name, strlen(name), key, strlen(key), epoch, now);
}

static void test_find_and_expire(void)
{
    rill_publish_keys_t *keys = rill_publish_keys_new(10, 1000);
    CHECK(remember(keys, "news", "a", 1, 0) == 0 && remember(keys, "news", "~d", 2, 0) == 0);
    const rill_publish_key_t *a = find(keys, "news", "a", 10);
    CHECK(a != NULL && a->seq == 1 && a->hash == rill_publish_keys_hash("a", 1));
    /* Another topic, another epoch, another key: not it. */
    CHECK(find(keys, "sport", "a", 10) == NULL && find(keys, "news", "b", 10) == NULL);
    CHECK(rill_publish_keys_find(keys, "news", 4, "a", 1, "0000abce", 10) == NULL);
    /* A client's key lives client_ttl_ms, a drawn one its 30 s. */
    CHECK(find(keys, "news", "a", 999) != NULL && find(keys, "news", "a", 1000) == NULL);
    rill_publish_keys_expire(keys, 1000);
    CHECK(rill_publish_keys_count(keys) == 1 && find(keys, "news", "~d", 1000) != NULL);
    rill_publish_keys_expire(keys, RILL_PUBLISH_KEYS_DRAWN_TTL_MS);
    CHECK(rill_publish_keys_count(keys) == 0);
    /* Remembered again: replaced, not doubled. */
    CHECK(remember(keys, "news", "a", 1, 0) == 0 && remember(keys, "news", "a", 5, 0) == 0);
    CHECK(rill_publish_keys_count(keys) == 1 && find(keys, "news", "a", 1)->seq == 5);
    /* Too long a name or key; no room at all. */
    char long_name[RILL_TOPIC_NAME_MAX + 2];
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    CHECK(remember(keys, long_name, "a", 1, 0) == -1 && find(keys, long_name, "a", 0) == NULL);
    rill_publish_keys_set_bounds(keys, 0, 1000);
    CHECK(rill_publish_keys_count(keys) == 0 && remember(keys, "news", "a", 1, 0) == -1);
    rill_publish_keys_destroy(&keys);
    CHECK(keys == NULL);
}

static void test_bound(void)
{
    rill_publish_keys_t *keys = rill_publish_keys_new(3, 60000);
    CHECK(remember(keys, "t", "c1", 1, 0) == 0 && remember(keys, "t", "~d1", 2, 1) == 0 &&
          remember(keys, "t", "c2", 3, 2) == 0);
    /* Full: the oldest drawn key goes first, though a client's is older. */
    CHECK(remember(keys, "t", "c3", 4, 3) == 0);
    CHECK(rill_publish_keys_count(keys) == 3 && find(keys, "t", "~d1", 3) == NULL && find(keys, "t", "c1", 3) != NULL);
    /* No drawn key left: the oldest client's. */
    CHECK(remember(keys, "t", "c4", 5, 4) == 0);
    CHECK(find(keys, "t", "c1", 4) == NULL && find(keys, "t", "c2", 4) != NULL && find(keys, "t", "c4", 4) != NULL);
    /* A smaller bound drops the oldest at once. */
    rill_publish_keys_set_bounds(keys, 1, 60000);
    CHECK(rill_publish_keys_count(keys) == 1 && find(keys, "t", "c4", 4) != NULL);
    rill_publish_keys_destroy(&keys);
}

static void test_mirror_list(void)
{
    rill_publish_keys_t *keys = rill_publish_keys_new(10, 60000);
    CHECK(remember(keys, "t", "a", 1, 0) == 0 && remember(keys, "t", "b", 2, 0) == 0);
    rill_publish_key_t *next = rill_publish_keys_next_unmirrored(keys);
    CHECK(next != NULL && next->seq == 1);
    rill_publish_keys_mirrored(keys, next);
    next = rill_publish_keys_next_unmirrored(keys);
    CHECK(next != NULL && next->seq == 2);
    rill_publish_keys_mirror_none(keys);
    CHECK(rill_publish_keys_next_unmirrored(keys) == NULL);
    /* A snapshot sends every key again; one forgotten leaves the list. */
    rill_publish_keys_mirror_all(keys);
    CHECK(rill_publish_keys_next_unmirrored(keys)->seq == 1);
    rill_publish_keys_clear(keys);
    CHECK(rill_publish_keys_next_unmirrored(keys) == NULL && rill_publish_keys_count(keys) == 0);
    rill_publish_keys_destroy(&keys);
}

int main(void)
{
    test_find_and_expire();
    test_bound();
    test_mirror_list();
    RILL_TEST_END();
}
