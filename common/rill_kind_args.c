/*
 * rill_kind_args.c - what every kind's argument check shares. See rill_kind_args.h.
 */
#include "rill_kind_args.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int rill_job_error(rill_job_error_t *error, int status, const char *code, const char *format, ...)
{
    error->status = status;
    error->code = code;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(error->message, sizeof(error->message), format, arguments);
    va_end(arguments);
    return -1;
}

int rill_kind_args_integer(json_t *args, const char *name, int64_t minimum, int64_t maximum, int64_t *value,
                           rill_job_error_t *error)
{
    json_t *field = args != NULL ? json_object_get(args, name) : NULL;
    if (field == NULL)
        return 0;
    if (!json_is_integer(field) || json_integer_value(field) < minimum || json_integer_value(field) > maximum)
        return rill_job_error(error, 422, "invalid_args", "\"%s\" must be an integer from %lld to %lld", name,
                              (long long)minimum, (long long)maximum);
    *value = json_integer_value(field);
    return 0;
}

json_t *rill_kind_args_required_string(json_t *args, const char *kind, const char *name, rill_job_error_t *error)
{
    if (args == NULL) {
        rill_job_error(error, 422, "invalid_args", "%s needs \"%s\"", kind, name);
        return NULL;
    }
    json_t *value = json_object_get(args, name);
    if (!json_is_string(value)) {
        rill_job_error(error, 422, "invalid_args", "\"%s\" is required and must be a string", name);
        return NULL;
    }
    return value;
}

int rill_kind_args_only(json_t *args, const char *kind, const char *const *allowed, rill_job_error_t *error)
{
    const char *name;
    json_t *value;
    json_object_foreach(args, name, value)
    {
        int known = 0;
        for (size_t i = 0; allowed[i] != NULL; i++)
            known |= strcmp(name, allowed[i]) == 0;
        if (!known)
            return rill_job_error(error, 422, "invalid_args", "%s takes no argument \"%.64s\"", kind, name);
    }
    return 0;
}

int rill_kind_args_integers(json_t *args, const char *kind, const rill_kind_args_integer_t *specs, size_t count,
                            rill_job_error_t *error)
{
    const char *name;
    json_t *value;
    json_object_foreach(args, name, value)
    {
        int known = 0;
        for (size_t i = 0; i < count; i++)
            known |= strcmp(name, specs[i].name) == 0;
        if (!known)
            return rill_job_error(error, 422, "invalid_args", "%s takes no argument \"%.64s\"", kind, name);
    }
    for (size_t i = 0; i < count; i++) {
        if (rill_kind_args_integer(args, specs[i].name, specs[i].minimum, specs[i].maximum, specs[i].value,
                                   error) != 0)
            return -1;
    }
    return 0;
}

#define INTEGERS_TEXT_MAX 16

/* An integer as compact JSON writes it: -?(0|[1-9][0-9]{0,17}). Moves *at
 * past it; 0, or -1. */
static int text_integer(const char **at, const char *end, int64_t *value)
{
    const char *p = *at;
    int negative = p < end && *p == '-';
    p += negative;
    const char *digits = p;
    int64_t number = 0;
    while (p < end && *p >= '0' && *p <= '9' && p - digits < 19) {
        number = number * 10 + (*p - '0');
        p++;
    }
    size_t length = (size_t)(p - digits);
    if (length == 0 || length > 18 || (length > 1 && digits[0] == '0'))
        return -1;
    *value = negative ? -number : number;
    *at = p;
    return 0;
}

int rill_kind_args_integers_text(const char *text, size_t length, const rill_kind_args_integer_t *specs,
                                 size_t count)
{
    int64_t values[INTEGERS_TEXT_MAX];
    bool seen[INTEGERS_TEXT_MAX] = {false};
    const char *at = text, *end = text + length;
    if (text == NULL || count > INTEGERS_TEXT_MAX || length < 2 || *at++ != '{')
        return 0;
    if (*at == '}')
        return at + 1 == end;
    for (;;) {
        /* "name": a plain name, one of specs (no escape: else the parse decides) */
        if (at >= end || *at++ != '"')
            return 0;
        const char *name = at;
        while (at < end && *at != '"' && *at != '\\')
            at++;
        if (at >= end || *at != '"')
            return 0;
        size_t name_length = (size_t)(at - name);
        at++;
        size_t index = 0;
        while (index < count && (strncmp(specs[index].name, name, name_length) != 0 ||
                                 specs[index].name[name_length] != '\0'))
            index++;
        if (index == count || seen[index] || at >= end || *at++ != ':' ||
            text_integer(&at, end, &values[index]) != 0 || values[index] < specs[index].minimum ||
            values[index] > specs[index].maximum)
            return 0;
        seen[index] = true;
        if (at < end && *at == ',') {
            at++;
            continue;
        }
        if (at + 1 != end || *at != '}')
            return 0;
        break;
    }
    for (size_t i = 0; i < count; i++) {
        if (seen[i])
            *specs[i].value = values[i];
    }
    return 1;
}

int rill_kind_args_upstream_path(const rill_config_t *config, json_t *args, const char *kind, int path_optional,
                                 const rill_config_upstream_t **upstream, const char **path, rill_job_error_t *error)
{
    *upstream = NULL;
    *path = NULL;
    json_t *name = rill_kind_args_required_string(args, kind, "upstream", error);
    if (name == NULL)
        return -1;
    *upstream = rill_config_find_upstream(config, json_string_value(name));
    if (*upstream == NULL || strlen(json_string_value(name)) != json_string_length(name))
        return rill_job_error(error, 403, "forbidden", "upstream \"%.64s\" is not declared", json_string_value(name));
    json_t *value = json_object_get(args, "path");
    if (value == NULL && path_optional)
        return 0;
    const char *text = json_string_value(value);
    size_t length = json_string_length(value);
    /* Appended to the upstream's url: it must stay a path of that host. */
    int valid = text != NULL && length > 0 && length <= RILL_KIND_ARGS_PATH_MAX && text[0] == '/' &&
                strlen(text) == length;
    for (size_t i = 0; valid && i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        valid = c > 0x20 && c < 0x7f && c != '#' && c != '\\';
    }
    if (!valid)
        return rill_job_error(error, 422, "invalid_args",
                              "\"path\" must begin with \"/\" and be at most %d printable ASCII bytes, without "
                              "spaces or '#'", RILL_KIND_ARGS_PATH_MAX);
    *path = text;
    return 0;
}
