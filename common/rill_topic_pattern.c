/*
 * rill_topic_pattern.c - wildcard topic patterns. See rill_topic_pattern.h.
 */
#include "rill_topic_pattern.h"
#include "rill_protocol.h"

#include <string.h>

int rill_topic_prefix_is_valid(const char *text, size_t length)
{
    /* A matched name is longer than its prefix: at most 127 bytes. */
    return length >= 2 && length < RILL_TOPIC_NAME_MAX && text[length - 1] == '.' &&
           rill_topic_name_is_valid(text, length);
}

int rill_topic_pattern_looks_like(const char *text, size_t length)
{
    return length >= 2 && text[length - 1] == '*' && text[length - 2] == '.';
}

int rill_topic_pattern_is_valid(const char *text, size_t length)
{
    return rill_topic_pattern_looks_like(text, length) && rill_topic_prefix_is_valid(text, length - 1);
}

int rill_topic_pattern_matches(const char *prefix, size_t prefix_length, const char *name,
                               size_t name_length)
{
    return name_length > prefix_length && memcmp(name, prefix, prefix_length) == 0;
}
