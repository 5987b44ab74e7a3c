/*
 * rill_config_jwt.h - the config's "jwt" section (docs/CONFIG.md "JWT"):
 * the keys that sign the tokens the frontend accepts, the cookie a browser
 * carries its token in, and the clock leeway for exp and nbf.
 *
 * Own file because the section reads key files and checks them, which the
 * rest of the config never does. The keys are kept by value (secrets and
 * PEM text) so a config is one plain struct that SIGHUP replaces whole;
 * only the frontend verifies tokens with them (frontend/access_jwt.h).
 */
#ifndef RILL_CONFIG_JWT_H
#define RILL_CONFIG_JWT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define RILL_CONFIG_JWT_MAX_KEYS 8
#define RILL_CONFIG_JWT_KEY_MAX 8192 /* a secret, or a PEM public key's text */
#define RILL_CONFIG_JWT_ALG_MAX 8    /* "HS256" ... "ES512" */
#define RILL_CONFIG_JWT_COOKIE_MAX 64

typedef struct {
    char alg[RILL_CONFIG_JWT_ALG_MAX]; /* HS256/384/512, RS256/384/512, ES256/384/512 */
    size_t key_length;
    unsigned char key[RILL_CONFIG_JWT_KEY_MAX]; /* HS: the secret's bytes; RS/ES: PEM text, NUL-ended */
} rill_config_jwt_key_t;

typedef struct {
    size_t key_count;                       /* 0: JWT access is off (the section is absent) */
    rill_config_jwt_key_t keys[RILL_CONFIG_JWT_MAX_KEYS];
    char cookie[RILL_CONFIG_JWT_COOKIE_MAX]; /* default "rill_jwt" */
    uint64_t leeway_s;                       /* default 5 */
} rill_config_jwt_t;

void rill_config_jwt_defaults(rill_config_jwt_t *jwt);
/* Reads the section (value: its JSON) over the defaults; a relative
 * public_key_file is relative to config_path's folder. Returns 0, or -1
 * with the reason (naming the key that is wrong) in error. */
int rill_config_jwt_load(const json_t *value, const char *config_path, rill_config_jwt_t *jwt, char *error,
                         size_t error_size);

#endif
