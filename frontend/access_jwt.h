/*
 * access_jwt.h - verifying a JSON Web Token with the config's keys
 * (docs/API.md "Access", docs/CONFIG.md "JWT"), by libjwt: no crypto here.
 *
 * The token's header must name the alg of a configured key (alg:none and
 * any other alg are refused before libjwt sees the token: an RS256 key is
 * never used as an HMAC secret); the signature is checked by libjwt with
 * each key of that alg in turn; then exp and nbf (with the leeway), and
 * the claims' shape (access_claims.h).
 */
#ifndef RILL_FRONTEND_ACCESS_JWT_H
#define RILL_FRONTEND_ACCESS_JWT_H

#include "access_claims.h"
#include "rill_config_jwt.h"

#include <stddef.h>
#include <stdint.h>

#define RILL_ACCESS_JWT_MAX 8192 /* bytes of a token */

/* Returns 0 with grant filled (rill_access_grant_clear it), or -1 with why
 * (a static text for the client: expired, bad signature, alg not allowed). */
int rill_access_jwt_verify(const rill_config_jwt_t *config, const char *token, size_t length, int64_t now_s,
                           rill_access_grant_t *grant, const char **why);

#endif
