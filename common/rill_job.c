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
