/*
 * kind_subscribe.c - the `subscribe` job kind (docs/API.md): a live stream of
 * a declared upstream - Server-Sent Events or newline-delimited JSON over
 * chunked HTTP, or a WebSocket - kept open, each upstream message a part,
 * until cancelled or the upstream says it is over.
 *
 * An HTTP stream's format is its Content-Type (text/event-stream: SSE; the
 * NDJSON family: lines; workers/sse_parser.h). A ws:// or wss:// upstream
 * is connected by curl (CONNECT_ONLY: TCP, TLS) and spoken to by
 * ws_client.c (handshake, then wslay's frames). A drop - the connection
 * closed, cleanly or not, or could not be made, or a 5xx/408/429 answer -
 * is followed by a reconnect after a backoff (100 ms, or the stream's
 * retry:, doubled per failed attempt up to 5 s, less up to a quarter of it
 * at random; back to the start once a connection delivered a message or
 * stayed up 5 s). An SSE stream is resumed: the reconnect sends
 * Last-Event-ID. Every drop and every reconnect is a part of its own, so a
 * client sees them: {"upstream":"dropped",…} and {"upstream":"reconnected",
 * "resumed":true|false,…} ("gap":true when messages may be missing:
 * NDJSON, WebSocket, or SSE before any id). An upstream that answers 204
 * No Content, or closes its WebSocket with 1000 (normal closure), ends the
 * job (done); any other status of 300 or more but 408/429/5xx ends it at
 * once with error `upstream_status`, and so do 5 such answers in a row; a
 * 2xx answer of another Content-Type ends it with `upstream_invalid`.
 *
 * Only declared upstreams are reachable, as for `http` (kind_http.c): the
 * upstream's url followed by the job's path, no redirect, http and https
 * only (ws and wss over them), no proxy. libcurl's multi interface runs
 * inside the worker's loop (curl_loop.h); a callback of curl never ends a
 * job (it records why, stop()): the job ends once curl let go of it.
 *
 * Two halves, like every kind (rill_worker_kind.h): the arguments, which
 * librill compiles too, and, with RILL_WORKER, how a job runs.
 */
#include "rill_kind_args.h"
#include "rill_protocol.h"

#include <string.h>

/* ---- arguments ---- */

typedef struct {
    const rill_config_upstream_t *upstream;
    const char *path;     /* begins with "/" */
    const char *to_topic; /* NULL: parts */
} subscribe_args_t;

static int subscribe_args_parse(const rill_config_t *config, json_t *args, subscribe_args_t *subscribe,
                                rill_job_error_t *error)
{
    static const char *const allowed[] = {"upstream", "path", "to_topic", NULL};
    subscribe->to_topic = NULL;
    if (rill_kind_args_only(args, "subscribe", allowed, error) != 0 ||
        rill_kind_args_upstream_path(config, args, "subscribe", 0, &subscribe->upstream, &subscribe->path,
                                     error) != 0)
        return -1;
    json_t *topic = json_object_get(args, "to_topic");
    if (topic == NULL)
        return 0;
    if (!json_is_string(topic) || !rill_topic_name_is_valid(json_string_value(topic), json_string_length(topic)))
        return rill_job_error(error, 422, "invalid_args", "\"to_topic\" must be a topic name, [A-Za-z0-9._-]{1,128}");
    subscribe->to_topic = json_string_value(topic);
    return 0;
}

#ifndef RILL_WORKER
RILL_KIND_ARGUMENTS(subscribe, subscribe_args_t, subscribe_args_parse)
#else /* ---- running (rill-worker) ---- */

#include "curl_loop.h"
#include "kinds.h"
#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_json_text.h"
#include "rill_log.h"
#include "sse_parser.h"
#include "ws_client.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define SUBSCRIBE_DELAY_FIRST_MS 100
#define SUBSCRIBE_DELAY_MAX_MS 5000
#define SUBSCRIBE_RETRY_MIN_MS 10    /* an SSE retry: is held within these */
#define SUBSCRIBE_RETRY_MAX_MS 60000
#define SUBSCRIBE_HEALTHY_MS 5000 /* a connection up this long resets the backoff */
#define SUBSCRIBE_STATUS_RETRIES 5 /* 5xx/408/429 answers in a row before the job fails */

/* One job's subscription: its URL, its connection (if one is open or being
 * made), and what outlives a connection (the parser's last event id, the
 * backoff). */
typedef struct {
    rill_worker_context_t *context;
    rill_worker_job_t *job;
    char *url;
    char *to_topic;             /* rill/5 TOPIC: its messages go there, not in parts; NULL: parts */
    CURL *easy;                 /* NULL between connections */
    struct curl_slist *headers;
    rill_stream_parser_t parser;
    rill_buffer_t part;
    rill_worker_timer_t retry_timer;
    long status;                /* of this connection, once its headers are in */
    int accepted;               /* this connection's headers are in and were right */
    int healthy;                /* this connection delivered a message */
    uint64_t accepted_ms;
    unsigned connections;       /* accepted so far */
    unsigned drops;             /* "dropped" parts so far */
    unsigned attempt;           /* drops since the last healthy connection */
    unsigned status_failures;   /* 5xx/408/429 answers in a row */
    uint64_t delay_ms;          /* the next backoff, before jitter */
    int paused;
    int reconnect_due;          /* the backoff ended while paused */
    const char *stop_code;      /* set by a callback: end the job with it once curl let go */
    char stop_message[256];
    /* A ws:// or wss:// upstream: curl connects (CONNECT_ONLY), ws_client.c speaks WebSocket. */
    int websocket;
    char *ws_host;              /* the Host header */
    char *ws_path;              /* the request target */
    rill_ws_client_t *ws;       /* once connected */
    int ws_fd;                  /* the connection's socket, watched while ws is set */
} subscription_t;

static struct {
    rill_curl_loop_t curl; /* every subscription's connections */
    unsigned random_state; /* the backoff's jitter */
} subscribe;

static uint64_t now_ms(void)
{
    return rill_clock_monotonic_ns() / 1000000u;
}

static void stop(subscription_t *subscription, const char *code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Records why the job must end; the first reason wins. */
static void stop(subscription_t *subscription, const char *code, const char *format, ...)
{
    if (subscription->stop_code != NULL)
        return;
    subscription->stop_code = code;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(subscription->stop_message, sizeof(subscription->stop_message), format, arguments);
    va_end(arguments);
}

static void connection_close(subscription_t *subscription)
{
    if (subscription->ws != NULL) {
        rill_worker_fd_unwatch(subscription->context, subscription->ws_fd);
        rill_ws_client_destroy(&subscription->ws);
    }
    if (subscription->easy != NULL) {
        curl_multi_remove_handle(subscribe.curl.multi, subscription->easy);
        curl_easy_cleanup(subscription->easy);
        subscription->easy = NULL;
    }
    curl_slist_free_all(subscription->headers);
    subscription->headers = NULL;
}

static void subscription_free(subscription_t *subscription)
{
    connection_close(subscription);
    rill_worker_timer_stop(subscription->context, &subscription->retry_timer);
    rill_stream_parser_release(&subscription->parser);
    rill_buffer_release(&subscription->part);
    free(subscription->ws_host);
    free(subscription->ws_path);
    free(subscription->url);
    free(subscription->to_topic);
    free(subscription);
}

static int publish(subscription_t *subscription)
{
    rill_buffer_t *part = &subscription->part;
    if (part->failed ||
        (subscription->to_topic != NULL
             ? rill_worker_publish_topic(subscription->context, subscription->job, subscription->to_topic, part->data,
                                         part->length)
             : rill_worker_publish_part(subscription->context, subscription->job, part->data, part->length)) != 0) {
        stop(subscription, "publish_failed", "%s", "the worker could not queue a part");
        return -1;
    }
    return 0;
}

static int on_message(void *argument, const rill_stream_message_t *message)
{
    subscription_t *subscription = argument;
    subscription->healthy = 1;
    if (rill_stream_message_part(&subscription->part, message) != 0)
        subscription->part.failed = 1;
    return publish(subscription);
}

static size_t on_data(char *data, size_t size, size_t count, void *argument)
{
    subscription_t *subscription = argument;
    size_t length = size * count;
    if (!subscription->accepted || subscription->stop_code != NULL)
        return 0;
    int result = rill_stream_parser_feed(&subscription->parser, data, length, on_message, subscription);
    if (result == RILL_STREAM_TOO_LARGE)
        stop(subscription, "upstream_too_large", "%s", "an upstream message is over max_part_bytes");
    else if (result != 0)
        stop(subscription, "publish_failed", "%s", "the worker could not queue a part");
    return result == 0 ? length : 0;
}

/* The stream's format from its Content-Type, or -1. */
static int stream_format(const char *type)
{
    static const char *const ndjson[] = {"application/x-ndjson", "application/ndjson", "application/jsonl",
                                         "application/x-jsonlines", "application/json-seq", "application/json",
                                         NULL};
    if (type == NULL)
        return -1;
    size_t length = strcspn(type, "; \t");
    if (length == strlen("text/event-stream") && strncasecmp(type, "text/event-stream", length) == 0)
        return RILL_STREAM_SSE;
    for (size_t i = 0; ndjson[i] != NULL; i++) {
        if (length == strlen(ndjson[i]) && strncasecmp(type, ndjson[i], length) == 0)
            return RILL_STREAM_NDJSON;
    }
    return -1;
}

static int status_retried(long status)
{
    return status >= 500 || status == 408 || status == 429;
}

static int accept_connection(subscription_t *subscription, int format);

/* The answer's headers are in: is it a stream this kind follows? */
static int on_headers_end(subscription_t *subscription)
{
    long status = 0;
    curl_easy_getinfo(subscription->easy, CURLINFO_RESPONSE_CODE, &status);
    subscription->status = status;
    if (status == 204)
        return 0; /* the end (the body, if any, is not read) */
    if (status >= 300 && !status_retried(status))
        stop(subscription, "upstream_status", "the upstream answered HTTP %ld", status);
    if (status >= 300)
        return -1; /* retried (unless stopped): the body is not read */
    const char *type = NULL;
    curl_easy_getinfo(subscription->easy, CURLINFO_CONTENT_TYPE, &type);
    int format = stream_format(type);
    if (format < 0) {
        stop(subscription, "upstream_invalid", "the upstream's Content-Type \"%.100s\" is not an event stream",
             type != NULL ? type : "");
        return -1;
    }
    return accept_connection(subscription, format);
}

/* The upstream took the request (a stream of that format follows); after
 * a drop, the clients are told whether it resumes. */
static int accept_connection(subscription_t *subscription, int format)
{
    rill_stream_parser_restart(&subscription->parser, (rill_stream_format_t)format);
    subscription->accepted = 1;
    subscription->accepted_ms = now_ms();
    subscription->status_failures = 0;
    if (subscription->connections++ == 0 && subscription->drops == 0)
        return 0;
    /* After a drop: say whether the stream resumes where it stopped, or
     * whether messages may be missing (there was a connection before). */
    rill_buffer_t *part = &subscription->part;
    rill_buffer_consume(part, part->length);
    int resumed = format == RILL_STREAM_SSE && subscription->parser.last_id.length > 0;
    rill_buffer_printf(part, "{\"upstream\":\"reconnected\",\"connection\":%u,\"resumed\":%s",
                       subscription->connections, resumed ? "true" : "false");
    if (resumed) {
        rill_buffer_append(part, ",\"last_event_id\":", 17);
        rill_json_append_string(part, subscription->parser.last_id.data, subscription->parser.last_id.length);
    } else if (subscription->connections > 1) {
        rill_buffer_append(part, ",\"gap\":true", 11);
    }
    rill_buffer_append(part, "}", 1);
    return publish(subscription);
}

static size_t on_header(char *data, size_t size, size_t count, void *argument)
{
    subscription_t *subscription = argument;
    size_t length = size * count;
    if (length > 2 || (length == 2 && data[0] != '\r') || (length == 1 && data[0] != '\n'))
        return length; /* a header line */
    long status = 0;
    curl_easy_getinfo(subscription->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200)
        return length; /* the end of an interim answer (1xx) */
    return on_headers_end(subscription) == 0 ? length : 0;
}

static void connect_now(subscription_t *subscription);

static void on_retry(void *argument)
{
    subscription_t *subscription = argument;
    if (subscription->paused)
        subscription->reconnect_due = 1;
    else
        connect_now(subscription);
}

/* The connection ended (or was never made): a reconnect after the backoff,
 * told to the clients. Returns -1 when the job must end instead. */
static int schedule_reconnect(subscription_t *subscription, const char *reason)
{
    uint64_t first = SUBSCRIBE_DELAY_FIRST_MS;
    if (subscription->parser.retry_ms >= 0) /* the stream's retry:, within bounds */
        first = subscription->parser.retry_ms < SUBSCRIBE_RETRY_MIN_MS   ? SUBSCRIBE_RETRY_MIN_MS
                : subscription->parser.retry_ms > SUBSCRIBE_RETRY_MAX_MS ? SUBSCRIBE_RETRY_MAX_MS
                                                                         : (uint64_t)subscription->parser.retry_ms;
    uint64_t most = first > SUBSCRIBE_DELAY_MAX_MS ? first : SUBSCRIBE_DELAY_MAX_MS;
    if (subscription->healthy || (subscription->accepted && now_ms() - subscription->accepted_ms >= SUBSCRIBE_HEALTHY_MS)) {
        subscription->attempt = 0;
        subscription->delay_ms = 0;
    }
    subscription->attempt++;
    uint64_t delay = subscription->delay_ms == 0 ? first : subscription->delay_ms;
    subscription->delay_ms = delay * 2 < most ? delay * 2 : most;
    if (delay > 3)
        delay -= (uint64_t)rand_r(&subscribe.random_state) % (delay / 4 + 1);
    rill_buffer_t *part = &subscription->part;
    rill_buffer_consume(part, part->length);
    rill_buffer_printf(part, "{\"upstream\":\"dropped\",\"attempt\":%u,\"retry_ms\":%llu,\"reason\":",
                       subscription->attempt, (unsigned long long)delay);
    rill_json_append_string(part, reason, strlen(reason));
    rill_buffer_append(part, "}", 1);
    subscription->drops++;
    if (publish(subscription) != 0)
        return -1;
    rill_worker_timer_start(subscription->context, &subscription->retry_timer, delay, on_retry, subscription);
    return 0;
}

/* A connection ended: the job ends (done when the upstream said so:
 * upstream_done), or the stream is reconnected. */
static void end_connection(subscription_t *subscription, const char *reason, int upstream_done)
{
    rill_worker_context_t *context = subscription->context;
    rill_worker_job_t *job = subscription->job;
    long status = subscription->status;
    connection_close(subscription);
    if (subscription->stop_code == NULL && upstream_done) {
        rill_worker_job_set_state(job, NULL);
        subscription_free(subscription);
        rill_worker_job_done(context, job);
        return;
    }
    if (subscription->stop_code == NULL && status_retried(status) &&
        ++subscription->status_failures >= SUBSCRIBE_STATUS_RETRIES)
        stop(subscription, "upstream_status", "the upstream answered HTTP %ld (%u times in a row)", status,
             subscription->status_failures);
    if (subscription->stop_code == NULL && schedule_reconnect(subscription, reason) == 0)
        return;
    rill_worker_job_set_state(job, NULL);
    char message[sizeof(subscription->stop_message)];
    snprintf(message, sizeof(message), "%s", subscription->stop_message);
    const char *code = subscription->stop_code;
    subscription_free(subscription);
    rill_worker_job_fail(context, job, code, message);
}

static void ws_open(subscription_t *subscription);

/* A transfer ended: for a WebSocket upstream, the connection is made. */
static void finish_connection(subscription_t *subscription, CURLcode result)
{
    if (subscription->websocket && result == CURLE_OK && subscription->stop_code == NULL) {
        ws_open(subscription);
        return;
    }
    char reason[CURL_ERROR_SIZE + 64];
    if (status_retried(subscription->status))
        snprintf(reason, sizeof(reason), "the upstream answered HTTP %ld", subscription->status);
    else if (result == CURLE_OK)
        snprintf(reason, sizeof(reason), "the upstream ended the stream");
    else
        snprintf(reason, sizeof(reason), "%s", curl_easy_strerror(result));
    end_connection(subscription, reason, subscription->status == 204);
}

static void on_transfer_done(CURL *easy, CURLcode result)
{
    subscription_t *subscription = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&subscription);
    if (subscription != NULL)
        finish_connection(subscription, result);
}

/* ---- WebSocket upstreams: curl made the connection, ws_client.c speaks on it ---- */

static ssize_t ws_recv(void *argument, void *buffer, size_t length)
{
    subscription_t *subscription = argument;
    size_t got = 0;
    CURLcode result = curl_easy_recv(subscription->easy, buffer, length, &got);
    if (result == CURLE_AGAIN)
        return RILL_WS_AGAIN;
    return result == CURLE_OK ? (ssize_t)got : RILL_WS_IO_ERROR;
}

static ssize_t ws_send(void *argument, const void *buffer, size_t length)
{
    subscription_t *subscription = argument;
    size_t sent = 0;
    CURLcode result = curl_easy_send(subscription->easy, buffer, length, &sent);
    if (result == CURLE_AGAIN || (result == CURLE_OK && sent == 0))
        return RILL_WS_AGAIN;
    return result == CURLE_OK ? (ssize_t)sent : RILL_WS_IO_ERROR;
}

static int ws_on_open(void *argument)
{
    subscription_t *subscription = argument;
    subscription->status = 101;
    subscription->status_failures = 0;
    return accept_connection(subscription, RILL_STREAM_NDJSON); /* no resume, as NDJSON */
}

static int ws_on_message(void *argument, const char *data, size_t length, int binary)
{
    (void)binary; /* bytes either way: a JSON value, else a string */
    rill_stream_message_t message = {.data = data, .data_length = length};
    return on_message(argument, &message);
}

static void on_ws_socket(void *argument, int fd, short revents);

/* Reads and writes what the connection takes now; ends it when it is over. */
static void ws_step(subscription_t *subscription)
{
    rill_ws_state_t state = rill_ws_client_io(subscription->ws);
    if (state == RILL_WS_OPEN) {
        short events = (subscription->paused ? 0 : RILL_WORKER_FD_IN) |
                       (rill_ws_client_wants_write(subscription->ws) ? RILL_WORKER_FD_OUT : 0);
        if (events == 0)
            rill_worker_fd_unwatch(subscription->context, subscription->ws_fd);
        else
            rill_worker_fd_watch(subscription->context, subscription->ws_fd, events, on_ws_socket, subscription);
        return;
    }
    long status = rill_ws_client_status(subscription->ws);
    char reason[224];
    if (state == RILL_WS_CLOSED) {
        unsigned code = rill_ws_client_close_code(subscription->ws);
        snprintf(reason, sizeof(reason), "the upstream closed the WebSocket (code %u)", code);
        end_connection(subscription, reason, code == 1000); /* a normal closure is the end */
        return;
    }
    snprintf(reason, sizeof(reason), "%s", rill_ws_client_error(subscription->ws));
    if (rill_ws_client_too_large(subscription->ws))
        stop(subscription, "upstream_too_large", "%s", "an upstream message is over max_part_bytes");
    if (status != 0 && status != 101) {
        subscription->status = status;
        if (status >= 300 && !status_retried(status))
            stop(subscription, "upstream_status", "the upstream answered HTTP %ld", status);
        else if (status < 300 && status != 204)
            stop(subscription, "upstream_invalid", "the upstream answered HTTP %ld, not 101", status);
    }
    end_connection(subscription, reason, status == 204);
}

static void on_ws_socket(void *argument, int fd, short revents)
{
    (void)fd, (void)revents;
    ws_step(argument);
}

static void ws_open(subscription_t *subscription)
{
    curl_socket_t fd = CURL_SOCKET_BAD;
    rill_ws_callbacks_t callbacks = {
        .recv = ws_recv, .send = ws_send, .on_open = ws_on_open, .on_message = ws_on_message,
        .argument = subscription,
    };
    if (curl_easy_getinfo(subscription->easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK || fd == CURL_SOCKET_BAD ||
        (subscription->ws = rill_ws_client_new(subscription->ws_host, subscription->ws_path,
                                               rill_worker_config(subscription->context)->max_part_bytes,
                                               &callbacks)) == NULL) {
        end_connection(subscription, "the worker could not start the WebSocket", 0);
        return;
    }
    subscription->ws_fd = fd;
    ws_step(subscription);
}

/* Opens a connection; one that cannot even be set up is a drop like any. */
static void connect_now(subscription_t *subscription)
{
    subscription->reconnect_due = 0;
    subscription->status = 0;
    subscription->accepted = 0;
    subscription->healthy = 0;
    subscription->headers = curl_slist_append(NULL, "Accept: text/event-stream, application/x-ndjson;q=0.9");
    subscription->headers = curl_slist_append(subscription->headers, "Cache-Control: no-cache");
    if (subscription->parser.last_id.length > 0) {
        /* The parser kept no CR, LF or NUL in the id: it is one header line. */
        char *line = rill_xmalloc(subscription->parser.last_id.length + 32);
        snprintf(line, subscription->parser.last_id.length + 32, "Last-Event-ID: %s", subscription->parser.last_id.data);
        subscription->headers = curl_slist_append(subscription->headers, line);
        free(line);
    }
    CURL *easy = subscription->easy = curl_easy_init();
    if (subscription->headers == NULL || easy == NULL ||
        curl_easy_setopt(easy, CURLOPT_URL, subscription->url) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)subscription) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, subscription->headers) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, subscription) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_HEADERDATA, subscription) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_PROXY, "") != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_CONNECT_ONLY, subscription->websocket ? 1L : 0L) != CURLE_OK ||
        /* The handshake is HTTP/1.1: wss must not agree on h2 by ALPN. */
        (subscription->websocket &&
         curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) != CURLE_OK) ||
        curl_easy_setopt(easy, CURLOPT_USERAGENT, "rill-worker") != CURLE_OK ||
        curl_multi_add_handle(subscribe.curl.multi, easy) != CURLM_OK) {
        connection_close(subscription);
        if (schedule_reconnect(subscription, "the worker could not start the request") != 0) {
            rill_worker_context_t *context = subscription->context;
            rill_worker_job_t *job = subscription->job;
            rill_worker_job_set_state(job, NULL);
            subscription_free(subscription);
            rill_worker_job_fail(context, job, "publish_failed", "the worker could not queue a part");
        }
        return;
    }
    rill_curl_loop_kick(&subscribe.curl);
}

static void subscribe_start(rill_worker_context_t *context, rill_worker_job_t *job)
{
    subscribe_args_t args;
    rill_job_error_t error;
    const rill_config_t *config = rill_worker_config(context);
    if (subscribe_args_parse(config, rill_worker_job_args(job), &args, &error) != 0) {
        rill_worker_job_fail(context, job, error.code, error.message);
        return;
    }
    if (subscribe.random_state == 0)
        subscribe.random_state = (unsigned)rill_clock_monotonic_ns() | 1u;
    if (rill_curl_loop_ready(&subscribe.curl, context, on_transfer_done) != 0) {
        rill_worker_job_fail(context, job, "start_failed", "libcurl could not be initialised");
        return;
    }
    subscription_t *subscription = rill_xcalloc(1, sizeof(*subscription));
    subscription->context = context;
    subscription->job = job;
    subscription->to_topic = args.to_topic != NULL ? rill_xstrdup(args.to_topic) : NULL;
    const char *base = args.upstream->url;
    size_t base_length = strlen(base);
    if (base_length > 0 && base[base_length - 1] == '/')
        base_length--; /* the path brings its own "/" */
    rill_buffer_t url;
    rill_buffer_init(&url);
    subscription->websocket = strncmp(base, "ws", 2) == 0;
    if (subscription->websocket) {
        /* curl connects to http(s)://host; the handshake asks for the path. */
        const char *host = strstr(base, "://") + 3;
        const char *slash = memchr(host, '/', (size_t)(base + base_length - host));
        size_t host_length = slash != NULL ? (size_t)(slash - host) : (size_t)(base + base_length - host);
        subscription->ws_host = rill_xstrndup(host, host_length);
        rill_buffer_printf(&url, "%.*s%s", slash != NULL ? (int)(base + base_length - slash) : 0,
                           slash != NULL ? slash : "", args.path);
        subscription->ws_path = rill_xstrdup(url.data);
        rill_buffer_consume(&url, url.length);
        rill_buffer_printf(&url, "http%.*s", (int)(host + host_length - base - 2), base + 2);
    } else {
        rill_buffer_printf(&url, "%.*s%s", (int)base_length, base, args.path);
    }
    subscription->url = rill_xstrdup(url.data);
    rill_buffer_release(&url);
    rill_stream_parser_init(&subscription->parser, RILL_STREAM_SSE, (size_t)config->max_part_bytes);
    rill_worker_job_set_state(job, subscription);
    connect_now(subscription);
}

static void subscribe_cancel(rill_worker_context_t *context, rill_worker_job_t *job)
{
    (void)context;
    subscription_t *subscription = rill_worker_job_state(job);
    if (subscription == NULL)
        return;
    rill_worker_job_set_state(job, NULL);
    subscription_free(subscription); /* the connection closes at once */
}

/* Every client is behind: the connection stops receiving (TCP holds the
 * upstream), and a reconnect waits; resumed, both go on. */
static void subscribe_pause(rill_worker_context_t *context, rill_worker_job_t *job, int paused)
{
    (void)context;
    subscription_t *subscription = rill_worker_job_state(job);
    if (subscription == NULL)
        return;
    subscription->paused = paused;
    if (subscription->ws != NULL) {
        ws_step(subscription); /* paused: the socket is no longer read; resumed: read what waits */
    } else if (subscription->easy != NULL) {
        CURLcode result = curl_easy_pause(subscription->easy, paused ? CURLPAUSE_RECV : CURLPAUSE_CONT);
        if (result != CURLE_OK)
            rill_log_warn(rill_worker_job_who(job), "job %s: cannot %s its stream: %s", rill_worker_job_id(job),
                          paused ? "pause" : "resume", curl_easy_strerror(result));
    } else if (!paused && subscription->reconnect_due) {
        connect_now(subscription);
    }
}

static void subscribe_shutdown(rill_worker_context_t *context)
{
    rill_curl_loop_shutdown(&subscribe.curl, context);
}

const rill_worker_kind_t rill_worker_kind_subscribe = {
    .name = "subscribe",
    .start_job = subscribe_start,
    .cancel = subscribe_cancel,
    .shutdown = subscribe_shutdown,
    .pause = subscribe_pause,
};

#endif
