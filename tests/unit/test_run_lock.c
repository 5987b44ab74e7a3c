/* test_run_lock.c - one holder per run directory; the second learns its pid. */
#include "rill_run_lock.h"
#include "rill_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    char dir[] = "/tmp/rill-run-lock-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char error[512] = "";
    int first = rill_run_lock_acquire(dir, error, sizeof(error));
    CHECKF(first >= 0, "%s", error);

    /* A second open file description is refused, naming this pid. */
    int second = rill_run_lock_acquire(dir, error, sizeof(error));
    CHECK(second == -1);
    char expected[64];
    snprintf(expected, sizeof(expected), "in use by rill-broker pid %ld", (long)getpid());
    CHECKF(strstr(error, expected) != NULL, "error was: %s", error);

    rill_run_lock_release(&first);
    CHECK(first == -1);
    rill_run_lock_release(&first); /* twice is fine */

    /* Released: the next holder gets it. */
    int third = rill_run_lock_acquire(dir, error, sizeof(error));
    CHECKF(third >= 0, "%s", error);
    rill_run_lock_release(&third);

    /* A directory that does not exist is an error with a reason, not a crash. */
    CHECK(rill_run_lock_acquire("/nonexistent/rill", error, sizeof(error)) == -1);
    CHECK(strstr(error, "cannot open") != NULL);

    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, RILL_RUN_LOCK_NAME);
    unlink(path);
    rmdir(dir);
    RILL_TEST_END();
}
