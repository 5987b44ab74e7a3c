/* test_job.c - job objects and demo arguments: what is accepted, what is refused and how. */
#include "rill_job.h"
#include "rill_test.h"

#include <stdio.h>
#include <string.h>

static int validate(const rill_config_t *config, const char *text, rill_job_error_t *error)
{
    json_t *job = json_loads(text, JSON_ALLOW_NUL, NULL);
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

    /* The built-in kinds are declared by default. */
    CHECK(rill_config_declares_kind(&config, "tail") && rill_config_declares_kind(&config, "exec") &&
          rill_config_declares_kind(&config, "http"));

    /* tail: paths out of the root are forbidden (403), other bad args 422. */
    CHECK(rill_tail_path_check("a.log", 5) == 0);
    CHECK(rill_tail_path_check("logs/a..b", 9) == 0);
    CHECK(rill_tail_path_check("...", 3) == 0);
    CHECK(rill_tail_path_check("/etc/passwd", 11) == -1);
    CHECK(rill_tail_path_check("..", 2) == -1);
    CHECK(rill_tail_path_check("../x", 4) == -1);
    CHECK(rill_tail_path_check("x/..", 4) == -1);
    CHECK(rill_tail_path_check("x/../y", 6) == -1);
    CHECK(rill_tail_path_check("", 0) == -2);
    CHECK(rill_tail_path_check("a\0b", 3) == -2);
    CHECK(validate(&config, "{\"kind\":\"tail\",\"args\":{\"path\":\"app.log\",\"from\":\"start\"}}", &error) == 0);
    CHECK(validate(&config, "{\"kind\":\"tail\",\"args\":{\"path\":\"/etc/passwd\"}}", &error) == -1);
    CHECK(error.status == 403 && strcmp(error.code, "forbidden") == 0);
    CHECK(validate(&config, "{\"kind\":\"tail\",\"args\":{\"path\":\"a/../../b\"}}", &error) == -1);
    CHECK(error.status == 403);
    CHECK(validate(&config, "{\"kind\":\"tail\",\"args\":{\"path\":\"a\\u0000b\"}}", &error) == -1);
    CHECK(error.status == 422 && strcmp(error.code, "invalid_args") == 0);
    CHECK(validate(&config, "{\"kind\":\"tail\",\"args\":{\"path\":\"a\",\"from\":\"middle\"}}", &error) == -1);
    CHECK(error.status == 422);
    CHECK(validate(&config, "{\"kind\":\"tail\"}", &error) == -1 && error.status == 422);

    /* exec: only the allowlist (403), at most max_args string args (422). */
    config.exec_count = 1;
    snprintf(config.exec[0].name, sizeof(config.exec[0].name), "seq");
    snprintf(config.exec[0].argv[0], sizeof(config.exec[0].argv[0]), "/usr/bin/seq");
    config.exec[0].argc = 1;
    config.exec[0].max_args = 2;
    CHECK(validate(&config, "{\"kind\":\"exec\",\"args\":{\"name\":\"seq\",\"args\":[\"1\",\"5\"]}}", &error) == 0);
    CHECK(validate(&config, "{\"kind\":\"exec\",\"args\":{\"name\":\"sh\"}}", &error) == -1);
    CHECK(error.status == 403 && strcmp(error.code, "forbidden") == 0);
    CHECK(validate(&config, "{\"kind\":\"exec\",\"args\":{\"name\":\"seq\",\"args\":[\"1\",\"2\",\"3\"]}}", &error) == -1);
    CHECK(error.status == 422);
    CHECK(validate(&config, "{\"kind\":\"exec\",\"args\":{\"name\":\"seq\",\"args\":[1]}}", &error) == -1);
    CHECK(error.status == 422);
    CHECK(validate(&config, "{\"kind\":\"exec\",\"args\":{\"name\":\"seq\",\"args\":[\"a\\u0000\"]}}", &error) == -1);
    CHECK(error.status == 422);

    /* http: only declared upstreams (403); path or item (422). */
    config.upstream_count = 2;
    snprintf(config.upstreams[0].id, sizeof(config.upstreams[0].id), "api");
    snprintf(config.upstreams[0].url, sizeof(config.upstreams[0].url), "http://127.0.0.1:9000");
    snprintf(config.upstreams[0].list_url, sizeof(config.upstreams[0].list_url), "http://127.0.0.1:9000/i?ids={ids}");
    snprintf(config.upstreams[1].id, sizeof(config.upstreams[1].id), "plain");
    snprintf(config.upstreams[1].url, sizeof(config.upstreams[1].url), "http://127.0.0.1:9001/");
    config.upstreams[1].list_url[0] = '\0';
    CHECK(validate(&config, "{\"kind\":\"http\",\"args\":{\"upstream\":\"api\",\"path\":\"/x?y=1\"}}", &error) == 0);
    CHECK(validate(&config, "{\"kind\":\"http\",\"args\":{\"upstream\":\"api\",\"item\":\"a-1\"}}", &error) == 0);
    CHECK(validate(&config, "{\"kind\":\"http\",\"args\":{\"upstream\":\"other\",\"path\":\"/\"}}", &error) == -1);
    CHECK(error.status == 403 && strcmp(error.code, "forbidden") == 0);
    CHECK(validate(&config, "{\"kind\":\"http\",\"args\":{\"upstream\":\"api\",\"path\":\"@evil.example/\"}}", &error) == -1);
    CHECK(error.status == 422);
    CHECK(validate(&config, "{\"kind\":\"http\",\"args\":{\"upstream\":\"api\",\"path\":\"/a b\"}}", &error) == -1);
    CHECK(validate(&config, "{\"kind\":\"http\",\"args\":{\"upstream\":\"api\"}}", &error) == -1 && error.status == 422);
    CHECK(validate(&config, "{\"kind\":\"http\",\"args\":{\"upstream\":\"api\",\"item\":\"a,b\"}}", &error) == -1);
    CHECK(validate(&config, "{\"kind\":\"http\",\"args\":{\"upstream\":\"plain\",\"item\":\"a\"}}", &error) == -1);
    CHECK(error.status == 422 && strstr(error.message, "list") != NULL);
    RILL_TEST_END();
}
