/*
 * lines.c - raw bytes split into lines. See lines.h.
 */
#include "lines.h"

#include <string.h>

void rill_lines_init(rill_lines_t *lines)
{
    rill_buffer_init(&lines->pending);
}

void rill_lines_release(rill_lines_t *lines)
{
    rill_buffer_release(&lines->pending);
}

static int emit_line(const char *line, size_t length, rill_line_callback_t callback, void *argument)
{
    if (length > 0 && line[length - 1] == '\r')
        length--;
    return callback(argument, line, length) != 0 ? -1 : 0;
}

int rill_lines_feed(rill_lines_t *lines, const char *bytes, size_t length, rill_line_callback_t callback,
                    void *argument)
{
    while (length > 0) {
        const char *newline = memchr(bytes, '\n', length);
        size_t piece = newline != NULL ? (size_t)(newline - bytes) : length;
        /* A line too long is cut into pieces of RILL_LINE_MAX bytes. */
        if (lines->pending.length + piece > RILL_LINE_MAX) {
            size_t take = RILL_LINE_MAX - lines->pending.length;
            if (rill_buffer_append(&lines->pending, bytes, take) != 0)
                return -1;
            int stopped = callback(argument, lines->pending.data, lines->pending.length);
            lines->pending.length = 0;
            if (stopped != 0)
                return -1;
            bytes += take;
            length -= take;
            continue;
        }
        if (newline == NULL)
            return rill_buffer_append(&lines->pending, bytes, length);
        int result;
        if (lines->pending.length > 0) {
            if (rill_buffer_append(&lines->pending, bytes, piece) != 0)
                return -1;
            result = emit_line(lines->pending.data, lines->pending.length, callback, argument);
            lines->pending.length = 0;
        } else {
            result = emit_line(bytes, piece, callback, argument);
        }
        if (result != 0)
            return -1;
        bytes += piece + 1;
        length -= piece + 1;
    }
    return 0;
}

int rill_lines_flush(rill_lines_t *lines, rill_line_callback_t callback, void *argument)
{
    if (lines->pending.length == 0)
        return 0;
    int result = emit_line(lines->pending.data, lines->pending.length, callback, argument);
    lines->pending.length = 0;
    return result;
}
