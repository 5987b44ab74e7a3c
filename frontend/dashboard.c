/*
 * dashboard.c - see dashboard.h.
 */
#include "dashboard.h"

#include "rill_alloc.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_META "<meta name=\"rill-config\" content=\""

/* The text between open and close, when open occurs exactly once and the
 * tag's name (open without its '>') nowhere else. */
static int only_block(const char *page, size_t length, const char *open, const char *close,
                      const char **body, size_t *body_length)
{
    size_t open_length = strlen(open);
    const char *start = memmem(page, length, open, open_length);
    if (start == NULL)
        return -1;
    const char *inside = start + open_length;
    const char *end = memmem(inside, length - (size_t)(inside - page), close, strlen(close));
    if (end == NULL)
        return -1;
    /* No second block (nor one with attributes): "<script" once only. */
    const char *after = start + 1;
    if (memmem(after, length - (size_t)(after - page), open, open_length - 1) != NULL)
        return -1;
    *body = inside;
    *body_length = (size_t)(end - inside);
    return 0;
}

/* 'sha256-<base64>' of data into out (at least 45 bytes). */
static int sha256_base64(const char *data, size_t length, char *out)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    if (EVP_Digest(data, length, digest, &digest_length, EVP_sha256(), NULL) != 1 ||
        digest_length != 32)
        return -1;
    return EVP_EncodeBlock((unsigned char *)out, digest, (int)digest_length) == 44 ? 0 : -1;
}

long rill_dashboard_csp(const char *page, size_t length, char *out, size_t size)
{
    const char *style, *script;
    size_t style_length, script_length;
    char style_hash[48], script_hash[48];
    if (only_block(page, length, "<style>", "</style>", &style, &style_length) != 0 ||
        only_block(page, length, "<script>", "</script>", &script, &script_length) != 0)
        return -1;
    if (sha256_base64(style, style_length, style_hash) != 0 ||
        sha256_base64(script, script_length, script_hash) != 0)
        return -1;
    int written = snprintf(out, size,
                           "default-src 'none'; script-src 'sha256-%s'; style-src 'sha256-%s'; "
                           "connect-src 'self'; img-src data:; base-uri 'none'; "
                           "form-action 'none'; frame-ancestors 'none'",
                           script_hash, style_hash);
    if (written < 0 || (size_t)written >= size)
        return -1;
    return written;
}

/* {"kinds":[…],"auth":true|false,"max_jobs":N}, compact; malloc'd. */
static char *config_json(const rill_config_t *config)
{
    json_t *kinds = json_array();
    int failed = kinds == NULL;
    for (size_t i = 0; i < config->kind_count && !failed; i++)
        failed = json_array_append_new(kinds, json_string(config->kinds[i])) != 0;
    if (failed) {
        json_decref(kinds);
        return NULL;
    }
    json_t *object = json_pack("{s:o,s:b,s:I}", "kinds", kinds, "auth",
                               config->auth_token[0] != '\0', "max_jobs",
                               (json_int_t)config->max_jobs_per_request);
    if (object == NULL)
        return NULL; /* json_pack released kinds ("o" steals it even on failure) */
    char *text = json_dumps(object, JSON_COMPACT);
    json_decref(object);
    return text;
}

/* text escaped for a double-quoted HTML attribute into out (6x room). */
static size_t escape_attribute(const char *text, char *out)
{
    size_t at = 0;
    for (const char *c = text; *c != '\0'; c++) {
        const char *entity = NULL;
        switch (*c) {
        case '&': entity = "&amp;"; break;
        case '"': entity = "&quot;"; break;
        case '\'': entity = "&#39;"; break;
        case '<': entity = "&lt;"; break;
        case '>': entity = "&gt;"; break;
        default: break;
        }
        if (entity != NULL) {
            size_t entity_length = strlen(entity);
            memcpy(out + at, entity, entity_length);
            at += entity_length;
        } else {
            out[at++] = *c;
        }
    }
    return at;
}

char *rill_dashboard_render(const char *page, size_t length, const rill_config_t *config,
                            size_t *out_length)
{
    const char *meta = memmem(page, length, CONFIG_META, sizeof(CONFIG_META) - 1);
    if (meta == NULL)
        return NULL;
    const char *value = meta + sizeof(CONFIG_META) - 1;
    const char *value_end = memchr(value, '"', length - (size_t)(value - page));
    if (value_end == NULL)
        return NULL;
    char *json = config_json(config);
    if (json == NULL)
        return NULL;
    size_t head = (size_t)(value - page);
    size_t tail = length - (size_t)(value_end - page);
    char *out = rill_xmalloc(head + 6 * strlen(json) + tail + 1);
    memcpy(out, page, head);
    size_t at = head + escape_attribute(json, out + head);
    memcpy(out + at, value_end, tail);
    at += tail;
    out[at] = '\0';
    free(json);
    *out_length = at;
    return out;
}
