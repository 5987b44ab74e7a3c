/*
 * lines.h - raw bytes split into lines, for the kinds that read text a line
 * at a time (tail's files, exec's stdout).
 *
 * Bytes arrive in chunks that end anywhere; a line is handed over once its
 * "\n" came, so a part is always a whole line (turned into JSON with
 * rill_json_part, common/rill_json_text.h). Pure: tests/unit/workers/test_lines.c.
 */
#ifndef RILL_WORKER_LINES_H
#define RILL_WORKER_LINES_H

#include "rill_buffer.h"

#include <stddef.h>

/* A line ends at "\n" (a "\r" before it is dropped); a line longer than
 * RILL_LINE_MAX is handed over in pieces of that size. */
#define RILL_LINE_MAX 65536

typedef struct {
    rill_buffer_t pending; /* bytes of the line not yet ended */
} rill_lines_t;

/* Called for each line; a non-zero return stops the feed (which returns -1). */
typedef int (*rill_line_callback_t)(void *argument, const char *line, size_t length);

void rill_lines_init(rill_lines_t *lines);
void rill_lines_release(rill_lines_t *lines);
/* Feeds bytes; calls back for every complete line. Returns 0, or -1 when a
 * callback stopped it or the buffer failed. */
int rill_lines_feed(rill_lines_t *lines, const char *bytes, size_t length, rill_line_callback_t callback,
                    void *argument);
/* Hands over the unterminated rest, if any, as a last line (end of input). */
int rill_lines_flush(rill_lines_t *lines, rill_line_callback_t callback, void *argument);

#endif
