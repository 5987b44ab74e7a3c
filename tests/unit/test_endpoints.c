/* test_endpoints.c - endpoints derive from the run dir; flags beat the environment. */
#include "rill_endpoints.h"
#include "rill_test.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void)
{
    rill_endpoints_t endpoints;
    char error[256];
    unsetenv("RILL_RUN_DIR");
    unsetenv("RILL_CONTROL_ENDPOINT");
    setenv("RILL_EVENTS_ENDPOINT", "tcp://127.0.0.1:7001", 1);
    unsetenv("RILL_WORKERS_ENDPOINT");
    rill_endpoints_from_environment(&endpoints);
    CHECK(rill_endpoints_finish(&endpoints, error, sizeof(error)) == 0);
    CHECK(strcmp(endpoints.run_dir, "run") == 0);
    CHECK(strcmp(endpoints.control, "ipc://run/control.sock") == 0);
    CHECK(strcmp(endpoints.events, "tcp://127.0.0.1:7001") == 0);

    rill_endpoints_from_environment(&endpoints);
    CHECK(rill_endpoints_set(&endpoints, "run-dir", "/tmp/rill-endpoints-test") == 0);
    CHECK(rill_endpoints_set(&endpoints, "events", "ipc:///tmp/x.sock") == 0);
    CHECK(rill_endpoints_set(&endpoints, "nonsense", "x") == -1);
    CHECK(rill_endpoints_finish(&endpoints, error, sizeof(error)) == 0);
    CHECK(strcmp(endpoints.workers, "ipc:///tmp/rill-endpoints-test/workers.sock") == 0);
    CHECK(strcmp(endpoints.events, "ipc:///tmp/x.sock") == 0);

    rmdir("/tmp/rill-endpoints-test");
    CHECK(mkdir("/tmp/rill-endpoints-test", 0755) == 0);
    CHECK(rill_endpoints_prepare_run_dir(&endpoints, error, sizeof(error)) == 0);
    struct stat info;
    CHECK(stat("/tmp/rill-endpoints-test", &info) == 0 && (info.st_mode & 0777) == 0700);
    rmdir("/tmp/rill-endpoints-test");

    char long_value[RILL_ENDPOINT_MAX + 10];
    memset(long_value, 'a', sizeof(long_value) - 1);
    long_value[sizeof(long_value) - 1] = '\0';
    CHECK(rill_endpoints_set(&endpoints, "control", long_value) == -1);

    /* Lists (a broker and its standby): refused where one is bound. */
    unsetenv("RILL_EVENTS_ENDPOINT");
    setenv("RILL_WORKERS_ENDPOINT", "tcp://10.0.0.1:7002,tcp://10.0.0.2:7002", 1);
    rill_endpoints_from_environment(&endpoints);
    CHECK(rill_endpoints_finish(&endpoints, error, sizeof(error)) == -1);
    CHECK(strstr(error, "workers endpoint") != NULL && strstr(error, "binds exactly one") != NULL);
    rill_endpoints_from_environment(&endpoints);
    rill_endpoints_allow_lists(&endpoints);
    CHECK(rill_endpoints_finish(&endpoints, error, sizeof(error)) == 0);
    CHECK(rill_endpoints_count(endpoints.workers) == 2 && rill_endpoints_count(endpoints.control) == 1);
    unsetenv("RILL_WORKERS_ENDPOINT");

    char out[RILL_ENDPOINT_LIST_MAX][RILL_ENDPOINT_MAX];
    CHECK(rill_endpoints_split("ipc:///a.sock", "control", out, error, sizeof(error)) == 1);
    CHECK(strcmp(out[0], "ipc:///a.sock") == 0);
    CHECK(rill_endpoints_split("tcp://a:1,tcp://b:1", "control", out, error, sizeof(error)) == 2);
    CHECK(strcmp(out[0], "tcp://a:1") == 0 && strcmp(out[1], "tcp://b:1") == 0);
    CHECK(rill_endpoints_split("tcp://a:1,tcp://b:1,tcp://c:1", "events", out, error, sizeof(error)) == -1);
    CHECK(strstr(error, "events endpoints") != NULL && strstr(error, "at most 2") != NULL);
    CHECK(rill_endpoints_split("tcp://a:1,", "control", out, error, sizeof(error)) == -1);
    CHECK(rill_endpoints_split(",tcp://a:1", "control", out, error, sizeof(error)) == -1);
    CHECK(rill_endpoints_split("", "control", out, error, sizeof(error)) == -1);
    /* A run dir's path may have a space: an ipc:// endpoint then has one. */
    CHECK(rill_endpoints_split("ipc:///tmp/my dir/a.sock,ipc:///b", "control", out, error, sizeof(error)) == 2);
    CHECK(strcmp(out[0], "ipc:///tmp/my dir/a.sock") == 0);
    CHECK(rill_endpoints_split("tcp://a:1,tcp://a:1", "control", out, error, sizeof(error)) == -1);
    CHECK(strstr(error, "the same endpoint twice") != NULL);

    rill_endpoints_from_environment(&endpoints);
    rill_endpoints_allow_lists(&endpoints);
    CHECK(rill_endpoints_set(&endpoints, "control", "tcp://a:1,,") == 0);
    CHECK(rill_endpoints_finish(&endpoints, error, sizeof(error)) == -1);
    /* A broker's single endpoint is left to its bind, as before. */
    rill_endpoints_from_environment(&endpoints);
    CHECK(rill_endpoints_set(&endpoints, "control", "tcp://a:1") == 0);
    CHECK(rill_endpoints_finish(&endpoints, error, sizeof(error)) == 0);
    RILL_TEST_END();
}
