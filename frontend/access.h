/*
 * access.h - who may call the HTTP API: CORS for browsers on other origins
 * and the optional bearer token (docs/API.md, docs/DESIGN.md "Promises").
 *
 * Both are decided before a request reaches its handler, from the config in
 * force: allowed origins get their CORS headers on every answer (streams
 * included, so a cross-origin EventSource works), preflights are answered
 * here, and submit, publish, cancel and the lists (job ids let anyone
 * follow a job) are refused with 401 unless they carry the configured token.
 */
#ifndef RILL_FRONTEND_ACCESS_H
#define RILL_FRONTEND_ACCESS_H

#include "rill_config.h"
#include "router.h"

#include <h2o.h>

/* Returns 1 when the request was answered here (a preflight, or a refusal),
 * 0 when its handler should run. Adds the CORS headers of an allowed origin
 * to req->res.headers either way. */
int rill_access_check(const rill_config_t *config, h2o_req_t *req, const rill_route_t *route);

/* The two decisions, without h2o. */
int rill_access_origin_allowed(const rill_config_t *config, const char *origin, size_t length);
int rill_access_token_matches(const rill_config_t *config, const char *authorization, size_t length);

#endif
