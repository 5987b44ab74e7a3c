/*
 * rill_kind_args.c - what every kind's argument check shares. See rill_kind_args.h.
 */
#include "rill_kind_args.h"

#include <stdarg.h>
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
