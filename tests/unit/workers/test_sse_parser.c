/* test_sse_parser.c - upstream streams cut into messages (workers/sse_parser.c):
 * SSE fields, line ends, a BOM, chunks cut anywhere, NDJSON lines, parts. */
#include "rill_test.h"
#include "sse_parser.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char parts[16][256]; /* each message as its part */
    size_t count;
    int stop_after;      /* 0: never */
} collected_t;

static int collect(void *argument, const rill_stream_message_t *message)
{
    collected_t *collected = argument;
    rill_buffer_t part;
    rill_buffer_init(&part);
    if (rill_stream_message_part(&part, message) == 0 && collected->count < 16 && part.length < 256)
        memcpy(collected->parts[collected->count], part.data, part.length + 1);
    rill_buffer_release(&part);
    collected->count++;
    return collected->stop_after != 0 && (int)collected->count >= collected->stop_after;
}

/* Feeds text one byte at a time, then all at once: both must give the same parts. */
static void feed_both_ways(rill_stream_format_t format, const char *text, size_t length, collected_t *bytewise,
                           collected_t *whole)
{
    rill_stream_parser_t parser;
    memset(bytewise, 0, sizeof(*bytewise));
    memset(whole, 0, sizeof(*whole));
    rill_stream_parser_init(&parser, format, 4096);
    for (size_t i = 0; i < length; i++)
        CHECK(rill_stream_parser_feed(&parser, text + i, 1, collect, bytewise) == 0);
    rill_stream_parser_release(&parser);
    rill_stream_parser_init(&parser, format, 4096);
    CHECK(rill_stream_parser_feed(&parser, text, length, collect, whole) == 0);
    rill_stream_parser_release(&parser);
    CHECK(bytewise->count == whole->count);
    for (size_t i = 0; i < whole->count && i < 16; i++)
        CHECK(strcmp(bytewise->parts[i], whole->parts[i]) == 0);
}

int main(void)
{
    collected_t a, b;

    /* Fields, comments, the three line ends, a BOM, data joined with \n. */
    const char sse[] = "\xef\xbb\xbf: a comment\r\n"
                       "id: 1\r\n"
                       "data: {\"n\": 1}\r\n\r\n"
                       "event: tick\rdata:plain\rdata:  two\r\rid\n"
                       "data: 3\n\n"
                       "data\n\n"
                       "retry: 250\nunknown: x\nevent: lonely\n\n"
                       "id: 7\ndata: [1,\ndata: 2]\n\n"
                       "data: \"\\u00e9\"\n\n"
                       "data: pending at the end";
    feed_both_ways(RILL_STREAM_SSE, sse, sizeof(sse) - 1, &a, &b);
    CHECK(b.count == 6);
    CHECK(strcmp(b.parts[0], "{\"data\":{\"n\":1},\"id\":\"1\"}") == 0);
    CHECK(strcmp(b.parts[1], "{\"data\":\"plain\\n two\",\"event\":\"tick\",\"id\":\"1\"}") == 0);
    CHECK(strcmp(b.parts[2], "{\"data\":3}") == 0); /* "id" alone empties the last id */
    CHECK(strcmp(b.parts[3], "{\"data\":\"\"}") == 0); /* "data" with no colon: one empty line */
    CHECK(strcmp(b.parts[4], "{\"data\":[1,2],\"id\":\"7\"}") == 0);
    CHECK(strcmp(b.parts[5], "{\"data\":\"\\u00e9\",\"id\":\"7\"}") == 0 ||
          strcmp(b.parts[5], "{\"data\":\"\xc3\xa9\",\"id\":\"7\"}") == 0);

    /* retry: digits only; the last id outlives a restart, pending data does not. */
    rill_stream_parser_t parser;
    rill_stream_parser_init(&parser, RILL_STREAM_SSE, 4096);
    memset(&a, 0, sizeof(a));
    const char first[] = "retry: 1500\nretry: 1x\nid: 41\ndata: a\n\nid: 42\ndata: cut";
    CHECK(rill_stream_parser_feed(&parser, first, sizeof(first) - 1, collect, &a) == 0);
    CHECK(a.count == 1 && parser.retry_ms == 1500);
    /* Event 42 was cut by the drop: the last event id is still 41, so the
     * next connection asks for 42 again. */
    CHECK(parser.last_id.length == 2 && memcmp(parser.last_id.data, "41", 2) == 0);
    rill_stream_parser_restart(&parser, RILL_STREAM_SSE);
    CHECK(rill_stream_parser_feed(&parser, "\n\ndata: b\n\n", 11, collect, &a) == 0);
    CHECK(a.count == 2 && strcmp(a.parts[1], "{\"data\":\"b\",\"id\":\"41\"}") == 0);
    CHECK(rill_stream_parser_feed(&parser, "id: 42\n\n", 8, collect, &a) == 0);
    CHECK(a.count == 2 && parser.last_id.length == 2 && memcmp(parser.last_id.data, "42", 2) == 0);
    /* An id with a NUL is ignored. */
    CHECK(rill_stream_parser_feed(&parser, "id: x\0y\ndata: c\n\n", 17, collect, &a) == 0);
    CHECK(a.count == 3 && strcmp(a.parts[2], "{\"data\":\"c\",\"id\":\"42\"}") == 0);
    /* A callback that stops the feed. */
    a.stop_after = 4;
    CHECK(rill_stream_parser_feed(&parser, "data: d\n\ndata: e\n\n", 18, collect, &a) == -1);
    CHECK(a.count == 4);
    rill_stream_parser_release(&parser);

    /* Too large: a line, or an event's data, over max_bytes. */
    rill_stream_parser_init(&parser, RILL_STREAM_SSE, 16);
    memset(&a, 0, sizeof(a));
    CHECK(rill_stream_parser_feed(&parser, "data: 0123456789abcdef", 22, collect, &a) == RILL_STREAM_TOO_LARGE);
    rill_stream_parser_restart(&parser, RILL_STREAM_SSE);
    CHECK(rill_stream_parser_feed(&parser, "data: 01234567\ndata: 01234567\n", 30, collect, &a) ==
          RILL_STREAM_TOO_LARGE);
    CHECK(a.count == 0);
    rill_stream_parser_release(&parser);

    /* NDJSON: each non-empty line, LF or CRLF, a json-seq RS dropped; not JSON: a string. */
    const char ndjson[] = "{\"a\": 1}\r\n\n\x1e[true]\nnot json\n\xff\n{\"cut\":";
    feed_both_ways(RILL_STREAM_NDJSON, ndjson, sizeof(ndjson) - 1, &a, &b);
    CHECK(b.count == 4);
    CHECK(strcmp(b.parts[0], "{\"data\":{\"a\":1}}") == 0);
    CHECK(strcmp(b.parts[1], "{\"data\":[true]}") == 0);
    CHECK(strcmp(b.parts[2], "{\"data\":\"not json\"}") == 0);
    CHECK(strcmp(b.parts[3], "{\"data\":\"\\ufffd\"}") == 0);

    /* A BOM cut short is data. */
    rill_stream_parser_init(&parser, RILL_STREAM_NDJSON, 4096);
    memset(&a, 0, sizeof(a));
    CHECK(rill_stream_parser_feed(&parser, "\xef", 1, collect, &a) == 0);
    CHECK(rill_stream_parser_feed(&parser, "1\n", 2, collect, &a) == 0);
    CHECK(a.count == 1 && strcmp(a.parts[0], "{\"data\":\"\\ufffd1\"}") == 0);
    rill_stream_parser_release(&parser);

    /* Random streams of the bytes that matter, fed whole and cut at random
     * places, give the same messages (and ASan sees every path). */
    static const char alphabet[] = "data:id:event:retry: {}\"1x\r\n\n\n\xef\xbb\xbf\x1e\xff\xc3";
    unsigned seed = 14;
    int same = 1;
    size_t messages = 0;
    for (int round = 0; round < 400; round++) {
        char text[300];
        size_t length = (size_t)(rand_r(&seed) % (int)sizeof(text));
        for (size_t i = 0; i < length; i++)
            text[i] = alphabet[rand_r(&seed) % (int)(sizeof(alphabet) - 1)];
        rill_stream_format_t format = round % 2 ? RILL_STREAM_NDJSON : RILL_STREAM_SSE;
        rill_stream_parser_t whole_parser, cut_parser;
        rill_stream_parser_init(&whole_parser, format, 64);
        rill_stream_parser_init(&cut_parser, format, 64);
        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        int whole_result = rill_stream_parser_feed(&whole_parser, text, length, collect, &b);
        int cut_result = 0;
        for (size_t at = 0; at < length && cut_result == 0;) {
            size_t piece = 1 + (size_t)(rand_r(&seed) % 7);
            piece = piece > length - at ? length - at : piece;
            cut_result = rill_stream_parser_feed(&cut_parser, text + at, piece, collect, &a);
            at += piece;
        }
        same &= whole_result == cut_result && a.count == b.count;
        messages += b.count;
        for (size_t i = 0; i < a.count && i < 16 && same; i++)
            same &= strcmp(a.parts[i], b.parts[i]) == 0;
        rill_stream_parser_release(&whole_parser);
        rill_stream_parser_release(&cut_parser);
    }
    CHECK(same);
    CHECK(messages > 100); /* the streams did make messages */

    RILL_TEST_END();
}
