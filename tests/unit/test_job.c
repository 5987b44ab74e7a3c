/* test_job.c - job objects and each built-in kind's arguments (their check is the
 * arguments half of workers/kind_<name>.c, in librill): what is accepted, what
 * is refused and how. */
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

static int budget(const rill_config_t *config, const char *text, rill_job_error_t *error)
{
    json_t *jobs = json_loads(text, 0, NULL);
    int result = rill_job_request_budget(config, jobs, error);
    json_decref(jobs);
    return result;
}

/* max_request_bytes bounds the sum over a request's demo jobs. */
static void check_request_budget(const rill_config_t *defaults)
{
    rill_config_t config = *defaults;
    config.max_request_bytes = 1000;
    rill_job_error_t error;
    CHECK(budget(&config, "[{\"kind\":\"demo\",\"args\":{\"parts\":5,\"size\":100}},"
                          "{\"kind\":\"demo\",\"args\":{\"parts\":5,\"size\":100}},"
                          "{\"kind\":\"tail\",\"args\":{\"path\":\"x\"}}]", &error) == 0);
    CHECK(budget(&config, "[{\"kind\":\"demo\",\"args\":{\"parts\":5,\"size\":100}},"
                          "{\"kind\":\"demo\",\"args\":{\"parts\":5,\"size\":101}}]", &error) == -1);
    CHECK(error.status == 413 && strcmp(error.code, "request_too_large") == 0);
    CHECK(budget(&config, "[{\"kind\":\"demo\"},{\"kind\":\"unknown\"}]", &error) == 0);
}

/* A job's source: its own, else its upstream (http, subscribe), else its kind. */
static void check_source(void)
{
    json_t *args = json_pack("{s:s, s:s}", "upstream", "shop", "item", "a1");
    CHECK(strcmp(rill_job_source("http", NULL, args), "shop") == 0);
    CHECK(strcmp(rill_job_source("subscribe", NULL, args), "shop") == 0);
    CHECK(strcmp(rill_job_source("http", "mine", args), "mine") == 0); /* an override */
    CHECK(strcmp(rill_job_source("http", "", args), "shop") == 0);
    CHECK(strcmp(rill_job_source("demo", NULL, args), "demo") == 0);
    CHECK(strcmp(rill_job_source("http", NULL, NULL), "http") == 0);
    json_t *odd = json_pack("{s:i}", "upstream", 3);
    CHECK(strcmp(rill_job_source("http", NULL, odd), "http") == 0);
    json_decref(odd);
    json_decref(args);
}

int main(void)
{
    check_source();
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

    CHECK(validate(&config, "{\"kind\":\"demo\",\"args\":{\"parts\":7,\"interval_ms\":50,\"jitter_ms\":5,\"size\":64}}",
                   &error) == 0);
    /* Each bound alone is accepted; both at once ask for ~1 TB: over
     * max_request_bytes (issue 9), 413 request_too_large. */
    CHECK(validate(&config, "{\"kind\":\"demo\",\"args\":{\"parts\":1000000,\"size\":0}}", &error) == 0);
    CHECK(validate(&config, "{\"kind\":\"demo\",\"args\":{\"parts\":256,\"size\":1048576}}", &error) == 0);
    CHECK(validate(&config, "{\"kind\":\"demo\",\"args\":{\"parts\":1000000,\"size\":1048576}}", &error) == -1);
    CHECK(error.status == 413 && strcmp(error.code, "request_too_large") == 0);
    CHECK(strstr(error.message, "max_request_bytes") != NULL);
    check_request_budget(&config);
    CHECK(validate(&config, "{\"kind\":\"demo\",\"args\":{\"parts\":1000001}}", &error) == -1);
    CHECK(error.status == 422 && strcmp(error.code, "invalid_args") == 0);
    CHECK(strcmp(error.message, "\"parts\" must be an integer from 0 to 1000000") == 0);
    CHECK(validate(&config, "{\"kind\":\"demo\",\"args\":{\"speed\":1}}", &error) == -1);
    CHECK(strcmp(error.message, "demo takes no argument \"speed\"") == 0);

    /* The table of kinds: every built-in kind (rill_kind_list.h) is found and
     * declared by default; a kind only the config declares takes any args. */
    CHECK(rill_kind_find("demo") == &rill_kind_demo && rill_kind_find("http") == &rill_kind_http);
    CHECK(rill_kind_find("nope") == NULL);
#define RILL_KIND(name) CHECK(rill_kind_find(#name) != NULL && rill_config_declares_kind(&config, #name));
#include "rill_kind_list.h"
#undef RILL_KIND
    CHECK(config.kind_count == 5);
    rill_config_t custom = config;
    snprintf(custom.kinds[custom.kind_count++], sizeof(custom.kinds[0]), "report");
    CHECK(validate(&custom, "{\"kind\":\"report\",\"args\":{\"anything\":[1,2]}}", &error) == 0);
    CHECK(validate(&custom, "{\"kind\":\"report\",\"args\":[1]}", &error) == -1 && error.status == 422);

    /* tail: paths out of the root are forbidden (403), other bad paths 422. */
    static const char *const tail_paths_ok[] = {"a.log", "logs/a..b", "...", "x/./y"};
    for (size_t i = 0; i < sizeof(tail_paths_ok) / sizeof(tail_paths_ok[0]); i++) {
        json_t *job = json_pack("{s:s, s:{s:s}}", "kind", "tail", "args", "path", tail_paths_ok[i]);
        CHECKF(rill_job_validate(&config, job, &error) == 0, "%s: %s", tail_paths_ok[i], error.message);
        json_decref(job);
    }
    static const char *const tail_paths_forbidden[] = {"/etc/passwd", "..", "../x", "x/..", "x/../y"};
    for (size_t i = 0; i < sizeof(tail_paths_forbidden) / sizeof(tail_paths_forbidden[0]); i++) {
        json_t *job = json_pack("{s:s, s:{s:s}}", "kind", "tail", "args", "path", tail_paths_forbidden[i]);
        CHECKF(rill_job_validate(&config, job, &error) == -1 && error.status == 403 &&
                   strcmp(error.code, "forbidden") == 0, "%s", tail_paths_forbidden[i]);
        json_decref(job);
    }
    CHECK(validate(&config, "{\"kind\":\"tail\",\"args\":{\"path\":\"\"}}", &error) == -1);
    CHECK(error.status == 422 && strcmp(error.code, "invalid_args") == 0);
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
    CHECK(strcmp(error.message, "tail needs \"path\"") == 0);
    CHECK(validate(&config, "{\"kind\":\"tail\",\"args\":{\"path\":7}}", &error) == -1);
    CHECK(strcmp(error.message, "\"path\" is required and must be a string") == 0);
    CHECK(validate(&config, "{\"kind\":\"tail\",\"args\":{\"path\":\"a\",\"mode\":1}}", &error) == -1);
    CHECK(strcmp(error.message, "tail takes no argument \"mode\"") == 0);

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
