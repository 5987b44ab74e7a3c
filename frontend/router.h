/*
 * router.h - which API endpoint a request names, and what its query says.
 *
 * h2o matches registered paths by prefix, so the frontend registers one
 * handler for "/" and routes here, exactly: method + normalized path ->
 * route, or 404 / 405 (with the Allow list). Pure string work, unit-tested.
 */
#ifndef RILL_FRONTEND_ROUTER_H
#define RILL_FRONTEND_ROUTER_H

#include "event_format.h"
#include "rill_protocol.h"

#include <stddef.h>

typedef enum {
    RILL_ROUTE_NONE = 0,
    RILL_ROUTE_JOBS,    /* /v1/jobs          POST, GET (the list) */
    RILL_ROUTE_JOB,     /* /v1/jobs/{id}     GET, DELETE */
    RILL_ROUTE_HEALTHZ, /* /healthz          GET */
    RILL_ROUTE_LIVEZ,   /* /livez            GET (the process serves) */
    RILL_ROUTE_READYZ,  /* /readyz           GET (it can serve jobs) */
    RILL_ROUTE_STREAM,  /* /v1/stream        GET */
    RILL_ROUTE_TOPIC,   /* /v1/topics/{name} GET, POST, DELETE (GET: also a wildcard) */
    RILL_ROUTE_METRICS, /* /metrics          GET */
    RILL_ROUTE_DASHBOARD, /* /             GET (the dashboard page) */
    RILL_ROUTE_WORKERS, /* /v1/workers       GET (lists_http.h) */
    RILL_ROUTE_TOPICS,  /* /v1/topics        GET (lists_http.h) */
    RILL_ROUTE_PIPELINES, /* /v1/pipelines   GET (lists_http.h) */
} rill_route_id_t;

typedef struct {
    rill_route_id_t id;
    int status;        /* 0 when the route and method match; else 400, 404 or 405 */
    const char *allow; /* for 405: the Allow header value */
    char job_id[RILL_JOB_ID_LENGTH + 1]; /* RILL_ROUTE_JOB: the id, NUL-terminated */
    char topic[RILL_TOPIC_NAME_MAX + 1]; /* RILL_ROUTE_TOPIC: the name, NUL-terminated */
} rill_route_t;

/* Fills route for method and path (no query). Always succeeds: an unknown
 * path is status 404, a wrong method 405, a malformed job id 404, a topic
 * name outside [A-Za-z0-9._-]{1,128} 400. */
void rill_route_match(const char *method, size_t method_length, const char *path,
                      size_t path_length, rill_route_t *route);

/* Finds the first name=value in an application/x-www-form-urlencoded query
 * (no leading '?'). Returns 1 and sets value/value_length, or 0. Values are
 * not percent-decoded (the parameters rill reads are plain tokens). */
int rill_query_find(const char *query, size_t query_length, const char *name, const char **value,
                    size_t *value_length);
/* Iterates the name=value pairs of a query: *at starts at 0. Returns 1 with
 * the next pair (value empty when there is no '='), or 0 at the end. Empty
 * pairs ("&&") are skipped. Nothing is decoded. */
int rill_query_next(const char *query, size_t query_length, size_t *at, const char **name,
                    size_t *name_length, const char **value, size_t *value_length);
/* Percent-decodes text ('+' is a space) into out, which holds at least
 * length bytes. Returns the decoded length, or -1 on a malformed escape or
 * a decoded NUL. */
long rill_percent_decode(const char *text, size_t length, char *out);
/* 1 when the query names name with a true value ("1", "true", "yes" or empty). */
int rill_query_flag(const char *query, size_t query_length, const char *name);
/* 1 when an Accept header value lists text/event-stream. */
int rill_accept_wants_sse(const char *accept, size_t length);
/* The format a stream's client asked for (docs/API.md): SSE when a
 * format=sse is in the query or the Accept header value (accept may be
 * NULL) lists text/event-stream, else NDJSON. Returns 0, or -1 when a
 * format= value is neither sse nor ndjson (*format is still set). */
int rill_query_stream_format(const char *query, size_t query_length, const char *accept,
                             size_t accept_length, rill_stream_format_t *format);

#endif
