/*
 * rill_json_cursor.c - the steps of the fast readers. See rill_json_cursor.h.
 */
#include "rill_json_cursor.h"

#include <string.h>

int rill_json_cursor_expect(rill_json_cursor_t *c, const char *text, size_t length)
{
    if ((size_t)(c->end - c->at) < length || memcmp(c->at, text, length) != 0)
        return -1;
    c->at += length;
    return 0;
}

int rill_json_cursor_plain(rill_json_cursor_t *c, const char **value, size_t *length)
{
    if (c->at >= c->end || *c->at != '"')
        return -1;
    char *start = ++c->at;
    while (c->at < c->end && *c->at != '"') {
        unsigned char ch = (unsigned char)*c->at;
        if (ch < 0x20 || ch > 0x7e || ch == '\\')
            return -1;
        c->at++;
    }
    if (c->at >= c->end)
        return -1;
    *c->at++ = '\0';
    *value = start;
    if (length != NULL)
        *length = (size_t)(c->at - 1 - start);
    return 0;
}

int rill_json_cursor_count(rill_json_cursor_t *c, uint64_t *value)
{
    const char *first = c->at;
    uint64_t number = 0;
    while (c->at < c->end && *c->at >= '0' && *c->at <= '9' && c->at - first < 19)
        number = number * 10 + (uint64_t)(*c->at++ - '0');
    size_t digits = (size_t)(c->at - first);
    if (digits == 0 || digits > 18 || (digits > 1 && *first == '0'))
        return -1;
    *value = number;
    return 0;
}

int rill_json_cursor_object(rill_json_cursor_t *c, const char **start, size_t *length)
{
    if (c->at >= c->end || *c->at != '{')
        return -1;
    const char *first = c->at;
    size_t depth = 0;
    for (; c->at < c->end; c->at++) {
        char ch = *c->at;
        if (ch == '"') {
            for (c->at++; c->at < c->end && *c->at != '"'; c->at++) {
                if (*c->at == '\\')
                    c->at++;
            }
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if ((ch == '}' || ch == ']') && --depth == 0) {
            c->at++;
            *start = first;
            *length = (size_t)(c->at - first);
            return 0;
        }
    }
    return -1;
}
