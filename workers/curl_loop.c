/*
 * curl_loop.c - a libcurl multi handle on the worker's loop. See curl_loop.h.
 */
#include "curl_loop.h"

static void report_done(rill_curl_loop_t *loop)
{
    CURLMsg *message;
    int left;
    while ((message = curl_multi_info_read(loop->multi, &left)) != NULL) {
        if (message->msg == CURLMSG_DONE)
            loop->done(message->easy_handle, message->data.result);
    }
}

static void on_socket(void *argument, int fd, short revents)
{
    rill_curl_loop_t *loop = argument;
    int mask = 0;
    if (revents & RILL_WORKER_FD_IN)
        mask |= CURL_CSELECT_IN;
    if (revents & RILL_WORKER_FD_OUT)
        mask |= CURL_CSELECT_OUT;
    if (revents & RILL_WORKER_FD_ERR)
        mask |= CURL_CSELECT_ERR;
    int running;
    curl_multi_socket_action(loop->multi, fd, mask, &running);
    report_done(loop);
}

static void on_timeout(void *argument)
{
    rill_curl_loop_kick(argument);
}

static int socket_callback(CURL *easy, curl_socket_t fd, int what, void *argument, void *socket_data)
{
    (void)easy, (void)socket_data;
    rill_curl_loop_t *loop = argument;
    if (what == CURL_POLL_REMOVE) {
        rill_worker_fd_unwatch(loop->context, fd);
        return 0;
    }
    short events = 0;
    if (what & CURL_POLL_IN)
        events |= RILL_WORKER_FD_IN;
    if (what & CURL_POLL_OUT)
        events |= RILL_WORKER_FD_OUT;
    rill_worker_fd_watch(loop->context, fd, events, on_socket, loop);
    return 0;
}

static int timer_callback(CURLM *multi, long timeout_ms, void *argument)
{
    (void)multi;
    rill_curl_loop_t *loop = argument;
    if (timeout_ms < 0)
        rill_worker_timer_stop(loop->context, &loop->timer);
    else
        rill_worker_timer_start(loop->context, &loop->timer, (uint64_t)timeout_ms, on_timeout, loop);
    return 0;
}

int rill_curl_loop_ready(rill_curl_loop_t *loop, rill_worker_context_t *context, rill_curl_loop_done_t done)
{
    if (loop->multi != NULL)
        return 0;
    if (!loop->global_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return -1;
        loop->global_ready = 1;
    }
    loop->multi = curl_multi_init();
    if (loop->multi == NULL)
        return -1;
    loop->done = done;
    loop->context = context;
    curl_multi_setopt(loop->multi, CURLMOPT_SOCKETFUNCTION, socket_callback);
    curl_multi_setopt(loop->multi, CURLMOPT_SOCKETDATA, loop);
    curl_multi_setopt(loop->multi, CURLMOPT_TIMERFUNCTION, timer_callback);
    curl_multi_setopt(loop->multi, CURLMOPT_TIMERDATA, loop);
    return 0;
}

void rill_curl_loop_kick(rill_curl_loop_t *loop)
{
    int running;
    curl_multi_socket_action(loop->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    report_done(loop);
}

void rill_curl_loop_shutdown(rill_curl_loop_t *loop, rill_worker_context_t *context)
{
    if (loop->multi != NULL) {
        rill_worker_timer_stop(context, &loop->timer);
        curl_multi_cleanup(loop->multi);
        loop->multi = NULL;
    }
    if (loop->global_ready) {
        curl_global_cleanup();
        loop->global_ready = 0;
    }
}
