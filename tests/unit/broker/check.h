/* check.h - the broker unit tests' assertion macro: counts failures, keeps going. */
#ifndef RILL_BROKER_TEST_CHECK_H
#define RILL_BROKER_TEST_CHECK_H

#include <stdio.h>

static int check_failures;

#define CHECK(condition)                                                                           \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #condition);                   \
            check_failures++;                                                                      \
        }                                                                                          \
    } while (0)

static inline int check_report(const char *name)
{
    if (check_failures == 0)
        printf("%s: all checks passed\n", name);
    else
        fprintf(stderr, "%s: %d failures\n", name, check_failures);
    return check_failures == 0 ? 0 : 1;
}

#endif
