/*
 * access_jwt.c - see access_jwt.h.
 */
#include "access_jwt.h"

#include <jansson.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HEADER_MAX 1024 /* bytes of the encoded header we look at */
#define CACHE_SLOTS 256   /* verified tokens remembered (direct-mapped) */
#define CACHE_TOKEN_MAX 2048

/* Verified tokens, so a client's every request does not pay libjwt's key
 * load again (OpenSSL 3 decodes the PEM on each jwt_decode: ~0.5 ms for an
 * RS256 or ES256 key, against a few us for the signature itself). A hit
 * needs the same token, byte for byte, and the key that verified it still
 * configured, byte for byte (by its FNV-1a over alg and key: a key rotated
 * by SIGHUP misses). exp and nbf are checked on every request still. The
 * frontend runs one thread: no lock. */
typedef struct {
    char *token;
    size_t length;
    uint64_t key_hash;
    char *claims; /* the payload's JSON text */
} cache_entry_t;
static cache_entry_t cache[CACHE_SLOTS];

static uint64_t fnv1a(uint64_t hash, const void *data, size_t length)
{
    const unsigned char *bytes = data;
    for (size_t i = 0; i < length; i++)
        hash = (hash ^ bytes[i]) * 1099511628211ull;
    return hash;
}

static uint64_t key_hash(const rill_config_jwt_key_t *key)
{
    return fnv1a(fnv1a(14695981039346656037ull, key->alg, strlen(key->alg)), key->key, key->key_length);
}

static cache_entry_t *cache_slot(const char *token, size_t length)
{
    return &cache[fnv1a(14695981039346656037ull, token, length) % CACHE_SLOTS];
}

/* The cached payload of token when a key of alg that verified it is still
 * configured, or NULL. */
static json_t *cache_find(const rill_config_jwt_t *config, const char *alg, const char *token, size_t length)
{
    const cache_entry_t *entry = cache_slot(token, length);
    if (entry->token == NULL || entry->length != length || memcmp(entry->token, token, length) != 0)
        return NULL;
    for (size_t i = 0; i < config->key_count; i++) {
        if (strcmp(config->keys[i].alg, alg) == 0 && key_hash(&config->keys[i]) == entry->key_hash) {
            json_error_t error;
            return json_loads(entry->claims, 0, &error);
        }
    }
    return NULL;
}

static void cache_store(const rill_config_jwt_key_t *key, const char *token, size_t length, const json_t *payload)
{
    if (length > CACHE_TOKEN_MAX)
        return;
    cache_entry_t *entry = cache_slot(token, length);
    char *claims = json_dumps(payload, JSON_COMPACT);
    char *copy = malloc(length);
    if (claims == NULL || copy == NULL) {
        free(claims);
        free(copy);
        return;
    }
    memcpy(copy, token, length);
    free(entry->token);
    free(entry->claims);
    entry->token = copy;
    entry->length = length;
    entry->key_hash = key_hash(key);
    entry->claims = claims;
}

/* The alg named by the token's header (base64url JSON), into alg; -1 when
 * the header is not readable. Only reads: libjwt verifies. */
static int header_alg(const char *token, size_t length, char *alg, size_t alg_size)
{
    const char *dot = memchr(token, '.', length);
    size_t encoded = dot != NULL ? (size_t)(dot - token) : 0;
    if (encoded == 0 || encoded > HEADER_MAX)
        return -1;
    unsigned char base64[HEADER_MAX + 4], decoded[HEADER_MAX];
    for (size_t i = 0; i < encoded; i++) {
        char c = token[i];
        if (c == '+' || c == '/' || c == '=')
            return -1;
        base64[i] = c == '-' ? '+' : c == '_' ? '/' : (unsigned char)c;
    }
    size_t padded = encoded;
    while (padded % 4 != 0)
        base64[padded++] = '=';
    int decoded_length = EVP_DecodeBlock(decoded, base64, (int)padded);
    if (decoded_length < 0)
        return -1;
    decoded_length -= (int)(padded - encoded); /* EVP_DecodeBlock counts the padding's zero bytes */
    if (decoded_length <= 0)
        return -1;
    json_error_t error;
    json_t *header = json_loadb((const char *)decoded, (size_t)decoded_length, 0, &error);
    const char *name = json_string_value(json_object_get(header, "alg"));
    int result = -1;
    if (name != NULL && strlen(name) < alg_size) {
        memcpy(alg, name, strlen(name) + 1);
        result = 0;
    }
    json_decref(header);
    return result;
}

static int decode_with(const rill_config_jwt_key_t *key, const char *token, json_t **payload)
{
    jwt_t *jwt = NULL;
    if (jwt_decode(&jwt, token, key->key, (int)key->key_length) != 0 || jwt == NULL) {
        jwt_free(jwt);
        return -1;
    }
    /* Belt and braces: the alg libjwt verified with is the key's. */
    int result = -1;
    if (jwt_get_alg(jwt) == jwt_str_alg(key->alg)) {
        char *claims = jwt_get_grants_json(jwt, NULL);
        json_error_t error;
        *payload = claims != NULL ? json_loads(claims, 0, &error) : NULL;
        free(claims);
        result = *payload != NULL ? 0 : -1;
    }
    jwt_free(jwt);
    return result;
}

int rill_access_jwt_verify(const rill_config_jwt_t *config, const char *token, size_t length, int64_t now_s,
                           rill_access_grant_t *grant, const char **why)
{
    memset(grant, 0, sizeof(*grant));
    if (length == 0 || length > RILL_ACCESS_JWT_MAX || memchr(token, '\0', length) != NULL) {
        *why = "the token is empty or too long";
        return -1;
    }
    char alg[16];
    if (header_alg(token, length, alg, sizeof(alg)) != 0) {
        *why = "the token is not a JWT (header.payload.signature, base64url)";
        return -1;
    }
    int alg_known = 0;
    for (size_t i = 0; i < config->key_count; i++)
        alg_known |= strcmp(config->keys[i].alg, alg) == 0;
    if (!alg_known) {
        *why = strcasecmp(alg, "none") == 0 ? "alg none is not allowed: a token must be signed"
                                            : "the token's alg is not allowed (no configured key has it)";
        return -1;
    }
    json_t *payload = cache_find(config, alg, token, length);
    if (payload != NULL)
        goto verified;
    char *text = malloc(length + 1);
    if (text == NULL) {
        *why = "out of memory";
        return -1;
    }
    memcpy(text, token, length);
    text[length] = '\0';
    int verified = 0;
    for (size_t i = 0; i < config->key_count && !verified; i++) {
        if (strcmp(config->keys[i].alg, alg) == 0 && decode_with(&config->keys[i], text, &payload) == 0) {
            verified = 1;
            cache_store(&config->keys[i], token, length, payload);
        }
    }
    free(text);
    if (!verified) {
        *why = "bad signature, or a malformed token";
        return -1;
    }
verified:
    if (rill_access_claims_check_time(payload, now_s, config->leeway_s, why) != 0) {
        json_decref(payload);
        return -1;
    }
    return rill_access_grant_read(grant, payload, why);
}
