/*
 * http_request.c - see http_request.h.
 */
#include "http_request.h"

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
