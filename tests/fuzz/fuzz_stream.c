/*
 * fuzz_stream.c - libFuzzer target for the subscribe kind's stream parser
 * (workers/sse_parser.h): what a live upstream sends, SSE or NDJSON, cut
 * into messages and made into parts.
 *
 * The first byte picks the format (even: SSE, odd: NDJSON) and seeds where
 * the rest is cut. Beside memory errors (ASan) it checks what must hold for
 * every input: the input fed whole and fed in pieces gives the same
 * messages and the same result, and every part is one valid JSON value on
 * one line (what the broker checks of each part, common/rill_json_check.h).
 *
 *     build-fuzz/tests/fuzz_stream -max_total_time=600 NEW_DIR tests/fuzz/corpus/stream
 */
#include "rill_json_check.h"
#include "sse_parser.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    rill_buffer_t parts; /* every part, each followed by "\n" */
    size_t count;
} collected_t;

static int collect(void *argument, const rill_stream_message_t *message)
{
    collected_t *collected = argument;
    rill_buffer_t part;
    rill_buffer_init(&part);
    if (rill_stream_message_part(&part, message) != 0)
        abort();
    if (rill_json_check(part.data, part.length, NULL) != 0 || memchr(part.data, '\n', part.length) != NULL)
        abort(); /* a part the broker would refuse */
    rill_buffer_append(&collected->parts, part.data, part.length);
    rill_buffer_append(&collected->parts, "\n", 1);
    rill_buffer_release(&part);
    collected->count++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    rill_stream_format_t format = data[0] % 2 ? RILL_STREAM_NDJSON : RILL_STREAM_SSE;
    unsigned cut = data[0] / 2 % 16 + 1;
    data++, size--;
    char *copy = malloc(size > 0 ? size : 1); /* exactly the input: ASan sees any read past it */
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    collected_t whole = {0}, pieces = {0};
    rill_stream_parser_t parser;
    rill_stream_parser_init(&parser, format, 256);
    int whole_result = rill_stream_parser_feed(&parser, copy, size, collect, &whole);
    rill_stream_parser_release(&parser);
    rill_stream_parser_init(&parser, format, 256);
    int pieces_result = 0;
    for (size_t at = 0; at < size && pieces_result == 0; at += cut) {
        size_t length = size - at < cut ? size - at : cut;
        char *piece = malloc(length);
        if (piece == NULL)
            abort();
        memcpy(piece, copy + at, length);
        pieces_result = rill_stream_parser_feed(&parser, piece, length, collect, &pieces);
        free(piece);
    }
    rill_stream_parser_release(&parser);
    if (whole_result != pieces_result || whole.count != pieces.count || whole.parts.length != pieces.parts.length ||
        (whole.parts.length > 0 && memcmp(whole.parts.data, pieces.parts.data, whole.parts.length) != 0))
        abort();
    rill_buffer_release(&whole.parts);
    rill_buffer_release(&pieces.parts);
    free(copy);
    return 0;
}
