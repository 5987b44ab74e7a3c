/*
 * rill_job.c - validation of job objects; the table of built-in kinds. See rill_job.h.
 */
#include "rill_job.h"

#include <string.h>

static const rill_kind_t *const builtin_kinds[] = {
#define RILL_KIND(name) &rill_kind_##name,
#include "rill_kind_list.h"
#undef RILL_KIND
};

const rill_kind_t *rill_kind_find(const char *name)
{
    for (size_t i = 0; i < sizeof(builtin_kinds) / sizeof(builtin_kinds[0]); i++) {
        if (strcmp(builtin_kinds[i]->name, name) == 0)
            return builtin_kinds[i];
    }
    return NULL;
}

static int optional_text(json_t *job, const char *field, rill_job_error_t *error)
{
    json_t *value = json_object_get(job, field);
    if (value == NULL)
        return 0;
    if (!json_is_string(value) || json_string_length(value) == 0 ||
        json_string_length(value) > RILL_JOB_TEXT_MAX)
        return rill_job_error(error, 422, "invalid_job", "\"%s\" must be a string of 1 to %d bytes", field,
                              RILL_JOB_TEXT_MAX);
    return 0;
}

int rill_job_validate(const rill_config_t *config, json_t *job, rill_job_error_t *error)
{
    if (!json_is_object(job))
        return rill_job_error(error, 422, "invalid_job", "a job must be a JSON object");
    const char *field;
    json_t *value;
    json_object_foreach(job, field, value)
    {
        if (strcmp(field, "kind") != 0 && strcmp(field, "source") != 0 &&
            strcmp(field, "args") != 0 && strcmp(field, "key") != 0)
            return rill_job_error(error, 422, "invalid_job", "unknown job field \"%.64s\"", field);
    }
    const char *kind = json_string_value(json_object_get(job, "kind"));
    if (kind == NULL)
        return rill_job_error(error, 422, "invalid_job", "\"kind\" is required and must be a string");
    if (!rill_config_declares_kind(config, kind))
        return rill_job_error(error, 422, "unknown_kind", "kind \"%.64s\" is not declared", kind);
    if (optional_text(job, "source", error) != 0 || optional_text(job, "key", error) != 0)
        return -1;
    json_t *args = json_object_get(job, "args");
    if (args != NULL && !json_is_object(args))
        return rill_job_error(error, 422, "invalid_args", "\"args\" must be a JSON object");
    const rill_kind_t *builtin = rill_kind_find(kind);
    return builtin != NULL ? builtin->validate(config, args, error) : 0;
}

const char *rill_job_source(const char *kind, const char *source, json_t *args)
{
    if (source != NULL && source[0] != '\0')
        return source; /* an explicit source overrides */
    if (strcmp(kind, "http") == 0 || strcmp(kind, "subscribe") == 0) {
        const char *upstream = json_string_value(json_object_get(args, "upstream"));
        if (upstream != NULL && upstream[0] != '\0' && strlen(upstream) <= RILL_JOB_TEXT_MAX)
            return upstream;
    }
    return kind;
}

int rill_job_request_budget(const rill_config_t *config, json_t *jobs, rill_job_error_t *error)
{
    uint64_t total = 0;
    size_t index;
    json_t *job;
    json_array_foreach(jobs, index, job)
    {
        const char *kind = json_string_value(json_object_get(job, "kind"));
        const rill_kind_t *builtin = kind != NULL ? rill_kind_find(kind) : NULL;
        if (builtin == NULL || builtin->request_bytes == NULL)
            continue;
        /* Each is at most max_request_bytes (its own check): no overflow. */
        total += builtin->request_bytes(config, json_object_get(job, "args"));
        if (total > config->max_request_bytes)
            return rill_job_error(error, 413, "request_too_large",
                                  "the jobs ask for more than max_request_bytes (%llu) of parts",
                                  (unsigned long long)config->max_request_bytes);
    }
    return 0;
}

