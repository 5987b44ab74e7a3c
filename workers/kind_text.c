/*
 * kind_text.c - line splitting and JSON escaping of raw bytes. See kind_text.h.
 */
#include "kind_text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at bytes (1-4), or 0 if invalid or
 * truncated (then *truncated says whether more bytes could complete it). */
static size_t utf8_sequence(const unsigned char *bytes, size_t available, int *truncated)
{
    *truncated = 0;
    unsigned char c = bytes[0];
    size_t need;
    uint32_t minimum, code;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 2, minimum = 0x80, code = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 3, minimum = 0x800, code = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 4, minimum = 0x10000, code = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < need; i++) {
        if (i >= available) {
            *truncated = 1;
            return 0;
        }
        if ((bytes[i] & 0xc0) != 0x80)
            return 0;
        code = (code << 6) | (bytes[i] & 0x3f);
        /* Reject overlong, surrogate and out-of-range forms as early as
         * the second byte allows, so a truncated check is exact too. */
        if (i == 1) {
            if ((c == 0xe0 && bytes[1] < 0xa0) || (c == 0xed && bytes[1] > 0x9f) ||
                (c == 0xf0 && bytes[1] < 0x90) || (c == 0xf4 && bytes[1] > 0x8f))
                return 0;
        }
    }
    if (code < minimum || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
        return 0;
    return need;
}

size_t rill_utf8_complete_length(const char *bytes, size_t length)
{
    /* Only the last 3 bytes can start an incomplete sequence. */
    size_t start = length > 3 ? length - 3 : 0;
    for (size_t i = start; i < length; i++) {
        unsigned char c = (unsigned char)bytes[i];
        if (c < 0xc2 || c > 0xf4)
            continue;
        int truncated;
        if (utf8_sequence((const unsigned char *)bytes + i, length - i, &truncated) == 0 && truncated)
            return i;
    }
    return length;
}

int rill_json_append_string(rill_buffer_t *out, const char *bytes, size_t length)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *in = (const unsigned char *)bytes;
    if (rill_buffer_append(out, "\"", 1) != 0)
        return -1;
    size_t run = 0; /* start of bytes copied as they are */
    size_t i = 0;
    while (i < length) {
        unsigned char c = in[i];
        const char *escape = NULL;
        char unicode[7];
        size_t skip = 1;
        if (c == '"') {
            escape = "\\\"";
        } else if (c == '\\') {
            escape = "\\\\";
        } else if (c == '\n') {
            escape = "\\n";
        } else if (c == '\r') {
            escape = "\\r";
        } else if (c == '\t') {
            escape = "\\t";
        } else if (c < 0x20 || c == 0x7f) {
            unicode[0] = '\\', unicode[1] = 'u', unicode[2] = '0', unicode[3] = '0';
            unicode[4] = hex[c >> 4], unicode[5] = hex[c & 15], unicode[6] = '\0';
            escape = unicode;
        } else if (c >= 0x80) {
            int truncated;
            size_t sequence = utf8_sequence(in + i, length - i, &truncated);
            if (sequence > 0) {
                i += sequence;
                continue;
            }
            escape = "\\ufffd";
        } else {
            i++;
            continue;
        }
        if (rill_buffer_append(out, in + run, i - run) != 0 || rill_buffer_append(out, escape, strlen(escape)) != 0)
            return -1;
        i += skip;
        run = i;
    }
    if (rill_buffer_append(out, in + run, i - run) != 0 || rill_buffer_append(out, "\"", 1) != 0)
        return -1;
    return 0;
}

int rill_json_part(rill_buffer_t *out, const char *key, const char *bytes, size_t length)
{
    out->length = 0;
    if (rill_buffer_append(out, "{", 1) != 0 || rill_json_append_string(out, key, strlen(key)) != 0 ||
        rill_buffer_append(out, ":", 1) != 0 || rill_json_append_string(out, bytes, length) != 0 ||
        rill_buffer_append(out, "}", 1) != 0)
        return -1;
    return 0;
}

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
