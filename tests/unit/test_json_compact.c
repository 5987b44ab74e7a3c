/*
 * test_json_compact.c - rill_json_compact: its text is jansson's compact
 * dump byte for byte whenever it gives one, it refuses what jansson would
 * write otherwise, and it finds a member's value in a request body.
 */
#include "rill_json_compact.h"
#include "rill_test.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* jansson's load (duplicates allowed, as the frontend loads a body) and
 * compact dump; NULL when it does not load. The caller frees. */
static char *jansson_compact(const char *text, size_t length)
{
    json_t *value = json_loadb(text, length, JSON_DECODE_ANY, NULL);
    char *dumped = value != NULL ? json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(value);
    return dumped;
}

/* 1 when compacting text gives exactly jansson's dump (or is refused when
 * expect_refused); the two must agree on what loads at all. */
static int agrees(const char *text, int expect_refused)
{
    size_t length = strlen(text);
    rill_buffer_t out;
    rill_buffer_init(&out);
    (void)rill_buffer_append(&out, "x", 1); /* what is there stays */
    int result = rill_json_compact_append(&out, text, length);
    char *expected = jansson_compact(text, length);
    int ok;
    if (result != 0)
        ok = expect_refused && out.length == 1 && out.data[1] == '\0';
    else
        ok = !expect_refused && expected != NULL && strcmp(out.data + 1, expected) == 0 && out.data[0] == 'x';
    if (!ok)
        fprintf(stderr, "  %s -> %s (jansson %s)\n", text, result == 0 ? out.data + 1 : "refused",
                expected != NULL ? expected : "refuses");
    /* is_exact: only when nothing was removed. */
    if (ok && rill_json_compact_is_exact(text, length) != (result == 0 && strcmp(out.data + 1, text) == 0))
        ok = 0;
    free(expected);
    rill_buffer_release(&out);
    return ok;
}

static void test_same_as_jansson(void)
{
    const char *same[] = {
        "{}",
        "{\"parts\":10,\"interval_ms\":0}",
        "{\"parts\": 10, \"interval_ms\": 0}",
        " {\n\t\"a\" : [ 1 , -2 , true , false , null , \"x y\" ] } ",
        "{\"s\":\"quote \\\" back \\\\ nl \\n cr \\r tab \\t b \\b f \\f slash / del \x7f\"}",
        "{\"utf8\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
        "{\"a\":{\"a\":{\"a\":1}},\"b\":{\"a\":2}}", /* one key in different objects */
        "{\"n\":123456789012345678,\"m\":-123456789012345678,\"z\":0}",
        "[]",
        "[{},[],{\"k\":[{}]}]",
        "\"text\"",
        "42",
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        CHECKF(agrees(same[i], 0), "%s", same[i]);
    const char *refused[] = {
        "{\"r\":1.5}", "{\"r\":1e3}", "{\"r\":1E3}", "{\"z\":-0}",
        "{\"big\":1234567890123456789}",
        "{\"u\":\"\\u00e9\"}", "{\"s\":\"a\\/b\"}", "{\"\\u0061\":1}",
        "{\"a\":1,\"a\":2}", "{\"o\":{\"k\":1,\"x\":[],\"k\":2}}",
        "{", "{\"a\":}", "{\"a\":1}}", "", "   ", "{\"a\":\"\xff\"}", "nul",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        CHECKF(agrees(refused[i], 1), "%s", refused[i]);
}

static void test_limits(void)
{
    /* RILL_JSON_COMPACT_KEYS_MAX keys at once pass; one more is left to jansson. */
    for (int extra = 0; extra <= 1; extra++) {
        rill_buffer_t text;
        rill_buffer_init(&text);
        (void)rill_buffer_append(&text, "{", 1);
        for (int k = 0; k < RILL_JSON_COMPACT_KEYS_MAX + extra; k++)
            (void)rill_buffer_printf(&text, "%s\"k%d\":%d", k > 0 ? "," : "", k, k);
        (void)rill_buffer_append(&text, "}", 1);
        CHECK(agrees(text.data, extra));
        rill_buffer_release(&text);
    }
    char deep[2 * RILL_JSON_COMPACT_DEPTH_MAX + 3];
    for (int extra = 0; extra <= 1; extra++) {
        size_t depth = RILL_JSON_COMPACT_DEPTH_MAX + (size_t)extra, at = 0;
        for (size_t i = 0; i < depth; i++)
            deep[at++] = '[';
        for (size_t i = 0; i < depth; i++)
            deep[at++] = ']';
        deep[at] = '\0';
        CHECK(agrees(deep, extra));
    }
}

/* Random texts from JSON's own alphabet: whatever both accept, they write
 * the same; what jansson writes otherwise, compact refuses. */
static void test_random(void)
{
    static const char *pieces[] = {"{", "}", "[", "]", ",", ":", " ", "\"a\"", "\"b\"", "\"\\n\"", "\"\\u0041\"",
                                   "1", "-0", "0", "2.5", "true", "null", "\"\xc3\xa9\"", "\"\\/\""};
    unsigned seed = 12345;
    int compared = 0, failures = 0;
    for (int round = 0; round < 200000; round++) {
        char text[256];
        size_t length = 0;
        int count = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 12;
        for (int p = 0; p < count; p++) {
            const char *piece = pieces[((seed = seed * 1103515245u + 12345u) >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
            size_t size = strlen(piece);
            memcpy(text + length, piece, size);
            length += size;
        }
        text[length] = '\0';
        rill_buffer_t out;
        rill_buffer_init(&out);
        int result = rill_json_compact_append(&out, text, length);
        char *expected = jansson_compact(text, length);
        if (result == 0) {
            compared++;
            failures += expected == NULL || strcmp(out.data, expected) != 0;
            if (expected == NULL || strcmp(out.data, expected) != 0)
                fprintf(stderr, "  %s -> %s, jansson %s\n", text, out.data, expected != NULL ? expected : "refuses");
        }
        free(expected);
        rill_buffer_release(&out);
    }
    CHECKF(failures == 0, "%d of %d differ", failures, compared);
    CHECKF(compared > 1000, "only %d compared", compared);
}

static void test_string(void)
{
    /* Every byte alone, and mixed: as jansson writes it. */
    for (int c = 1; c < 256; c++) {
        char text[4] = {'a', (char)c, 'b', '\0'};
        json_t *string = json_string(text);
        char *expected = string != NULL ? json_dumps(string, JSON_ENCODE_ANY) : strdup("null");
        rill_buffer_t out;
        rill_buffer_init(&out);
        CHECK(rill_json_compact_string(&out, text, 3) == 0);
        CHECKF(strcmp(out.data, expected) == 0, "byte %d: %s, jansson %s", c, out.data, expected);
        rill_buffer_release(&out);
        free(expected);
        json_decref(string);
    }
    const char *texts[] = {"", "plain", "\xc3\xa9t\xc3\xa9", "\xf0\x9f\x98\x80", "\xed\xa0\x80", "\xc0\x80",
                           "\xe2\x82", "x\"y\\z\n\x01\x1f\x7f"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        json_t *string = json_string(texts[i]);
        char *expected = string != NULL ? json_dumps(string, JSON_ENCODE_ANY) : strdup("null");
        rill_buffer_t out;
        rill_buffer_init(&out);
        (void)rill_buffer_append(&out, "[", 1);
        CHECK(rill_json_compact_string(&out, texts[i], strlen(texts[i])) == 0);
        CHECKF(strcmp(out.data + 1, expected) == 0, "%s: %s, jansson %s", texts[i], out.data + 1, expected);
        rill_buffer_release(&out);
        free(expected);
        json_decref(string);
    }
}

static int member_is(const char *body, long found, size_t start, size_t length, const char *expected)
{
    (void)found;
    if (expected == NULL)
        return length == 0;
    return length == strlen(expected) && memcmp(body + start, expected, length) == 0;
}

static void test_find_members(void)
{
    size_t starts[4], lengths[4];
    const char *one = " { \"kind\" : \"demo\" , \"args\" : { \"a\" : [1, \"}\\\"\"] } , \"key\":\"k\" } ";
    long found = rill_json_compact_find_members(one, strlen(one), "args", 4, starts, lengths);
    CHECK(found == 1 && member_is(one, found, starts[0], lengths[0], "{ \"a\" : [1, \"}\\\"\"] }"));
    const char *many = "[{\"args\":{}},{\"kind\":\"x\"},{\"kind\":\"y\",\"args\":{\"n\":1}},"
                       "{\"\\u0061rgs\":{\"n\":2},\"args\":{}}]";
    found = rill_json_compact_find_members(many, strlen(many), "args", 4, starts, lengths);
    CHECK(found == 4);
    CHECK(member_is(many, found, starts[0], lengths[0], "{}"));
    CHECK(member_is(many, found, starts[1], lengths[1], NULL));
    CHECK(member_is(many, found, starts[2], lengths[2], "{\"n\":1}"));
    CHECK(member_is(many, found, starts[3], lengths[3], NULL)); /* an escaped key: not told */
    const char *twice = "{\"args\":{\"a\":1},\"args\":{\"a\":2}}";
    CHECK(rill_json_compact_find_members(twice, strlen(twice), "args", 4, starts, lengths) == 1 && lengths[0] == 0);
    const char *scalar = "{\"args\":5,\"x\":\"args\"}";
    CHECK(rill_json_compact_find_members(scalar, strlen(scalar), "args", 4, starts, lengths) == 1 &&
          member_is(scalar, 1, starts[0], lengths[0], "5"));
    CHECK(rill_json_compact_find_members("[]", 2, "args", 4, starts, lengths) == -1);
    CHECK(rill_json_compact_find_members("[{},{}]", 7, "args", 1, starts, lengths) == -1); /* no room */
    CHECK(rill_json_compact_find_members("[1]", 3, "args", 4, starts, lengths) == -1);
    CHECK(rill_json_compact_find_members("{\"args\":", 8, "args", 4, starts, lengths) == -1);
    CHECK(rill_json_compact_find_members("{\"args\":\"x", 10, "args", 4, starts, lengths) == -1);
    CHECK(rill_json_compact_find_members("", 0, "args", 4, starts, lengths) == -1);
}

int main(void)
{
    test_same_as_jansson();
    test_limits();
    test_random();
    test_string();
    test_find_members();
    RILL_TEST_END();
}
