/* test_id_index.c - the broker's open-addressing index of items by text key
 * (broker/id_index.c): against a plain array as the reference, through
 * growth, removal in random order (backward shift), shrinking, colliding
 * keys and keys of other lengths. */
#include "id_index.h"
#include "rill_id.h"
#include "rill_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char key[40];
    int indexed;
} item_t;

static const char *key_of(const void *item)
{
    return ((const item_t *)item)->key;
}

/* Every item is found exactly when it is indexed, and iteration visits
 * each indexed item once. */
static int consistent(rill_id_index_t *index, item_t *items, size_t count)
{
    size_t indexed = 0;
    for (size_t i = 0; i < count; i++) {
        void *found = rill_id_index_find(index, items[i].key, strlen(items[i].key));
        if (found != (items[i].indexed ? &items[i] : NULL))
            return 0;
        indexed += items[i].indexed != 0;
    }
    if (rill_id_index_size(index) != indexed)
        return 0;
    size_t position = 0, visited = 0;
    item_t *item;
    while ((item = rill_id_index_next(index, &position)) != NULL) {
        if (!item->indexed || item->indexed == 2)
            return 0;
        item->indexed = 2; /* seen */
        visited++;
    }
    for (size_t i = 0; i < count; i++)
        if (items[i].indexed == 2)
            items[i].indexed = 1;
    return visited == indexed;
}

int main(void)
{
    enum { COUNT = 20000 };
    item_t *items = calloc(COUNT, sizeof(item_t));
    CHECK(items != NULL);
    for (size_t i = 0; i < COUNT; i++)
        CHECK(rill_id_generate(items[i].key) == 0);
    rill_id_index_t *index = rill_id_index_new(key_of);
    CHECK(index != NULL && rill_id_index_size(index) == 0);
    CHECK(rill_id_index_find(index, items[0].key, 32) == NULL);

    /* Growth from 1,024 slots to 32,768, every item found on the way. */
    for (size_t i = 0; i < COUNT; i++) {
        CHECK(rill_id_index_insert(index, &items[i]) == 0);
        items[i].indexed = 1;
    }
    CHECK(consistent(index, items, COUNT));
    /* A second item with a key already there is refused. */
    item_t twin = {0};
    memcpy(twin.key, items[7].key, sizeof(twin.key));
    CHECK(rill_id_index_insert(index, &twin) == -1);
    CHECK(rill_id_index_find(index, twin.key, 32) == &items[7]);
    /* A key is matched whole: a prefix or a longer text is another key. */
    CHECK(rill_id_index_find(index, items[3].key, 31) == NULL);
    char longer[41];
    memcpy(longer, items[3].key, 32);
    memcpy(longer + 32, "0", 2);
    CHECK(rill_id_index_find(index, longer, 33) == NULL);
    /* A key with a NUL inside is not the key before the NUL. */
    item_t short_item = {"abc", 1};
    CHECK(rill_id_index_insert(index, &short_item) == 0);
    CHECK(rill_id_index_find(index, "abc", 3) == &short_item);
    CHECK(rill_id_index_find(index, "abc\0xyz", 7) == NULL && rill_id_index_find(index, "ab", 2) == NULL);
    CHECK(rill_id_index_remove(index, &short_item) == 0);

    /* Removal in random order, checked as it goes (backward shift must
     * leave every other probe run whole). */
    srand(11);
    for (size_t i = COUNT - 1; i > 0; i--) {
        size_t j = (size_t)rand() % (i + 1);
        item_t swap = items[i];
        items[i] = items[j];
        items[j] = swap;
    }
    /* The shuffle moved the items: index them again where they now are. */
    rill_id_index_destroy(&index);
    CHECK(index == NULL);
    index = rill_id_index_new(key_of);
    for (size_t i = 0; i < COUNT; i++)
        CHECK(rill_id_index_insert(index, &items[i]) == 0);
    for (size_t i = 0; i < COUNT; i += 2) {
        CHECK(rill_id_index_remove(index, &items[i]) == 0);
        items[i].indexed = 0;
        CHECK(rill_id_index_remove(index, &items[i]) == -1); /* not twice */
        if (i % 2000 == 0)
            CHECK(consistent(index, items, COUNT));
    }
    CHECK(consistent(index, items, COUNT));
    /* Down to a few: the table shrinks, the rest are still found. */
    for (size_t i = 1; i < COUNT - 10; i += 2) {
        CHECK(rill_id_index_remove(index, &items[i]) == 0);
        items[i].indexed = 0;
    }
    CHECK(consistent(index, items, COUNT));
    CHECK(rill_id_index_size(index) == 5);

    /* Keys that share all but their last bytes, and short keys, in a full
     * table of their own: every one found, removed, found no more. */
    rill_id_index_t *small = rill_id_index_new(key_of);
    enum { SIMILAR = 3000 };
    item_t *similar = calloc(SIMILAR, sizeof(item_t));
    CHECK(similar != NULL);
    for (size_t i = 0; i < SIMILAR; i++) {
        if (i % 3 == 0)
            snprintf(similar[i].key, sizeof(similar[i].key), "%zu", i);
        else
            snprintf(similar[i].key, sizeof(similar[i].key), "00000000000000000000000000%06zu", i);
        CHECK(rill_id_index_insert(small, &similar[i]) == 0);
        similar[i].indexed = 1;
    }
    CHECK(consistent(small, similar, SIMILAR));
    for (size_t i = 0; i < SIMILAR; i++) {
        CHECK(rill_id_index_remove(small, &similar[i]) == 0);
        similar[i].indexed = 0;
    }
    CHECK(consistent(small, similar, SIMILAR) && rill_id_index_size(small) == 0);
    rill_id_index_destroy(&small);
    rill_id_index_destroy(&small); /* twice is harmless */

    rill_id_index_destroy(&index);
    free(items);
    free(similar);
    RILL_TEST_END();
}
