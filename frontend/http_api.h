/*
 * http_api.h - the HTTP API of docs/API.md on top of h2o: routing, request
 * validation, JSON error bodies, and the broker calls behind each endpoint.
 */
#ifndef RILL_FRONTEND_HTTP_API_H
#define RILL_FRONTEND_HTTP_API_H

#include "frontend.h"

#include <h2o.h>

/* Registers the one handler that serves every path under pathconf ("/"). */
int rill_http_api_register(rill_frontend_t *frontend, h2o_pathconf_t *pathconf);

#endif
