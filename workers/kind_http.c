/*
 * kind_http.c - the `http` job kind (docs/API.md): the body of a declared HTTP
 * upstream, in the chunks it arrives in, each a part {"chunk":"…"}.
 *
 * libcurl's multi interface runs inside the worker's loop (curl_loop.h):
 * curl tells which sockets to watch and when to wake it; no thread,
 * nothing blocks. Only upstreams declared in the config
 * are reachable: the URL is the upstream's url followed by the job's path
 * (which begins with "/", so it cannot change the host), redirects are not
 * followed, only http and https are spoken, and no proxy is used.
 *
 * List API: jobs with `item` name items of an upstream's list_url. All item
 * jobs of one upstream in one BATCH cost ONE request: {ids} is replaced by
 * their items joined with ",". The answer, once complete, is split back:
 * either a JSON object keyed by item id ({"a":{…},"b":{…}}) or a JSON array
 * of objects with an "id" member ([{"id":"a",…},…]). Each job gets one part,
 * its item's JSON value, then done; an item missing from the answer ends its
 * job with error `not_found`.
 *
 * A chunk cut inside a UTF-8 character keeps the character's first bytes for
 * the next part; bytes that are not UTF-8 become U+FFFD. An upstream status
 * of 400 or more ends the job with error `upstream_status` (its body is not
 * published); a transfer that fails ends it with `upstream_failed`.
 *
 * Two halves, like every kind (rill_worker_kind.h): the arguments, which
 * librill compiles too (the frontend checks them at submit), and, with
 * RILL_WORKER, how a job runs.
 */
#include "rill_kind_args.h"

#include <string.h>

/* ---- arguments ---- */

#define HTTP_ITEM_MAX 128

/* A declared upstream (points into the config) and either a path under its
 * url or an item of its list API (borrowed from args). */
typedef struct {
    const rill_config_upstream_t *upstream;
    const char *path; /* begins with "/"; NULL when item is set */
    const char *item; /* [A-Za-z0-9._~-]{1,128}; NULL when path is set */
} http_args_t;

#define ITEM_CHARACTERS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-"

static int http_args_parse(const rill_config_t *config, json_t *args, http_args_t *http, rill_job_error_t *error)
{
    static const char *const allowed[] = {"upstream", "path", "item", NULL};
    http->upstream = NULL;
    http->path = NULL;
    http->item = NULL;
    if (rill_kind_args_only(args, "http", allowed, error) != 0)
        return -1;
    if (rill_kind_args_upstream_path(config, args, "http", 1, &http->upstream, &http->path, error) != 0)
        return -1;
    if (strncmp(http->upstream->url, "ws", 2) == 0)
        return rill_job_error(error, 422, "invalid_args", "upstream \"%s\" is a WebSocket: subscribe to it",
                              http->upstream->id);
    json_t *item = json_object_get(args, "item");
    if ((http->path == NULL) == (item == NULL))
        return rill_job_error(error, 422, "invalid_args", "http takes either \"path\" or \"item\"");
    if (http->path != NULL)
        return 0;
    const char *text = json_string_value(item);
    size_t length = json_string_length(item);
    if (text == NULL || length == 0 || length > HTTP_ITEM_MAX || strspn(text, ITEM_CHARACTERS) != length)
        return rill_job_error(error, 422, "invalid_args", "\"item\" must be 1 to %d characters of [A-Za-z0-9._~-]",
                    HTTP_ITEM_MAX);
    if (http->upstream->list_url[0] == '\0')
        return rill_job_error(error, 422, "invalid_args", "upstream \"%s\" declares no list API (list_url)", http->upstream->id);
    http->item = text;
    return 0;
}

#ifndef RILL_WORKER
RILL_KIND_ARGUMENTS(http, http_args_t, http_args_parse)
#else /* ---- running (rill-worker) ---- */

#include "curl_loop.h"
#include "kinds.h"
#include "rill_alloc.h"
#include "rill_json_text.h"
#include "rill_log.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_LIST_BODY_MAX (64u * 1024 * 1024) /* a list answer larger than this fails its jobs */

typedef struct {
    rill_worker_context_t *context;
    CURL *easy;
    int list;                 /* a list API request for several item jobs */
    size_t count;             /* jobs (1 for a path request) */
    rill_worker_job_t **jobs; /* NULL where a job was cancelled */
    char **items;             /* list: each job's item */
    size_t alive;             /* jobs not cancelled */
    long status;              /* HTTP status, once the headers are in */
    int publish_failed;
    int too_large;
    rill_buffer_t body;       /* list: the whole answer; path: bytes held back (a cut character) */
    rill_buffer_t part;
} http_request_t;

/* What every http job of this worker shares: one curl multi handle on the
 * worker's loop. */
static struct {
    rill_curl_loop_t curl;
} http;

static void request_free(http_request_t *request)
{
    if (request->easy != NULL) {
        curl_multi_remove_handle(http.curl.multi, request->easy);
        curl_easy_cleanup(request->easy);
    }
    for (size_t i = 0; request->items != NULL && i < request->count; i++)
        free(request->items[i]);
    free(request->items);
    free(request->jobs);
    rill_buffer_release(&request->body);
    rill_buffer_release(&request->part);
    free(request);
}

/* Publishes bytes as one {"chunk":…} part of a path request's job. */
static int publish_chunk(http_request_t *request, const char *bytes, size_t length)
{
    if (length == 0)
        return 0;
    if (rill_json_part(&request->part, "chunk", bytes, length) != 0 ||
        rill_worker_publish_part(request->context, request->jobs[0], request->part.data, request->part.length) != 0) {
        request->publish_failed = 1;
        return -1;
    }
    return 0;
}

static size_t on_data(char *data, size_t size, size_t count, void *argument)
{
    http_request_t *request = argument;
    size_t length = size * count;
    if (request->status == 0)
        curl_easy_getinfo(request->easy, CURLINFO_RESPONSE_CODE, &request->status);
    if (request->list) {
        if (request->body.length + length > HTTP_LIST_BODY_MAX) {
            request->too_large = 1;
            return 0;
        }
        return rill_buffer_append(&request->body, data, length) == 0 ? length : 0;
    }
    if (request->status >= 400 || request->jobs[0] == NULL)
        return length; /* an error body is not published */
    if (rill_buffer_append(&request->body, data, length) != 0)
        return 0;
    size_t complete = rill_utf8_complete_length(request->body.data, request->body.length);
    if (publish_chunk(request, request->body.data, complete) != 0)
        return 0;
    rill_buffer_consume(&request->body, complete);
    return length;
}

/* The JSON value of item in a list answer, or NULL. */
static json_t *find_item(json_t *answer, const char *item)
{
    if (json_is_object(answer))
        return json_object_get(answer, item);
    size_t index;
    json_t *element;
    json_array_foreach(answer, index, element)
    {
        json_t *id = json_object_get(element, "id");
        if (json_is_string(id) && strcmp(json_string_value(id), item) == 0)
            return element;
        if (json_is_integer(id)) {
            char text[32];
            snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(id));
            if (strcmp(text, item) == 0)
                return element;
        }
    }
    return NULL;
}

static void finish_list(http_request_t *request, const char *code, const char *message)
{
    rill_worker_context_t *context = request->context;
    json_t *answer = NULL;
    if (code == NULL) {
        answer = json_loadb(request->body.data != NULL ? request->body.data : "", request->body.length, 0, NULL);
        if (!json_is_object(answer) && !json_is_array(answer)) {
            code = "upstream_invalid";
            message = "the list answer is not a JSON object or array";
        }
    }
    for (size_t i = 0; i < request->count; i++) {
        rill_worker_job_t *job = request->jobs[i];
        if (job == NULL)
            continue;
        request->jobs[i] = NULL;
        rill_worker_job_set_state(job, NULL);
        if (code != NULL) {
            rill_worker_job_fail(context, job, code, message);
            continue;
        }
        json_t *value = find_item(answer, request->items[i]);
        char *text = value != NULL ? json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        if (value == NULL)
            rill_worker_job_fail(context, job, "not_found", "the upstream's answer has no such item");
        else if (text == NULL || rill_worker_publish_part(context, job, text, strlen(text)) != 0)
            rill_worker_job_fail(context, job, "publish_failed", "the worker could not queue a part");
        else
            rill_worker_job_done(context, job);
        free(text);
    }
    json_decref(answer);
}

/* A transfer ended: ends its jobs and frees it. */
static void finish_request(http_request_t *request, CURLcode result)
{
    char message[CURL_ERROR_SIZE + 64];
    const char *code = NULL;
    curl_easy_getinfo(request->easy, CURLINFO_RESPONSE_CODE, &request->status);
    if (request->publish_failed) {
        code = "publish_failed";
        snprintf(message, sizeof(message), "the worker could not queue a part");
    } else if (request->too_large) {
        code = "upstream_too_large";
        snprintf(message, sizeof(message), "the list answer exceeds %u bytes", HTTP_LIST_BODY_MAX);
    } else if (result != CURLE_OK) {
        code = "upstream_failed";
        snprintf(message, sizeof(message), "upstream request failed: %s", curl_easy_strerror(result));
    } else if (request->status >= 400 || request->status < 200) {
        code = "upstream_status";
        snprintf(message, sizeof(message), "the upstream answered HTTP %ld", request->status);
    }
    if (request->list) {
        finish_list(request, code, message);
    } else if (request->jobs[0] != NULL) {
        rill_worker_job_t *job = request->jobs[0];
        if (code == NULL && publish_chunk(request, request->body.data, request->body.length) != 0) {
            code = "publish_failed";
            snprintf(message, sizeof(message), "the worker could not queue a part");
        }
        rill_worker_job_set_state(job, NULL);
        if (code != NULL)
            rill_worker_job_fail(request->context, job, code, message);
        else
            rill_worker_job_done(request->context, job);
    }
    request_free(request);
}

static void on_transfer_done(CURL *easy, CURLcode result)
{
    http_request_t *request = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&request);
    if (request != NULL)
        finish_request(request, result);
}

/* Creates and starts a transfer of url for count jobs; a list request
 * takes over items (each job's item). Returns NULL when curl refused. */
static http_request_t *request_start(rill_worker_context_t *context, const char *url, rill_worker_job_t **jobs,
                                     size_t count, char **items)
{
    http_request_t *request = rill_xcalloc(1, sizeof(*request));
    request->context = context;
    request->jobs = rill_xcalloc(count, sizeof(*request->jobs));
    memcpy(request->jobs, jobs, count * sizeof(*jobs));
    request->items = items;
    request->count = count;
    request->alive = count;
    request->list = items != NULL;
    request->easy = curl_easy_init();
    CURL *easy = request->easy;
    if (easy == NULL || curl_easy_setopt(easy, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)request) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, request) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_PROXY, "") != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_USERAGENT, "rill-worker") != CURLE_OK ||
        curl_multi_add_handle(http.curl.multi, easy) != CURLM_OK) {
        request_free(request);
        return NULL;
    }
    return request;
}

static void start_path_job(rill_worker_context_t *context, rill_worker_job_t *job, const http_args_t *args)
{
    const char *base = args->upstream->url;
    size_t base_length = strlen(base);
    if (base_length > 0 && base[base_length - 1] == '/')
        base_length--; /* the path brings its own "/" */
    char *url = rill_xmalloc(base_length + strlen(args->path) + 1);
    memcpy(url, base, base_length);
    strcpy(url + base_length, args->path);
    http_request_t *request = request_start(context, url, &job, 1, NULL);
    free(url);
    if (request == NULL) {
        rill_worker_job_fail(context, job, "start_failed", "the worker could not start the request");
        return;
    }
    rill_worker_job_set_state(job, request);
}

/* One request for every item job of the upstream of jobs[first] not yet
 * taken (each is marked taken). */
static void start_list_jobs(rill_worker_context_t *context, rill_worker_job_t **jobs, const http_args_t *args,
                            int *taken, size_t count, size_t first)
{
    const rill_config_upstream_t *upstream = args[first].upstream;
    rill_worker_job_t **group = rill_xcalloc(count, sizeof(*group));
    char **items = rill_xcalloc(count, sizeof(*items));
    size_t group_count = 0;
    rill_buffer_t ids;
    rill_buffer_init(&ids);
    for (size_t i = first; i < count; i++) {
        if (taken[i] || args[i].item == NULL || strcmp(args[i].upstream->id, upstream->id) != 0)
            continue;
        /* Each distinct item once in {ids}; jobs naming the same item share it. */
        int seen = 0;
        for (size_t j = 0; j < group_count; j++)
            seen |= strcmp(items[j], args[i].item) == 0;
        if (!seen) {
            if (ids.length > 0)
                rill_buffer_append(&ids, ",", 1);
            rill_buffer_append(&ids, args[i].item, strlen(args[i].item));
        }
        taken[i] = 1;
        group[group_count] = jobs[i];
        items[group_count] = rill_xstrdup(args[i].item);
        group_count++;
    }
    /* The config checked that list_url holds one {ids}. */
    const char *placeholder = strstr(upstream->list_url, "{ids}");
    rill_buffer_t url;
    rill_buffer_init(&url);
    rill_buffer_append(&url, upstream->list_url, (size_t)(placeholder - upstream->list_url));
    rill_buffer_append(&url, ids.data, ids.length);
    rill_buffer_append(&url, placeholder + 5, strlen(placeholder + 5));
    http_request_t *request = NULL;
    if (ids.failed || url.failed) {
        for (size_t i = 0; i < group_count; i++)
            free(items[i]);
        free(items);
    } else {
        request = request_start(context, url.data, group, group_count, items);
    }
    if (request == NULL) {
        for (size_t i = 0; i < group_count; i++)
            rill_worker_job_fail(context, group[i], "start_failed", "the worker could not start the request");
    } else {
        rill_log_info(NULL, "http: one list request for %zu item jobs of upstream %s", group_count, upstream->id);
        for (size_t i = 0; i < group_count; i++)
            rill_worker_job_set_state(group[i], request);
    }
    rill_buffer_release(&url);
    rill_buffer_release(&ids);
    free(group);
}

static void http_start(rill_worker_context_t *context, rill_worker_job_t **jobs, size_t count)
{
    if (rill_curl_loop_ready(&http.curl, context, on_transfer_done) != 0) {
        for (size_t i = 0; i < count; i++)
            rill_worker_job_fail(context, jobs[i], "start_failed", "libcurl could not be initialised");
        return;
    }
    http_args_t *args = rill_xcalloc(count, sizeof(*args));
    int *taken = rill_xcalloc(count, sizeof(*taken));
    const rill_config_t *config = rill_worker_config(context);
    for (size_t i = 0; i < count; i++) {
        rill_job_error_t error;
        if (http_args_parse(config, rill_worker_job_args(jobs[i]), &args[i], &error) != 0) {
            taken[i] = 1;
            rill_worker_job_fail(context, jobs[i], error.code, error.message);
        }
    }
    for (size_t i = 0; i < count; i++) {
        if (taken[i])
            continue;
        if (args[i].path != NULL) {
            taken[i] = 1;
            start_path_job(context, jobs[i], &args[i]);
        } else {
            start_list_jobs(context, jobs, args, taken, count, i);
        }
    }
    free(args);
    free(taken);
    /* Let curl start the transfers now rather than at its first timer. */
    rill_curl_loop_kick(&http.curl);
}

static void http_cancel(rill_worker_context_t *context, rill_worker_job_t *job)
{
    (void)context;
    http_request_t *request = rill_worker_job_state(job);
    if (request == NULL)
        return;
    rill_worker_job_set_state(job, NULL);
    for (size_t i = 0; i < request->count; i++) {
        if (request->jobs[i] == job) {
            request->jobs[i] = NULL;
            request->alive--;
        }
    }
    if (request->alive == 0)
        request_free(request); /* nobody left: the transfer stops at once */
}

/* Every client is behind: a path request's transfer stops receiving (TCP
 * holds the sender); resumed, curl delivers what it kept and reads on. A
 * list request is not paused: it serves several jobs, and its parts come
 * only once its whole answer is in. */
static void http_pause(rill_worker_context_t *context, rill_worker_job_t *job, int paused)
{
    (void)context;
    http_request_t *request = rill_worker_job_state(job);
    if (request == NULL || request->list || request->easy == NULL)
        return;
    CURLcode result = curl_easy_pause(request->easy, paused ? CURLPAUSE_RECV : CURLPAUSE_CONT);
    if (result != CURLE_OK)
        rill_log_warn(rill_worker_job_who(job), "job %s: cannot %s its transfer: %s", rill_worker_job_id(job),
                      paused ? "pause" : "resume", curl_easy_strerror(result));
}

static void http_shutdown(rill_worker_context_t *context)
{
    rill_curl_loop_shutdown(&http.curl, context);
}

const rill_worker_kind_t rill_worker_kind_http = {
    .name = "http",
    .start_batch = http_start,
    .cancel = http_cancel,
    .shutdown = http_shutdown,
    .pause = http_pause,
};

#endif
