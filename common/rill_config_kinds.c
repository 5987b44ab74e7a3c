/* rill_config_kinds.c - the "exec" and "upstreams" sections of the config. See rill_config_kinds.h. */
#include "rill_config_kinds.h"

#include <stdio.h>
#include <string.h>

/* Names of exec commands and upstreams: what clients send, kept simple. */
static int is_simple_name(const char *name)
{
    size_t length = name != NULL ? strlen(name) : 0;
    return length > 0 && length < RILL_CONFIG_KIND_NAME_MAX &&
           strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == length;
}

int rill_config_copy_text(json_t *value, char *out, size_t size)
{
    const char *text = json_string_value(value);
    if (text == NULL || text[0] == '\0' || strlen(text) != json_string_length(value) || strlen(text) >= size)
        return -1;
    memcpy(out, text, strlen(text) + 1);
    return 0;
}

int rill_config_load_exec(json_t *value, rill_config_exec_t *exec, size_t *count, char *error, size_t error_size)
{
    if (!json_is_object(value) || json_object_size(value) > RILL_CONFIG_MAX_EXEC) {
        snprintf(error, error_size, "\"exec\" must be an object of at most %d commands", RILL_CONFIG_MAX_EXEC);
        return -1;
    }
    *count = 0;
    const char *name;
    json_t *entry;
    json_object_foreach(value, name, entry)
    {
        rill_config_exec_t *command = &exec[*count];
        memset(command, 0, sizeof(*command));
        if (!is_simple_name(name)) {
            snprintf(error, error_size, "\"exec\": command name \"%.64s\" must be 1 to %d characters of "
                     "[A-Za-z0-9._-]", name, RILL_CONFIG_KIND_NAME_MAX - 1);
            return -1;
        }
        snprintf(command->name, sizeof(command->name), "%s", name);
        json_t *argv = json_object_get(entry, "argv");
        if (!json_is_object(entry) || !json_is_array(argv) || json_array_size(argv) == 0 ||
            json_array_size(argv) > RILL_CONFIG_EXEC_ARGV_MAX) {
            snprintf(error, error_size, "\"exec\".\"%s\" must be {\"argv\": [\"/absolute/command\", ...up to %d "
                     "entries], \"max_args\": N}", name, RILL_CONFIG_EXEC_ARGV_MAX);
            return -1;
        }
        const char *field;
        json_t *field_value;
        json_object_foreach(entry, field, field_value)
        {
            if (strcmp(field, "argv") != 0 && strcmp(field, "max_args") != 0) {
                snprintf(error, error_size, "\"exec\".\"%s\": unknown setting \"%.64s\"", name, field);
                return -1;
            }
        }
        size_t index;
        json_t *argument;
        json_array_foreach(argv, index, argument)
        {
            if (rill_config_copy_text(argument, command->argv[index], RILL_CONFIG_EXEC_ARG_MAX) != 0) {
                snprintf(error, error_size, "\"exec\".\"%s\".argv[%zu] must be a non-empty string under %d bytes",
                         name, index, RILL_CONFIG_EXEC_ARG_MAX);
                return -1;
            }
        }
        command->argc = json_array_size(argv);
        if (command->argv[0][0] != '/') {
            snprintf(error, error_size, "\"exec\".\"%s\".argv[0] must be an absolute path (no PATH lookup)", name);
            return -1;
        }
        json_t *max_args = json_object_get(entry, "max_args");
        if (max_args != NULL && (!json_is_integer(max_args) || json_integer_value(max_args) < 0 ||
                                 json_integer_value(max_args) > 64)) {
            snprintf(error, error_size, "\"exec\".\"%s\".max_args must be an integer from 0 to 64", name);
            return -1;
        }
        command->max_args = max_args != NULL ? (uint64_t)json_integer_value(max_args) : 0;
        (*count)++;
    }
    return 0;
}

/* websocket: ws:// and wss:// too (an upstream's url: the subscribe kind's). */
static int is_http_url(const char *url, int websocket)
{
    size_t scheme = strncmp(url, "http://", 7) == 0 ? 7 : strncmp(url, "https://", 8) == 0 ? 8
                    : !websocket ? 0 : strncmp(url, "ws://", 5) == 0 ? 5 : strncmp(url, "wss://", 6) == 0 ? 6 : 0;
    return scheme > 0 && url[scheme] != '\0' && url[scheme] != '/';
}

int rill_config_load_upstreams(json_t *value, rill_config_upstream_t *upstreams, size_t *count, char *error,
                               size_t error_size)
{
    if (!json_is_object(value) || json_object_size(value) > RILL_CONFIG_MAX_UPSTREAMS) {
        snprintf(error, error_size, "\"upstreams\" must be an object of at most %d upstreams",
                 RILL_CONFIG_MAX_UPSTREAMS);
        return -1;
    }
    *count = 0;
    const char *id;
    json_t *entry;
    json_object_foreach(value, id, entry)
    {
        rill_config_upstream_t *upstream = &upstreams[*count];
        memset(upstream, 0, sizeof(*upstream));
        if (!is_simple_name(id)) {
            snprintf(error, error_size, "\"upstreams\": id \"%.64s\" must be 1 to %d characters of [A-Za-z0-9._-]",
                     id, RILL_CONFIG_KIND_NAME_MAX - 1);
            return -1;
        }
        snprintf(upstream->id, sizeof(upstream->id), "%s", id);
        if (!json_is_object(entry) || rill_config_copy_text(json_object_get(entry, "url"), upstream->url,
                                                sizeof(upstream->url)) != 0 || !is_http_url(upstream->url, 1) ||
            strpbrk(upstream->url, " \t\r\n#") != NULL) {
            snprintf(error, error_size, "\"upstreams\".\"%s\".url must be an http(s):// or ws(s):// URL under %d bytes",
                     id, RILL_CONFIG_URL_MAX);
            return -1;
        }
        const char *field;
        json_t *field_value;
        json_object_foreach(entry, field, field_value)
        {
            if (strcmp(field, "url") != 0 && strcmp(field, "list_url") != 0) {
                snprintf(error, error_size, "\"upstreams\".\"%s\": unknown setting \"%.64s\"", id, field);
                return -1;
            }
        }
        json_t *list_url = json_object_get(entry, "list_url");
        if (list_url != NULL) {
            const char *placeholder = NULL;
            if (rill_config_copy_text(list_url, upstream->list_url, sizeof(upstream->list_url)) == 0)
                placeholder = strstr(upstream->list_url, "{ids}");
            if (placeholder == NULL || strstr(placeholder + 5, "{ids}") != NULL ||
                !is_http_url(upstream->list_url, 0) || strpbrk(upstream->list_url, " \t\r\n#") != NULL) {
                snprintf(error, error_size, "\"upstreams\".\"%s\".list_url must be an http(s) URL with one "
                         "{ids} placeholder", id);
                return -1;
            }
        }
        (*count)++;
    }
    return 0;
}

