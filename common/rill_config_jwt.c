/*
 * rill_config_jwt.c - reading and checking the config's "jwt" section. See
 * rill_config_jwt.h.
 */
#include "rill_config_jwt.h"

#include <stdio.h>
#include <string.h>

#define HS_SECRET_MIN 32 /* bytes: RFC 7518 3.2, a key at least as long as the hash */
#define PEM_PUBLIC_BEGIN "-----BEGIN PUBLIC KEY-----"

static const char *const algs[] = {"HS256", "HS384", "HS512", "RS256", "RS384",
                                   "RS512", "ES256", "ES384", "ES512", NULL};

void rill_config_jwt_defaults(rill_config_jwt_t *jwt)
{
    memset(jwt, 0, sizeof(*jwt));
    snprintf(jwt->cookie, sizeof(jwt->cookie), "rill_jwt");
    jwt->leeway_s = 5;
}

static int known_alg(const char *alg)
{
    for (size_t i = 0; algs[i] != NULL; i++) {
        if (strcmp(algs[i], alg) == 0)
            return 1;
    }
    return 0;
}

/* A cookie name is an RFC 6265 token; ours are kept to letters, digits, _ and -. */
static int cookie_name_is_valid(const char *name)
{
    size_t length = strlen(name);
    if (length == 0 || length >= RILL_CONFIG_JWT_COOKIE_MAX)
        return 0;
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == length;
}

/* The file's whole text into key (NUL-ended). A relative path is relative to
 * the config file's folder. */
static int read_key_file(const char *file, const char *config_path, rill_config_jwt_key_t *key, char *reason,
                         size_t reason_size)
{
    char path[2048];
    const char *slash = config_path != NULL ? strrchr(config_path, '/') : NULL;
    if (file[0] != '/' && slash != NULL)
        snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - config_path), config_path, file);
    else
        snprintf(path, sizeof(path), "%s", file);
    FILE *in = fopen(path, "rb");
    if (in == NULL) {
        snprintf(reason, reason_size, "cannot read \"%.900s\"", path);
        return -1;
    }
    size_t length = fread(key->key, 1, sizeof(key->key), in);
    int failed = ferror(in);
    fclose(in);
    if (failed || length == 0 || length >= sizeof(key->key)) {
        snprintf(reason, reason_size, "\"%.900s\" is empty, unreadable or over %d bytes", path,
                 RILL_CONFIG_JWT_KEY_MAX - 1);
        return -1;
    }
    key->key[length] = '\0';
    key->key_length = length;
    if (strlen((const char *)key->key) != length || strstr((const char *)key->key, PEM_PUBLIC_BEGIN) == NULL) {
        snprintf(reason, reason_size, "\"%.900s\" is not a PEM public key (" PEM_PUBLIC_BEGIN ")%s", path,
                 strstr((const char *)key->key, "PRIVATE KEY") != NULL ? ": it is a private key" : "");
        return -1;
    }
    return 0;
}

static int load_key(const json_t *entry, const char *config_path, rill_config_jwt_key_t *key, char *reason,
                    size_t reason_size)
{
    const char *alg = json_string_value(json_object_get(entry, "alg"));
    if (!json_is_object(entry) || alg == NULL || !known_alg(alg)) {
        snprintf(reason, reason_size, "an object whose \"alg\" is one of HS256, HS384, HS512, RS256, RS384, "
                                      "RS512, ES256, ES384, ES512");
        return -1;
    }
    snprintf(key->alg, sizeof(key->alg), "%s", alg);
    int hmac = alg[0] == 'H';
    const char *field;
    const json_t *field_value;
    json_object_foreach((json_t *)entry, field, field_value)
    {
        if (strcmp(field, "alg") != 0 && strcmp(field, hmac ? "secret" : "public_key_file") != 0) {
            snprintf(reason, reason_size, "unknown field \"%s\" (%s takes \"alg\" and \"%s\")", field, alg,
                     hmac ? "secret" : "public_key_file");
            return -1;
        }
    }
    const json_t *material = json_object_get(entry, hmac ? "secret" : "public_key_file");
    const char *text = json_string_value(material);
    size_t length = text != NULL ? json_string_length(material) : 0;
    if (hmac) {
        if (text == NULL || length < HS_SECRET_MIN || length >= sizeof(key->key)) {
            snprintf(reason, reason_size, "\"secret\" must be a string of %d to %d bytes", HS_SECRET_MIN,
                     RILL_CONFIG_JWT_KEY_MAX - 1);
            return -1;
        }
        memcpy(key->key, text, length);
        key->key[length] = '\0';
        key->key_length = length;
        return 0;
    }
    if (text == NULL || length == 0 || strlen(text) != length || length >= 1024) {
        snprintf(reason, reason_size, "\"public_key_file\" must be a path (a PEM public key)");
        return -1;
    }
    return read_key_file(text, config_path, key, reason, reason_size);
}

int rill_config_jwt_load(const json_t *value, const char *config_path, rill_config_jwt_t *jwt, char *error,
                         size_t error_size)
{
    rill_config_jwt_defaults(jwt);
    if (!json_is_object(value)) {
        snprintf(error, error_size, "\"jwt\" must be an object with \"keys\" (docs/CONFIG.md \"JWT\")");
        return -1;
    }
    const char *field;
    const json_t *item;
    json_object_foreach((json_t *)value, field, item)
    {
        if (strcmp(field, "keys") == 0) {
            size_t count = json_array_size(item);
            if (!json_is_array(item) || count == 0 || count > RILL_CONFIG_JWT_MAX_KEYS) {
                snprintf(error, error_size, "\"jwt\": \"keys\" must be an array of 1 to %d keys",
                         RILL_CONFIG_JWT_MAX_KEYS);
                return -1;
            }
            for (size_t i = 0; i < count; i++) {
                char reason[1200];
                if (load_key(json_array_get(item, i), config_path, &jwt->keys[i], reason, sizeof(reason)) != 0) {
                    snprintf(error, error_size, "\"jwt\": keys[%zu]: %s", i, reason);
                    return -1;
                }
            }
            jwt->key_count = count;
        } else if (strcmp(field, "cookie") == 0) {
            const char *name = json_string_value(item);
            if (name == NULL || !cookie_name_is_valid(name)) {
                snprintf(error, error_size, "\"jwt\": \"cookie\" must be a cookie name of 1 to %d characters "
                                            "of [A-Za-z0-9_-]", RILL_CONFIG_JWT_COOKIE_MAX - 1);
                return -1;
            }
            snprintf(jwt->cookie, sizeof(jwt->cookie), "%s", name);
        } else if (strcmp(field, "leeway_s") == 0) {
            if (!json_is_integer(item) || json_integer_value(item) < 0 || json_integer_value(item) > 300) {
                snprintf(error, error_size, "\"jwt\": \"leeway_s\" must be an integer from 0 to 300");
                return -1;
            }
            jwt->leeway_s = (uint64_t)json_integer_value(item);
        } else {
            snprintf(error, error_size, "\"jwt\": unknown setting \"%s\" (keys, cookie, leeway_s)", field);
            return -1;
        }
    }
    if (jwt->key_count == 0) {
        snprintf(error, error_size, "\"jwt\": \"keys\" is missing: name at least one key");
        return -1;
    }
    return 0;
}
