/*
 * kind_text.h - bytes to JSON parts, shared by the tail, exec and http kinds.
 *
 * Files, commands and upstreams hand the worker raw bytes; parts are JSON.
 * These helpers split bytes into lines and escape them as JSON strings where
 * every invalid UTF-8 sequence becomes U+FFFD, so no byte sequence can make
 * an invalid part. Pure functions: unit-tested in tests/unit/workers.
 */
#ifndef RILL_KIND_TEXT_H
#define RILL_KIND_TEXT_H

#include <stddef.h>

#include "rill_buffer.h"

/* Appends bytes as a JSON string, quotes included: control characters
 * escaped, invalid UTF-8 (bad, overlong, surrogate, truncated) as \ufffd. */
int rill_json_append_string(rill_buffer_t *out, const char *bytes, size_t length);

/* The length of the longest prefix of bytes that does not end inside a UTF-8
 * sequence that the next bytes could still complete: the rest (0 to 3 bytes)
 * should be kept for the next chunk. */
size_t rill_utf8_complete_length(const char *bytes, size_t length);

/* Builds the part {"<key>":"<escaped bytes>"} into out (replacing what it held). */
int rill_json_part(rill_buffer_t *out, const char *key, const char *bytes, size_t length);

/* Line splitting. A line ends at "\n" (a "\r" before it is dropped); a line
 * longer than RILL_LINE_MAX is handed over in pieces of that size. */
#define RILL_LINE_MAX 65536

typedef struct {
    rill_buffer_t pending; /* bytes of the line not yet ended */
} rill_lines_t;

/* Called for each line; a non-zero return stops the feed (which returns -1). */
typedef int (*rill_line_callback_t)(void *argument, const char *line, size_t length);

void rill_lines_init(rill_lines_t *lines);
void rill_lines_release(rill_lines_t *lines);
/* Feeds bytes; calls back for every complete line. Returns 0, or -1 when a
 * callback stopped it or memory ran out. */
int rill_lines_feed(rill_lines_t *lines, const char *bytes, size_t length, rill_line_callback_t callback,
                    void *argument);
/* Hands over the unterminated rest, if any, as a last line (end of input). */
int rill_lines_flush(rill_lines_t *lines, rill_line_callback_t callback, void *argument);

#endif
