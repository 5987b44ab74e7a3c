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
    RILL_TEST_END();
}
