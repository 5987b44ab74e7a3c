/* rill_config.c - reading and checking the JSON configuration. See rill_config.h. */
#include "rill_config.h"
#include "rill_config_kinds.h"
#include "rill_log.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* A JSON integer setting: its key, its field (rill_config_t or rill_pipeline_config_t), its bounds. */
typedef struct {
    const char *name;
    size_t offset;
    uint64_t minimum;
    uint64_t maximum;
} number_setting_t;

#define NUMBER(type, field, minimum, maximum) {#field, offsetof(type, field), minimum, maximum}
#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static const number_setting_t number_settings[] = {
    NUMBER(rill_config_t, max_body_bytes, 1, 1u << 30),
    NUMBER(rill_config_t, max_jobs_per_request, 1, 1000000),
    NUMBER(rill_config_t, retain_ms, 0, 86400000),
    NUMBER(rill_config_t, retain_parts, 0, 10000000),
    NUMBER(rill_config_t, timeout_ms, 0, 86400000),
    NUMBER(rill_config_t, retries, 0, 100),
    NUMBER(rill_config_t, heartbeat_ms, 50, 60000),
    NUMBER(rill_config_t, stream_heartbeat_ms, 100, 300000),
    NUMBER(rill_config_t, busy_flush_ms, 0, 1000),
    NUMBER(rill_config_t, topic_retain_messages, 0, 100000),
    NUMBER(rill_config_t, topic_retain_ms, 0, 86400000),
    NUMBER(rill_config_t, max_topics, 0, 100000000),
    NUMBER(rill_config_t, topic_lease_ms, 0, 3600000),
    NUMBER(rill_config_t, max_publish_keys, 1000, 10000000),
    NUMBER(rill_config_t, publish_key_ttl_ms, 1000, 86400000),
    NUMBER(rill_config_t, max_retained_jobs, 0, 100000000),
    NUMBER(rill_config_t, retry_backoff_ms, 0, 10000),
    NUMBER(rill_config_t, worker_hold_parts, 0, 1000000),
    NUMBER(rill_config_t, worker_hold_bytes, 0, 1u << 30),
    NUMBER(rill_config_t, slow_client_hard_bytes, 4096, 1u << 30),
    NUMBER(rill_config_t, slow_client_soft_bytes, 4096, 1u << 30),
    NUMBER(rill_config_t, slow_client_soft_ms, 0, 3600000),
    NUMBER(rill_config_t, orphan_grace_ms, 0, 86400000),
    NUMBER(rill_config_t, retain_bytes, 1, 1ull << 40),
    NUMBER(rill_config_t, retain_total_bytes, 0, 1ull << 40),
    NUMBER(rill_config_t, max_part_bytes, 1, 1u << 30),
    NUMBER(rill_config_t, max_request_bytes, 1, 1ull << 40),
    NUMBER(rill_config_t, max_message_bytes, 65536, 1u << 30),
    NUMBER(rill_config_t, max_worker_credit, 1, 1000000),
};

static const number_setting_t pipeline_numbers[] = {
    NUMBER(rill_pipeline_config_t, buffer_ms, 0, 3600000),
    NUMBER(rill_pipeline_config_t, buffer_max, 1, 10000),
    NUMBER(rill_pipeline_config_t, debounce_ms, 0, 3600000),
    NUMBER(rill_pipeline_config_t, concurrency, 1, 100000),
    NUMBER(rill_pipeline_config_t, retain_ms, 0, 86400000),
    NUMBER(rill_pipeline_config_t, retain_parts, 0, 10000000),
    NUMBER(rill_pipeline_config_t, timeout_ms, 0, 86400000),
    NUMBER(rill_pipeline_config_t, retries, 0, 100),
    NUMBER(rill_pipeline_config_t, flush_ms, 0, 60000),
    NUMBER(rill_pipeline_config_t, retain_bytes, 1, 1ull << 40),
};

static const number_setting_t *find_number(const number_setting_t *settings, size_t count, const char *key)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(key, settings[i].name) == 0)
            return &settings[i];
    }
    return NULL;
}

/* Stores value into the setting's field of target. Returns 0, or -1 when
 * value is not an integer within the setting's bounds. */
static int store_number(const number_setting_t *setting, json_t *value, void *target)
{
    if (!json_is_integer(value) || json_integer_value(value) < 0 ||
        (uint64_t)json_integer_value(value) < setting->minimum ||
        (uint64_t)json_integer_value(value) > setting->maximum)
        return -1;
    *(uint64_t *)((char *)target + setting->offset) = (uint64_t)json_integer_value(value);
    return 0;
}

/* Declared by default: every built-in kind. */
static const char *const builtin_kinds[] = {
#define RILL_KIND(name) #name,
#include "rill_kind_list.h"
#undef RILL_KIND
};

void rill_config_defaults(rill_config_t *config)
{
    memset(config, 0, sizeof(*config));
    config->kind_count = sizeof(builtin_kinds) / sizeof(builtin_kinds[0]);
    for (size_t i = 0; i < config->kind_count; i++)
        snprintf(config->kinds[i], sizeof(config->kinds[i]), "%s", builtin_kinds[i]);
    snprintf(config->tail_root, sizeof(config->tail_root), "%s", "tail");
    config->max_body_bytes = 1024 * 1024;
    config->max_jobs_per_request = 1000;
    config->retain_ms = 60000;
    config->retain_parts = 1000;
    config->timeout_ms = 600000;
    config->retries = 2;
    config->heartbeat_ms = 1000;
    config->max_message_bytes = 16 * 1024 * 1024;
    config->max_worker_credit = 64;
    config->stream_heartbeat_ms = 5000;
    config->topic_retain_messages = 100;
    config->topic_retain_ms = 60000;
    config->topic_lease_ms = 10000;
    config->max_publish_keys = 100000;
    config->publish_key_ttl_ms = 300000;
    config->busy_flush_ms = 4;
    config->max_topics = 100000;
    config->max_retained_jobs = 1000000;
    config->retry_backoff_ms = 500;
    config->worker_hold_parts = 1000;
    config->worker_hold_bytes = 8u * 1024 * 1024;
    config->slow_client_hard_bytes = 8u * 1024 * 1024;
    config->slow_client_soft_bytes = 1024 * 1024;
    config->slow_client_soft_ms = 10000;
    config->slow_client_action = RILL_SLOW_CLIENT_CLOSE;
    config->orphan_grace_ms = 30000;
    config->retain_bytes = 8u * 1024 * 1024;
    config->retain_total_bytes = 256u * 1024 * 1024;
    config->max_part_bytes = 1024 * 1024;
    config->max_request_bytes = 1024u * 1024 * 1024;
}

static int load_kinds(json_t *value, rill_config_t *config, char *error, size_t error_size)
{
    if (!json_is_array(value) || json_array_size(value) == 0 ||
        json_array_size(value) > RILL_CONFIG_MAX_KINDS) {
        snprintf(error, error_size, "\"kinds\" must be an array of 1 to %d names",
                 RILL_CONFIG_MAX_KINDS);
        return -1;
    }
    size_t index;
    json_t *kind;
    config->kind_count = 0;
    json_array_foreach(value, index, kind)
    {
        const char *name = json_string_value(kind);
        if (name == NULL || name[0] == '\0' || strlen(name) >= RILL_CONFIG_KIND_NAME_MAX) {
            snprintf(error, error_size, "\"kinds\"[%zu] must be a non-empty string under %d bytes",
                     index, RILL_CONFIG_KIND_NAME_MAX);
            return -1;
        }
        snprintf(config->kinds[config->kind_count++], RILL_CONFIG_KIND_NAME_MAX, "%s", name);
    }
    return 0;
}

/* value's index in names (NULL-terminated; rill_config.h's enums follow their order), or -1. */
static int choose(json_t *value, const char *const *names)
{
    const char *text = json_string_value(value);
    for (int i = 0; text != NULL && names[i] != NULL; i++) {
        if (strcmp(text, names[i]) == 0)
            return i;
    }
    return -1;
}

/* RFC 6750 token68 characters: a bearer token is sent as it is. */
#define TOKEN_CHARACTERS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/="

static int load_origins(json_t *value, rill_config_t *config, char *error, size_t error_size)
{
    if (!json_is_array(value) || json_array_size(value) > RILL_CONFIG_MAX_ORIGINS) {
        snprintf(error, error_size, "\"cors_origins\" must be an array of at most %d origins",
                 RILL_CONFIG_MAX_ORIGINS);
        return -1;
    }
    size_t index;
    json_t *origin;
    config->cors_origin_count = 0;
    json_array_foreach(value, index, origin)
    {
        const char *text = json_string_value(origin);
        int valid = text != NULL && strlen(text) < RILL_CONFIG_ORIGIN_MAX &&
                    (strcmp(text, "*") == 0 || strncmp(text, "http://", 7) == 0 ||
                     strncmp(text, "https://", 8) == 0) &&
                    strpbrk(text, " \t\r\n,") == NULL && (strlen(text) < 2 || text[strlen(text) - 1] != '/');
        if (!valid) {
            snprintf(error, error_size,
                     "\"cors_origins\"[%zu] must be \"*\" or an origin such as \"https://app.example\" "
                     "(scheme://host[:port], no path)", index);
            return -1;
        }
        snprintf(config->cors_origins[config->cors_origin_count++], RILL_CONFIG_ORIGIN_MAX, "%s", text);
    }
    return 0;
}

#define INHERIT UINT64_MAX /* a pipeline value not given: the top-level one */

static int load_match(json_t *value, rill_pipeline_config_t *pipeline, const char *where, char *error,
                      size_t error_size)
{
    if (!json_is_object(value)) {
        snprintf(error, error_size, "%s.match must be an object {\"kind\", \"source\"?}", where);
        return -1;
    }
    const char *key;
    json_t *item;
    json_object_foreach(value, key, item)
    {
        const char *text = json_string_value(item);
        size_t length = text != NULL ? strlen(text) : 0;
        if (strcmp(key, "kind") == 0) {
            if (length == 0 || length >= RILL_CONFIG_KIND_NAME_MAX) {
                snprintf(error, error_size, "%s.match.kind must be a non-empty string under %d bytes",
                         where, RILL_CONFIG_KIND_NAME_MAX);
                return -1;
            }
            memcpy(pipeline->kind, text, length + 1);
        } else if (strcmp(key, "source") == 0) {
            if (length == 0 || length >= RILL_CONFIG_SOURCE_MAX) {
                snprintf(error, error_size, "%s.match.source must be a string of 1 to %d bytes", where,
                         RILL_CONFIG_SOURCE_MAX - 1);
                return -1;
            }
            memcpy(pipeline->source, text, length + 1);
        } else {
            snprintf(error, error_size, "%s.match: unknown key \"%.64s\"", where, key);
            return -1;
        }
    }
    if (pipeline->kind[0] == '\0') {
        snprintf(error, error_size, "%s.match.kind is required", where);
        return -1;
    }
    return 0;
}

static int load_pipeline(json_t *value, size_t index, rill_config_t *config, char *error,
                         size_t error_size)
{
    char where[96];
    rill_pipeline_config_t *pipeline = &config->pipelines[index];
    memset(pipeline, 0, sizeof(*pipeline));
    snprintf(where, sizeof(where), "\"pipelines\"[%zu]", index);
    if (!json_is_object(value)) {
        snprintf(error, error_size, "%s must be an object", where);
        return -1;
    }
    pipeline->group_by = RILL_GROUP_BY_SOURCE;
    pipeline->mode = RILL_PIPELINE_ORDERED;
    pipeline->buffer_max = 1;
    pipeline->concurrency = INHERIT; /* ordered: 1; parallel: 16 */
    pipeline->retain_ms = pipeline->retain_parts = pipeline->timeout_ms = pipeline->retries = INHERIT;
    pipeline->retain_bytes = INHERIT;
    int has_match = 0;
    const char *key;
    json_t *item;
    json_object_foreach(value, key, item)
    {
        if (strcmp(key, "name") == 0) {
            const char *name = json_string_value(item);
            size_t length = name != NULL ? strlen(name) : 0;
            if (length == 0 || length >= RILL_CONFIG_KIND_NAME_MAX) {
                snprintf(error, error_size, "%s.name must be a non-empty string under %d bytes", where,
                         RILL_CONFIG_KIND_NAME_MAX);
                return -1;
            }
            memcpy(pipeline->name, name, length + 1);
            snprintf(where, sizeof(where), "pipeline \"%.40s\"", name);
            continue;
        }
        if (strcmp(key, "match") == 0) {
            if (load_match(item, pipeline, where, error, error_size) != 0)
                return -1;
            has_match = 1;
            continue;
        }
        if (strcmp(key, "group_by") == 0) {
            static const char *const group_by[] = {"source", "kind", "none", NULL}; /* rill_group_by_t order */
            int choice = choose(item, group_by);
            if (choice < 0) {
                snprintf(error, error_size, "%s.group_by must be \"source\", \"kind\" or \"none\"", where);
                return -1;
            }
            pipeline->group_by = (rill_group_by_t)choice;
            continue;
        }
        if (strcmp(key, "mode") == 0) {
            static const char *const modes[] = {"ordered", "parallel", NULL}; /* rill_pipeline_mode_t order */
            int choice = choose(item, modes);
            if (choice < 0) {
                snprintf(error, error_size, "%s.mode must be \"ordered\" or \"parallel\"", where);
                return -1;
            }
            pipeline->mode = (rill_pipeline_mode_t)choice;
            continue;
        }
        if (strcmp(key, "dedup") == 0) {
            if (!json_is_boolean(item)) {
                snprintf(error, error_size, "%s.dedup must be true or false", where);
                return -1;
            }
            pipeline->dedup = json_is_true(item);
            continue;
        }
        const number_setting_t *number = find_number(pipeline_numbers, COUNT(pipeline_numbers), key);
        if (number == NULL) {
            snprintf(error, error_size, "%s: unknown key \"%.64s\"", where, key);
            return -1;
        }
        if (store_number(number, item, pipeline) != 0) {
            snprintf(error, error_size, "%s.%s must be an integer from %llu to %llu", where, key,
                     (unsigned long long)number->minimum, (unsigned long long)number->maximum);
            return -1;
        }
    }
    if (pipeline->name[0] == '\0') {
        snprintf(error, error_size, "%s: \"name\" is required", where);
        return -1;
    }
    if (!has_match) {
        snprintf(error, error_size, "%s: \"match\" is required", where);
        return -1;
    }
    if (pipeline->mode == RILL_PIPELINE_ORDERED && pipeline->concurrency != INHERIT &&
        pipeline->concurrency != 1) {
        snprintf(error, error_size, "%s: \"concurrency\" must be 1 (or absent) with mode \"ordered\"",
                 where);
        return -1;
    }
    for (size_t i = 0; i < index; i++) {
        if (strcmp(config->pipelines[i].name, pipeline->name) == 0) {
            snprintf(error, error_size, "%s: the name is used twice", where);
            return -1;
        }
    }
    return 0;
}

static int load_pipelines(json_t *value, rill_config_t *config, char *error, size_t error_size)
{
    if (!json_is_array(value) || json_array_size(value) > RILL_CONFIG_MAX_PIPELINES) {
        snprintf(error, error_size, "\"pipelines\" must be an array of at most %d pipelines",
                 RILL_CONFIG_MAX_PIPELINES);
        return -1;
    }
    size_t index;
    json_t *item;
    config->pipeline_count = 0;
    json_array_foreach(value, index, item)
    {
        if (load_pipeline(item, index, config, error, error_size) != 0)
            return -1;
        config->pipeline_count++;
    }
    return 0;
}

/* Pipeline values not given take the top-level ones (known once the whole
 * file is read); a pipeline of an undeclared kind is refused. */
static int resolve_pipelines(rill_config_t *config, char *error, size_t error_size)
{
    for (size_t i = 0; i < config->pipeline_count; i++) {
        rill_pipeline_config_t *pipeline = &config->pipelines[i];
        if (!rill_config_declares_kind(config, pipeline->kind)) {
            snprintf(error, error_size, "pipeline \"%s\": match.kind \"%s\" is not a declared kind",
                     pipeline->name, pipeline->kind);
            return -1;
        }
        if (pipeline->concurrency == INHERIT)
            pipeline->concurrency = pipeline->mode == RILL_PIPELINE_ORDERED ? 1 : 16;
        if (pipeline->retain_ms == INHERIT)
            pipeline->retain_ms = config->retain_ms;
        if (pipeline->retain_parts == INHERIT)
            pipeline->retain_parts = config->retain_parts;
        if (pipeline->retain_bytes == INHERIT)
            pipeline->retain_bytes = config->retain_bytes;
        if (pipeline->timeout_ms == INHERIT)
            pipeline->timeout_ms = config->timeout_ms;
        if (pipeline->retries == INHERIT)
            pipeline->retries = config->retries;
    }
    return 0;
}

const rill_pipeline_config_t *rill_config_match_pipeline(const rill_config_t *config, const char *kind,
                                                         const char *source)
{
    if (source == NULL)
        source = kind;
    for (size_t i = 0; i < config->pipeline_count; i++) {
        const rill_pipeline_config_t *pipeline = &config->pipelines[i];
        if (strcmp(pipeline->kind, kind) == 0 &&
            (pipeline->source[0] == '\0' || strcmp(pipeline->source, source) == 0))
            return pipeline;
    }
    return NULL;
}

int rill_config_load(const char *path, rill_config_t *config, char *error, size_t error_size)
{
    rill_config_defaults(config);
    json_error_t parse_error;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &parse_error);
    if (root == NULL) {
        snprintf(error, error_size, "%s:%d: %s", path, parse_error.line, parse_error.text);
        return -1;
    }
    int result = -1;
    if (!json_is_object(root)) {
        snprintf(error, error_size, "%s: the configuration must be a JSON object", path);
        goto out;
    }
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        if (strcmp(key, "slow_client_action") == 0) {
            static const char *const actions[] = {"close", "gap", NULL}; /* rill_slow_client_action_t order */
            int choice = choose(value, actions);
            if (choice < 0) {
                snprintf(error, error_size, "%s: \"slow_client_action\" must be \"close\" or \"gap\"", path);
                goto out;
            }
            config->slow_client_action = (rill_slow_client_action_t)choice;
            continue;
        }
        if (strcmp(key, "ready_requires_worker") == 0) {
            if (!json_is_boolean(value)) {
                snprintf(error, error_size, "%s: \"ready_requires_worker\" must be true or false", path);
                goto out;
            }
            config->ready_requires_worker = json_is_true(value);
            continue;
        }
        if (strcmp(key, "cors_origins") == 0) {
            if (load_origins(value, config, error, error_size) != 0)
                goto out;
            continue;
        }
        if (strcmp(key, "auth_token") == 0) {
            const char *token = json_string_value(value);
            size_t length = token != NULL ? strlen(token) : 0;
            if (length < 16 || length >= RILL_CONFIG_TOKEN_MAX || strspn(token, TOKEN_CHARACTERS) != length) {
                snprintf(error, error_size,
                         "%s: \"auth_token\" must be 16 to %d characters of [A-Za-z0-9._~+/=-]", path,
                         RILL_CONFIG_TOKEN_MAX - 1);
                goto out;
            }
            memcpy(config->auth_token, token, length + 1);
            continue;
        }
        if (strcmp(key, "pipelines") == 0) {
            char reason[384];
            if (load_pipelines(value, config, reason, sizeof(reason)) != 0) {
                snprintf(error, error_size, "%s: %s", path, reason);
                goto out;
            }
            continue;
        }
        if (strcmp(key, "kinds") == 0) {
            if (load_kinds(value, config, error, error_size) != 0)
                goto out;
            continue;
        }
        char *path_setting = strcmp(key, "tail_root") == 0  ? config->tail_root
                             : strcmp(key, "tls_cert") == 0 ? config->tls_cert
                             : strcmp(key, "tls_key") == 0  ? config->tls_key
                                                            : NULL;
        if (path_setting != NULL) {
            if (rill_config_copy_text(value, path_setting, RILL_CONFIG_PATH_MAX) != 0) {
                snprintf(error, error_size, "%s: \"%s\" must be a non-empty path under %d bytes", path, key,
                         RILL_CONFIG_PATH_MAX);
                goto out;
            }
            continue;
        }
        if (strcmp(key, "exec") == 0 || strcmp(key, "upstreams") == 0 || strcmp(key, "jwt") == 0) {
            char reason[1400];
            int loaded = strcmp(key, "exec") == 0        ? rill_config_load_exec(value, config->exec, &config->exec_count, reason, sizeof(reason))
                         : strcmp(key, "upstreams") == 0 ? rill_config_load_upstreams(value, config->upstreams, &config->upstream_count, reason, sizeof(reason))
                                                         : rill_config_jwt_load(value, path, &config->jwt, reason,
                                                                                sizeof(reason));
            if (loaded != 0) {
                snprintf(error, error_size, "%s: %s", path, reason);
                goto out;
            }
            continue;
        }
        const number_setting_t *setting = find_number(number_settings, COUNT(number_settings), key);
        if (setting == NULL) {
            snprintf(error, error_size, "%s: unknown setting \"%s\"", path, key);
            goto out;
        }
        if (store_number(setting, value, config) != 0) {
            snprintf(error, error_size, "%s: \"%s\" must be an integer from %llu to %llu", path, key,
                     (unsigned long long)setting->minimum, (unsigned long long)setting->maximum);
            goto out;
        }
    }
    if (config->slow_client_soft_bytes > config->slow_client_hard_bytes) {
        snprintf(error, error_size, "%s: \"slow_client_soft_bytes\" must not exceed \"slow_client_hard_bytes\"",
                 path);
        goto out;
    }
    /* A request's jobs (or a topic message) reach the broker re-encoded in
     * one frame: a frame over max_message_bytes would cut the frontend off. */
    if (config->max_message_bytes < 2 * config->max_body_bytes) {
        snprintf(error, error_size, "%s: \"max_message_bytes\" must be at least twice \"max_body_bytes\"", path);
        goto out;
    }
    char reason[384];
    if (resolve_pipelines(config, reason, sizeof(reason)) != 0) {
        snprintf(error, error_size, "%s: %s", path, reason);
        goto out;
    }
    result = 0;
out:
    json_decref(root);
    return result;
}

int rill_config_declares_kind(const rill_config_t *config, const char *kind)
{
    for (size_t i = 0; i < config->kind_count; i++) {
        if (strcmp(config->kinds[i], kind) == 0)
            return 1;
    }
    return 0;
}

const rill_config_exec_t *rill_config_find_exec(const rill_config_t *config, const char *name)
{
    for (size_t i = 0; name != NULL && i < config->exec_count; i++) {
        if (strcmp(config->exec[i].name, name) == 0)
            return &config->exec[i];
    }
    return NULL;
}

const rill_config_upstream_t *rill_config_find_upstream(const rill_config_t *config, const char *id)
{
    for (size_t i = 0; id != NULL && i < config->upstream_count; i++) {
        if (strcmp(config->upstreams[i].id, id) == 0)
            return &config->upstreams[i];
    }
    return NULL;
}

int rill_config_reload(const char *path, rill_config_t *config)
{
    if (path == NULL || path[0] == '\0') {
        rill_log_info(NULL, "SIGHUP: no config file to reload (built-in defaults stay)");
        return -1;
    }
    rill_config_t fresh;
    char error[512];
    if (rill_config_load(path, &fresh, error, sizeof(error)) != 0) {
        rill_log_error(NULL, "SIGHUP: config refused, the old one stays: %s", error);
        return -1;
    }
    *config = fresh;
    rill_log_info(NULL, "SIGHUP: config %s reloaded (%zu kinds, %zu pipelines)", path, fresh.kind_count,
                  fresh.pipeline_count);
    return 0;
}
