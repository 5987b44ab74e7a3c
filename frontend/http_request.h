/*
 * http_request.h - what the API handlers read off an h2o request beyond
 * its route (router.h): the query string, the client's address for "who"
 * and the logs, the stream format the client asked for, and a JSON body.
 */
#ifndef RILL_FRONTEND_HTTP_REQUEST_H
#define RILL_FRONTEND_HTTP_REQUEST_H

#include "event_format.h"

#include <h2o.h>
#include <jansson.h>
#include <stdint.h>

/* The bytes after '?' (not decoded), or NULL with *length 0. */
const char *rill_http_request_query(h2o_req_t *req, size_t *length);
/* "ip:port" of the client (or "unknown") into who, size bytes. */
void rill_http_request_client(h2o_req_t *req, char *who, size_t size);
/* rill_query_stream_format over the query and the Accept header: 0, or -1
 * when a format= value is neither sse nor ndjson (*format is still set). */
int rill_http_request_stream_format(h2o_req_t *req, rill_stream_format_t *format);

/* The body as JSON (jansson's decode flags), at most max_bytes. When there
 * is none (400 bad_json, saying empty_message), it is larger (413
 * body_too_large) or malformed (400 bad_json, saying where), answers the
 * request and returns NULL. */
json_t *rill_http_request_json_body(h2o_req_t *req, uint64_t max_bytes, size_t flags,
                                    const char *empty_message);

#endif
