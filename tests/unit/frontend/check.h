/* check.h - the frontend unit tests' one assertion: report and count, never abort. */
#ifndef RILL_FRONTEND_TEST_CHECK_H
#define RILL_FRONTEND_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(condition)                                                                           \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);          \
            check_failures++;                                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_BYTES(bytes, length, expected)                                                       \
    do {                                                                                           \
        const char *check_expected = (expected);                                                   \
        size_t check_length = (length);                                                            \
        if (check_length != strlen(check_expected) ||                                              \
            memcmp((bytes), check_expected, check_length) != 0) {                                  \
            fprintf(stderr, "%s:%d: got \"%.*s\", expected \"%s\"\n", __FILE__, __LINE__,          \
                    (int)check_length, (const char *)(bytes), check_expected);                     \
            check_failures++;                                                                      \
        }                                                                                          \
    } while (0)

#define CHECK_DONE()                                                                               \
    do {                                                                                           \
        if (check_failures > 0) {                                                                  \
            fprintf(stderr, "%d check(s) failed\n", check_failures);                               \
            return 1;                                                                              \
        }                                                                                          \
        return 0;                                                                                  \
    } while (0)

#endif
