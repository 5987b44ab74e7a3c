/*
 * test_json_cursor.c - the fast readers' steps: a literal, a plain string
 * ended in place, a count, an object's extent; each refuses what is not
 * exactly its form.
 */
#include "rill_json_cursor.h"
#include "rill_test.h"

#include <string.h>

static rill_json_cursor_t cursor(char *text)
{
    rill_json_cursor_t c = {text, text + strlen(text)};
    return c;
}

static void test_expect_and_plain(void)
{
    char text[] = "{\"id\":\"abc\",\"k\":\"x y\"}";
    rill_json_cursor_t c = cursor(text);
    const char *value = NULL;
    size_t length = 0;
    CHECK(RILL_JSON_CURSOR_EXPECT(&c, "{\"id\":") == 0);
    CHECK(rill_json_cursor_plain(&c, &value, &length) == 0 && strcmp(value, "abc") == 0 && length == 3);
    CHECK(RILL_JSON_CURSOR_EXPECT(&c, ",\"kind\":") == -1); /* another key */
    CHECK(RILL_JSON_CURSOR_EXPECT(&c, ",\"k\":") == 0);
    CHECK(rill_json_cursor_plain(&c, &value, NULL) == 0 && strcmp(value, "x y") == 0);
    CHECK(RILL_JSON_CURSOR_EXPECT(&c, "}") == 0 && c.at == c.end);
    CHECK(RILL_JSON_CURSOR_EXPECT(&c, "}") == -1); /* past the end */
    const char *refused[] = {"\"a\\\"b\"", "\"\xc3\xa9\"", "\"tab\there\"", "\"unterminated", "abc"};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char copy[32];
        snprintf(copy, sizeof(copy), "%s", refused[i]);
        rill_json_cursor_t r = cursor(copy);
        CHECKF(rill_json_cursor_plain(&r, &value, &length) == -1, "plain string %zu accepted", i);
    }
}

static void test_count(void)
{
    char text[] = "0,17,123456789012345678,1234567890123456789,007,x";
    rill_json_cursor_t c = cursor(text);
    uint64_t value = 1;
    CHECK(rill_json_cursor_count(&c, &value) == 0 && value == 0 && *c.at == ',');
    c.at++;
    CHECK(rill_json_cursor_count(&c, &value) == 0 && value == 17);
    c.at++;
    CHECK(rill_json_cursor_count(&c, &value) == 0 && value == 123456789012345678ULL);
    c.at++;
    CHECK(rill_json_cursor_count(&c, &value) == -1); /* 19 digits */
    char zero[] = "007";
    rill_json_cursor_t z = cursor(zero);
    CHECK(rill_json_cursor_count(&z, &value) == -1); /* a leading zero */
    char none[] = "x";
    rill_json_cursor_t n = cursor(none);
    CHECK(rill_json_cursor_count(&n, &value) == -1);
}

static void test_object(void)
{
    char text[] = "{\"a\":[1,{\"b\":\"}]\\\"\"}],\"c\":{}} tail";
    rill_json_cursor_t c = cursor(text);
    const char *start = NULL;
    size_t length = 0;
    CHECK(rill_json_cursor_object(&c, &start, &length) == 0 && start == text);
    CHECK(length == strlen("{\"a\":[1,{\"b\":\"}]\\\"\"}],\"c\":{}}") && strcmp(c.at, " tail") == 0);
    char open[] = "{\"a\":{}";
    rill_json_cursor_t o = cursor(open);
    CHECK(rill_json_cursor_object(&o, &start, &length) == -1);
    char array[] = "[1]";
    rill_json_cursor_t a = cursor(array);
    CHECK(rill_json_cursor_object(&a, &start, &length) == -1);
}

int main(void)
{
    test_expect_and_plain();
    test_count();
    test_object();
    RILL_TEST_END();
}
