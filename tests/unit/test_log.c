/* test_log.c - the log line carries ms since the system's start, role, pid,
 * level and who; RILL_START_EPOCH_MS sets the start (docs/LOGGING.md). */
#include "rill_clock.h"
#include "rill_log.h"
#include "rill_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs write with stderr redirected to a file, and returns what it wrote. */
static void capture(void (*write)(void), char *text, size_t size)
{
    char path[] = "/tmp/rill-log-test-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    write();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    FILE *file = fopen(path, "r");
    size_t length = file != NULL ? fread(text, 1, size - 1, file) : 0;
    if (file != NULL)
        fclose(file);
    close(fd);
    unlink(path);
    text[length] = '\0';
}

static void write_levels(void)
{
    rill_log_init("tester");
    CHECK(rill_log_set_level_name("debug") == 0);
    CHECK(rill_log_set_level_name("loud") == -1);
    rill_log_info("127.0.0.1:5000", "job %s started", "abc");
    rill_log_set_level(RILL_LOG_WARN);
    rill_log_info("127.0.0.1:5000", "must not appear");
    rill_log_debug(NULL, "must not appear either");
    rill_log_error(NULL, "broken %d", 7);
}

static void write_one_line(void)
{
    rill_log_set_level(RILL_LOG_INFO);
    rill_log_init("tester");
    rill_log_info(NULL, "a line");
}

/* The ms of the last line of text that says "a line", or -1. */
static long last_ms(const char *text)
{
    const char *line = strstr(text, "a line");
    if (line == NULL)
        return -1;
    while (line > text && line[-1] != '\n')
        line--;
    return strtol(line, NULL, 10);
}

/* The ms a line logged right after rill_log_init gets with start set to
 * value (NULL: unset); the whole output in text. */
static long ms_with_start(const char *value, char *text, size_t size)
{
    if (value != NULL)
        setenv(RILL_LOG_START_ENV, value, 1);
    else
        unsetenv(RILL_LOG_START_ENV);
    capture(write_one_line, text, size);
    return last_ms(text);
}

int main(void)
{
    char text[2048];
    unsetenv(RILL_LOG_START_ENV);
    capture(write_levels, text, sizeof(text));
    char expected[64];
    snprintf(expected, sizeof(expected), "tester[%d] info  127.0.0.1:5000 job abc started", (int)getpid());
    CHECK(strstr(text, expected) != NULL);
    CHECK(strstr(text, "ms tester[") != NULL);
    CHECK(strstr(text, "must not appear") == NULL);
    CHECK(strstr(text, "error - broken 7") != NULL);

    /* Alone: ms count from this process's start (rill_log_init). */
    long ms = ms_with_start(NULL, text, sizeof(text));
    CHECKF(ms >= 0 && ms < 1000, "alone: %ld ms in %s", ms, text);

    /* Handed a start 5 s ago: the first line already says about 5000 ms. */
    char value[32];
    snprintf(value, sizeof(value), "%llu", (unsigned long long)(rill_clock_wall_ms() - 5000));
    ms = ms_with_start(value, text, sizeof(text));
    CHECKF(ms >= 5000 && ms < 6000, "started 5 s ago: %ld ms in %s", ms, text);
    CHECK(strstr(text, "warn") == NULL);

    /* A start in the future (clocks of another host, a typo) counts as now. */
    snprintf(value, sizeof(value), "%llu", (unsigned long long)(rill_clock_wall_ms() + 60000));
    ms = ms_with_start(value, text, sizeof(text));
    CHECKF(ms >= 0 && ms < 1000, "future start: %ld ms in %s", ms, text);

    /* Not a number: said once, and ms count from the process's own start. */
    const char *bad[] = {"soon", "12x", "-5", "1234567890123456789", " 1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ms = ms_with_start(bad[i], text, sizeof(text));
        CHECKF(ms >= 0 && ms < 1000, "start \"%s\": %ld ms in %s", bad[i], ms, text);
        CHECKF(strstr(text, "warn  - RILL_START_EPOCH_MS=") != NULL, "start \"%s\": no warning in %s", bad[i], text);
    }
    /* Empty is unset: no warning. */
    ms = ms_with_start("", text, sizeof(text));
    CHECK(ms >= 0 && ms < 1000 && strstr(text, "warn") == NULL);
    unsetenv(RILL_LOG_START_ENV);
    RILL_TEST_END();
}
