/*
 * access.c - CORS, the bearer token and JWT access. See access.h.
 */
#include "access.h"

#include "access_jwt.h"
#include "http_reply.h"
#include "lists_http.h"

#include <string.h>
#include <time.h>

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

static void grant_dispose(void *data)
{
    rill_access_grant_clear(data);
}

/* 401 with WWW-Authenticate (RFC 6750): invalid_token says the token was
 * there but not good, and why (a static text without '"' or '\\', so it
 * fits the quoted string as it is). */
static void refuse_unauthorized(h2o_req_t *req, const char *why, int invalid_token)
{
    if (invalid_token) {
        size_t capacity = strlen(why) + 80;
        char *value = h2o_mem_alloc_pool(&req->pool, capacity);
        int length = snprintf(value, capacity, "Bearer realm=\"rill\", error=\"invalid_token\", error_description=\"%s\"",
                              why);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL, value, (size_t)length);
    } else {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                       H2O_STRLIT("Bearer realm=\"rill\""));
    }
    rill_http_reply_error(req, 401, "unauthorized", why);
}

/* The value of cookie name in the request's Cookie headers (there may be
 * several, HTTP/2 splits them), or base NULL. */
static h2o_iovec_t cookie_value(h2o_req_t *req, const char *name)
{
    size_t name_length = strlen(name);
    for (ssize_t index = -1; (index = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, index)) != -1;) {
        h2o_iovec_t header = req->headers.entries[index].value;
        size_t at = 0;
        while (at < header.len) {
            while (at < header.len && (header.base[at] == ' ' || header.base[at] == ';'))
                at++;
            const char *pair = header.base + at;
            const char *end = memchr(pair, ';', header.len - at);
            size_t pair_length = end != NULL ? (size_t)(end - pair) : header.len - at;
            at += pair_length;
            if (pair_length > name_length && pair[name_length] == '=' && memcmp(pair, name, name_length) == 0) {
                const char *value = pair + name_length + 1;
                size_t length = pair_length - name_length - 1;
                while (length > 0 && value[length - 1] == ' ')
                    length--;
                if (length >= 2 && value[0] == '"' && value[length - 1] == '"')
                    value++, length -= 2;
                return h2o_iovec_init(value, length);
            }
        }
    }
    return h2o_iovec_init(NULL, 0);
}

/* Which routes name who is asking when JWT access is on: every one that
 * reads or changes jobs and topics. Probes, /metrics and the dashboard
 * page stay open, as without JWT. */
static int needs_identity(const rill_route_t *route)
{
    switch (route->id) {
    case RILL_ROUTE_JOBS:
    case RILL_ROUTE_WORKERS:
    case RILL_ROUTE_TOPICS:
    case RILL_ROUTE_PIPELINES:
    case RILL_ROUTE_TOPIC:
    case RILL_ROUTE_JOB:
    case RILL_ROUTE_STREAM:
        return 1;
    default:
        return 0;
    }
}

static int refuse_forbidden(h2o_req_t *req, const char *why)
{
    rill_http_reply_error(req, 403, "forbidden", why);
    return 1;
}

/* What the route itself needs of the grant; a stream's query subjects and
 * a job's owner are checked later (stream_http.c, job_owner_http.c). */
static int route_claims(h2o_req_t *req, const rill_route_t *route, const rill_access_grant_t *grant)
{
    if (grant->everything || grant->admin)
        return 0;
    switch (route->id) {
    case RILL_ROUTE_JOBS:
        if (method_is(req, "POST"))
            return grant->sub[0] == '\0' ? refuse_forbidden(req, "a job belongs to a token's sub: this token has none")
                                          : 0;
        return refuse_forbidden(req, "the lists need a token whose rill claim has \"admin\":true");
    case RILL_ROUTE_WORKERS:
    case RILL_ROUTE_TOPICS:
    case RILL_ROUTE_PIPELINES:
        return refuse_forbidden(req, "the lists need a token whose rill claim has \"admin\":true");
    case RILL_ROUTE_TOPIC:
        if (method_is(req, "POST") || method_is(req, "DELETE"))
            return rill_access_may_publish(grant, route->topic, strlen(route->topic))
                       ? 0
                       : refuse_forbidden(req, "the token's rill.publish claim does not name this topic");
        return rill_access_may_subscribe(grant, route->topic, strlen(route->topic))
                   ? 0
                   : refuse_forbidden(req, "the token's rill.subscribe claim does not name this topic");
    default:
        return 0;
    }
}

/* JWT access (docs/API.md "Access"): the token from the Authorization header
 * or the configured cookie; the operator's auth_token still opens
 * everything. */
static int jwt_check(const rill_config_t *config, h2o_req_t *req, const rill_route_t *route,
                     rill_access_grant_t *grant)
{
    if (!needs_identity(route) || method_is(req, "OPTIONS"))
        return 0;
    static const char scheme[] = "Bearer ";
    h2o_iovec_t authorization = header_value(req, H2O_STRLIT("authorization"));
    h2o_iovec_t token = h2o_iovec_init(NULL, 0);
    if (authorization.base != NULL) {
        if (authorization.len <= sizeof(scheme) - 1 || strncasecmp(authorization.base, scheme, sizeof(scheme) - 1) != 0) {
            refuse_unauthorized(req, "the Authorization header must be: Bearer <token>", 1);
            return 1;
        }
        if (config->auth_token[0] != '\0' && rill_access_token_matches(config, authorization.base, authorization.len))
            return 0; /* the operator's token: everything */
        token = h2o_iovec_init(authorization.base + sizeof(scheme) - 1, authorization.len - (sizeof(scheme) - 1));
    } else {
        token = cookie_value(req, config->jwt.cookie);
    }
    if (token.base == NULL) {
        refuse_unauthorized(req, "this request needs a token: \"Authorization: Bearer <JWT>\" or the JWT cookie", 0);
        return 1;
    }
    grant->everything = 0;
    const char *why = "the token is not valid";
    if (rill_access_jwt_verify(&config->jwt, token.base, token.len, (int64_t)time(NULL), grant, &why) != 0) {
        refuse_unauthorized(req, why, 1);
        return 1;
    }
    return route_claims(req, route, grant);
}

int rill_access_check(const rill_config_t *config, h2o_req_t *req, const rill_route_t *route,
                      rill_access_grant_t **grant_out)
{
    *grant_out = NULL;
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
    /* Without JWT access every request shares one grant that allows
     * everything: nothing is allocated, and nothing writes to it. */
    static rill_access_grant_t everything = {.everything = 1};
    *grant_out = &everything;
    if (config->jwt.key_count > 0) {
        rill_access_grant_t *grant = h2o_mem_alloc_shared(&req->pool, sizeof(*grant), grant_dispose);
        memset(grant, 0, sizeof(*grant));
        grant->everything = 1;
        *grant_out = grant;
        return jwt_check(config, req, route, grant);
    }
    if (config->auth_token[0] != '\0' && needs_token(req, route)) {
        h2o_iovec_t authorization = header_value(req, H2O_STRLIT("authorization"));
        if (authorization.base == NULL || !rill_access_token_matches(config, authorization.base, authorization.len)) {
            refuse_unauthorized(req, authorization.base == NULL ? "this request needs \"Authorization: Bearer <token>\""
                                                                : "the bearer token is not valid",
                                0);
            return 1;
        }
    }
    return 0;
}
