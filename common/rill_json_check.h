/*
 * rill_json_check.h - is this one well-formed JSON value in valid UTF-8?
 *
 * A worker (maybe not written by us, maybe buggy) hands the broker the
 * bytes of each part, and the broker passes them to every client as one
 * NDJSON line or SSE data: line. One malformed part would corrupt every
 * subscriber's stream, so the broker checks each part with this scanner
 * before it publishes it (docs/PROTOCOL.md, "Parts are checked").
 *
 * One pass, no allocation, no recursion: the nesting is kept in a bit
 * stack on the C stack, bounded by RILL_JSON_CHECK_MAX_DEPTH. Accepts
 * exactly one JSON value (RFC 8259) with optional whitespace around it;
 * strings must be valid UTF-8 (no overlong form, no surrogate, nothing
 * above U+10FFFF: the rules of rill_json_text) and their \u escapes may not
 * leave a surrogate unpaired. Pure: tests/unit/test_json_check.c, and the
 * fuzz target tests/fuzz/fuzz_json_check.c.
 */
#ifndef RILL_JSON_CHECK_H
#define RILL_JSON_CHECK_H

#include <stddef.h>

/* Arrays and objects nested deeper than this are refused. */
#define RILL_JSON_CHECK_MAX_DEPTH 256

typedef struct {
    size_t offset;      /* the byte at which the text stopped being JSON */
    const char *reason; /* static, human-readable: "invalid UTF-8", ... */
} rill_json_check_error_t;

/* Returns 0 when bytes[0..length) is one well-formed JSON value, or -1
 * with *error (may be NULL) saying why and where. */
int rill_json_check(const void *bytes, size_t length, rill_json_check_error_t *error);

#endif
