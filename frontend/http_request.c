/*
 * http_request.c - see http_request.h.
 */
#include "http_request.h"

#include "http_reply.h"
#include "router.h"

#include <netdb.h>
#include <stdio.h>

const char *rill_http_request_query(h2o_req_t *req, size_t *length)
{
    if (req->query_at == SIZE_MAX || req->query_at >= req->path.len) {
        *length = 0;
        return NULL;
    }
    *length = req->path.len - req->query_at - 1;
    return req->path.base + req->query_at + 1;
}

void rill_http_request_client(h2o_req_t *req, char *who, size_t size)
{
    struct sockaddr_storage address;
    snprintf(who, size, "unknown");
    if (req->conn == NULL || req->conn->callbacks->get_peername == NULL)
        return;
    socklen_t length = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&address);
    if (length == 0)
        return;
    char host[NI_MAXHOST];
    size_t host_length = h2o_socket_getnumerichost((struct sockaddr *)&address, length, host);
    if (host_length == SIZE_MAX || host_length >= sizeof(host))
        return;
    host[host_length] = '\0';
    int32_t port = h2o_socket_getport((struct sockaddr *)&address);
    if (port < 0)
        snprintf(who, size, "%.46s", host);
    else
        snprintf(who, size, "%.46s:%d", host, (int)port);
}

int rill_http_request_stream_format(h2o_req_t *req, rill_stream_format_t *format)
{
    size_t query_length;
    const char *query = rill_http_request_query(req, &query_length);
    ssize_t accept = h2o_find_header(&req->headers, H2O_TOKEN_ACCEPT, -1);
    h2o_iovec_t value = accept != -1 ? req->headers.entries[accept].value : h2o_iovec_init(NULL, 0);
    return rill_query_stream_format(query, query_length, value.base, value.len, format);
}

json_t *rill_http_request_json_body(h2o_req_t *req, uint64_t max_bytes, size_t flags,
                                    const char *empty_message)
{
    if (req->entity.base == NULL || req->entity.len == 0) {
        rill_http_reply_error(req, 400, "bad_json", empty_message);
        return NULL;
    }
    if (req->entity.len > max_bytes) {
        char message[128];
        snprintf(message, sizeof(message), "the body is over %llu bytes",
                 (unsigned long long)max_bytes);
        rill_http_reply_error(req, 413, "body_too_large", message);
        return NULL;
    }
    json_error_t error;
    json_t *body = json_loadb(req->entity.base, req->entity.len, flags, &error);
    if (body == NULL) {
        char message[256];
        snprintf(message, sizeof(message), "malformed JSON at line %d column %d: %s", error.line,
                 error.column, error.text);
        rill_http_reply_error(req, 400, "bad_json", message);
    }
    return body;
}
