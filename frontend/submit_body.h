/*
 * submit_body.h - the body of a POST /v1/jobs, read and checked into the
 * jobs of a SUBMIT (rill_submit_job_t: kind, source, key, and args as
 * compact JSON text).
 *
 * A job object or an array of them (docs/API.md "Submit"), each checked by
 * rill_job_validate and the request's budget. The common body (plain
 * strings, args whose compact text is what jansson would write) is read
 * without loading it into a jansson tree: only a built-in kind's args are
 * parsed, for its check. Anything else, and every refusal, goes the way it
 * always went (the body loaded, then checked), so the answers are the same.
 */
#ifndef RILL_FRONTEND_SUBMIT_BODY_H
#define RILL_FRONTEND_SUBMIT_BODY_H

#include "rill_buffer.h"
#include "rill_config.h"
#include "rill_submit.h"

#include <h2o.h>
#include <jansson.h>

typedef struct {
    rill_submit_job_t *jobs; /* id, who and detach are the caller's to fill */
    size_t count;
    /* What the jobs' strings and args point into. */
    json_t *tree;
    char *text;
    rill_buffer_t args;
} rill_submit_body_t;

/* Reads req's body into body: 0, or -1 having answered the request (400,
 * 413, 422, ...) with body left empty. */
int rill_submit_body_read(h2o_req_t *req, const rill_config_t *config, rill_submit_body_t *body);
void rill_submit_body_release(rill_submit_body_t *body);

#endif
