/*
 * http_reply.c - see http_reply.h.
 */
#include "http_reply.h"

#include "event_format.h"
#include "rill_log.h"

#include <string.h>

static const char *reason_of(int status)
{
    switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
    }
}

void rill_http_reply_json(h2o_req_t *req, int status, const char *body, size_t length)
{
    req->res.status = status;
    req->res.reason = reason_of(status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store"));
    /* A known length keeps HTTP/1.1 connections alive (h2o closes them
     * after a body of unknown length). */
    req->res.content_length = length;
    h2o_send_inline(req, body, length);
}

void rill_http_reply_no_content(h2o_req_t *req)
{
    req->res.status = 204;
    req->res.reason = "No Content";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store"));
    req->res.content_length = 0;
    h2o_send_inline(req, NULL, 0);
}

void rill_http_reply_error(h2o_req_t *req, int status, const char *code, const char *message)
{
    size_t code_length = strlen(code);
    size_t message_length = strlen(message);
    size_t capacity = 32 + 6 * (code_length + message_length) + 8;
    char *body = h2o_mem_alloc_pool(&req->pool, capacity);
    size_t at = 0;
    memcpy(body, "{\"error\":", 9);
    at = 9;
    at += rill_json_escape(body + at, capacity - at, code, code_length);
    memcpy(body + at, ",\"message\":", 11);
    at += 11;
    at += rill_json_escape(body + at, capacity - at, message, message_length);
    body[at++] = '}';
    body[at++] = '\n';
    rill_http_reply_json(req, status, body, at);
}

static int status_for_broker_error(rill_frame_t code)
{
    if (rill_frame_equals(code, "conflict"))
        return 409;
    if (rill_frame_equals(code, "unknown_kind") || rill_frame_equals(code, "invalid_job") ||
        rill_frame_equals(code, "invalid_args"))
        return 422;
    if (rill_frame_equals(code, "bad_request") || rill_frame_equals(code, "bad_json"))
        return 400;
    if (rill_frame_equals(code, "not_found"))
        return 404;
    if (rill_frame_equals(code, "forbidden"))
        return 403;
    if (rill_frame_equals(code, "unavailable") || rill_frame_equals(code, "lease_lost"))
        return 503;
    return 502;
}

void rill_http_reply_broker_error(h2o_req_t *req, const rill_message_t *message)
{
    rill_frame_t code = message->arguments[1];
    rill_frame_t text = message->arguments[2];
    int status = status_for_broker_error(code);
    h2o_iovec_t code_copy = h2o_strdup(&req->pool, (const char *)code.data, code.size);
    h2o_iovec_t text_copy = h2o_strdup(&req->pool, (const char *)text.data, text.size);
    /* Codes are ASCII words; anything else from the broker is replaced. */
    for (size_t i = 0; i < code_copy.len; i++) {
        char c = code_copy.base[i];
        if (!((c >= 'a' && c <= 'z') || c == '_' || (c >= '0' && c <= '9'))) {
            code_copy = h2o_strdup(&req->pool, H2O_STRLIT("broker_error"));
            break;
        }
    }
    if (status == 502 && strcmp(code_copy.base, "broker_error") != 0)
        rill_log_warn(NULL, "broker error %s: %s", code_copy.base, text_copy.base);
    rill_http_reply_error(req, status, code_copy.base, text_copy.base);
}

void rill_http_reply_unanswered(h2o_req_t *req, int timed_out)
{
    if (timed_out)
        rill_http_reply_error(req, 504, "timeout", "the broker did not answer in time");
    else
        rill_http_reply_error(req, 503, "unavailable", "the frontend is shutting down");
}
