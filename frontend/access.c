/*
 * access.c - CORS and the bearer token. See access.h.
 */
#include "access.h"

#include "http_reply.h"
#include "lists_http.h"

#include <string.h>

#define CORS_ALLOW_HEADERS "Content-Type, Authorization, Last-Event-ID, Accept"
#define CORS_MAX_AGE "600"

int rill_access_origin_allowed(const rill_config_t *config, const char *origin, size_t length)
{
    for (size_t i = 0; i < config->cors_origin_count; i++) {
        const char *allowed = config->cors_origins[i];
        if (strcmp(allowed, "*") == 0)
            return 1;
        if (strlen(allowed) == length && strncasecmp(allowed, origin, length) == 0)
            return 1;
    }
    return 0;
}

int rill_access_token_matches(const rill_config_t *config, const char *authorization, size_t length)
{
    static const char scheme[] = "Bearer ";
    size_t scheme_length = sizeof(scheme) - 1;
    if (length <= scheme_length || strncasecmp(authorization, scheme, scheme_length) != 0)
        return 0;
    const char *token = authorization + scheme_length;
    size_t token_length = length - scheme_length;
    size_t expected_length = strlen(config->auth_token);
    /* Constant time over the expected token: no early exit a client could time. */
    unsigned char difference = token_length != expected_length;
    for (size_t i = 0; i < expected_length; i++)
        difference |= (unsigned char)(config->auth_token[i] ^ (i < token_length ? token[i] : 0));
    return difference == 0;
}

static h2o_iovec_t header_value(h2o_req_t *req, const char *name, size_t name_length)
{
    ssize_t index = h2o_find_header_by_str(&req->headers, name, name_length, -1);
    return index < 0 ? h2o_iovec_init(NULL, 0) : req->headers.entries[index].value;
}

static int method_is(h2o_req_t *req, const char *method)
{
    size_t length = strlen(method);
    return req->method.len == length && memcmp(req->method.base, method, length) == 0;
}

/* Submit, publish, cancel and a topic's DELETE change something: those need the token. So
 * do the lists: they show job ids, which let anyone follow a job. */
static int needs_token(h2o_req_t *req, const rill_route_t *route)
{
    switch (route->id) {
    case RILL_ROUTE_JOBS:
    case RILL_ROUTE_WORKERS:
    case RILL_ROUTE_TOPICS:
    case RILL_ROUTE_PIPELINES:
        return 1;
    case RILL_ROUTE_TOPIC:
        return method_is(req, "POST") || method_is(req, "DELETE") || rill_lists_http_wants_info(req);
    case RILL_ROUTE_JOB:
        return method_is(req, "DELETE");
    default:
        return 0;
    }
}

int rill_access_check(const rill_config_t *config, h2o_req_t *req, const rill_route_t *route)
{
    h2o_iovec_t origin = header_value(req, H2O_STRLIT("origin"));
    int allowed = origin.base != NULL && rill_access_origin_allowed(config, origin.base, origin.len);
    if (allowed) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, NULL,
                       origin.base, origin.len);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Origin"));
    }
    if (method_is(req, "OPTIONS") && route->id != RILL_ROUTE_NONE) {
        if (origin.base != NULL && !allowed) {
            rill_http_reply_error(req, 403, "cors_forbidden", "this origin is not allowed (cors_origins)");
            return 1;
        }
        const char *methods = route->allow != NULL ? route->allow : "GET";
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, methods, strlen(methods));
        if (allowed) {
            h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-allow-methods"), 0,
                                  NULL, methods, strlen(methods));
            h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-allow-headers"), 0,
                                  NULL, H2O_STRLIT(CORS_ALLOW_HEADERS));
            h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-max-age"), 0, NULL,
                                  H2O_STRLIT(CORS_MAX_AGE));
        }
        req->res.status = 204;
        req->res.reason = "No Content";
        req->res.content_length = 0;
        h2o_send_inline(req, NULL, 0);
        return 1;
    }
    if (config->auth_token[0] != '\0' && needs_token(req, route)) {
        h2o_iovec_t authorization = header_value(req, H2O_STRLIT("authorization"));
        if (authorization.base == NULL || !rill_access_token_matches(config, authorization.base, authorization.len)) {
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                           H2O_STRLIT("Bearer realm=\"rill\""));
            rill_http_reply_error(req, 401, "unauthorized",
                                 authorization.base == NULL ? "this request needs \"Authorization: Bearer <token>\""
                                                            : "the bearer token is not valid");
            return 1;
        }
    }
    return 0;
}
