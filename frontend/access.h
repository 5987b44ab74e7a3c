/*
 * access.h - who may call the HTTP API: CORS for browsers on other origins
 * and the optional bearer token (docs/API.md, docs/DESIGN.md "Promises").
 *
 * Both are decided before a request reaches its handler, from the config in
 * force: allowed origins get their CORS headers on every answer (streams
 * included, so a cross-origin EventSource works), preflights are answered
 * here, and submit, publish, cancel and the lists (job ids let anyone
 * follow a job) are refused with 401 unless they carry the configured token.
 *
 * With the config's "jwt" section (JWT access, docs/API.md "Access"),
 * every request on jobs and topics names its bearer by a JWT (the
 * Authorization header, or the configured cookie for EventSource): no or
 * a bad token is 401 with the reason; a route its claims do not allow is
 * 403. The grant (access_claims.h) goes on to the handlers, which check
 * what only they see: a stream's query subjects and a job's owner
 * (job_owner_http.h). The operator's auth_token, when set too, still
 * opens everything.
 */
#ifndef RILL_FRONTEND_ACCESS_H
#define RILL_FRONTEND_ACCESS_H

#include "access_claims.h"
#include "rill_config.h"
#include "router.h"

#include <h2o.h>

/* Returns 1 when the request was answered here (a preflight, or a refusal),
 * 0 when its handler should run, with *grant (in req's pool: it lives as
 * long as the request) saying what the bearer may do; without JWT access
 * the grant allows everything. Adds the CORS headers of an allowed origin
 * to req->res.headers either way. */
int rill_access_check(const rill_config_t *config, h2o_req_t *req, const rill_route_t *route,
                      rill_access_grant_t **grant);

/* The two decisions, without h2o. */
int rill_access_origin_allowed(const rill_config_t *config, const char *origin, size_t length);
int rill_access_token_matches(const rill_config_t *config, const char *authorization, size_t length);

#endif
