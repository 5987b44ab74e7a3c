/*
 * router.c - see router.h.
 */
#include "router.h"

#include "rill_json_text.h"
#include "rill_protocol.h"
#include "rill_topic_pattern.h"

#include <string.h>
#include <strings.h>

static int equals(const char *text, size_t length, const char *literal)
{
    size_t literal_length = strlen(literal);
    return length == literal_length && memcmp(text, literal, length) == 0;
}

static void method_check(rill_route_t *route, const char *method, size_t method_length,
                         const char *const *allowed, const char *allow)
{
    for (size_t i = 0; allowed[i] != NULL; i++) {
        if (equals(method, method_length, allowed[i])) {
            route->status = 0;
            return;
        }
    }
    route->status = 405;
    route->allow = allow;
}

void rill_route_match(const char *method, size_t method_length, const char *path,
                      size_t path_length, rill_route_t *route)
{
    static const char *const jobs_methods[] = {"POST", "GET", NULL};
    static const char *const job_methods[] = {"GET", "HEAD", "DELETE", NULL};
    static const char *const healthz_methods[] = {"GET", "HEAD", NULL};
    static const char *const stream_methods[] = {"GET", NULL};
    static const char *const topic_methods[] = {"GET", "POST", "DELETE", NULL};
    static const char prefix[] = "/v1/jobs/";
    static const char topics_prefix[] = "/v1/topics/";

    memset(route, 0, sizeof(*route));
    route->status = 404;
    if (path == NULL)
        return;
    if (equals(path, path_length, "/v1/jobs")) {
        route->id = RILL_ROUTE_JOBS;
        method_check(route, method, method_length, jobs_methods, "GET, POST");
        return;
    }
    if (equals(path, path_length, "/v1/workers") || equals(path, path_length, "/v1/topics") ||
        equals(path, path_length, "/v1/pipelines")) {
        route->id = path[4] == 'w' ? RILL_ROUTE_WORKERS : path[4] == 't' ? RILL_ROUTE_TOPICS : RILL_ROUTE_PIPELINES;
        method_check(route, method, method_length, stream_methods, "GET");
        return;
    }
    if (equals(path, path_length, "/healthz") || equals(path, path_length, "/livez") ||
        equals(path, path_length, "/readyz")) {
        route->id = path[1] == 'h' ? RILL_ROUTE_HEALTHZ : path[1] == 'l' ? RILL_ROUTE_LIVEZ : RILL_ROUTE_READYZ;
        method_check(route, method, method_length, healthz_methods, "GET, HEAD");
        return;
    }
    if (equals(path, path_length, "/")) {
        route->id = RILL_ROUTE_DASHBOARD;
        method_check(route, method, method_length, healthz_methods, "GET, HEAD");
        return;
    }
    if (equals(path, path_length, "/metrics")) {
        route->id = RILL_ROUTE_METRICS;
        method_check(route, method, method_length, healthz_methods, "GET, HEAD");
        return;
    }
    if (equals(path, path_length, "/v1/stream")) {
        route->id = RILL_ROUTE_STREAM;
        method_check(route, method, method_length, stream_methods, "GET");
        return;
    }
    if (path_length > sizeof(topics_prefix) - 1 &&
        memcmp(path, topics_prefix, sizeof(topics_prefix) - 1) == 0) {
        const char *name = path + sizeof(topics_prefix) - 1;
        size_t name_length = path_length - (sizeof(topics_prefix) - 1);
        route->id = RILL_ROUTE_TOPIC;
        method_check(route, method, method_length, topic_methods, "GET, POST, DELETE");
        /* GET also takes a wildcard (rill/3): alerts.* */
        int pattern = equals(method, method_length, "GET") && rill_topic_pattern_is_valid(name, name_length);
        if (route->status == 0 && !pattern && !rill_topic_name_is_valid(name, name_length))
            route->status = 400;
        if (route->status == 0) {
            memcpy(route->topic, name, name_length);
            route->topic[name_length] = '\0';
        }
        return;
    }
    if (path_length > sizeof(prefix) - 1 && memcmp(path, prefix, sizeof(prefix) - 1) == 0) {
        const char *id = path + sizeof(prefix) - 1;
        size_t id_length = path_length - (sizeof(prefix) - 1);
        if (!rill_job_id_is_valid((const uint8_t *)id, id_length))
            return; /* 404: no such job can exist */
        route->id = RILL_ROUTE_JOB;
        memcpy(route->job_id, id, id_length);
        route->job_id[id_length] = '\0';
        method_check(route, method, method_length, job_methods, "GET, HEAD, DELETE");
        return;
    }
}

int rill_query_find(const char *query, size_t query_length, const char *name, const char **value,
                    size_t *value_length)
{
    size_t name_length = strlen(name);
    size_t at = 0;
    if (query == NULL)
        return 0;
    while (at < query_length) {
        const char *pair = query + at;
        const char *end = memchr(pair, '&', query_length - at);
        size_t pair_length = end != NULL ? (size_t)(end - pair) : query_length - at;
        const char *equal = memchr(pair, '=', pair_length);
        size_t key_length = equal != NULL ? (size_t)(equal - pair) : pair_length;
        if (key_length == name_length && memcmp(pair, name, name_length) == 0) {
            *value = equal != NULL ? equal + 1 : pair + pair_length;
            *value_length = equal != NULL ? pair_length - key_length - 1 : 0;
            return 1;
        }
        at += pair_length + 1;
    }
    return 0;
}

int rill_query_next(const char *query, size_t query_length, size_t *at, const char **name,
                    size_t *name_length, const char **value, size_t *value_length)
{
    if (query == NULL)
        return 0;
    while (*at < query_length) {
        const char *pair = query + *at;
        const char *end = memchr(pair, '&', query_length - *at);
        size_t pair_length = end != NULL ? (size_t)(end - pair) : query_length - *at;
        *at += pair_length + 1;
        if (pair_length == 0)
            continue;
        const char *equal = memchr(pair, '=', pair_length);
        *name = pair;
        *name_length = equal != NULL ? (size_t)(equal - pair) : pair_length;
        *value = equal != NULL ? equal + 1 : pair + pair_length;
        *value_length = equal != NULL ? pair_length - *name_length - 1 : 0;
        return 1;
    }
    return 0;
}

long rill_percent_decode(const char *text, size_t length, char *out)
{
    size_t used = 0;
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        if (c == '%') {
            if (i + 2 >= length)
                return -1;
            int high = rill_hex_digit_value((unsigned char)text[i + 1]);
            int low = rill_hex_digit_value((unsigned char)text[i + 2]);
            if (high < 0 || low < 0)
                return -1;
            c = (char)(high * 16 + low);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == '\0')
            return -1;
        out[used++] = c;
    }
    return (long)used;
}

int rill_query_flag(const char *query, size_t query_length, const char *name)
{
    const char *value;
    size_t length;
    if (!rill_query_find(query, query_length, name, &value, &length))
        return 0;
    return length == 0 || equals(value, length, "1") || equals(value, length, "true") ||
           equals(value, length, "yes");
}

int rill_accept_wants_sse(const char *accept, size_t length)
{
    static const char wanted[] = "text/event-stream";
    const size_t wanted_length = sizeof(wanted) - 1;
    if (accept == NULL || length < wanted_length)
        return 0;
    for (size_t i = 0; i + wanted_length <= length; i++) {
        if (strncasecmp(accept + i, wanted, wanted_length) == 0)
            return 1;
    }
    return 0;
}

int rill_query_stream_format(const char *query, size_t query_length, const char *accept,
                             size_t accept_length, rill_stream_format_t *format)
{
    const char *name, *value;
    size_t name_length, value_length, at = 0;
    int result = 0;
    *format = RILL_STREAM_NDJSON;
    while (rill_query_next(query, query_length, &at, &name, &name_length, &value, &value_length)) {
        if (!equals(name, name_length, "format"))
            continue;
        if (equals(value, value_length, "sse"))
            *format = RILL_STREAM_SSE;
        else if (!equals(value, value_length, "ndjson"))
            result = -1;
    }
    if (rill_accept_wants_sse(accept, accept_length))
        *format = RILL_STREAM_SSE;
    return result;
}
