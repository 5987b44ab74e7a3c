/*
 * rill_job.h - what a job object may say, checked in one place.
 *
 * The frontend refuses a bad job at submit time with a status and a reason
 * (docs/DESIGN.md "Promises"). The fields common to every job are checked
 * here; a built-in kind's args by the kind's own check (rill_kind_args.h),
 * found in the table of kinds that rill_kind_list.h lists.
 */
#ifndef RILL_JOB_H
#define RILL_JOB_H

#include "rill_config.h"
#include "rill_kind_args.h"
#include "rill_messages.h"

#include <jansson.h>

#define RILL_JOB_TEXT_MAX RILL_MESSAGE_TEXT_MAX /* source and key: what SUBMIT may carry */

/* Checks one job object as a client sent it ({"kind","source","args","key"}).
 * Returns 0, or -1 with error filled. */
int rill_job_validate(const rill_config_t *config, json_t *job, rill_job_error_t *error);

/* A job's source, decided here and nowhere else (docs/API.md, "Job
 * object"): its "source" when it names one, else its "upstream" argument for
 * the http and subscribe kinds (the item jobs of one upstream group
 * together), else its kind. What status, dedup, a pipeline's match.source
 * and group_by see. The result points into source, args or kind. */
const char *rill_job_source(const char *kind, const char *source, json_t *args);

/* Checks a request's checked jobs (a JSON array) against
 * max_request_bytes: the part bytes their kinds say they ask for
 * (rill_kind_t.request_bytes), summed. Returns 0, or -1 with error filled
 * (413 request_too_large). */
int rill_job_request_budget(const rill_config_t *config, json_t *jobs, rill_job_error_t *error);

/* The built-in kind of that name, or NULL (a kind the config declares
 * without rill knowing it: its args are any object). */
const rill_kind_t *rill_kind_find(const char *name);

/* Each built-in kind's check, defined in its file (workers/kind_<name>.c). */
#define RILL_KIND(name) extern const rill_kind_t rill_kind_##name;
#include "rill_kind_list.h"
#undef RILL_KIND

#endif
