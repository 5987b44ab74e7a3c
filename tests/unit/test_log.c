/* test_log.c - the log line carries ms since start, role, pid, level and who. */
#include "rill_log.h"
#include "rill_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    char path[] = "/tmp/rill-log-test-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    rill_log_init("tester");
    CHECK(rill_log_set_level_name("debug") == 0);
    CHECK(rill_log_set_level_name("loud") == -1);
    rill_log_info("127.0.0.1:5000", "job %s started", "abc");
    rill_log_set_level(RILL_LOG_WARN);
    rill_log_info("127.0.0.1:5000", "must not appear");
    rill_log_debug(NULL, "must not appear either");
    rill_log_error(NULL, "broken %d", 7);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);

    char text[1024] = {0};
    FILE *file = fopen(path, "r");
    size_t length = fread(text, 1, sizeof(text) - 1, file);
    fclose(file);
    close(fd);
    unlink(path);
    text[length] = '\0';
    char expected[64];
    snprintf(expected, sizeof(expected), "tester[%d] info  127.0.0.1:5000 job abc started", (int)getpid());
    CHECK(strstr(text, expected) != NULL);
    CHECK(strstr(text, "ms tester[") != NULL);
    CHECK(strstr(text, "must not appear") == NULL);
    CHECK(strstr(text, "error - broken 7") != NULL);
    RILL_TEST_END();
}
