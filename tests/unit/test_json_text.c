/* test_json_text.c - raw bytes as JSON strings (common/rill_json_text.c): escapes,
 * invalid UTF-8 as U+FFFD, both output forms byte for byte the same. */
#include "rill_json_text.h"
#include "rill_test.h"

#include <jansson.h>
#include <string.h>

/* Escapes bytes both ways and checks each result is the JSON string expected. */
static void check_escape(const char *bytes, size_t length, const char *expected)
{
    rill_buffer_t out;
    rill_buffer_init(&out);
    CHECK(rill_json_append_string(&out, bytes, length) == 0);
    CHECK_BYTES(out.data, out.length, expected);
    json_t *parsed = json_loadb(out.data, out.length, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    CHECK(json_is_string(parsed)); /* always valid JSON */
    json_decref(parsed);
    rill_buffer_release(&out);

    char fixed[128];
    size_t written = rill_json_escape(fixed, sizeof(fixed), bytes, length);
    CHECK_BYTES(fixed, written, expected);
    /* Exactly enough room fits; one byte less is refused. */
    CHECK(rill_json_escape(fixed, strlen(expected), bytes, length) == strlen(expected));
    CHECK(rill_json_escape(fixed, strlen(expected) - 1, bytes, length) == 0);
}

int main(void)
{
    check_escape("", 0, "\"\"");
    check_escape("plain", 5, "\"plain\"");
    check_escape("q\"b\\n\nt\tr\r", 10, "\"q\\\"b\\\\n\\nt\\tr\\r\"");
    check_escape("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"");
    check_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    check_escape("a\xff" "b", 3, "\"a\\ufffdb\"");
    check_escape("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");           /* overlong */
    check_escape("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");  /* surrogate */
    check_escape("\xe2\x82", 2, "\"\\ufffd\\ufffd\"");           /* truncated */
    check_escape("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* above U+10FFFF */
    check_escape("a\0b", 3, "\"a\\u0000b\"");
    /* The worst case: 6 bytes per input byte, plus the quotes. */
    char worst[128];
    CHECK(rill_json_escape(worst, 6 * 3 + 2, "\x01\xff\x02", 3) == 6 * 3 + 2);
    CHECK(rill_json_escape(worst, 4, "abcdef", 6) == 0);

    /* A chunk cut inside a character keeps its start for the next one. */
    CHECK(rill_utf8_complete_length("ab", 2) == 2);
    CHECK(rill_utf8_complete_length("ab\xe2\x82", 4) == 2);
    CHECK(rill_utf8_complete_length("ab\xe2\x82\xac", 5) == 5);
    CHECK(rill_utf8_complete_length("\xf0\x9f\x98", 3) == 0);
    CHECK(rill_utf8_complete_length("a\xff", 2) == 2); /* invalid, not incomplete: nothing to wait for */
    CHECK(rill_utf8_complete_length("a\xe2\x41", 3) == 3);
    CHECK(rill_utf8_complete_length("a\xe0\x80", 3) == 3); /* overlong start: never completes */

    rill_buffer_t part;
    rill_buffer_init(&part);
    CHECK(rill_json_part(&part, "line", "x\"y", 3) == 0);
    CHECK_BYTES(part.data, part.length, "{\"line\":\"x\\\"y\"}");
    CHECK(rill_json_part(&part, "chunk", "z", 1) == 0); /* replaces what it held */
    CHECK_BYTES(part.data, part.length, "{\"chunk\":\"z\"}");
    rill_buffer_release(&part);
    RILL_TEST_END();
}
