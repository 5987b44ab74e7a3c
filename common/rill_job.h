/*
 * rill_job.h - what a job object may say, checked in one place.
 *
 * The frontend refuses a bad job at submit time with a status and a reason
 * (SPEC §6); the worker reads the same arguments with the same code, so the
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

/* The demo kind's arguments, defaults applied (SPEC §2). */
typedef struct {
    int64_t parts;       /* default 3 */
    int64_t interval_ms; /* default 100 */
    int64_t jitter_ms;   /* default 0, at most interval_ms */
    int64_t size;        /* bytes of "pad"; default 0 */
} rill_demo_args_t;

/* args may be NULL (all defaults). Returns 0, or -1 with error filled (422). */
int rill_demo_args_parse(json_t *args, rill_demo_args_t *demo, rill_job_error_t *error);

#endif
