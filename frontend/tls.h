/*
 * tls.h - HTTPS for the frontend: the OpenSSL context h2o accepts with.
 *
 * With a certificate and key (flags --tls-cert/--tls-key, or tls_cert and
 * tls_key in the config: docs/CONFIG.md "TLS") the frontend serves HTTPS on
 * its listen address, HTTP/2 or HTTP/1.1 chosen by ALPN; without, it stays
 * cleartext. This module owns the SSL_CTX: it builds one from the two PEM
 * files (TLS 1.2 at least, no renegotiation, stateless session tickets, no
 * server-side session cache) and, on SIGHUP, builds a new one from the
 * same files and swaps it in for new connections. Open connections keep
 * the context they were accepted with (each SSL holds a reference to it).
 * A file that cannot be read, parsed or paired is refused with one log line
 * naming it: at start the frontend does not start, on SIGHUP the old
 * certificate stays.
 */
#ifndef RILL_FRONTEND_TLS_H
#define RILL_FRONTEND_TLS_H

#include "rill_config.h"

#include <openssl/ssl.h>
#include <stdint.h>

typedef struct rill_tls rill_tls_t;

/* Where the certificate and key come from. A flag (or its environment
 * variable) wins over the config's key of the same name; a relative path
 * in the config is relative to the config file's directory. */
typedef struct {
    const char *cert_flag;   /* --tls-cert / RILL_TLS_CERT, or NULL */
    const char *key_flag;    /* --tls-key / RILL_TLS_KEY, or NULL */
    const char *config_path; /* the config file, or NULL */
} rill_tls_options_t;

/* 0 with *out NULL: no certificate is named anywhere, serve cleartext.
 * 0 with *out set: the certificate and key are loaded. -1: refused, the
 * reason logged in one line naming the file. */
int rill_tls_open(rill_tls_t **out, const rill_tls_options_t *options, const rill_config_t *config);
/* The context to accept new connections with; NULL for a NULL self. */
SSL_CTX *rill_tls_ssl_ctx(const rill_tls_t *self);
/* SIGHUP: re-reads the files that options and config (the one in force)
 * name. A good pair replaces the context for new connections; a bad one is
 * refused with its reason and the old context stays. TLS is not turned on
 * or off by a reload (self NULL: a newly named certificate is reported as
 * needing a restart). The context replaced is freed only once every
 * connection accepted with it is past h2o's handshake, handshake_timeout_ms
 * (h2o keeps a bare pointer to it until the client's first bytes). */
void rill_tls_reload(rill_tls_t *self, const rill_config_t *config, uint64_t handshake_timeout_ms);
/* Frees every context and clears *self; the loop must not run again with
 * a handshake pending. */
void rill_tls_destroy(rill_tls_t **self);

#endif
