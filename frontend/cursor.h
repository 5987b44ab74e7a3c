/*
 * cursor.h - a stream's position, as text (docs/API.md "Cursor").
 *
 * A cursor lists, for subjects of a stream, the last seq delivered:
 * "<subject>:<seq>,<subject>:<seq>", where a subject is a job id (32
 * lower-case hex digits) or a topic name ([A-Za-z0-9._-]{1,128}); a topic's
 * seq may say which numbering it is of, "news:12@<epoch>" (8 hex digits,
 * rill/6: a deleted, evicted or restarted topic numbers from 1 again under
 * a new epoch, and an old cursor must not be read against it). It is the
 * SSE event id, so EventSource's Last-Event-ID resumes every subject of a
 * multiplexed stream; NDJSON clients pass it as ?since=. Pure string work:
 * parsing (strict: anything else is a 400) and formatting.
 */
#ifndef RILL_FRONTEND_CURSOR_H
#define RILL_FRONTEND_CURSOR_H

#include "rill_protocol.h"

#include <stddef.h>
#include <stdint.h>

/* The longest "name:seq@epoch" entry: a topic name, ':', 20 digits, '@', the epoch. */
#define RILL_CURSOR_ENTRY_MAX (RILL_TOPIC_NAME_MAX + 1 + 20 + 1 + RILL_TOPIC_EPOCH_LENGTH)

typedef struct {
    const char *name; /* points into the parsed text */
    size_t length;
    uint64_t seq;
    const char *epoch; /* RILL_TOPIC_EPOCH_LENGTH bytes into the text, or NULL */
} rill_cursor_entry_t;

typedef struct {
    size_t count;
    rill_cursor_entry_t *entries; /* owned */
} rill_cursor_t;

/* Parses text (length bytes) into cursor; at most max_entries entries, each
 * name once. Returns 0, or -1 with *error a static reason (cursor is then
 * empty). Free with rill_cursor_free; the entries point into text. */
int rill_cursor_parse(const char *text, size_t length, size_t max_entries, rill_cursor_t *cursor,
                      const char **error);
void rill_cursor_free(rill_cursor_t *cursor);
/* 1 and *seq when the cursor names name, else 0. */
int rill_cursor_find(const rill_cursor_t *cursor, const char *name, size_t length, uint64_t *seq);
/* The epoch the cursor gives name's seq (RILL_TOPIC_EPOCH_LENGTH bytes, not
 * NUL-terminated), or NULL when it gives none or does not name it. */
const char *rill_cursor_epoch(const rill_cursor_t *cursor, const char *name, size_t length);

/* Writes "name:seq" (with epoch, a NUL-terminated valid one: "name:seq@epoch")
 * at buffer + at, preceded by ',' when at > 0; buffer must have
 * RILL_CURSOR_ENTRY_MAX + 2 bytes free there (NUL-terminated). Returns the
 * new at. */
size_t rill_cursor_append(char *buffer, size_t at, const char *name, size_t length, uint64_t seq,
                          const char *epoch);

#endif
