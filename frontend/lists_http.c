/*
 * lists_http.c - the list endpoints: query -> LIST -> the broker's JSON.
 * See lists_http.h.
 */
#include "lists_http.h"

#include "broker_call_http.h"
#include "http_reply.h"
#include "http_request.h"
#include "router.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LISTS_VALUE_MAX 256
#define LISTS_LIMIT_MAX 1000

static int name_is(const char *name, size_t length, const char *literal)
{
    return strlen(literal) == length && memcmp(name, literal, length) == 0;
}

/* The query of req as the LIST query object, or NULL after a 400. */
static json_t *read_query(h2o_req_t *req, const char *const *allowed)
{
    size_t query_length = 0;
    const char *query = rill_http_request_query(req, &query_length);
    json_t *object = json_object();
    const char *name, *value;
    size_t name_length, value_length, at = 0;
    char message[160];
    while (rill_query_next(query, query_length, &at, &name, &name_length, &value, &value_length)) {
        const char *key = NULL;
        for (size_t i = 0; allowed[i] != NULL && key == NULL; i++) {
            if (name_is(name, name_length, allowed[i]))
                key = allowed[i];
        }
        if (key == NULL) {
            snprintf(message, sizeof(message), "unknown parameter \"%.*s\"", (int)(name_length > 64 ? 64 : name_length),
                     name);
            goto refuse;
        }
        if (json_object_get(object, key) != NULL) {
            snprintf(message, sizeof(message), "%s is given twice", key);
            goto refuse;
        }
        if (strcmp(key, "info") == 0)
            continue;
        char decoded[LISTS_VALUE_MAX];
        long length = value_length <= LISTS_VALUE_MAX ? rill_percent_decode(value, value_length, decoded) : -1;
        if (length <= 0 || length > LISTS_VALUE_MAX) {
            snprintf(message, sizeof(message), "%s must be 1 to %d bytes", key, LISTS_VALUE_MAX);
            goto refuse;
        }
        if (strcmp(key, "limit") == 0) {
            long limit = 0;
            for (long i = 0; i < length && limit <= LISTS_LIMIT_MAX; i++)
                limit = decoded[i] >= '0' && decoded[i] <= '9' ? limit * 10 + (decoded[i] - '0') : LISTS_LIMIT_MAX + 1;
            if (limit < 1 || limit > LISTS_LIMIT_MAX) {
                snprintf(message, sizeof(message), "limit must be an integer from 1 to %d", LISTS_LIMIT_MAX);
                goto refuse;
            }
            json_object_set_new(object, key, json_integer(limit));
            continue;
        }
        json_t *text = json_stringn(decoded, (size_t)length);
        if (text == NULL) {
            snprintf(message, sizeof(message), "%s is not valid UTF-8", key);
            goto refuse;
        }
        json_object_set_new(object, key, text);
    }
    return object;
refuse:
    json_decref(object);
    rill_http_reply_error(req, 400, "bad_request", message);
    return NULL;
}

void rill_lists_http_handle(h2o_req_t *req, rill_broker_link_t *broker, const char *what, const char *topic)
{
    static const char *const job_keys[] = {"state", "kind", "worker", "pipeline", "source", "limit", "next", NULL};
    static const char *const worker_keys[] = {"kind", "limit", "next", NULL};
    static const char *const topic_keys[] = {"prefix", "limit", "next", NULL};
    static const char *const info_keys[] = {"info", NULL};
    static const char *const no_keys[] = {NULL};
    const char *const *keys = strcmp(what, "jobs") == 0        ? job_keys
                              : strcmp(what, "workers") == 0   ? worker_keys
                              : strcmp(what, "topics") == 0    ? topic_keys
                              : strcmp(what, "pipelines") == 0 ? no_keys
                                                               : info_keys;
    json_t *query = read_query(req, keys);
    if (query == NULL)
        return;
    if (topic != NULL)
        json_object_set_new(query, "name", json_string(topic));
    char *text = json_dumps(query, JSON_COMPACT);
    json_decref(query);
    if (text == NULL) {
        rill_http_reply_error(req, 500, "internal", "cannot encode the query");
        return;
    }
    rill_frame_t arguments[2] = {rill_frame_from_string(what), rill_frame_from_string(text)};
    rill_http_call_broker(broker, req, RILL_COMMAND_LIST, arguments, 2, RILL_COMMAND_LIST, 200, NULL);
    free(text);
}

int rill_lists_http_wants_info(h2o_req_t *req)
{
    size_t query_length = 0;
    const char *query = rill_http_request_query(req, &query_length);
    const char *value;
    size_t value_length;
    return rill_query_find(query, query_length, "info", &value, &value_length);
}
