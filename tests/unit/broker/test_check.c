/* test_check.c - the endpoint `rill-broker --check` connects to for a bound one. */
#include "check.h"
#include "rill_test.h"

static const char *connect_to(const char *bound)
{
    static char out[128];
    if (rill_broker_check_endpoint(bound, out, sizeof(out)) != 0)
        return "(too long)";
    return out;
}

int main(void)
{
    CHECK(strcmp(connect_to("tcp://*:5561"), "tcp://127.0.0.1:5561") == 0);
    CHECK(strcmp(connect_to("tcp://0.0.0.0:5561"), "tcp://127.0.0.1:5561") == 0);
    CHECK(strcmp(connect_to("tcp://[::]:5561"), "tcp://[::1]:5561") == 0);
    CHECK(strcmp(connect_to("tcp://10.0.0.5:5561"), "tcp://10.0.0.5:5561") == 0);
    CHECK(strcmp(connect_to("tcp://broker:5561"), "tcp://broker:5561") == 0);
    CHECK(strcmp(connect_to("ipc:///run/rill/control.sock"), "ipc:///run/rill/control.sock") == 0);
    char small[16];
    CHECK(rill_broker_check_endpoint("tcp://*:5561", small, sizeof(small)) == -1);
    CHECK(rill_broker_check_endpoint("ipc:///a/long/path.sock", small, sizeof(small)) == -1);
    RILL_TEST_END();
}
