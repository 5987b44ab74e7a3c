/*
 * lists_http.h - GET /v1/jobs, GET /v1/workers, GET /v1/topics and
 * GET /v1/topics/{name}?info (docs/API.md, "Lists").
 *
 * The query is checked here (known parameters only, each at most once,
 * limit 1..1000, values percent-decoded) and sent to the broker as one
 * LIST call, whose JSON answer the client gets as it is (docs/PROTOCOL.md,
 * "Lists"); the broker checks it again and owns the filters and the pages.
 * Who may list is decided before (access.h): with an auth_token, the
 * lists need it.
 */
#ifndef RILL_FRONTEND_LISTS_HTTP_H
#define RILL_FRONTEND_LISTS_HTTP_H

#include "broker_link.h"

#include <h2o.h>

/* GET /v1/topics/{name} with an info parameter: the topic's info, not its stream. */
int rill_lists_http_wants_info(h2o_req_t *req);
/* what: "jobs", "workers" or "topics"; or "topic" with the topic's name. */
void rill_lists_http_handle(h2o_req_t *req, rill_broker_link_t *broker, const char *what, const char *topic);

#endif
