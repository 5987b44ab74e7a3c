/* test_job.c - job objects and demo arguments: what is accepted, what is refused and how. */
#include "rill_job.h"
#include "rill_test.h"

#include <string.h>

static int validate(const rill_config_t *config, const char *text, rill_job_error_t *error)
{
    json_t *job = json_loads(text, 0, NULL);
    int result = rill_job_validate(config, job, error);
    json_decref(job);
    return result;
}

int main(void)
{
    rill_config_t config;
    rill_config_defaults(&config);
    rill_job_error_t error;

    CHECK(validate(&config, "{\"kind\":\"demo\"}", &error) == 0);
    CHECK(validate(&config, "{\"kind\":\"demo\",\"source\":\"s\",\"key\":\"k\",\"args\":{\"parts\":5,\"interval_ms\":200}}", &error) == 0);

    CHECK(validate(&config, "{\"kind\":\"nope\"}", &error) == -1);
    CHECK(error.status == 422 && strcmp(error.code, "unknown_kind") == 0);
    CHECK(validate(&config, "{}", &error) == -1 && error.status == 422);
    CHECK(validate(&config, "[1]", &error) == -1 && error.status == 422);
    CHECK(validate(&config, "{\"kind\":\"demo\",\"colour\":1}", &error) == -1);
    CHECK(strstr(error.message, "colour") != NULL);
    CHECK(validate(&config, "{\"kind\":\"demo\",\"args\":[]}", &error) == -1);
    CHECK(strcmp(error.code, "invalid_args") == 0);
    CHECK(validate(&config, "{\"kind\":\"demo\",\"args\":{\"parts\":-1}}", &error) == -1);
    CHECK(validate(&config, "{\"kind\":\"demo\",\"args\":{\"parts\":\"3\"}}", &error) == -1);
    CHECK(validate(&config, "{\"kind\":\"demo\",\"args\":{\"interval_ms\":10,\"jitter_ms\":11}}", &error) == -1);
    CHECK(validate(&config, "{\"kind\":\"demo\",\"args\":{\"speed\":1}}", &error) == -1);
    CHECK(validate(&config, "{\"kind\":\"demo\",\"source\":\"\"}", &error) == -1);

    rill_demo_args_t demo;
    CHECK(rill_demo_args_parse(NULL, &demo, &error) == 0);
    CHECK(demo.parts == 3 && demo.interval_ms == 100 && demo.jitter_ms == 0 && demo.size == 0);
    json_t *args = json_pack("{s:i, s:i, s:i, s:i}", "parts", 7, "interval_ms", 50, "jitter_ms", 5, "size", 64);
    CHECK(rill_demo_args_parse(args, &demo, &error) == 0);
    CHECK(demo.parts == 7 && demo.interval_ms == 50 && demo.jitter_ms == 5 && demo.size == 64);
    json_decref(args);
    RILL_TEST_END();
}
