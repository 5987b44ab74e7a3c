/*
 * dashboard.h - the dashboard page of GET / (docs/API.md "GET / (the dashboard)"): the page's bytes,
 * its Content-Security-Policy, and the page as served for a config.
 *
 * The page is frontend/dashboard.html, embedded at build time by
 * rill-embed-file (frontend/embed_file.c) as rill_dashboard_html. It holds
 * exactly one inline <style> and one inline <script>; the CSP allows those
 * two by their SHA-256 and nothing else, and lets the page connect to its
 * own origin only. What the page must know of the config (declared kinds,
 * whether a bearer token is needed) is written, HTML-escaped JSON, into its
 * <meta name="rill-config" content="..."> when served: neither inline block
 * changes, so their hashes hold. Pure functions, unit-tested; the HTTP side
 * is dashboard_http.h.
 */
#ifndef RILL_FRONTEND_DASHBOARD_H
#define RILL_FRONTEND_DASHBOARD_H

#include "rill_config.h"

#include <stddef.h>

extern const char rill_dashboard_html[]; /* NUL-terminated; the NUL is not counted */
extern const size_t rill_dashboard_html_size;

/* Writes the Content-Security-Policy for page into out (NUL-terminated).
 * Returns its length, or -1 when the page does not hold exactly one
 * <style>...</style> and one <script>...</script>, or out is too small. */
long rill_dashboard_csp(const char *page, size_t length, char *out, size_t size);

/* The page with its rill-config meta filled from config: a malloc'd buffer
 * of *out_length bytes (free it), or NULL when the page has no
 * <meta name="rill-config" content="..."> or the config cannot be written
 * as JSON. */
char *rill_dashboard_render(const char *page, size_t length, const rill_config_t *config,
                            size_t *out_length);

#endif
