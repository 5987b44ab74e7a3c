/*
 * rill_json_compact.c - jansson's compact text without jansson. See
 * rill_json_compact.h.
 *
 * What jansson does to a value it loads and dumps compactly: it drops the
 * whitespace between tokens, writes integers in plain decimal ("-0" as 0),
 * reals in its own %.17g form, strings decoded and escaped again ("\/" and
 * "\u00e9" come out as "/" and "é"), and an object with a key twice as one
 * member. The scanner here copies everything but the whitespace, and gives
 * up on the cases where the copy would differ: reals, -0, \u and \/, a
 * repeated key. The other escapes ("\"", "\\", \b, \f, \n, \r, \t) are the
 * ones jansson writes itself, and raw UTF-8 it writes as it is.
 */
#include "rill_json_compact.h"

#include "rill_json_check.h"
#include "rill_json_text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t at;
    size_t length;
} span_t;

/* Back to length bytes, still NUL-terminated (rill_buffer.h). */
static void truncate_to(rill_buffer_t *out, size_t length)
{
    out->length = length;
    if (out->data != NULL)
        out->data[length] = '\0';
}

static int is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* The end of the string whose opening quote is at, past its closing quote;
 * 0 when it holds an escape jansson would write otherwise (or ends early). */
static size_t string_end(const char *bytes, size_t length, size_t at)
{
    for (size_t i = at + 1; i < length; i++) {
        if (bytes[i] == '"')
            return i + 1;
        if (bytes[i] == '\\') {
            if (i + 1 >= length || bytes[i + 1] == 'u' || bytes[i + 1] == '/')
                return 0;
            i++;
        }
    }
    return 0;
}

/* The end of the number at, or 0 when jansson would write it otherwise: a
 * real, -0, or more digits than an integer surely holds. */
static size_t number_end(const char *bytes, size_t length, size_t at)
{
    size_t i = at;
    if (bytes[i] == '-')
        i++;
    size_t digits = i;
    while (i < length && bytes[i] >= '0' && bytes[i] <= '9')
        i++;
    if (i == digits || i - digits > 18 || (bytes[digits] == '0' && digits > at))
        return 0;
    if (i < length && (bytes[i] == '.' || bytes[i] == 'e' || bytes[i] == 'E'))
        return 0;
    return i;
}

/* One pass over text that rill_json_check accepted: copies it into out
 * without whitespace (out NULL: refuses any whitespace). 0, or -1. */
static int scan(const char *bytes, size_t length, rill_buffer_t *out)
{
    size_t first_key[RILL_JSON_COMPACT_DEPTH_MAX]; /* SIZE_MAX for an array */
    span_t keys[RILL_JSON_COMPACT_KEYS_MAX];
    size_t key_count = 0, depth = 0, run = 0, i = 0;
    int expect_key = 0;
    while (i < length) {
        char c = bytes[i];
        if (is_space(c)) {
            if (out == NULL || rill_buffer_append(out, bytes + run, i - run) != 0)
                return -1;
            while (i < length && is_space(bytes[i]))
                i++;
            run = i;
            continue;
        }
        if (c == '{' || c == '[') {
            if (depth == RILL_JSON_COMPACT_DEPTH_MAX)
                return -1;
            first_key[depth++] = c == '{' ? key_count : SIZE_MAX;
            expect_key = c == '{';
            i++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return -1;
            if (first_key[--depth] != SIZE_MAX)
                key_count = first_key[depth]; /* its keys are done with */
            expect_key = 0;
            i++;
        } else if (c == ',') {
            expect_key = depth > 0 && first_key[depth - 1] != SIZE_MAX;
            i++;
        } else if (c == ':') {
            expect_key = 0;
            i++;
        } else if (c == '"') {
            size_t end = string_end(bytes, length, i);
            if (end == 0)
                return -1;
            if (expect_key) {
                /* The only escapes left have one form each: equal keys
                 * are equal bytes. */
                span_t key = {i, end - i};
                for (size_t k = first_key[depth - 1]; k < key_count; k++) {
                    if (keys[k].length == key.length && memcmp(bytes + keys[k].at, bytes + key.at, key.length) == 0)
                        return -1;
                }
                if (key_count == RILL_JSON_COMPACT_KEYS_MAX)
                    return -1;
                keys[key_count++] = key;
            }
            i = end;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            i = number_end(bytes, length, i);
            if (i == 0)
                return -1;
        } else if (c == 't' || c == 'n') {
            i += 4;
        } else if (c == 'f') {
            i += 5;
        } else {
            return -1;
        }
    }
    if (out != NULL && rill_buffer_append(out, bytes + run, length - run) != 0)
        return -1;
    return 0;
}

int rill_json_compact_append(rill_buffer_t *out, const char *bytes, size_t length)
{
    if (rill_json_check(bytes, length, NULL) != 0)
        return -1;
    size_t before = out->length;
    if (scan(bytes, length, out) != 0) {
        truncate_to(out, before);
        return -1;
    }
    return 0;
}

int rill_json_compact_is_exact(const char *bytes, size_t length)
{
    return rill_json_check(bytes, length, NULL) == 0 && scan(bytes, length, NULL) == 0;
}

static int dump_to_buffer(const char *bytes, size_t length, void *data)
{
    return rill_buffer_append(data, bytes, length);
}

void rill_json_compact_dump(rill_buffer_t *out, json_t *value)
{
    if (json_dump_callback(value, dump_to_buffer, out, JSON_COMPACT | JSON_ENCODE_ANY) != 0) {
        fprintf(stderr, "rill: out of memory writing JSON\n");
        abort();
    }
}

int rill_json_compact_string(rill_buffer_t *out, const char *text, size_t length)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t before = out->length;
    const unsigned char *in = (const unsigned char *)text;
    int failed = rill_buffer_append(out, "\"", 1);
    size_t run = 0, i = 0;
    while (i < length && !failed) {
        unsigned char c = in[i];
        if (c >= 0x80) {
            size_t sequence = rill_utf8_sequence_length(text + i, length - i);
            if (sequence == 0) { /* jansson makes no such string: null */
                truncate_to(out, before);
                return rill_buffer_append(out, "null", 4);
            }
            i += sequence;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        char escape[6] = {'\\', 0, 0, 0, 0, 0};
        size_t size = 2;
        switch (c) {
        case '"': escape[1] = '"'; break;
        case '\\': escape[1] = '\\'; break;
        case '\b': escape[1] = 'b'; break;
        case '\f': escape[1] = 'f'; break;
        case '\n': escape[1] = 'n'; break;
        case '\r': escape[1] = 'r'; break;
        case '\t': escape[1] = 't'; break;
        default:
            memcpy(escape + 1, "u00", 3);
            escape[4] = hex[c >> 4];
            escape[5] = hex[c & 15];
            size = 6;
        }
        failed = rill_buffer_append(out, text + run, i - run) != 0 || rill_buffer_append(out, escape, size) != 0;
        run = ++i;
    }
    if (failed || rill_buffer_append(out, text + run, length - run) != 0 || rill_buffer_append(out, "\"", 1) != 0) {
        truncate_to(out, before);
        return -1;
    }
    return 0;
}

/* ---- finding a member's value ------------------------------------------- */

/* The end of the value at (text already valid: brackets counted outside
 * strings), or 0 when the text ends first. */
static size_t value_end(const char *text, size_t length, size_t at)
{
    size_t depth = 0;
    for (size_t i = at; i < length; i++) {
        char c = text[i];
        if (c == '"') {
            for (i++; i < length && text[i] != '"'; i++) {
                if (text[i] == '\\')
                    i++;
            }
            if (i >= length)
                return 0;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return i; /* a scalar ended by its container */
            if (--depth == 0)
                return i + 1;
        } else if (depth == 0 && (c == ',' || is_space(c))) {
            return i;
        }
        if (depth == 0 && c == '"')
            return i + 1;
    }
    return depth == 0 ? length : 0;
}

static size_t skip_space(const char *text, size_t length, size_t at)
{
    while (at < length && is_space(text[at]))
        at++;
    return at;
}

/* The object at (its '{'): the member's value into *start, *size (size 0:
 * none, or not told); returns the end of the object, or 0. */
static size_t object_member(const char *text, size_t length, size_t at, const char *name, size_t *start,
                            size_t *size)
{
    size_t name_length = strlen(name);
    int seen = 0, unsure = 0;
    *start = 0;
    *size = 0;
    at = skip_space(text, length, at + 1);
    if (at < length && text[at] == '}')
        return at + 1;
    while (at < length && text[at] == '"') {
        size_t key = at + 1, key_end = key;
        while (key_end < length && text[key_end] != '"') {
            if (text[key_end] == '\\') {
                unsure = 1; /* an escaped key might spell name */
                key_end++;
            }
            key_end++;
        }
        at = skip_space(text, length, key_end + 1);
        if (at >= length || text[at] != ':')
            return 0;
        at = skip_space(text, length, at + 1);
        size_t end = at < length ? value_end(text, length, at) : 0;
        if (end == 0)
            return 0;
        if (key_end - key == name_length && memcmp(text + key, name, name_length) == 0) {
            unsure |= seen;
            seen = 1;
            *start = at;
            *size = end - at;
        }
        at = skip_space(text, length, end);
        if (at < length && text[at] == '}') {
            if (unsure)
                *size = 0;
            return at + 1;
        }
        if (at >= length || text[at] != ',')
            return 0;
        at = skip_space(text, length, at + 1);
    }
    return 0;
}

long rill_json_compact_find_members(const char *text, size_t length, const char *name, size_t count,
                                    size_t *starts, size_t *lengths)
{
    size_t at = skip_space(text, length, 0);
    if (at < length && text[at] == '{') {
        if (count < 1 || object_member(text, length, at, name, &starts[0], &lengths[0]) == 0)
            return -1;
        return 1;
    }
    if (at >= length || text[at] != '[')
        return -1;
    size_t found = 0;
    at = skip_space(text, length, at + 1);
    while (at < length && text[at] == '{') {
        if (found == count)
            return -1;
        at = object_member(text, length, at, name, &starts[found], &lengths[found]);
        if (at == 0)
            return -1;
        found++;
        at = skip_space(text, length, at);
        if (at < length && text[at] == ']')
            return (long)found;
        if (at >= length || text[at] != ',')
            return -1;
        at = skip_space(text, length, at + 1);
    }
    return -1;
}
