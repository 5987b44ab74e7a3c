/*
 * rill_test.h - the few macros rill's unit tests share.
 *
 * CHECK records a failure with file and line and goes on, so one run shows
 * every broken expectation; RILL_TEST_END prints "N passed, N failed" for
 * the file and turns any failure into a non-zero exit status.
 */
#ifndef RILL_TEST_H
#define RILL_TEST_H

#include <stdio.h>
#include <string.h>

static int rill_test_passed;
static int rill_test_failed;

#define CHECK(condition)                                                                           \
    do {                                                                                           \
        if (condition) {                                                                           \
            rill_test_passed++;                                                                    \
        } else {                                                                                   \
            rill_test_failed++;                                                                    \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);          \
        }                                                                                          \
    } while (0)

/* CHECKF: CHECK with a printf-style explanation of what was seen. */
#define CHECKF(condition, ...)                                                                     \
    do {                                                                                           \
        if (condition) {                                                                           \
            rill_test_passed++;                                                                    \
        } else {                                                                                   \
            rill_test_failed++;                                                                    \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #condition);          \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
        }                                                                                          \
    } while (0)

/* CHECK_BYTES: bytes of a given length equal a C string; prints both when not. */
#define CHECK_BYTES(bytes, length, expected)                                                       \
    do {                                                                                           \
        const char *check_expected = (expected);                                                   \
        size_t check_length = (length);                                                            \
        if (check_length == strlen(check_expected) &&                                              \
            memcmp((bytes), check_expected, check_length) == 0) {                                  \
            rill_test_passed++;                                                                    \
        } else {                                                                                   \
            rill_test_failed++;                                                                    \
            fprintf(stderr, "%s:%d: got \"%.*s\", expected \"%s\"\n", __FILE__, __LINE__,          \
                    (int)check_length, (const char *)(bytes), check_expected);                     \
        }                                                                                          \
    } while (0)

#define RILL_TEST_END()                                                                            \
    do {                                                                                           \
        printf("%d passed, %d failed\n", rill_test_passed, rill_test_failed);                      \
        return rill_test_failed == 0 ? 0 : 1;                                                      \
    } while (0)

#endif
