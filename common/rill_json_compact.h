/*
 * rill_json_compact.h - JSON text exactly as jansson's
 * json_dumps(JSON_COMPACT) writes it, without building a jansson tree.
 *
 * A job's args go from the client's request body to the frontend's SUBMIT,
 * the broker's job and its BATCH: before this file each hop parsed them into
 * a tree and dumped it again, a large part of what one job cost. The wire
 * bytes are jansson's compact dump (docs/PROTOCOL.md); these functions write
 * the same bytes from the text itself when they can tell what jansson would
 * write, and say so when they cannot (a real number, a \u escape, ...), so
 * that the caller parses and dumps as before. Pure: tests/unit/test_json_compact.c.
 */
#ifndef RILL_JSON_COMPACT_H
#define RILL_JSON_COMPACT_H

#include "rill_buffer.h"

#include <jansson.h>
#include <stddef.h>

/* Appends the value bytes[0..length) without the whitespace between its
 * tokens, when that is byte for byte what jansson loads and dumps compactly
 * for it: one valid JSON value (rill_json_check) with no real number, no
 * -0, no integer of more than 18 digits, no \u or \/ escape, no key twice in
 * an object (nor more than RILL_JSON_COMPACT_KEYS_MAX keys open at once or
 * RILL_JSON_COMPACT_DEPTH_MAX objects deep). Returns 0, or -1 with out as it
 * was when the text is not such a value (nor valid, maybe) or out failed. */
int rill_json_compact_append(rill_buffer_t *out, const char *bytes, size_t length);

/* 1 when bytes[0..length) is such a value already written compactly (no
 * whitespace at all outside strings): it can be sent as it is. */
int rill_json_compact_is_exact(const char *bytes, size_t length);

#define RILL_JSON_COMPACT_KEYS_MAX 128
#define RILL_JSON_COMPACT_DEPTH_MAX 64

/* Appends jansson's own compact dump of value: the fallback when the text
 * cannot be used (rill_alloc.h's policy: running out of memory aborts). */
void rill_json_compact_dump(rill_buffer_t *out, json_t *value);

/* Appends text as jansson writes a string: '"', '\\', \b, \f, \n, \r and \t
 * as two-character escapes, other control characters as \u00XX (upper-case
 * hex), the rest as it is. Text that is not valid UTF-8 (jansson refuses to
 * make such a string) is written as null. Returns 0, or -1 when out failed. */
int rill_json_compact_string(rill_buffer_t *out, const char *text, size_t length);

/* The value of member name in each object of a JSON text that is one object
 * or an array of objects (text that jansson has loaded already: this only
 * finds tokens, it does not check them). For object i, starts[i] and
 * lengths[i] give its value's bytes; lengths[i] 0 when the object has no
 * such member, or when it cannot be told without decoding (a key with an
 * escape, or name given twice). count is the room in starts and lengths.
 * Returns the number of objects, or -1 when text is not such a value or has
 * more than count objects. */
long rill_json_compact_find_members(const char *text, size_t length, const char *name, size_t count,
                                    size_t *starts, size_t *lengths);

#endif
