/*
 * rill_job.h - what a job object may say, checked in one place.
 *
 * The frontend refuses a bad job at submit time with a status and a reason
 * (docs/DESIGN.md "Promises"); the worker reads the same arguments with the same code, so the
 * two can never disagree on what "valid" means.
 */
#ifndef RILL_JOB_H
#define RILL_JOB_H

#include "rill_config.h"

#include <jansson.h>
#include <stdint.h>

#define RILL_JOB_TEXT_MAX 256 /* source and key */

typedef struct {
    int status;         /* HTTP status: 400, 403 or 422 */
    const char *code;   /* JSON error code */
    char message[256];  /* human text */
} rill_job_error_t;

/* Checks one job object as a client sent it ({"kind","source","args","key"}).
 * Returns 0, or -1 with error filled. */
int rill_job_validate(const rill_config_t *config, json_t *job, rill_job_error_t *error);

/* The demo kind's arguments, defaults applied (docs/API.md). */
typedef struct {
    int64_t parts;       /* default 3 */
    int64_t interval_ms; /* default 100 */
    int64_t jitter_ms;   /* default 0, at most interval_ms */
    int64_t size;        /* bytes of "pad"; default 0 */
} rill_demo_args_t;

/* args may be NULL (all defaults). Returns 0, or -1 with error filled (422). */
int rill_demo_args_parse(json_t *args, rill_demo_args_t *demo, rill_job_error_t *error);

/* The tail kind's arguments (docs/API.md): path relative to the tail root, and
 * where to begin. Strings are borrowed from args. */
typedef struct {
    const char *path;
    int from_start; /* "from": "start" (1) or "end" (0, the default) */
} rill_tail_args_t;

#define RILL_TAIL_PATH_MAX 1024

/* A tail path as a client sent it, checked lexically (the worker still checks
 * where it really leads): 0 fine, -1 absolute or with a ".." component
 * (forbidden), -2 empty, too long or with a NUL byte (invalid). */
int rill_tail_path_check(const char *path, size_t length);
int rill_tail_args_parse(const rill_config_t *config, json_t *args, rill_tail_args_t *tail,
                         rill_job_error_t *error);

/* The exec kind's arguments: the allowlisted command (points into config)
 * and the client's extra arguments (borrowed array of strings, may be NULL). */
typedef struct {
    const rill_config_exec_t *command;
    json_t *args;
    size_t arg_count;
} rill_exec_args_t;

#define RILL_EXEC_ARG_MAX 4096 /* bytes of one client argument */

int rill_exec_args_parse(const rill_config_t *config, json_t *args, rill_exec_args_t *exec,
                         rill_job_error_t *error);

/* The http kind's arguments: a declared upstream (points into config) and
 * either a path under its url or an item of its list API. */
typedef struct {
    const rill_config_upstream_t *upstream;
    const char *path; /* begins with "/"; NULL when item is set */
    const char *item; /* [A-Za-z0-9._~-]{1,128}; NULL when path is set */
} rill_http_args_t;

#define RILL_HTTP_PATH_MAX 2048
#define RILL_HTTP_ITEM_MAX 128

int rill_http_args_parse(const rill_config_t *config, json_t *args, rill_http_args_t *http,
                         rill_job_error_t *error);

#endif
