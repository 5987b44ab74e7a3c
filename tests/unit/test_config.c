/* test_config.c - defaults, overrides, and refusal of bad configuration files. */
#include "rill_config.h"
#include "rill_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int load_text(const char *text, rill_config_t *config, char *error, size_t size)
{
    char path[] = "/tmp/rill-config-test-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -2;
    FILE *file = fdopen(fd, "w");
    fputs(text, file);
    fclose(file);
    int result = rill_config_load(path, config, error, size);
    unlink(path);
    return result;
}

int main(void)
{
    rill_config_t config;
    char error[512];
    rill_config_defaults(&config);
    CHECK(config.max_body_bytes == 1048576 && config.max_jobs_per_request == 1000);
    CHECK(config.retain_ms == 60000 && config.retain_parts == 1000);
    CHECK(rill_config_declares_kind(&config, "demo") && !rill_config_declares_kind(&config, "nope"));
    CHECK(config.topic_retain_messages == 100 && config.topic_retain_ms == 60000);
    CHECK(config.max_message_bytes == 16777216 && config.max_worker_credit == 64);

    CHECK(load_text("{\"retain_ms\": 5000, \"kinds\": [\"demo\", \"tail\"]}", &config, error, sizeof(error)) == 0);
    CHECK(config.retain_ms == 5000 && config.kind_count == 2);
    CHECK(rill_config_declares_kind(&config, "tail"));
    CHECK(config.max_body_bytes == 1048576); /* untouched keys keep defaults */

    CHECK(load_text("{\"topic_retain_messages\": 5, \"topic_retain_ms\": 0}", &config, error,
                    sizeof(error)) == 0);
    CHECK(config.topic_retain_messages == 5 && config.topic_retain_ms == 0);
    CHECK(load_text("{\"topic_retain_messages\": 100001}", &config, error, sizeof(error)) == -1);
    CHECK(strstr(error, "topic_retain_messages") != NULL);
    CHECK(load_text("{\"topic_retain_ms\": -1}", &config, error, sizeof(error)) == -1);
    CHECK(config.orphan_grace_ms == 30000);
    /* Byte bounds (issue 9): defaults, and retain_bytes 0 is refused. */
    CHECK(config.retain_bytes == 8u * 1024 * 1024 && config.retain_total_bytes == 256u * 1024 * 1024);
    CHECK(config.max_retained_jobs == 1000000);
    CHECK(config.max_part_bytes == 1024 * 1024 && config.max_request_bytes == 1024u * 1024 * 1024);
    CHECK(load_text("{\"retain_bytes\": 0}", &config, error, sizeof(error)) == -1);
    CHECK(load_text("{\"retain_total_bytes\": 1000, \"max_part_bytes\": 10}", &config, error,
                    sizeof(error)) == 0);
    CHECK(config.retain_total_bytes == 1000 && config.max_part_bytes == 10);
    CHECK(load_text("{\"orphan_grace_ms\": 0}", &config, error, sizeof(error)) == 0 && config.orphan_grace_ms == 0);
    CHECK(load_text("{\"max_retained_jobs\": 0}", &config, error, sizeof(error)) == 0 && config.max_retained_jobs == 0);
    CHECK(load_text("{\"max_retained_jobs\": 100000001}", &config, error, sizeof(error)) == -1);
    CHECK(load_text("{\"orphan_grace_ms\": 86400001}", &config, error, sizeof(error)) == -1);
    CHECK(strstr(error, "orphan_grace_ms") != NULL);
    CHECK(config.slow_client_action == RILL_SLOW_CLIENT_CLOSE);
    CHECK(config.slow_client_hard_bytes == 8u * 1024 * 1024 && config.slow_client_soft_ms == 10000);
    CHECK(load_text("{\"slow_client_action\": \"gap\", \"slow_client_soft_bytes\": 4096}", &config, error,
                    sizeof(error)) == 0);
    CHECK(config.slow_client_action == RILL_SLOW_CLIENT_GAP && config.slow_client_soft_bytes == 4096);
    CHECK(load_text("{\"slow_client_action\": \"drop\"}", &config, error, sizeof(error)) == -1);
    CHECK(strstr(error, "slow_client_action") != NULL);
    CHECK(config.ready_requires_worker == 0);
    CHECK(load_text("{\"ready_requires_worker\": true}", &config, error, sizeof(error)) == 0);
    CHECK(config.ready_requires_worker == 1);
    CHECK(load_text("{\"ready_requires_worker\": 1}", &config, error, sizeof(error)) == -1);
    CHECK(strstr(error, "ready_requires_worker") != NULL);
    CHECK(load_text("{\"slow_client_hard_bytes\": 8192, \"slow_client_soft_bytes\": 16384}", &config, error,
                    sizeof(error)) == -1);
    CHECK(strstr(error, "must not exceed") != NULL);
    CHECK(load_text("{\"cors_origins\": [\"https://app.example\", \"http://localhost:3000\"], "
                    "\"auth_token\": \"abcdefghijklmnop-_.\"}", &config, error, sizeof(error)) == 0);
    CHECK(config.cors_origin_count == 2 && strcmp(config.cors_origins[1], "http://localhost:3000") == 0);
    CHECK(strcmp(config.auth_token, "abcdefghijklmnop-_.") == 0);
    CHECK(load_text("{\"cors_origins\": [\"app.example\"]}", &config, error, sizeof(error)) == -1);
    CHECK(load_text("{\"cors_origins\": [\"https://app.example/\"]}", &config, error, sizeof(error)) == -1);
    CHECK(load_text("{\"auth_token\": \"short\"}", &config, error, sizeof(error)) == -1);
    CHECK(load_text("{\"auth_token\": \"has a space in it, too long\"}", &config, error, sizeof(error)) == -1);
    CHECK(load_text("{\"retain_msec\": 5}", &config, error, sizeof(error)) == -1);
    CHECK(strstr(error, "unknown setting \"retain_msec\"") != NULL);
    CHECK(load_text("{\"heartbeat_ms\": 1}", &config, error, sizeof(error)) == -1);
    CHECK(strstr(error, "\"heartbeat_ms\" must be an integer from 50 to 60000") != NULL);
    /* The bounds on peers (docs/PROTOCOL.md, "Bounds"). */
    CHECK(load_text("{\"max_message_bytes\": 1000}", &config, error, sizeof(error)) == -1);
    CHECK(load_text("{\"max_worker_credit\": 0}", &config, error, sizeof(error)) == -1);
    CHECK(load_text("{\"max_message_bytes\": 65536, \"max_body_bytes\": 32768, \"max_worker_credit\": 1}", &config,
                    error, sizeof(error)) == 0);
    CHECK(config.max_message_bytes == 65536 && config.max_worker_credit == 1);
    CHECK(load_text("{\"max_body_bytes\": 16777216}", &config, error, sizeof(error)) == -1);
    CHECK(strstr(error, "\"max_message_bytes\" must be at least twice \"max_body_bytes\"") != NULL);
    /* Number settings take their bounds, inclusive, from one table type for
     * both levels: the top level and each pipeline. */
    CHECK(load_text("{\"heartbeat_ms\": 60000}", &config, error, sizeof(error)) == 0 && config.heartbeat_ms == 60000);
    CHECK(load_text("{\"heartbeat_ms\": -50}", &config, error, sizeof(error)) == -1);
    CHECK(load_text("{\"pipelines\": [{\"name\": \"a\", \"match\": {\"kind\": \"demo\"}, \"buffer_max\": 10000}]}",
                    &config, error, sizeof(error)) == 0 && config.pipelines[0].buffer_max == 10000);
    CHECK(load_text("{\"pipelines\": [{\"name\": \"a\", \"match\": {\"kind\": \"demo\"}, \"buffer_max\": 10001}]}",
                    &config, error, sizeof(error)) == -1);
    CHECKF(strstr(error, "pipeline \"a\".buffer_max must be an integer from 1 to 10000") != NULL, "%s", error);
    CHECK(load_text("{\"retries\": \"2\"}", &config, error, sizeof(error)) == -1);
    /* Faults: the retry backoff and what a worker holds for a re-join. */
    rill_config_defaults(&config);
    CHECK(config.retry_backoff_ms == 500 && config.worker_hold_parts == 1000 &&
          config.worker_hold_bytes == 8u * 1024 * 1024);
    CHECK(load_text("{\"retry_backoff_ms\": 0, \"worker_hold_parts\": 0, \"worker_hold_bytes\": 0}", &config, error,
                    sizeof(error)) == 0 &&
          config.retry_backoff_ms == 0 && config.worker_hold_parts == 0 && config.worker_hold_bytes == 0);
    CHECK(load_text("{\"retry_backoff_ms\": 10001}", &config, error, sizeof(error)) == -1);
    CHECKF(strstr(error, "\"retry_backoff_ms\" must be an integer from 0 to 10000") != NULL, "%s", error);
    CHECK(load_text("{\"worker_hold_parts\": 1000001}", &config, error, sizeof(error)) == -1);
    CHECK(load_text("{\"kinds\": []}", &config, error, sizeof(error)) == -1);
    CHECK(load_text("{\"retries\": 1, \"retries\": 2}", &config, error, sizeof(error)) == -1);
    CHECK(load_text("[1]", &config, error, sizeof(error)) == -1);
    CHECK(load_text("{not json", &config, error, sizeof(error)) == -1);
    /* Pipelines: values, defaults from the top level (whatever the key order), matching. */
    CHECK(load_text("{\"pipelines\": [{\"name\": \"feeds\", \"match\": {\"kind\": \"demo\", \"source\": \"rss\"},"
                    " \"group_by\": \"kind\", \"buffer_ms\": 200, \"buffer_max\": 5, \"debounce_ms\": 50,"
                    " \"mode\": \"parallel\", \"concurrency\": 3, \"dedup\": true, \"flush_ms\": 100,"
                    " \"retain_parts\": 7},"
                    " {\"name\": \"rest\", \"match\": {\"kind\": \"demo\"}}], \"retain_ms\": 1234, \"retries\": 4}",
                    &config, error, sizeof(error)) == 0);
    CHECK(config.pipeline_count == 2);
    const rill_pipeline_config_t *p = &config.pipelines[0];
    CHECK(strcmp(p->name, "feeds") == 0 && strcmp(p->source, "rss") == 0);
    CHECK(p->group_by == RILL_GROUP_BY_KIND && p->buffer_ms == 200 && p->buffer_max == 5);
    CHECK(p->debounce_ms == 50 && p->mode == RILL_PIPELINE_PARALLEL && p->concurrency == 3);
    CHECK(p->dedup && p->flush_ms == 100 && p->retain_parts == 7);
    CHECK(p->retain_ms == 1234 && p->retries == 4 && p->timeout_ms == 600000);
    p = &config.pipelines[1];
    CHECK(p->group_by == RILL_GROUP_BY_SOURCE && p->mode == RILL_PIPELINE_ORDERED && p->concurrency == 1);
    CHECK(p->buffer_max == 1 && p->buffer_ms == 0 && !p->dedup && p->retain_parts == 1000);
    CHECK(p->retain_bytes == 8u * 1024 * 1024); /* inherited */
    CHECK(rill_config_match_pipeline(&config, "demo", "rss") == &config.pipelines[0]);
    CHECK(rill_config_match_pipeline(&config, "demo", NULL) == &config.pipelines[1]);
    CHECK(rill_config_match_pipeline(&config, "tail", NULL) == NULL);
    CHECK(load_text("{\"pipelines\": [{\"name\": \"big\", \"match\": {\"kind\": \"demo\"},"
                    " \"retain_bytes\": 4096}]}", &config, error, sizeof(error)) == 0);
    CHECK(config.pipelines[0].retain_bytes == 4096);
    static const char *bad_pipelines[] = {
        "{\"pipelines\": {}}",
        "{\"pipelines\": [{\"match\": {\"kind\": \"demo\"}}]}",
        "{\"pipelines\": [{\"name\": \"a\"}]}",
        "{\"pipelines\": [{\"name\": \"a\", \"match\": {\"kind\": \"nope\"}}]}",
        "{\"pipelines\": [{\"name\": \"a\", \"match\": {\"source\": \"x\"}}]}",
        "{\"pipelines\": [{\"name\": \"a\", \"match\": {\"kind\": \"demo\", \"color\": 1}}]}",
        "{\"pipelines\": [{\"name\": \"a\", \"match\": {\"kind\": \"demo\"}, \"mode\": \"fast\"}]}",
        "{\"pipelines\": [{\"name\": \"a\", \"match\": {\"kind\": \"demo\"}, \"group_by\": \"args\"}]}",
        "{\"pipelines\": [{\"name\": \"a\", \"match\": {\"kind\": \"demo\"}, \"buffer_max\": 0}]}",
        "{\"pipelines\": [{\"name\": \"a\", \"match\": {\"kind\": \"demo\"}, \"dedup\": 1}]}",
        "{\"pipelines\": [{\"name\": \"a\", \"match\": {\"kind\": \"demo\"}, \"concurrency\": 2}]}",
        "{\"pipelines\": [{\"name\": \"a\", \"match\": {\"kind\": \"demo\"}, \"speed\": 2}]}",
        "{\"pipelines\": [{\"name\": \"a\", \"match\": {\"kind\": \"demo\"}},"
        " {\"name\": \"a\", \"match\": {\"kind\": \"demo\"}}]}",
    };
    for (size_t i = 0; i < sizeof(bad_pipelines) / sizeof(bad_pipelines[0]); i++) {
        error[0] = '\0';
        CHECK(load_text(bad_pipelines[i], &config, error, sizeof(error)) == -1);
        CHECK(error[0] != '\0');
    }
    CHECK(load_text(bad_pipelines[6], &config, error, sizeof(error)) == -1 && strstr(error, "mode") != NULL);
    CHECK(rill_config_load("/nonexistent/rill.json", &config, error, sizeof(error)) == -1);
    CHECK(strstr(error, "/nonexistent/rill.json") != NULL);

    /* Built-in kinds: defaults, allowlist, upstreams. */
    rill_config_defaults(&config);
    CHECK(config.kind_count == 5 && rill_config_declares_kind(&config, "exec") &&
          rill_config_declares_kind(&config, "subscribe"));
    CHECK(strcmp(config.tail_root, "tail") == 0 && config.exec_count == 0 && config.upstream_count == 0);
    CHECK(load_text("{\"tail_root\": \"/var/log/app\", \"exec\": {\"seq\": {\"argv\": [\"/usr/bin/seq\", \"-s\", \",\"], "
                    "\"max_args\": 2}, \"date\": {\"argv\": [\"/bin/date\"]}}, \"upstreams\": {\"api\": {\"url\": "
                    "\"http://127.0.0.1:9000\", \"list_url\": \"http://127.0.0.1:9000/items?ids={ids}\"}}}",
                    &config, error, sizeof(error)) == 0);
    CHECK(strcmp(config.tail_root, "/var/log/app") == 0);
    CHECK(config.exec_count == 2 && rill_config_find_exec(&config, "seq") != NULL);
    CHECK(rill_config_find_exec(&config, "seq")->argc == 3 && rill_config_find_exec(&config, "seq")->max_args == 2);
    CHECK(rill_config_find_exec(&config, "date")->max_args == 0 && rill_config_find_exec(&config, "sh") == NULL);
    CHECK(rill_config_find_upstream(&config, "api") != NULL && rill_config_find_upstream(&config, "x") == NULL);
    CHECK(strcmp(rill_config_find_upstream(&config, "api")->list_url, "http://127.0.0.1:9000/items?ids={ids}") == 0);
    CHECK(load_text("{\"exec\": {\"sh\": {\"argv\": [\"sh\", \"-c\"]}}}", &config, error, sizeof(error)) == -1);
    CHECK(strstr(error, "absolute") != NULL);
    CHECK(load_text("{\"exec\": {\"x\": {\"argv\": []}}}", &config, error, sizeof(error)) == -1);
    CHECK(load_text("{\"exec\": {\"x\": {\"argv\": [\"/bin/x\"], \"max_args\": 65}}}", &config, error, sizeof(error)) == -1);
    CHECK(load_text("{\"exec\": {\"x\": {\"argv\": [\"/bin/x\"], \"shell\": true}}}", &config, error, sizeof(error)) == -1);
    CHECK(load_text("{\"exec\": {\"a b\": {\"argv\": [\"/bin/x\"]}}}", &config, error, sizeof(error)) == -1);
    CHECK(load_text("{\"upstreams\": {\"a\": {\"url\": \"ftp://x\"}}}", &config, error, sizeof(error)) == -1);
    /* A WebSocket upstream (the subscribe kind's): ws:// and wss:// urls, never a list_url. */
    CHECK(load_text("{\"upstreams\": {\"a\": {\"url\": \"ws://x:1/feed\"}, \"b\": {\"url\": \"wss://y\"}}}", &config,
                    error, sizeof(error)) == 0 && config.upstream_count == 2);
    CHECK(load_text("{\"upstreams\": {\"a\": {\"url\": \"ws:///x\"}}}", &config, error, sizeof(error)) == -1);
    CHECK(load_text("{\"upstreams\": {\"a\": {\"url\": \"http://x\", \"list_url\": \"ws://x/{ids}\"}}}", &config,
                    error, sizeof(error)) == -1);
    CHECK(load_text("{\"upstreams\": {\"a\": {\"url\": \"http://x\", \"list_url\": \"http://x/items\"}}}", &config,
                    error, sizeof(error)) == -1);
    CHECK(strstr(error, "{ids}") != NULL);
    CHECK(load_text("{\"upstreams\": {\"a\": {\"url\": \"http://x\", \"list_url\": \"http://x/{ids}/{ids}\"}}}", &config,
                    error, sizeof(error)) == -1);
    CHECK(load_text("{\"tail_root\": \"\"}", &config, error, sizeof(error)) == -1);

    /* TLS: two paths, none by default; an empty or non-text one is refused by name. */
    rill_config_defaults(&config);
    CHECK(config.tls_cert[0] == '\0' && config.tls_key[0] == '\0');
    CHECK(load_text("{\"tls_cert\": \"tls/server.crt\", \"tls_key\": \"/etc/rill/server.key\"}", &config, error,
                    sizeof(error)) == 0);
    CHECK(strcmp(config.tls_cert, "tls/server.crt") == 0 && strcmp(config.tls_key, "/etc/rill/server.key") == 0);
    CHECK(load_text("{\"tls_key\": \"\"}", &config, error, sizeof(error)) == -1 && strstr(error, "tls_key") != NULL);
    CHECK(load_text("{\"tls_cert\": 1}", &config, error, sizeof(error)) == -1 && strstr(error, "tls_cert") != NULL);
    RILL_TEST_END();
}
