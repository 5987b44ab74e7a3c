/*
 * rill_json_text.h - raw bytes as JSON text: rill's one JSON string escaper
 * and the UTF-8 checks it rests on.
 *
 * Files, commands, upstreams and peers hand rill raw bytes; what reaches a
 * client is JSON. Every invalid UTF-8 sequence (bad, overlong, surrogate,
 * above U+10FFFF, truncated) becomes U+FFFD, so no byte sequence can make
 * invalid JSON. The workers build parts with it (into a rill_buffer_t), the
 * frontend its error events and error bodies (into a fixed buffer): both
 * write the same bytes. Pure functions: tests/unit/test_json_text.c.
 */
#ifndef RILL_JSON_TEXT_H
#define RILL_JSON_TEXT_H

#include "rill_buffer.h"

#include <stddef.h>

/* Appends bytes as a JSON string, quotes included: '"', '\\', \n, \r and \t
 * as two-character escapes, other control characters and DEL as \u00XX,
 * invalid UTF-8 as \ufffd, everything else as it is. Returns 0, or -1 when
 * the buffer failed (rill_buffer.h). */
int rill_json_append_string(rill_buffer_t *out, const char *bytes, size_t length);

/* The same string written into buffer (no NUL added). Returns the bytes
 * written, or 0 when they do not fit in capacity (6 bytes per input byte
 * plus 2 always suffice). */
size_t rill_json_escape(char *buffer, size_t capacity, const char *bytes, size_t length);

/* Builds the part {"<key>":"<escaped bytes>"} into out (replacing what it
 * held). Returns 0 or -1 as rill_json_append_string. */
int rill_json_part(rill_buffer_t *out, const char *key, const char *bytes, size_t length);

/* The length of the longest prefix of bytes that does not end inside a UTF-8
 * sequence that the next bytes could still complete: the rest (0 to 3 bytes)
 * should be kept for the next chunk. */
size_t rill_utf8_complete_length(const char *bytes, size_t length);

/* The length (1 to 4) of the valid UTF-8 sequence that starts bytes, or 0
 * when it is invalid or truncated at available bytes. rill_json_check
 * holds strings to the same rules. */
size_t rill_utf8_sequence_length(const char *bytes, size_t available);

/* The value (0-15) of a hex digit of either case, or -1: the digits of a
 * \u escape (rill_json_check) and of a %XX in a URL (frontend/router.c). */
int rill_hex_digit_value(int c);

#endif
