/*
 * http_reply.h - the frontend's whole answers to a request: a JSON body
 * with its status, and the {"error":code,"message":text} body every refusal
 * carries (docs/API.md "Errors"), including the mapping of a broker's ERROR
 * or silence to an HTTP status.
 *
 * A leaf: it depends on no other module of the frontend that answers
 * requests, so the router, access control, the dashboard, /metrics and
 * the streams all answer through it without depending on each other.
 */
#ifndef RILL_FRONTEND_HTTP_REPLY_H
#define RILL_FRONTEND_HTTP_REPLY_H

#include "rill_protocol.h"

#include <h2o.h>

/* Sends body (copied into the request's pool by h2o) as application/json
 * with a known length, which keeps HTTP/1.1 connections alive. */
void rill_http_reply_json(h2o_req_t *req, int status, const char *body, size_t length);
/* 204 No Content, no body (a resumed stream with nothing more to say:
 * docs/API.md, "Server-Sent Events"). */
void rill_http_reply_no_content(h2o_req_t *req);
/* Sends {"error":code,"message":message} with status. */
void rill_http_reply_error(h2o_req_t *req, int status, const char *code, const char *message);
/* Answers with the broker's ERROR message (frames: req, code, message),
 * its code mapped to a status (conflict 409, not_found 404, ...). */
void rill_http_reply_broker_error(h2o_req_t *req, const rill_message_t *message);
/* The broker did not answer: 504 when it timed out, else 503 (the frontend
 * is shutting down). */
void rill_http_reply_unanswered(h2o_req_t *req, int timed_out);

#endif
