/*
 * rill_kind_args.h - checking a job kind's arguments: the result every check
 * gives, the helpers the kinds share, and a kind as librill knows it.
 *
 * Each built-in kind checks its own args in its own file (workers/kind_<name>.c,
 * the half compiled into librill: rill_worker_kind.h says why). The frontend
 * runs that check at submit (rill_job_validate) and answers with its status
 * and reason; the worker parses the same args with the same code when the
 * job starts, so the two can never disagree on what "valid" means.
 */
#ifndef RILL_KIND_ARGS_H
#define RILL_KIND_ARGS_H

#include "rill_config.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int status;         /* HTTP status: 400, 403 or 422 */
    const char *code;   /* JSON error code */
    char message[256];  /* human text */
} rill_job_error_t;

/* A kind as librill knows it: its name and the check of its args (an
 * object, or NULL when the job has none). validate returns 0, or -1 with
 * error filled. request_bytes (NULL: the kind does not say) is how many
 * part bytes args that validate ask for, counted against a request's
 * max_request_bytes (rill_job_request_budget). */
typedef struct {
    const char *name;
    int (*validate)(const rill_config_t *config, json_t *args, rill_job_error_t *error);
    uint64_t (*request_bytes)(const rill_config_t *config, json_t *args);
} rill_kind_t;

/* Fills error; returns -1, so a check can `return rill_job_error(...)`. */
int rill_job_error(rill_job_error_t *error, int status, const char *code, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

/* Reads the optional integer argument name (args may be NULL) within
 * [minimum, maximum] into *value, which keeps its default when absent.
 * Returns 0, or -1 (422 invalid_args). */
int rill_kind_args_integer(json_t *args, const char *name, int64_t minimum, int64_t maximum, int64_t *value,
                           rill_job_error_t *error);

/* One optional integer argument: its name, its range, where its value goes
 * (which keeps its default when the argument is absent). */
typedef struct {
    const char *name;
    int64_t minimum;
    int64_t maximum;
    int64_t *value;
} rill_kind_args_integer_t;

/* A kind whose args are only integers: refuses any argument not in specs
 * (as rill_kind_args_only), then reads each (as rill_kind_args_integer), in
 * the order of specs. Returns 0, or -1 with the error of the first check
 * that fails. */
int rill_kind_args_integers(json_t *args, const char *kind, const rill_kind_args_integer_t *specs, size_t count,
                            rill_job_error_t *error);

/* The same args read from their JSON text (the worker's
 * rill_worker_job_args_text), without a parser, when the text is a flat
 * object of such arguments in compact JSON: {} or {"name":N,...}, each
 * name one of specs and given once, each N an integer of at most 18 digits
 * within its range. Returns 1 with the values set; 0 for any other text,
 * values untouched: the caller then decides with rill_kind_args_integers
 * on the parsed args, which accepts every text this one accepts, with the
 * same values, and names what is wrong. At most 16 specs. */
int rill_kind_args_integers_text(const char *text, size_t length, const rill_kind_args_integer_t *specs,
                                 size_t count);

/* Refuses any argument of args (may be NULL) not in the NULL-terminated
 * allowed list. Returns 0, or -1 (422 invalid_args, naming kind). */
int rill_kind_args_only(json_t *args, const char *kind, const char *const *allowed, rill_job_error_t *error);

/* The required string argument name of kind's args (may be NULL), or NULL
 * with error filled (422 invalid_args) when it is absent or no string. */
json_t *rill_kind_args_required_string(json_t *args, const char *kind, const char *name, rill_job_error_t *error);

/* The "upstream" and "path" arguments of a kind that reaches a declared
 * upstream (http, subscribe): *upstream is the config's (403 forbidden when
 * not declared); *path (NULL when absent, if path_optional) begins with "/"
 * and is at most RILL_KIND_ARGS_PATH_MAX printable ASCII bytes without
 * spaces, '#' or '\\', so that appended to the upstream's url it stays a
 * path of that host (422 invalid_args). Returns 0 or -1. */
#define RILL_KIND_ARGS_PATH_MAX 2048
int rill_kind_args_upstream_path(const rill_config_t *config, json_t *args, const char *kind, int path_optional,
                                 const rill_config_upstream_t **upstream, const char **path, rill_job_error_t *error);

/* Defines rill_kind_<kind>, the check librill runs at submit, from the
 * kind's parser: int parse(const rill_config_t *, json_t *args, args_type *,
 * rill_job_error_t *). The parsed value is thrown away: only the verdict
 * counts. A kind file writes it once, in its librill half. */
#define RILL_KIND_ARGUMENTS(kind, args_type, parse)                                                    \
    static int kind##_validate(const rill_config_t *config, json_t *args, rill_job_error_t *error)     \
    {                                                                                                  \
        args_type parsed;                                                                              \
        return parse(config, args, &parsed, error);                                                    \
    }                                                                                                  \
    const rill_kind_t rill_kind_##kind = {.name = #kind, .validate = kind##_validate, .request_bytes = NULL};

/* The same, for a kind whose args ask for a known amount of part bytes:
 * bytes(const args_type *) says how many (rill_kind_t.request_bytes). */
#define RILL_KIND_ARGUMENTS_BUDGETED(kind, args_type, parse, bytes)                                    \
    static int kind##_validate(const rill_config_t *config, json_t *args, rill_job_error_t *error)     \
    {                                                                                                  \
        args_type parsed;                                                                              \
        return parse(config, args, &parsed, error);                                                    \
    }                                                                                                  \
    static uint64_t kind##_request_bytes(const rill_config_t *config, json_t *args)                    \
    {                                                                                                  \
        args_type parsed;                                                                              \
        rill_job_error_t error;                                                                        \
        return parse(config, args, &parsed, &error) == 0 ? bytes(&parsed) : 0;                         \
    }                                                                                                  \
    const rill_kind_t rill_kind_##kind = {                                                             \
        .name = #kind, .validate = kind##_validate, .request_bytes = kind##_request_bytes};

#endif
