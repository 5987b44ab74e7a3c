/*
 * submit_http.h - POST /v1/jobs (docs/API.md "Submit").
 *
 * Checks the body (JSON, limits, each job against the declared kinds),
 * gives every job an id, and SUBMITs them to the broker. Unless the request
 * says ?detach, the answer is a stream of the jobs' events: the stream
 * subscribes to the jobs' subjects and a barrier token BEFORE the SUBMIT
 * goes out (docs/PROTOCOL.md "The barrier"), so no event is lost to a slow
 * joiner, and follows the ids the broker answers (a job may have joined an
 * identical one). Detached, the answer is 202 {"jobs":[...]}.
 */
#ifndef RILL_FRONTEND_SUBMIT_HTTP_H
#define RILL_FRONTEND_SUBMIT_HTTP_H

#include "access_claims.h"
#include "broker_link.h"
#include "rill_config.h"
#include "stream.h"

#include <h2o.h>

/* grant (access.h): with JWT access, the jobs belong to its sub (written
 * into each job's who, access_claims.h). */
void rill_submit_http_handle(h2o_req_t *req, const rill_config_t *config,
                             rill_broker_link_t *broker, rill_streams_t *streams,
                             const rill_access_grant_t *grant);

#endif
