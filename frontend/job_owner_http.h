/*
 * job_owner_http.h - is a job its reader's? (JWT access, docs/API.md
 * "Access"): a job belongs to the sub of the token it was submitted with,
 * which the frontend wrote into the job's who (access_claims.h). Only the
 * broker knows a job's who, so a request that names jobs its token's claims
 * do not asks the broker their STATUS first, one after another, and goes on
 * only when every one is the token's sub's.
 *
 * The waiting state lives in the request's pool (as broker_call_http.h's):
 * a client that leaves drops the pending call.
 */
#ifndef RILL_FRONTEND_JOB_OWNER_HTTP_H
#define RILL_FRONTEND_JOB_OWNER_HTTP_H

#include "access_claims.h"
#include "broker_link.h"

#include <h2o.h>

typedef void (*rill_job_owner_then_fn)(h2o_req_t *req, void *data);

/* ids: count job ids (in req's pool, or lasting as long). When every job is
 * grant's sub's, sets grant->jobs_verified and calls then(req, data);
 * otherwise answers req: 403 forbidden (a job of someone else, or a token
 * without sub), 404 (no such job), or the broker's trouble. */
void rill_job_owner_check(rill_broker_link_t *broker, h2o_req_t *req, rill_access_grant_t *grant,
                          const char *const *ids, size_t count, rill_job_owner_then_fn then, void *data);

#endif
