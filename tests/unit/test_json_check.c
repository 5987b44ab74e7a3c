/*
 * test_json_check.c - rill_json_check: what is one JSON value in valid
 * UTF-8 and what is not, and where the scanner says it stopped.
 */
#include "rill_json_check.h"
#include "rill_test.h"

#include <stdlib.h>
#include <string.h>

static int valid(const char *text, size_t length)
{
    rill_json_check_error_t error = {0, NULL};
    int result = rill_json_check(text, length, &error) == 0;
    if (!result)
        fprintf(stderr, "  refused at %zu (%s): %.*s\n", error.offset, error.reason, (int)length, text);
    return result;
}

static int invalid(const char *text, size_t length)
{
    rill_json_check_error_t error = {0, NULL};
    return rill_json_check(text, length, &error) != 0 && error.reason != NULL && error.offset <= length;
}

#define VALID(literal) CHECKF(valid(literal, sizeof(literal) - 1), "%s", literal)
#define INVALID(literal) CHECKF(invalid(literal, sizeof(literal) - 1), "accepted: %s", literal)

static void test_valid(void)
{
    VALID("0");
    VALID("-0");
    VALID("12");
    VALID("-1.5e+10");
    VALID("1E-2");
    VALID("0.25");
    VALID("true");
    VALID("false");
    VALID("null");
    VALID("\"\"");
    VALID("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"");
    VALID("\"\\u00e9\\uD83D\\uDE00\"");
    VALID("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"");
    VALID("{}");
    VALID("[]");
    VALID(" \t\r\n{ \"x\" : 1 , \"y\" : [ 1 , 2 , { } , [ ] ] } \n");
    VALID("{\"x\":1}");
    VALID("{\"a\":{\"b\":{\"c\":[null,true,false,\"s\",-0.0e0]}}}");
    VALID("[[[[[[[[[[1]]]]]]]]]]");
    VALID("{\"\":\"\"}");
}

static void test_invalid(void)
{
    INVALID("");
    INVALID("   ");
    INVALID("{\"x\":1}garbage");
    INVALID("{\"x\":1}{\"y\":2}");
    INVALID("1 2");
    INVALID("\"\xff\"");
    INVALID("\xff");
    INVALID("\"\xc0\xaf\"");          /* overlong '/' */
    INVALID("\"\xe0\x80\xaf\"");      /* overlong */
    INVALID("\"\xed\xa0\x80\"");      /* a surrogate, encoded */
    INVALID("\"\xf4\x90\x80\x80\"");  /* above U+10FFFF */
    INVALID("\"\xf5\x80\x80\x80\"");
    INVALID("\"\xc3\"");              /* truncated */
    INVALID("\"\xe2\x82\"");
    INVALID("\"\x80\"");              /* a lone continuation byte */
    INVALID("\"\\ud800\"");           /* unpaired surrogate escapes */
    INVALID("\"\\udc00\"");
    INVALID("\"\\ud800\\u0041\"");
    INVALID("\"\\u12\"");
    INVALID("\"\\x41\"");
    INVALID("\"a\nb\"");              /* a raw control character */
    INVALID("\"a\tb\"");
    INVALID("\"abc");
    INVALID("\"abc\\");
    INVALID("{");
    INVALID("[");
    INVALID("[1,");
    INVALID("[1,]");
    INVALID("[,1]");
    INVALID("{\"x\":1,}");
    INVALID("{\"x\"}");
    INVALID("{\"x\":}");
    INVALID("{x:1}");
    INVALID("{1:1}");
    INVALID("[1}");
    INVALID("{\"x\":1]");
    INVALID("]");
    INVALID("01");
    INVALID("-");
    INVALID("1.");
    INVALID(".5");
    INVALID("1e");
    INVALID("1e+");
    INVALID("+1");
    INVALID("NaN");
    INVALID("Infinity");
    INVALID("tru");
    INVALID("nulll");
    INVALID("True");
    INVALID("'x'");
    INVALID("[1 2]");
}

static void test_offsets(void)
{
    rill_json_check_error_t error = {0, NULL};
    CHECK(rill_json_check("{\"x\":1}garbage", 14, &error) != 0 && error.offset == 7);
    CHECK(rill_json_check("\"ab\xff\"", 5, &error) != 0 && error.offset == 3);
    CHECK(rill_json_check("[1,2,x]", 7, &error) != 0 && error.offset == 5);
    /* NUL is a byte like any other: a length, not a terminator. */
    CHECK(rill_json_check("1\0", 2, &error) != 0 && error.offset == 1);
    CHECK(rill_json_check("\"a\0\"", 4, &error) != 0 && error.offset == 2);
    CHECK(rill_json_check("[1]", 3, NULL) == 0);
    CHECK(rill_json_check("[", 1, NULL) != 0);
}

static void test_depth(void)
{
    size_t depth = RILL_JSON_CHECK_MAX_DEPTH;
    char *text = malloc(6 * (depth + 1) + 16);
    /* At the limit: accepted, objects and arrays mixed. */
    size_t length = 0;
    for (size_t i = 0; i < depth; i++) {
        if (i % 2 == 0) {
            memcpy(text + length, "{\"k\":", 5);
            length += 5;
        } else {
            text[length++] = '[';
        }
    }
    text[length++] = '1';
    for (size_t i = depth; i-- > 0;)
        text[length++] = i % 2 == 0 ? '}' : ']';
    CHECK(rill_json_check(text, length, NULL) == 0);
    /* One deeper: refused, at the bracket that went too deep. */
    length = 0;
    for (size_t i = 0; i <= depth; i++)
        text[length++] = '[';
    for (size_t i = 0; i <= depth; i++)
        text[length++] = ']';
    rill_json_check_error_t error = {0, NULL};
    CHECK(rill_json_check(text, length, &error) != 0 && error.offset == depth);
    free(text);
}

/* Strings are read eight bytes at a time: every byte value at every place
 * of a long string (and of its first and last word) gives the answer of
 * the byte-by-byte rules: printable ASCII but '"' and '\\' stands; '"' ends
 * the string early (bytes after the value); '\\' starts an escape ("\\a"
 * is not one); a control byte is refused, and so is a lone byte over 0x7f
 * (not UTF-8); and where it was found is the offset given. */
static void test_every_byte_in_a_long_string(void)
{
    int all_right = 1;
    char text[40];
    for (size_t place = 1; place < 39 && all_right; place++) {
        for (int value = 1; value < 256; value++) {
            memset(text, 'a', sizeof(text));
            text[0] = '"';
            text[39] = '"';
            text[place] = (char)value;
            rill_json_check_error_t error = {0, NULL};
            int accepted = rill_json_check(text, sizeof(text), &error) == 0;
            int plain = value >= 0x20 && value < 0x80 && value != '"' && value != '\\';
            /* (a '\\' just before the closing quote escapes it: the string
             * never ends, said at its start) */
            int expected_offset = value == '\\' ? (place == 38 ? 0 : (int)place)
                                  : value == '"' ? (int)place + 1 : (int)place;
            if (accepted != plain || (!accepted && (int)error.offset != expected_offset)) {
                fprintf(stderr, "  byte 0x%02x at %zu: accepted %d, offset %zu\n", value, place, accepted,
                        error.offset);
                all_right = 0;
                break;
            }
        }
    }
    CHECK(all_right);
}

int main(void)
{
    test_valid();
    test_invalid();
    test_offsets();
    test_depth();
    test_every_byte_in_a_long_string();
    RILL_TEST_END();
}
