/*
 * tls.c - see tls.h. One SSL_CTX in force, built from two PEM files; the
 * contexts a SIGHUP replaced wait in a short list until no handshake can
 * still reach them.
 *
 * Why a wait: h2o 2.2 accepts a TLS connection by storing a bare pointer
 * to the SSL_CTX on the socket and makes the SSL (which takes a reference)
 * only when the client's first bytes arrive - or closes the socket when
 * h2o's handshake timeout passes first. A context replaced by a reload is
 * therefore freed one handshake timeout (plus a second) later: at the next
 * reload past that instant, or at exit.
 */
#include "tls.h"

#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_log.h"

#include <h2o.h>

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RETIRE_MARGIN_MS 1000

typedef struct retired {
    SSL_CTX *ctx;
    uint64_t free_at_ms; /* monotonic */
    struct retired *next;
} retired_t;

struct rill_tls {
    rill_tls_options_t options; /* the strings are main's (argv, environment) */
    char config_path[RILL_CONFIG_PATH_MAX];
    char cert[RILL_CONFIG_PATH_MAX * 2]; /* the files in force */
    char key[RILL_CONFIG_PATH_MAX * 2];
    SSL_CTX *ctx;
    retired_t *retired;
};

/* The file a setting names: the flag, else the config's value (relative
 * to the config file's directory), else "". -1 when the path is too long. */
static int resolve(char *out, size_t size, const char *flag, const char *configured, const char *config_path)
{
    int length;
    if (flag != NULL && flag[0] != '\0') {
        length = snprintf(out, size, "%s", flag);
    } else if (configured[0] == '\0') {
        length = snprintf(out, size, "%s", "");
    } else {
        const char *slash = config_path != NULL ? strrchr(config_path, '/') : NULL;
        if (configured[0] == '/' || slash == NULL)
            length = snprintf(out, size, "%s", configured);
        else
            length = snprintf(out, size, "%.*s/%s", (int)(slash - config_path), config_path, configured);
    }
    return length >= 0 && (size_t)length < size ? 0 : -1;
}

/* OpenSSL's reason for a failure (the first in its queue is the most
 * precise: "no start line" before "PEM lib"), and a clean error queue:
 * h2o reads SSL_get_error on every connection, which a stale entry
 * confuses. *mismatch tells a key that does not pair with the certificate. */
static const char *openssl_reason(int *mismatch)
{
    unsigned long first = ERR_peek_error(), code;
    const char *reason = first != 0 ? ERR_reason_error_string(first) : NULL;
    while ((code = ERR_get_error()) != 0) {
        if (mismatch != NULL && ERR_GET_LIB(code) == ERR_LIB_X509 &&
            (ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH || ERR_GET_REASON(code) == X509_R_KEY_TYPE_MISMATCH))
            *mismatch = 1;
    }
    return reason != NULL ? reason : "unknown OpenSSL error";
}

/* A key with a passphrase is refused instead of prompting on the terminal. */
static int refuse_passphrase(char *buffer, int size, int rwflag, void *data)
{
    (void)buffer;
    (void)size;
    (void)rwflag;
    (void)data;
    return 0;
}

static int check_readable(const char *setting, const char *path, char *error, size_t error_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(error, error_size, "%s %s cannot be read: %s", setting, path, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

/* "subject CN=..., valid until 2027-01-01 00:00 UTC", and whether it expired. */
static int describe(SSL_CTX *ctx, char *out, size_t size)
{
    X509 *cert = SSL_CTX_get0_certificate(ctx);
    char subject[256] = "?";
    char until[64] = "?";
    int expired = 0;
    if (cert != NULL) {
        X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
        const ASN1_TIME *not_after = X509_get0_notAfter(cert);
        struct tm tm;
        if (not_after != NULL && ASN1_TIME_to_tm(not_after, &tm) == 1)
            strftime(until, sizeof(until), "%Y-%m-%d %H:%M UTC", &tm);
        expired = not_after != NULL && X509_cmp_current_time(not_after) < 0;
    }
    snprintf(out, size, "subject %s, valid until %s", subject, until);
    ERR_clear_error();
    return expired;
}

/* A server context for cert and key, or NULL with the reason in error. */
static SSL_CTX *build_context(const char *cert, const char *key, char *error, size_t error_size)
{
    if (check_readable("tls_cert", cert, error, error_size) != 0 ||
        check_readable("tls_key", key, error, error_size) != 0)
        return NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        snprintf(error, error_size, "cannot make a TLS context: %s", openssl_reason(NULL));
        return NULL;
    }
    /* TLS 1.2 at least (HTTP/2 asks for it); renegotiation, which HTTP/2
     * forbids and h2o never needs, refused; the server's cipher order. */
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* Idle streams are the common case: no read/write buffers while idle. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    /* Resumption through stateless tickets only (keyed per context, so a
     * reload starts new sessions): no server-side cache growing per client. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_default_passwd_cb(ctx, refuse_passphrase);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        snprintf(error, error_size, "tls_cert %s refused: %s (a PEM certificate, then its chain)", cert,
                 openssl_reason(NULL));
        goto fail;
    }
    int mismatch = 0;
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        const char *reason = openssl_reason(&mismatch);
        if (!mismatch) {
            snprintf(error, error_size, "tls_key %s refused: %s (a PEM private key without passphrase)", key,
                     reason);
            goto fail;
        }
    }
    if (mismatch || SSL_CTX_check_private_key(ctx) != 1) {
        (void)openssl_reason(NULL);
        snprintf(error, error_size, "tls_key %s does not match the certificate in %s", key, cert);
        goto fail;
    }
    /* h2, then http/1.1: a client that offers no ALPN gets HTTP/1.1. */
    h2o_ssl_register_alpn_protocols(ctx, h2o_alpn_protocols);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* The files options and config name, into cert and key; -1 logged. */
static int resolve_files(const rill_tls_t *self, const rill_config_t *config, char *cert, char *key, size_t size)
{
    const char *config_path = self->config_path[0] != '\0' ? self->config_path : NULL;
    if (resolve(cert, size, self->options.cert_flag, config->tls_cert, config_path) != 0 ||
        resolve(key, size, self->options.key_flag, config->tls_key, config_path) != 0) {
        rill_log_error(NULL, "TLS: the certificate or key path is too long");
        return -1;
    }
    return 0;
}

static void free_retired(rill_tls_t *self, int all)
{
    uint64_t now = rill_clock_monotonic_ms();
    for (retired_t **at = &self->retired; *at != NULL;) {
        retired_t *entry = *at;
        if (!all && entry->free_at_ms > now) {
            at = &entry->next;
            continue;
        }
        *at = entry->next;
        SSL_CTX_free(entry->ctx);
        free(entry);
    }
}

int rill_tls_open(rill_tls_t **out, const rill_tls_options_t *options, const rill_config_t *config)
{
    *out = NULL;
    rill_tls_t *self = rill_xcalloc(1, sizeof(*self));
    self->options = *options;
    if (options->config_path != NULL &&
        snprintf(self->config_path, sizeof(self->config_path), "%s", options->config_path) >=
            (int)sizeof(self->config_path)) {
        rill_log_error(NULL, "TLS: the config path is too long");
        free(self);
        return -1;
    }
    if (resolve_files(self, config, self->cert, self->key, sizeof(self->cert)) != 0) {
        free(self);
        return -1;
    }
    if (self->cert[0] == '\0' && self->key[0] == '\0') {
        free(self); /* cleartext */
        return 0;
    }
    if (self->cert[0] == '\0' || self->key[0] == '\0') {
        rill_log_error(NULL, "TLS: %s is set but %s is not (--tls-cert and --tls-key, or tls_cert and tls_key)",
                       self->cert[0] != '\0' ? "the certificate" : "the key",
                       self->cert[0] != '\0' ? "its key" : "its certificate");
        free(self);
        return -1;
    }
    char error[RILL_CONFIG_PATH_MAX * 5];
    self->ctx = build_context(self->cert, self->key, error, sizeof(error));
    if (self->ctx == NULL) {
        rill_log_error(NULL, "TLS: %s", error);
        free(self);
        return -1;
    }
    char description[400];
    if (describe(self->ctx, description, sizeof(description)))
        rill_log_warn(NULL, "TLS: the certificate %s has expired (%s)", self->cert, description);
    rill_log_info(NULL, "TLS: serving HTTPS (ALPN h2, http/1.1) with %s (%s)", self->cert, description);
    *out = self;
    return 0;
}

SSL_CTX *rill_tls_ssl_ctx(const rill_tls_t *self)
{
    return self != NULL ? self->ctx : NULL;
}

void rill_tls_reload(rill_tls_t *self, const rill_config_t *config, uint64_t handshake_timeout_ms)
{
    if (self == NULL) {
        if (config->tls_cert[0] != '\0' || config->tls_key[0] != '\0')
            rill_log_warn(NULL, "SIGHUP: tls_cert/tls_key take effect at the next start; serving cleartext");
        return;
    }
    free_retired(self, 0);
    char cert[sizeof(self->cert)], key[sizeof(self->key)];
    if (resolve_files(self, config, cert, key, sizeof(cert)) != 0)
        return;
    if (cert[0] == '\0' || key[0] == '\0') {
        rill_log_warn(NULL, "SIGHUP: no tls_cert and tls_key any more; TLS stays on with %s until restart",
                      self->cert);
        return;
    }
    char error[RILL_CONFIG_PATH_MAX * 5];
    SSL_CTX *fresh = build_context(cert, key, error, sizeof(error));
    if (fresh == NULL) {
        rill_log_error(NULL, "SIGHUP: certificate refused, the old one stays: %s", error);
        return;
    }
    retired_t *entry = rill_xcalloc(1, sizeof(*entry));
    entry->ctx = self->ctx;
    entry->free_at_ms = rill_clock_monotonic_ms() + handshake_timeout_ms + RETIRE_MARGIN_MS;
    entry->next = self->retired;
    self->retired = entry;
    self->ctx = fresh;
    memcpy(self->cert, cert, sizeof(self->cert));
    memcpy(self->key, key, sizeof(self->key));
    char description[400];
    if (describe(fresh, description, sizeof(description)))
        rill_log_warn(NULL, "TLS: the certificate %s has expired (%s)", cert, description);
    rill_log_info(NULL, "SIGHUP: certificate %s reloaded for new connections (%s)", cert, description);
}

void rill_tls_destroy(rill_tls_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_tls_t *self = *self_p;
    *self_p = NULL;
    free_retired(self, 1);
    SSL_CTX_free(self->ctx);
    free(self);
}
