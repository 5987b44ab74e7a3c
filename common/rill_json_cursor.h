/*
 * rill_json_cursor.h - reading a JSON text of a known layout in place, for
 * the fast readers (rill_submit_fast.c, rill_batch_fast.c,
 * frontend/submit_body.c).
 *
 * Each fast reader takes only the exact bytes the writer it mirrors
 * produces, and hands anything else to its full (jansson) decoder. These
 * are the steps they share: a literal, a string of printable ASCII without
 * escapes (ended in place over its closing quote, so the caller works on a
 * writable copy), a decimal count, the extent of an object. Each returns 0
 * and moves the cursor past what it read, or -1 (the cursor is then
 * anywhere: the caller gives the frame up).
 */
#ifndef RILL_JSON_CURSOR_H
#define RILL_JSON_CURSOR_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *at; /* in a writable copy of the text: strings are ended in place */
    char *end;
} rill_json_cursor_t;

/* The length bytes of text, exactly. */
int rill_json_cursor_expect(rill_json_cursor_t *c, const char *text, size_t length);
#define RILL_JSON_CURSOR_EXPECT(c, literal) rill_json_cursor_expect((c), (literal), sizeof(literal) - 1)
/* A string of printable ASCII (0x20..0x7e) without a backslash; *value
 * points at it, NUL-terminated in place, *length (unless NULL) its bytes. */
int rill_json_cursor_plain(rill_json_cursor_t *c, const char **value, size_t *length);
/* 0, or 1 to 18 digits without a leading zero: what rill_u64_to_text
 * writes, and surely within jansson's integers. */
int rill_json_cursor_count(rill_json_cursor_t *c, uint64_t *value);
/* The object at the cursor, brackets counted outside strings (escapes
 * skipped): its first byte and length. The text's validity is the
 * caller's to know (rill_json_check). */
int rill_json_cursor_object(rill_json_cursor_t *c, const char **start, size_t *length);

#endif
