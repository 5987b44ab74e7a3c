/*
 * rill_json_check.c - the validating JSON scanner. See rill_json_check.h.
 *
 * A loop over two states, "a value is expected" and "a value just ended",
 * with the open containers as bits of a fixed stack (1 = object). Strings
 * go through a tight loop that only stops at '"', '\\', a control
 * character or a byte above 0x7f; the UTF-8 rules are rill_json_text's.
 */
#include "rill_json_check.h"
#include "rill_json_text.h"

#include <stdint.h>
#include <string.h>

typedef struct {
    const unsigned char *bytes;
    size_t length;
    size_t at;
    rill_json_check_error_t *error;
} scanner_t;

static int fail(scanner_t *s, size_t offset, const char *reason)
{
    if (s->error != NULL) {
        s->error->offset = offset;
        s->error->reason = reason;
    }
    return -1;
}

/* The hot loops work on locals: a store through an unsigned char pointer
 * may alias any field, so s->at would be reloaded at every byte. */
static void skip_space(scanner_t *s)
{
    const unsigned char *bytes = s->bytes;
    size_t at = s->at, length = s->length;
    while (at < length && (bytes[at] == ' ' || bytes[at] == '\n' || bytes[at] == '\r' || bytes[at] == '\t'))
        at++;
    s->at = at;
}

/* The four hex digits after "\u" at s->at; -1 when they are not. */
static long unicode_escape(scanner_t *s)
{
    if (s->length - s->at < 4)
        return -1;
    long code = 0;
    for (int i = 0; i < 4; i++) {
        int digit = rill_hex_digit_value(s->bytes[s->at + (size_t)i]);
        if (digit < 0)
            return -1;
        code = code * 16 + digit;
    }
    s->at += 4;
    return code;
}

/* 1 for the bytes a string holds as they are: printable ASCII but '"' and
 * '\\'. One load and one test a byte, four bytes a turn: strings are most
 * of a part's bytes, and this loop most of the check's cost. */
static const unsigned char plain[256] = {
    [0x20] = 1, [0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7f] = 1, /* GNU C ranges: no '"', no '\\' */
};

/* Eight bytes at a time (SWAR): the high bit of each byte of the result is
 * set for a byte that is '"', '\\', below 0x20 or above 0x7f, and perhaps
 * for bytes after such a byte (a borrow), never before it: the lowest set
 * bit finds the first byte that ends a plain run. */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

static uint64_t special_bytes(uint64_t word)
{
    uint64_t quote = word ^ (ONES * '"');
    uint64_t backslash = word ^ (ONES * '\\');
    uint64_t zero_quote = (quote - ONES) & ~quote;
    uint64_t zero_backslash = (backslash - ONES) & ~backslash;
    uint64_t control = (word - ONES * 0x20) & ~word;
    return (zero_quote | zero_backslash | control | word) & HIGHS;
}

/* The length of the plain run at bytes[at..length): bytes a string holds
 * as they are. */
static size_t plain_run(const unsigned char *bytes, size_t at, size_t length)
{
    size_t from = at;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (length - at >= 8) {
        uint64_t word;
        memcpy(&word, bytes + at, sizeof(word)); /* little-endian: byte 0 is the lowest */
        uint64_t special = special_bytes(word);
        if (special != 0)
            return at - from + (size_t)__builtin_ctzll(special) / 8;
        at += 8;
    }
#endif
    while (at < length && plain[bytes[at]])
        at++;
    return at - from;
}

/* A string whose opening quote is at s->at; leaves s->at after its end. */
static int scan_string(scanner_t *s)
{
    size_t start = s->at++;
    const unsigned char *bytes = s->bytes;
    while (s->at < s->length) {
        size_t at = s->at, length = s->length;
        at += plain_run(bytes, at, length);
        s->at = at;
        if (at == length)
            break;
        unsigned char c = bytes[at];
        if (c == '"') {
            s->at++;
            return 0;
        }
        if (c < 0x20)
            return fail(s, s->at, "control character in a string");
        if (c >= 0x80) {
            size_t sequence = rill_utf8_sequence_length((const char *)bytes + s->at, s->length - s->at);
            if (sequence == 0)
                return fail(s, s->at, "invalid UTF-8");
            s->at += sequence;
            continue;
        }
        /* A backslash. */
        size_t escape = s->at++;
        if (s->at >= s->length)
            break;
        c = bytes[s->at++];
        if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't')
            continue;
        if (c != 'u')
            return fail(s, escape, "invalid escape in a string");
        long code = unicode_escape(s);
        if (code < 0)
            return fail(s, escape, "invalid \\u escape");
        if (code >= 0xdc00 && code <= 0xdfff)
            return fail(s, escape, "unpaired surrogate escape");
        if (code >= 0xd800 && code <= 0xdbff) {
            long low = -1;
            if (s->length - s->at >= 2 && bytes[s->at] == '\\' && bytes[s->at + 1] == 'u') {
                s->at += 2;
                low = unicode_escape(s);
            }
            if (low < 0xdc00 || low > 0xdfff)
                return fail(s, escape, "unpaired surrogate escape");
        }
    }
    return fail(s, start, "unterminated string");
}

static int scan_digits(scanner_t *s)
{
    const unsigned char *bytes = s->bytes;
    size_t start = s->at, at = s->at, length = s->length;
    while (at < length && bytes[at] >= '0' && bytes[at] <= '9')
        at++;
    s->at = at;
    return at > start ? 0 : -1;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(scanner_t *s)
{
    size_t start = s->at;
    if (s->bytes[s->at] == '-')
        s->at++;
    if (s->at < s->length && s->bytes[s->at] == '0')
        s->at++;
    else if (scan_digits(s) != 0)
        return fail(s, start, "invalid number");
    if (s->at < s->length && s->bytes[s->at] == '.') {
        s->at++;
        if (scan_digits(s) != 0)
            return fail(s, start, "invalid number");
    }
    if (s->at < s->length && (s->bytes[s->at] == 'e' || s->bytes[s->at] == 'E')) {
        s->at++;
        if (s->at < s->length && (s->bytes[s->at] == '+' || s->bytes[s->at] == '-'))
            s->at++;
        if (scan_digits(s) != 0)
            return fail(s, start, "invalid number");
    }
    return 0;
}

static int scan_literal(scanner_t *s, const char *word, size_t size)
{
    if (s->length - s->at < size)
        return fail(s, s->at, "invalid literal");
    for (size_t i = 0; i < size; i++) {
        if (s->bytes[s->at + i] != (unsigned char)word[i])
            return fail(s, s->at, "invalid literal");
    }
    s->at += size;
    return 0;
}

/* An object member's key and colon, from s->at (whitespace skipped). */
static int scan_key(scanner_t *s)
{
    if (s->at >= s->length || s->bytes[s->at] != '"')
        return fail(s, s->at, "expected a string key");
    if (scan_string(s) != 0)
        return -1;
    skip_space(s);
    if (s->at >= s->length || s->bytes[s->at] != ':')
        return fail(s, s->at, "expected ':'");
    s->at++;
    return 0;
}

int rill_json_check(const void *bytes, size_t length, rill_json_check_error_t *error)
{
    scanner_t scanner = {bytes, length, 0, error};
    scanner_t *s = &scanner;
    uint64_t objects[RILL_JSON_CHECK_MAX_DEPTH / 64] = {0};
    size_t depth = 0;
    for (;;) {
        /* A value is expected. */
        skip_space(s);
        if (s->at >= s->length)
            return fail(s, s->at, depth == 0 && s->at == 0 ? "empty" : "unexpected end");
        unsigned char c = s->bytes[s->at];
        int is_object = c == '{';
        if (c == '{' || c == '[') {
            if (depth == RILL_JSON_CHECK_MAX_DEPTH)
                return fail(s, s->at, "nested too deeply");
            uint64_t bit = (uint64_t)1 << (depth % 64);
            if (is_object)
                objects[depth / 64] |= bit;
            else
                objects[depth / 64] &= ~bit;
            depth++;
            s->at++;
            skip_space(s);
            if (s->at < s->length && s->bytes[s->at] == (is_object ? '}' : ']')) {
                s->at++;
                depth--;
            } else {
                if (is_object && scan_key(s) != 0)
                    return -1;
                continue;
            }
        } else if (c == '"') {
            if (scan_string(s) != 0)
                return -1;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            if (scan_number(s) != 0)
                return -1;
        } else if (c == 't') {
            if (scan_literal(s, "true", 4) != 0)
                return -1;
        } else if (c == 'f') {
            if (scan_literal(s, "false", 5) != 0)
                return -1;
        } else if (c == 'n') {
            if (scan_literal(s, "null", 4) != 0)
                return -1;
        } else {
            return fail(s, s->at, "expected a value");
        }
        /* A value ended: close what it ends, up to where another comes. */
        for (;;) {
            skip_space(s);
            if (depth == 0) {
                if (s->at != s->length)
                    return fail(s, s->at, "bytes after the value");
                return 0;
            }
            if (s->at >= s->length)
                return fail(s, s->at, "unexpected end");
            int in_object = (objects[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1;
            c = s->bytes[s->at];
            if (c == (in_object ? '}' : ']')) {
                s->at++;
                depth--;
                continue;
            }
            if (c != ',')
                return fail(s, s->at, in_object ? "expected ',' or '}'" : "expected ',' or ']'");
            s->at++;
            if (in_object) {
                skip_space(s);
                if (scan_key(s) != 0)
                    return -1;
            }
            break;
        }
    }
}
