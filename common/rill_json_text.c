/*
 * rill_json_text.c - JSON strings from raw bytes. See rill_json_text.h.
 *
 * One escaping loop writes through a small sink, so the growable-buffer and
 * the fixed-buffer forms cannot drift apart: the loop hands the sink runs of
 * bytes copied as they are, and the escape of each byte that needs one.
 */
#include "rill_json_text.h"

#include <stdint.h>
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

int rill_hex_digit_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t rill_utf8_sequence_length(const char *bytes, size_t available)
{
    int truncated;
    return available > 0 ? utf8_sequence((const unsigned char *)bytes, available, &truncated) : 0;
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

/* Where escaped text goes: appends length bytes, returns 0 or -1. */
typedef int (*sink_t)(void *sink, const void *bytes, size_t length);

static int escape_string(const char *bytes, size_t length, sink_t write, void *sink)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *in = (const unsigned char *)bytes;
    if (write(sink, "\"", 1) != 0)
        return -1;
    size_t run = 0; /* start of bytes copied as they are */
    size_t i = 0;
    while (i < length) {
        unsigned char c = in[i];
        const char *escape = NULL;
        char unicode[7];
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
        if (write(sink, in + run, i - run) != 0 || write(sink, escape, strlen(escape)) != 0)
            return -1;
        i++;
        run = i;
    }
    if (write(sink, in + run, i - run) != 0 || write(sink, "\"", 1) != 0)
        return -1;
    return 0;
}

static int write_buffer(void *sink, const void *bytes, size_t length)
{
    return rill_buffer_append(sink, bytes, length);
}

int rill_json_append_string(rill_buffer_t *out, const char *bytes, size_t length)
{
    return escape_string(bytes, length, write_buffer, out);
}

typedef struct {
    char *data;
    size_t capacity;
    size_t length;
} fixed_t;

static int write_fixed(void *sink, const void *bytes, size_t length)
{
    fixed_t *fixed = sink;
    if (length > fixed->capacity - fixed->length)
        return -1;
    if (length > 0)
        memcpy(fixed->data + fixed->length, bytes, length);
    fixed->length += length;
    return 0;
}

size_t rill_json_escape(char *buffer, size_t capacity, const char *bytes, size_t length)
{
    fixed_t fixed = {buffer, capacity, 0};
    return escape_string(bytes, length, write_fixed, &fixed) == 0 ? fixed.length : 0;
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
