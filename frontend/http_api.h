/*
 * http_api.h - the HTTP API of docs/API.md on top of h2o: the one handler
 * that routes every request (router.h), applies access control (access.h)
 * and hands it to its endpoint. Submit (submit_http.h), streams
 * (stream_http.h), /metrics (metrics_http.h) and the dashboard page
 * (dashboard_http.h) have their own files; the small endpoints that only
 * relay a broker call (job status and cancel, publish) and the probes
 * (/healthz, /readyz, /livez) are here.
 */
#ifndef RILL_FRONTEND_HTTP_API_H
#define RILL_FRONTEND_HTTP_API_H

#include "broker_link.h"
#include "metrics.h"
#include "rill_config.h"
#include "stream.h"

#include <h2o.h>

/* What the handler works with: the frontend object's, lent for its life.
 * broker may become NULL at the end (then streams->shutting_down is set). */
typedef struct {
    const rill_config_t *config;
    rill_broker_link_t *broker;
    rill_streams_t *streams;
    rill_frontend_metrics_t *metrics;
} rill_http_api_context_t;

/* Registers the one handler that serves every path under pathconf ("/");
 * context is borrowed and must outlive the h2o configuration. */
void rill_http_api_register(h2o_pathconf_t *pathconf, const rill_http_api_context_t *context);

#endif
