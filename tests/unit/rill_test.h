/*
 * rill_test.h - the few macros rill's unit tests share.
 *
 * CHECK records a failure with file and line and goes on, so one run shows
 * every broken expectation; RILL_TEST_END prints "N passed, N failed" for
 * the file and turns any failure into a non-zero exit status.
 */
#ifndef RILL_TEST_H
#define RILL_TEST_H

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

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

/* REQUIRE: CHECKF for what a test cannot go on without: on failure it calls
 * the test's own finish(1), which stops what the test started and exits. */
#define REQUIRE(condition, ...)                                                                    \
    do {                                                                                           \
        int required_ = (condition) ? 1 : 0;                                                       \
        CHECKF(required_, __VA_ARGS__);                                                            \
        if (!required_)                                                                            \
            finish(1);                                                                             \
    } while (0)

/* Stops a process the test started (SIGTERM, then waits for it); with
 * check_exit, checks that it exited 0. */
static inline void rill_test_stop_process(pid_t pid, const char *name, int check_exit)
{
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    if (check_exit)
        CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s exit status %d", name, status);
}

/* Writes text to DIR/config.json (the config of a process the test starts)
 * and its path into path. 0, or -1 when it cannot be written. */
static inline int rill_test_write_config(const char *dir, const char *text, char *path, size_t size)
{
    snprintf(path, size, "%s/config.json", dir);
    FILE *file = fopen(path, "w");
    if (file == NULL)
        return -1;
    int written = fputs(text, file) >= 0;
    return fclose(file) == 0 && written ? 0 : -1;
}

/* How many times needle occurs in text (overlapping ones too). */
static inline size_t rill_test_count_of(const char *text, const char *needle)
{
    size_t count = 0;
    for (const char *at = strstr(text, needle); at != NULL; at = strstr(at + 1, needle))
        count++;
    return count;
}

/* CLOCK_MONOTONIC in ms, for the deadlines of tests that drive processes. */
static inline long rill_test_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000L + now.tv_nsec / 1000000L;
}

#define RILL_TEST_END()                                                                            \
    do {                                                                                           \
        printf("%d passed, %d failed\n", rill_test_passed, rill_test_failed);                      \
        return rill_test_failed == 0 ? 0 : 1;                                                      \
    } while (0)

#endif
