/*
 * metrics_http.h - GET /metrics: the frontend's text plus the broker's.
 *
 * The broker is asked with METRICS; its answer (already labelled
 * process="broker") is appended to the frontend's own families. A broker
 * that does not answer within 1 s costs the scrape only its part: the
 * frontend's text is served with rill_broker_up 0.
 */
#ifndef RILL_FRONTEND_METRICS_HTTP_H
#define RILL_FRONTEND_METRICS_HTTP_H

#include "broker_link.h"
#include "metrics.h"
#include "stream.h"

#include <h2o.h>

#define RILL_METRICS_BROKER_WAIT_MS 1000

void rill_metrics_http_handle(h2o_req_t *req, rill_broker_link_t *broker, rill_streams_t *streams,
                              rill_frontend_metrics_t *metrics);

#endif
