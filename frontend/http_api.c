/*
 * http_api.c - see http_api.h.
 *
 * Every request is answered with JSON (errors included) except the event
 * streams, /metrics and the dashboard page. A request waiting for the
 * broker keeps its state in its own pool (broker_call_http.h): when the
 * client vanishes the pool goes and the pending broker call with it, so a
 * late reply finds nothing and no freed request is ever touched.
 */
#include "http_api.h"

#include "access.h"
#include "broker_call_http.h"
#include "dashboard_http.h"
#include "event_format.h"
#include "http_reply.h"
#include "http_request.h"
#include "job_owner_http.h"
#include "lists_http.h"
#include "metrics_http.h"
#include "router.h"
#include "stream_http.h"
#include "submit_http.h"
#include "topics_http.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    h2o_handler_t super;
    const rill_http_api_context_t *context;
} api_handler_t;

/* ---- GET / DELETE /v1/jobs/{id}, POST /v1/topics/{name} ----------------- */

static void handle_job(rill_broker_link_t *broker, h2o_req_t *req, const rill_route_t *route)
{
    int cancel = req->method.len == 6 && memcmp(req->method.base, "DELETE", 6) == 0;
    rill_frame_t arguments[1] = {rill_frame_from_string(route->job_id)};
    rill_http_call_broker(broker, req, cancel ? RILL_COMMAND_CANCEL : RILL_COMMAND_STATUS, arguments, 1,
                          RILL_COMMAND_STATUS, 200, NULL);
}

/* A job the token's claims do not name: read (or cancelled) once the
 * broker says it is the token's sub's (job_owner_http.h). */
typedef struct {
    rill_broker_link_t *broker;
    rill_route_t route;
    const char *ids[1];
} job_resume_t;

static void resume_job(h2o_req_t *req, void *data)
{
    job_resume_t *resume = data;
    handle_job(resume->broker, req, &resume->route);
}

static void handle_job_access(rill_broker_link_t *broker, h2o_req_t *req, const rill_route_t *route,
                              rill_access_grant_t *grant)
{
    if (rill_access_may_read_job_by_claim(grant, route->job_id)) {
        handle_job(broker, req, route);
        return;
    }
    job_resume_t *resume = h2o_mem_alloc_pool(&req->pool, sizeof(*resume));
    resume->broker = broker;
    resume->route = *route;
    resume->ids[0] = resume->route.job_id;
    rill_job_owner_check(broker, req, grant, resume->ids, 1, resume_job, resume);
}

/* valid JSON text without the whitespace between its tokens (an event is
 * one line). out holds length bytes. Returns the bytes written. */
static size_t compact_json(const char *text, size_t length, char *out)
{
    size_t used = 0;
    int in_string = 0, escaped = 0;
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        if (in_string) {
            if (escaped)
                escaped = 0;
            else if (c == '\\')
                escaped = 1;
            else if (c == '"')
                in_string = 0;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            continue;
        } else if (c == '"') {
            in_string = 1;
        }
        out[used++] = c;
    }
    return used;
}

static void handle_publish(const rill_config_t *config, rill_topic_leases_t *leases, h2o_req_t *req,
                           const char *topic)
{
    /* rill/10: the client's key makes the publish safe to send again
     * (docs/API.md "Idempotency-Key"). */
    const char *key = NULL;
    size_t key_length = 0;
    ssize_t header = h2o_find_header_by_str(&req->headers, H2O_STRLIT("idempotency-key"), -1);
    if (header != -1) {
        key = req->headers.entries[header].value.base;
        key_length = req->headers.entries[header].value.len;
        if (!rill_publish_key_is_valid(key, key_length, 0)) {
            rill_http_reply_error(req, 400, "bad_request", "Idempotency-Key must match [A-Za-z0-9._:-]{1,128}");
            return;
        }
    }
    /* Checked as JSON, then kept as text: the event carries it as given. */
    json_t *body = rill_http_request_json_body(req, config->max_body_bytes,
                                               JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL,
                                               "the body must be a JSON text");
    if (body == NULL)
        return;
    json_decref(body);
    /* Kept byte for byte (numbers are not re-printed), minus line breaks. */
    char *data = h2o_mem_alloc_pool(&req->pool, req->entity.len);
    size_t data_length = compact_json(req->entity.base, req->entity.len, data);
    rill_http_publish(leases, req, topic, data, data_length, key, key_length);
}

/* ---- GET /healthz, /readyz, /livez ----------------------------------------- */

/* /healthz (need_worker 1) and /readyz: 200 with the broker and its live
 * workers while the broker link is up (and a worker lives, when needed);
 * 503 with the reason otherwise. */
static void handle_health(rill_broker_link_t *broker, h2o_req_t *req, int need_worker)
{
    if (!rill_broker_link_is_connected(broker)) {
        rill_http_reply_error(req, 503, "unavailable", "no broker");
        return;
    }
    long workers = rill_broker_link_workers(broker);
    if (need_worker && workers < 1) {
        rill_http_reply_error(req, 503, "unavailable", "no live worker");
        return;
    }
    const char *broker_id = rill_broker_link_broker_id(broker);
    size_t capacity = 64 + 6 * strlen(broker_id);
    char *body = h2o_mem_alloc_pool(&req->pool, capacity);
    size_t at = (size_t)snprintf(body, capacity, "{\"status\":\"ok\",\"broker\":");
    at += rill_json_escape(body + at, capacity - at, broker_id, strlen(broker_id));
    at += (size_t)snprintf(body + at, capacity - at, ",\"workers\":%ld}\n", workers);
    rill_http_reply_json(req, 200, body, at);
}

/* /livez: the loop runs and answers - nothing else is asked, not even
 * whether the frontend is draining (a liveness probe must not restart a
 * frontend for its broker's or its workers' trouble, nor while it drains). */
static void handle_livez(h2o_req_t *req)
{
    static const char body[] = "{\"status\":\"ok\"}\n";
    rill_http_reply_json(req, 200, body, sizeof(body) - 1);
}

/* ---- routing -------------------------------------------------------------- */

static int on_request(h2o_handler_t *handler, h2o_req_t *req)
{
    const rill_http_api_context_t *context = ((api_handler_t *)handler)->context;
    const rill_config_t *config = context->config;
    rill_broker_link_t *broker = context->broker;
    rill_route_t route;
    rill_access_grant_t *grant = NULL;
    rill_route_match(req->method.base, req->method.len, req->path_normalized.base,
                     req->path_normalized.len, &route);
    if (route.status == 404) {
        rill_http_reply_error(req, 404, "not_found", "no such resource");
        return 0;
    }
    if (route.status == 400) {
        rill_http_reply_error(req, 400, "bad_topic", "a topic name matches [A-Za-z0-9._-]{1,128}");
        return 0;
    }
    if (rill_access_check(config, req, &route, &grant))
        return 0;
    if (route.status == 405) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, route.allow,
                       strlen(route.allow));
        char message[96];
        snprintf(message, sizeof(message), "allowed: %s", route.allow);
        rill_http_reply_error(req, 405, "method_not_allowed", message);
        return 0;
    }
    if (route.id == RILL_ROUTE_LIVEZ) {
        handle_livez(req);
        return 0;
    }
    if (context->streams->shutting_down) {
        req->http1_is_persistent = 0;
        rill_http_reply_error(req, 503, "unavailable", "the frontend is shutting down");
        return 0;
    }
    switch (route.id) {
    case RILL_ROUTE_JOBS:
        if (req->method.len == 3 && memcmp(req->method.base, "GET", 3) == 0)
            rill_lists_http_handle(req, broker, "jobs", NULL);
        else
            rill_submit_http_handle(req, config, broker, context->streams, grant);
        break;
    case RILL_ROUTE_WORKERS:
        rill_lists_http_handle(req, broker, "workers", NULL);
        break;
    case RILL_ROUTE_TOPICS:
        rill_lists_http_handle(req, broker, "topics", NULL);
        break;
    case RILL_ROUTE_PIPELINES:
        rill_lists_http_handle(req, broker, "pipelines", NULL);
        break;
    case RILL_ROUTE_JOB:
        handle_job_access(broker, req, &route, grant);
        break;
    case RILL_ROUTE_HEALTHZ:
        handle_health(broker, req, 1);
        break;
    case RILL_ROUTE_READYZ:
        handle_health(broker, req, config->ready_requires_worker);
        break;
    case RILL_ROUTE_STREAM:
        rill_stream_http_handle(req, config, broker, context->streams, NULL, grant);
        break;
    case RILL_ROUTE_TOPIC:
        if (req->method.len == 4 && memcmp(req->method.base, "POST", 4) == 0)
            handle_publish(config, context->streams->leases, req, route.topic);
        else if (req->method.len == 6 && memcmp(req->method.base, "DELETE", 6) == 0)
            rill_topics_http_delete(broker, req, route.topic); /* rill/3 */
        else if (rill_lists_http_wants_info(req))
            rill_lists_http_handle(req, broker, "topic", route.topic);
        else
            rill_stream_http_handle(req, config, broker, context->streams, route.topic, grant);
        break;
    case RILL_ROUTE_METRICS:
        rill_metrics_http_handle(req, broker, context->streams, context->metrics);
        break;
    case RILL_ROUTE_DASHBOARD:
        rill_dashboard_http_handle(config, req);
        break;
    default:
        rill_http_reply_error(req, 404, "not_found", "no such resource");
        break;
    }
    return 0;
}

void rill_http_api_register(h2o_pathconf_t *pathconf, const rill_http_api_context_t *context)
{
    /* h2o_create_handler aborts when memory runs out (rill_alloc.h). */
    api_handler_t *handler = (api_handler_t *)h2o_create_handler(pathconf, sizeof(*handler));
    handler->super.on_req = on_request;
    handler->context = context;
}
