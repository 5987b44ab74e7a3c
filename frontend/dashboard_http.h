/*
 * dashboard_http.h - GET / and HEAD /: the dashboard page (docs/API.md "GET / (the dashboard)").
 *
 * Served from the binary (frontend/dashboard.h) with a known length,
 * Cache-Control: no-cache and a strict Content-Security-Policy that admits
 * the page's own inline script and style by hash and connections to its own
 * origin only.
 */
#ifndef RILL_FRONTEND_DASHBOARD_HTTP_H
#define RILL_FRONTEND_DASHBOARD_HTTP_H

#include "rill_config.h"

#include <h2o.h>

void rill_dashboard_http_handle(const rill_config_t *config, h2o_req_t *req);

#endif
