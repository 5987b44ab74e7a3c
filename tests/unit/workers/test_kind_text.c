/* test_kind_text.c - line splitting and JSON escaping of raw bytes (workers/kind_text.c). */
#include "kind_text.h"
#include "rill_test.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char lines[8][64];
    size_t count;
} collected_t;

static int collect(void *argument, const char *line, size_t length)
{
    collected_t *collected = argument;
    if (collected->count < 8 && length < 64) {
        memcpy(collected->lines[collected->count], line, length);
        collected->lines[collected->count][length] = '\0';
    }
    collected->count++;
    return 0;
}

static int stop(void *argument, const char *line, size_t length)
{
    (void)argument, (void)line, (void)length;
    return 1;
}

/* Escapes bytes and checks the result is the JSON string expected. */
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
}

int main(void)
{
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

    /* A chunk cut inside a character keeps its start for the next one. */
    CHECK(rill_utf8_complete_length("ab", 2) == 2);
    CHECK(rill_utf8_complete_length("ab\xe2\x82", 4) == 2);
    CHECK(rill_utf8_complete_length("ab\xe2\x82\xac", 5) == 5);
    CHECK(rill_utf8_complete_length("\xf0\x9f\x98", 3) == 0);
    CHECK(rill_utf8_complete_length("a\xff", 2) == 2); /* invalid, not incomplete: nothing to wait for */
    CHECK(rill_utf8_complete_length("a\xe2\x41", 3) == 3);

    rill_buffer_t part;
    rill_buffer_init(&part);
    CHECK(rill_json_part(&part, "line", "x\"y", 3) == 0);
    CHECK_BYTES(part.data, part.length, "{\"line\":\"x\\\"y\"}");
    rill_buffer_release(&part);

    /* Lines: split on \n, \r\n too, the rest is held until ended or flushed. */
    rill_lines_t lines;
    rill_lines_init(&lines);
    collected_t collected;
    memset(&collected, 0, sizeof(collected));
    CHECK(rill_lines_feed(&lines, "one\ntw", 6, collect, &collected) == 0);
    CHECK(collected.count == 1 && strcmp(collected.lines[0], "one") == 0);
    CHECK(rill_lines_feed(&lines, "o\r\n\nthree", 9, collect, &collected) == 0);
    CHECK(collected.count == 3 && strcmp(collected.lines[1], "two") == 0 && collected.lines[2][0] == '\0');
    CHECK(rill_lines_flush(&lines, collect, &collected) == 0);
    CHECK(collected.count == 4 && strcmp(collected.lines[3], "three") == 0);
    CHECK(rill_lines_flush(&lines, collect, &collected) == 0 && collected.count == 4);
    CHECK(rill_lines_feed(&lines, "a\nb\n", 4, stop, NULL) == -1);

    /* A line longer than RILL_LINE_MAX comes in pieces of that size. */
    size_t long_length = RILL_LINE_MAX * 2 + 10;
    char *long_line = malloc(long_length + 1);
    CHECK(long_line != NULL);
    if (long_line != NULL) {
        memset(long_line, 'x', long_length);
        long_line[long_length] = '\n';
        memset(&collected, 0, sizeof(collected));
        rill_lines_release(&lines);
        rill_lines_init(&lines);
        CHECK(rill_lines_feed(&lines, long_line, 100, collect, &collected) == 0);
        CHECK(rill_lines_feed(&lines, long_line + 100, long_length + 1 - 100, collect, &collected) == 0);
        CHECK(collected.count == 3);
        free(long_line);
    }
    rill_lines_release(&lines);
    RILL_TEST_END();
}
