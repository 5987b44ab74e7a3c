/*
 * dashboard_http.c - see dashboard_http.h. The CSP is computed once, at the
 * first request (the page never changes while the process runs); the page
 * is rendered per request, since a SIGHUP may change the kinds or the token.
 */
#include "dashboard_http.h"

#include "dashboard.h"
#include "http_reply.h"
#include "rill_log.h"

#include <stdlib.h>

static char csp[512];
static long csp_length; /* 0: not computed yet; -1: the page is broken */

void rill_dashboard_http_handle(const rill_config_t *config, h2o_req_t *req)
{
    if (csp_length == 0) {
        csp_length = rill_dashboard_csp(rill_dashboard_html, rill_dashboard_html_size, csp,
                                        sizeof(csp));
        if (csp_length < 0)
            rill_log_error(NULL, "the embedded dashboard has no single inline <style> and <script>");
    }
    if (csp_length < 0) {
        rill_http_reply_error(req, 500, "internal", "the dashboard page is broken");
        return;
    }
    size_t length = 0;
    char *page = rill_dashboard_render(rill_dashboard_html, rill_dashboard_html_size,
                                       config, &length);
    if (page == NULL) {
        rill_http_reply_error(req, 500, "internal", "cannot render the dashboard");
        return;
    }
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_headers_t *headers = &req->res.headers;
    h2o_add_header(&req->pool, headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/html; charset=utf-8"));
    h2o_add_header(&req->pool, headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-cache"));
    h2o_add_header_by_str(&req->pool, headers, H2O_STRLIT("content-security-policy"), 0, NULL, csp,
                          (size_t)csp_length);
    h2o_add_header_by_str(&req->pool, headers, H2O_STRLIT("x-content-type-options"), 0, NULL,
                          H2O_STRLIT("nosniff"));
    h2o_add_header_by_str(&req->pool, headers, H2O_STRLIT("referrer-policy"), 0, NULL,
                          H2O_STRLIT("no-referrer"));
    req->res.content_length = length;
    h2o_send_inline(req, page, length); /* copies into the pool */
    free(page);
}
