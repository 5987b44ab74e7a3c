/*
 * curl_loop.h - a libcurl multi handle run by the worker's loop: curl says
 * which sockets to watch (rill_worker_fd_watch) and when to wake it (one
 * worker timer); nothing blocks and no thread is started. A kind that
 * speaks HTTP (http, subscribe) keeps one and adds its easy handles to
 * loop->multi.
 */
#ifndef RILL_WORKER_CURL_LOOP_H
#define RILL_WORKER_CURL_LOOP_H

#include "rill_worker_kind.h"

#include <curl/curl.h>

/* Called for each transfer that ended (CURLMSG_DONE), with its result. */
typedef void (*rill_curl_loop_done_t)(CURL *easy, CURLcode result);

typedef struct {
    CURLM *multi; /* NULL until ready */
    int global_ready;
    rill_worker_timer_t timer;
    rill_curl_loop_done_t done;
    rill_worker_context_t *context; /* the loop's (the worker keeps one context) */
} rill_curl_loop_t;

/* Makes the multi handle (once; a zeroed loop is not ready). Returns 0, or
 * -1 when libcurl cannot be initialised. */
int rill_curl_loop_ready(rill_curl_loop_t *loop, rill_worker_context_t *context, rill_curl_loop_done_t done);
/* Lets curl start what was added now rather than at its first timer, and
 * reports what ended. */
void rill_curl_loop_kick(rill_curl_loop_t *loop);
void rill_curl_loop_shutdown(rill_curl_loop_t *loop, rill_worker_context_t *context);

#endif
