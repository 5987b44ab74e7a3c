/* test_cursor.c - stream cursors: strict parsing and formatting (frontend/cursor.c). */
#include "rill_test.h"
#include "cursor.h"

#include <stdint.h>

static int parses(const char *text)
{
    rill_cursor_t cursor;
    const char *error = NULL;
    int result = rill_cursor_parse(text, strlen(text), 16, &cursor, &error);
    CHECK(result == 0 || (error != NULL && cursor.entries == NULL && cursor.count == 0));
    rill_cursor_free(&cursor);
    return result == 0;
}

int main(void)
{
    const char id[] = "0123456789abcdef0123456789abcdef";
    char text[512];
    snprintf(text, sizeof(text), "%s:5,news:12,a.b_c-D:0", id);
    rill_cursor_t cursor;
    const char *error = NULL;
    CHECK(rill_cursor_parse(text, strlen(text), 16, &cursor, &error) == 0);
    CHECK(cursor.count == 3);
    uint64_t seq = 99;
    CHECK(rill_cursor_find(&cursor, id, 32, &seq) == 1 && seq == 5);
    CHECK(rill_cursor_find(&cursor, "news", 4, &seq) == 1 && seq == 12);
    CHECK(rill_cursor_find(&cursor, "a.b_c-D", 7, &seq) == 1 && seq == 0);
    CHECK(rill_cursor_find(&cursor, "new", 3, &seq) == 0);
    rill_cursor_free(&cursor);
    rill_cursor_free(&cursor); /* idempotent */

    CHECK(parses("news:1"));
    CHECK(parses("news:9999999999999999999")); /* 19 digits, as on the wire */
    CHECK(!parses(""));
    CHECK(!parses("news"));
    CHECK(!parses("news:"));
    CHECK(!parses(":5"));
    CHECK(!parses("news:5,"));
    CHECK(!parses(",news:5"));
    CHECK(!parses("news:5,,x:1"));
    CHECK(!parses("news:-1"));
    CHECK(!parses("news:+1"));
    CHECK(!parses("news:1x"));
    CHECK(!parses("news:12345678901234567890"));
    CHECK(!parses("bad name:1"));
    CHECK(!parses("news:1:2"));
    CHECK(!parses("news:1,news:2"));
    CHECK(!parses("news :1"));
    char long_name[140];
    memset(long_name, 'x', 129);
    snprintf(long_name + 129, sizeof(long_name) - 129, ":1");
    CHECK(!parses(long_name));
    memmove(long_name + 1, long_name + 2, strlen(long_name + 2) + 1);
    CHECK(parses(long_name)); /* 128 bytes is the limit */
    /* At most max_entries entries. */
    CHECK(rill_cursor_parse("a:1,b:2,c:3", 11, 2, &cursor, &error) == -1 && error != NULL);
    CHECK(rill_cursor_parse("a:1,b:2", 7, 2, &cursor, &error) == 0 && cursor.count == 2);
    rill_cursor_free(&cursor);

    /* Formatting round-trips. */
    size_t at = 0;
    at = rill_cursor_append(text, at, id, 32, 5, NULL);
    at = rill_cursor_append(text, at, "news", 4, 12, "");
    at = rill_cursor_append(text, at, "t", 1, UINT64_MAX, NULL);
    snprintf(long_name, sizeof(long_name), "%s:5,news:12,t:18446744073709551615", id);
    CHECK_BYTES(text, at, long_name);
    CHECK(text[at] == '\0');
    CHECK(rill_cursor_parse(text, at - 23, 16, &cursor, &error) == 0 && cursor.count == 2);
    rill_cursor_free(&cursor);

    /* rill/6: a topic's seq may name its epoch, "news:12@0a1b2c3d". */
    CHECK(rill_cursor_parse("news:12@0a1b2c3d,x:3", 20, 16, &cursor, &error) == 0 && cursor.count == 2);
    CHECK(rill_cursor_find(&cursor, "news", 4, &seq) == 1 && seq == 12);
    const char *epoch = rill_cursor_epoch(&cursor, "news", 4);
    CHECK(epoch != NULL && memcmp(epoch, "0a1b2c3d", 8) == 0);
    CHECK(rill_cursor_epoch(&cursor, "x", 1) == NULL && rill_cursor_epoch(&cursor, "y", 1) == NULL);
    rill_cursor_free(&cursor);
    CHECK(!parses("news:12@"));
    CHECK(!parses("news:12@0a1b2c3"));   /* 7 digits */
    CHECK(!parses("news:12@0a1b2c3d4")); /* 9 */
    CHECK(!parses("news:12@0A1B2C3D"));  /* upper case */
    CHECK(!parses("news:@0a1b2c3d"));
    CHECK(!parses("news:1@0a1b2c3d@0a1b2c3d"));
    CHECK(!parses("news@0a1b2c3d:1"));
    at = rill_cursor_append(text, 0, "news", 4, 12, "0a1b2c3d");
    at = rill_cursor_append(text, at, "t", 1, 3, "bad");
    CHECK_BYTES(text, at, "news:12@0a1b2c3d,t:3");
    RILL_TEST_END();
}
