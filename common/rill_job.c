/*
 * rill_job.c - validation of job objects and of each built-in kind's args.
 */
#include "rill_job.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail(rill_job_error_t *error, int status, const char *code, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(rill_job_error_t *error, int status, const char *code, const char *format, ...)
{
    error->status = status;
    error->code = code;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(error->message, sizeof(error->message), format, arguments);
    va_end(arguments);
    return -1;
}

static int optional_text(json_t *job, const char *field, rill_job_error_t *error)
{
    json_t *value = json_object_get(job, field);
    if (value == NULL)
        return 0;
    if (!json_is_string(value) || json_string_length(value) == 0 ||
        json_string_length(value) > RILL_JOB_TEXT_MAX)
        return fail(error, 422, "invalid_job", "\"%s\" must be a string of 1 to %d bytes", field,
                    RILL_JOB_TEXT_MAX);
    return 0;
}

int rill_job_validate(const rill_config_t *config, json_t *job, rill_job_error_t *error)
{
    if (!json_is_object(job))
        return fail(error, 422, "invalid_job", "a job must be a JSON object");
    const char *field;
    json_t *value;
    json_object_foreach(job, field, value)
    {
        if (strcmp(field, "kind") != 0 && strcmp(field, "source") != 0 &&
            strcmp(field, "args") != 0 && strcmp(field, "key") != 0)
            return fail(error, 422, "invalid_job", "unknown job field \"%.64s\"", field);
    }
    const char *kind = json_string_value(json_object_get(job, "kind"));
    if (kind == NULL)
        return fail(error, 422, "invalid_job", "\"kind\" is required and must be a string");
    if (!rill_config_declares_kind(config, kind))
        return fail(error, 422, "unknown_kind", "kind \"%.64s\" is not declared", kind);
    if (optional_text(job, "source", error) != 0 || optional_text(job, "key", error) != 0)
        return -1;
    json_t *args = json_object_get(job, "args");
    if (args != NULL && !json_is_object(args))
        return fail(error, 422, "invalid_args", "\"args\" must be a JSON object");
    if (strcmp(kind, "demo") == 0) {
        rill_demo_args_t demo;
        return rill_demo_args_parse(args, &demo, error);
    }
    if (strcmp(kind, "tail") == 0) {
        rill_tail_args_t tail;
        return rill_tail_args_parse(config, args, &tail, error);
    }
    if (strcmp(kind, "exec") == 0) {
        rill_exec_args_t exec;
        return rill_exec_args_parse(config, args, &exec, error);
    }
    if (strcmp(kind, "http") == 0) {
        rill_http_args_t http;
        return rill_http_args_parse(config, args, &http, error);
    }
    return 0;
}

/* Reads an optional integer argument within bounds. */
static int integer_argument(json_t *args, const char *name, int64_t minimum, int64_t maximum,
                            int64_t *value, rill_job_error_t *error)
{
    json_t *field = args != NULL ? json_object_get(args, name) : NULL;
    if (field == NULL)
        return 0;
    if (!json_is_integer(field) || json_integer_value(field) < minimum ||
        json_integer_value(field) > maximum)
        return fail(error, 422, "invalid_args", "\"%s\" must be an integer from %lld to %lld", name,
                    (long long)minimum, (long long)maximum);
    *value = json_integer_value(field);
    return 0;
}

int rill_demo_args_parse(json_t *args, rill_demo_args_t *demo, rill_job_error_t *error)
{
    demo->parts = 3;
    demo->interval_ms = 100;
    demo->jitter_ms = 0;
    demo->size = 0;
    if (args != NULL) {
        const char *name;
        json_t *value;
        json_object_foreach(args, name, value)
        {
            if (strcmp(name, "parts") != 0 && strcmp(name, "interval_ms") != 0 &&
                strcmp(name, "jitter_ms") != 0 && strcmp(name, "size") != 0)
                return fail(error, 422, "invalid_args", "demo takes no argument \"%.64s\"", name);
        }
    }
    if (integer_argument(args, "parts", 0, 1000000, &demo->parts, error) != 0 ||
        integer_argument(args, "interval_ms", 0, 3600000, &demo->interval_ms, error) != 0 ||
        integer_argument(args, "jitter_ms", 0, 3600000, &demo->jitter_ms, error) != 0 ||
        integer_argument(args, "size", 0, 1048576, &demo->size, error) != 0)
        return -1;
    if (demo->jitter_ms > demo->interval_ms)
        return fail(error, 422, "invalid_args", "\"jitter_ms\" must not exceed \"interval_ms\"");
    return 0;
}

/* Refuses any argument not in the NULL-terminated list. */
static int only_arguments(json_t *args, const char *kind, const char *const *allowed, rill_job_error_t *error)
{
    const char *name;
    json_t *value;
    json_object_foreach(args, name, value)
    {
        int known = 0;
        for (size_t i = 0; allowed[i] != NULL; i++)
            known |= strcmp(name, allowed[i]) == 0;
        if (!known)
            return fail(error, 422, "invalid_args", "%s takes no argument \"%.64s\"", kind, name);
    }
    return 0;
}

int rill_tail_path_check(const char *path, size_t length)
{
    if (path == NULL || length == 0 || length > RILL_TAIL_PATH_MAX || memchr(path, '\0', length) != NULL)
        return -2;
    if (path[0] == '/')
        return -1;
    /* ".." as any component: "..", "../x", "x/..", "x/../y". */
    for (size_t start = 0; start < length;) {
        const char *slash = memchr(path + start, '/', length - start);
        size_t end = slash != NULL ? (size_t)(slash - path) : length;
        if (end - start == 2 && path[start] == '.' && path[start + 1] == '.')
            return -1;
        start = end + 1;
    }
    return 0;
}

int rill_tail_args_parse(const rill_config_t *config, json_t *args, rill_tail_args_t *tail,
                         rill_job_error_t *error)
{
    (void)config;
    static const char *const allowed[] = {"path", "from", NULL};
    tail->path = NULL;
    tail->from_start = 0;
    if (args == NULL)
        return fail(error, 422, "invalid_args", "tail needs \"path\"");
    if (only_arguments(args, "tail", allowed, error) != 0)
        return -1;
    json_t *path = json_object_get(args, "path");
    if (!json_is_string(path))
        return fail(error, 422, "invalid_args", "\"path\" is required and must be a string");
    int checked = rill_tail_path_check(json_string_value(path), json_string_length(path));
    if (checked == -1)
        return fail(error, 403, "forbidden", "\"path\" must be relative to the tail root, without \"..\"");
    if (checked != 0)
        return fail(error, 422, "invalid_args", "\"path\" must be 1 to %d bytes without NUL", RILL_TAIL_PATH_MAX);
    tail->path = json_string_value(path);
    json_t *from = json_object_get(args, "from");
    if (from != NULL) {
        const char *text = json_string_value(from);
        if (text == NULL || (strcmp(text, "start") != 0 && strcmp(text, "end") != 0))
            return fail(error, 422, "invalid_args", "\"from\" must be \"start\" or \"end\"");
        tail->from_start = strcmp(text, "start") == 0;
    }
    return 0;
}

int rill_exec_args_parse(const rill_config_t *config, json_t *args, rill_exec_args_t *exec,
                         rill_job_error_t *error)
{
    static const char *const allowed[] = {"name", "args", NULL};
    exec->command = NULL;
    exec->args = NULL;
    exec->arg_count = 0;
    if (args == NULL)
        return fail(error, 422, "invalid_args", "exec needs \"name\"");
    if (only_arguments(args, "exec", allowed, error) != 0)
        return -1;
    json_t *name = json_object_get(args, "name");
    if (!json_is_string(name))
        return fail(error, 422, "invalid_args", "\"name\" is required and must be a string");
    exec->command = rill_config_find_exec(config, json_string_value(name));
    if (exec->command == NULL || strlen(json_string_value(name)) != json_string_length(name))
        return fail(error, 403, "forbidden", "command \"%.64s\" is not in the exec allowlist",
                    json_string_value(name));
    json_t *list = json_object_get(args, "args");
    if (list == NULL)
        return 0;
    if (!json_is_array(list))
        return fail(error, 422, "invalid_args", "\"args\" must be an array of strings");
    if (json_array_size(list) > exec->command->max_args)
        return fail(error, 422, "invalid_args", "command \"%s\" takes at most %llu arguments",
                    exec->command->name, (unsigned long long)exec->command->max_args);
    size_t index;
    json_t *argument;
    json_array_foreach(list, index, argument)
    {
        if (!json_is_string(argument) || json_string_length(argument) > RILL_EXEC_ARG_MAX ||
            strlen(json_string_value(argument)) != json_string_length(argument))
            return fail(error, 422, "invalid_args", "\"args\"[%zu] must be a string of at most %d bytes without NUL",
                        index, RILL_EXEC_ARG_MAX);
    }
    exec->args = list;
    exec->arg_count = json_array_size(list);
    return 0;
}

#define ITEM_CHARACTERS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-"

int rill_http_args_parse(const rill_config_t *config, json_t *args, rill_http_args_t *http,
                         rill_job_error_t *error)
{
    static const char *const allowed[] = {"upstream", "path", "item", NULL};
    http->upstream = NULL;
    http->path = NULL;
    http->item = NULL;
    if (args == NULL)
        return fail(error, 422, "invalid_args", "http needs \"upstream\"");
    if (only_arguments(args, "http", allowed, error) != 0)
        return -1;
    json_t *upstream = json_object_get(args, "upstream");
    if (!json_is_string(upstream))
        return fail(error, 422, "invalid_args", "\"upstream\" is required and must be a string");
    http->upstream = rill_config_find_upstream(config, json_string_value(upstream));
    if (http->upstream == NULL || strlen(json_string_value(upstream)) != json_string_length(upstream))
        return fail(error, 403, "forbidden", "upstream \"%.64s\" is not declared", json_string_value(upstream));
    json_t *path = json_object_get(args, "path");
    json_t *item = json_object_get(args, "item");
    if ((path == NULL) == (item == NULL))
        return fail(error, 422, "invalid_args", "http takes either \"path\" or \"item\"");
    if (path != NULL) {
        const char *text = json_string_value(path);
        size_t length = json_string_length(path);
        /* Appended to the upstream's url: it must stay a path of that host. */
        int valid = text != NULL && length > 0 && length <= RILL_HTTP_PATH_MAX && text[0] == '/' &&
                    strlen(text) == length;
        for (size_t i = 0; valid && i < length; i++) {
            unsigned char c = (unsigned char)text[i];
            valid = c > 0x20 && c < 0x7f && c != '#' && c != '\\';
        }
        if (!valid)
            return fail(error, 422, "invalid_args",
                        "\"path\" must begin with \"/\" and be at most %d printable ASCII bytes, without spaces or '#'",
                        RILL_HTTP_PATH_MAX);
        http->path = text;
        return 0;
    }
    const char *text = json_string_value(item);
    size_t length = json_string_length(item);
    if (text == NULL || length == 0 || length > RILL_HTTP_ITEM_MAX || strspn(text, ITEM_CHARACTERS) != length)
        return fail(error, 422, "invalid_args", "\"item\" must be 1 to %d characters of [A-Za-z0-9._~-]",
                    RILL_HTTP_ITEM_MAX);
    if (http->upstream->list_url[0] == '\0')
        return fail(error, 422, "invalid_args", "upstream \"%s\" declares no list API (list_url)", http->upstream->id);
    http->item = text;
    return 0;
}
