/*
 * test_mirror_codec.c - MIRROR records (mirror_codec.h): written and read
 * back, and every malformed frame refused without reading past its end.
 */
#include "mirror_codec.h"
#include "rill_test.h"

#include <string.h>

static void test_round_trip(void)
{
    rill_buffer_t buffer;
    rill_buffer_init(&buffer);
    CHECK(rill_mirror_record_append(&buffer, RILL_MIRROR_BEGIN, "{\"broker\":\"x\"}", 14, NULL, 0) == 0);
    CHECK(rill_mirror_record_append(&buffer, RILL_MIRROR_EVENT, "id part 7", 9, "{\"a\":\n1}", 8) == 0);
    CHECK(rill_mirror_record_append(&buffer, RILL_MIRROR_END, NULL, 0, NULL, 0) == 0);
    size_t offset = 0;
    rill_mirror_record_t record;
    const char *why = NULL;
    CHECK(rill_mirror_record_next((const uint8_t *)buffer.data, buffer.length, &offset, &record, &why) == 1);
    CHECK(record.tag == RILL_MIRROR_BEGIN && record.header_size == 14 && record.data_size == 0);
    CHECK(rill_mirror_record_next((const uint8_t *)buffer.data, buffer.length, &offset, &record, &why) == 1);
    CHECK(record.tag == RILL_MIRROR_EVENT && record.header_size == 9 && memcmp(record.header, "id part 7", 9) == 0);
    CHECK(record.data_size == 8 && memcmp(record.data, "{\"a\":\n1}", 8) == 0);
    CHECK(rill_mirror_record_next((const uint8_t *)buffer.data, buffer.length, &offset, &record, &why) == 1);
    CHECK(record.tag == RILL_MIRROR_END);
    CHECK(rill_mirror_record_next((const uint8_t *)buffer.data, buffer.length, &offset, &record, &why) == 0);
    rill_buffer_release(&buffer);
}

static void test_malformed(void)
{
    const char *bad[] = {"X 1 0\na", "E 5 0\nab", "E 1 9\nab", "E a 0\n", "E 1", "J 99999999999999999999 0\n",
                         "E 1 0", "T 0 18446744073709551615\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t offset = 0;
        rill_mirror_record_t record;
        const char *why = NULL;
        CHECKF(rill_mirror_record_next((const uint8_t *)bad[i], strlen(bad[i]), &offset, &record, &why) == -1,
               "accepted %s", bad[i]);
        CHECK(why != NULL);
    }
}

int main(void)
{
    test_round_trip();
    test_malformed();
    RILL_TEST_END();
}
