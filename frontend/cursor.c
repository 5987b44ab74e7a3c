/*
 * cursor.c - see cursor.h.
 */
#include "cursor.h"

#include "rill_alloc.h"
#include "rill_protocol.h"

#include <stdlib.h>
#include <string.h>

void rill_cursor_free(rill_cursor_t *cursor)
{
    if (cursor == NULL)
        return;
    free(cursor->entries);
    cursor->entries = NULL;
    cursor->count = 0;
}

static int fail(rill_cursor_t *cursor, const char **error, const char *reason)
{
    rill_cursor_free(cursor);
    *error = reason;
    return -1;
}

int rill_cursor_parse(const char *text, size_t length, size_t max_entries, rill_cursor_t *cursor,
                      const char **error)
{
    cursor->count = 0;
    cursor->entries = NULL;
    if (text == NULL || length == 0)
        return fail(cursor, error, "the cursor is empty");
    size_t commas = 0;
    for (size_t i = 0; i < length; i++)
        commas += text[i] == ',';
    if (commas + 1 > max_entries)
        return fail(cursor, error, "the cursor names more subjects than a stream may have");
    cursor->entries = rill_xcalloc(commas + 1, sizeof(*cursor->entries));
    size_t at = 0;
    while (at <= length) {
        const char *entry = text + at;
        const char *end = memchr(entry, ',', length - at);
        size_t entry_length = end != NULL ? (size_t)(end - entry) : length - at;
        const char *colon = NULL;
        for (size_t i = entry_length; i > 0; i--) {
            if (entry[i - 1] == ':') {
                colon = entry + i - 1;
                break;
            }
        }
        if (colon == NULL)
            return fail(cursor, error, "each cursor entry is <job id or topic>:<seq>");
        size_t name_length = (size_t)(colon - entry);
        if (!rill_topic_name_is_valid(entry, name_length))
            return fail(cursor, error, "a cursor entry names no valid job id or topic");
        size_t seq_length = entry_length - name_length - 1;
        const char *at_sign = memchr(colon + 1, '@', seq_length);
        const char *epoch = NULL;
        if (at_sign != NULL) {
            epoch = at_sign + 1;
            size_t epoch_length = seq_length - (size_t)(epoch - colon - 1);
            if (!rill_topic_epoch_is_valid(epoch, epoch_length))
                return fail(cursor, error, "a cursor epoch (after '@') is not 8 lower-case hex digits");
            seq_length = (size_t)(at_sign - colon - 1);
        }
        rill_frame_t seq_frame = {(const uint8_t *)colon + 1, seq_length};
        uint64_t seq;
        if (rill_frame_to_u64(seq_frame, &seq) != 0)
            return fail(cursor, error, "a cursor seq is not a decimal number");
        uint64_t ignored;
        if (rill_cursor_find(cursor, entry, name_length, &ignored))
            return fail(cursor, error, "the cursor names a subject twice");
        rill_cursor_entry_t *slot = &cursor->entries[cursor->count++];
        slot->name = entry;
        slot->length = name_length;
        slot->seq = seq;
        slot->epoch = epoch;
        if (end == NULL)
            break;
        at += entry_length + 1;
    }
    return 0;
}

int rill_cursor_find(const rill_cursor_t *cursor, const char *name, size_t length, uint64_t *seq)
{
    for (size_t i = 0; i < cursor->count; i++) {
        const rill_cursor_entry_t *entry = &cursor->entries[i];
        if (entry->length == length && memcmp(entry->name, name, length) == 0) {
            *seq = entry->seq;
            return 1;
        }
    }
    return 0;
}

const char *rill_cursor_epoch(const rill_cursor_t *cursor, const char *name, size_t length)
{
    for (size_t i = 0; i < cursor->count; i++) {
        const rill_cursor_entry_t *entry = &cursor->entries[i];
        if (entry->length == length && memcmp(entry->name, name, length) == 0)
            return entry->epoch;
    }
    return NULL;
}

size_t rill_cursor_append(char *buffer, size_t at, const char *name, size_t length, uint64_t seq,
                          const char *epoch)
{
    if (at > 0)
        buffer[at++] = ',';
    memcpy(buffer + at, name, length);
    at += length;
    buffer[at++] = ':';
    at += rill_u64_to_text(seq, buffer + at);
    if (epoch != NULL && rill_topic_epoch_is_valid(epoch, strlen(epoch))) {
        buffer[at++] = '@';
        memcpy(buffer + at, epoch, RILL_TOPIC_EPOCH_LENGTH);
        at += RILL_TOPIC_EPOCH_LENGTH;
    }
    buffer[at] = '\0';
    return at;
}
