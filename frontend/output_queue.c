/*
 * output_queue.c - see output_queue.h.
 *
 * Two small arrays of (iovec, chunk): "pending" fills while "in flight" is
 * owned by h2o; on proceed the in-flight chunks are unref'd and the arrays
 * swap roles. Both start empty and shrink back after a burst, and an idle
 * stream (a heartbeat now and then) keeps one pair, so 10,000 idle streams
 * stay cheap.
 */
#include "output_queue.h"

#include "http_reply.h"
#include "request_bytes.h"
#include "rill_alloc.h"
#include "rill_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#define ENTRIES_SHRINK_ABOVE 64 /* entries kept allocated between bursts */

static void entries_release(rill_output_entries_t *entries)
{
    for (uint32_t i = 0; i < entries->count; i++)
        rill_chunk_unref(&entries->chunks[i]);
    entries->count = 0;
    if (entries->capacity > ENTRIES_SHRINK_ABOVE) {
        free(entries->iov);
        free(entries->chunks);
        entries->iov = NULL;
        entries->chunks = NULL;
        entries->capacity = 0;
    }
}

static void entries_free(rill_output_entries_t *entries)
{
    entries_release(entries);
    free(entries->iov);
    free(entries->chunks);
    memset(entries, 0, sizeof(*entries));
}

/* Queues bytes on the pending entries and counts them: the one place
 * pending_bytes grows, so the slow-client limits see every byte. Takes
 * over one reference of chunk (NULL for static bytes). */
static void push_entry(rill_output_queue_t *self, rill_chunk_t *chunk, const void *base,
                       size_t length)
{
    rill_output_entries_t *entries = &self->pending;
    if (entries->count == entries->capacity) {
        entries->capacity = entries->capacity == 0 ? 4 : entries->capacity * 2;
        entries->iov = rill_xrealloc(entries->iov, entries->capacity * sizeof(*entries->iov));
        entries->chunks =
            rill_xrealloc(entries->chunks, entries->capacity * sizeof(*entries->chunks));
    }
    entries->iov[entries->count] = h2o_iovec_init(base, length);
    entries->chunks[entries->count] = chunk;
    entries->count++;
    self->pending_bytes += length;
}

/* Moves the pending entries from `from` on ahead of the ones before it,
 * keeping the order within each part: what is pushed before the start and
 * must come first (the SSE retry field, the accepted notice). */
static void pending_to_front(rill_output_queue_t *self, uint32_t from)
{
    rill_output_entries_t *entries = &self->pending;
    for (uint32_t moved = 0; from + moved < entries->count; moved++) {
        uint32_t at = from + moved;
        h2o_iovec_t iov = entries->iov[at];
        rill_chunk_t *chunk = entries->chunks[at];
        memmove(entries->iov + moved + 1, entries->iov + moved, (at - moved) * sizeof(*entries->iov));
        memmove(entries->chunks + moved + 1, entries->chunks + moved,
                (at - moved) * sizeof(*entries->chunks));
        entries->iov[moved] = iov;
        entries->chunks[moved] = chunk;
    }
}

/* An idle stream's heartbeat: a comment line on SSE, a line on NDJSON. */
static void push_heartbeat(rill_output_queue_t *self)
{
    if (self->format == RILL_STREAM_SSE)
        push_entry(self, NULL, RILL_HEARTBEAT_SSE, sizeof(RILL_HEARTBEAT_SSE) - 1);
    else
        push_entry(self, NULL, RILL_HEARTBEAT_NDJSON, sizeof(RILL_HEARTBEAT_NDJSON) - 1);
}

void rill_output_queue_mark_dirty(rill_output_queue_t *self)
{
    if (!h2o_linklist_is_linked(&self->dirty_link))
        h2o_linklist_insert(&self->outputs->dirty, &self->dirty_link);
}

static void arm_heartbeat(rill_output_queue_t *self)
{
    if (self->sink != NULL)
        return; /* the sink keeps its transport alive (WebSocket pings) */
    if (h2o_timeout_is_linked(&self->heartbeat))
        h2o_timeout_unlink(&self->heartbeat);
    if (!self->final_sent && !self->stopped)
        h2o_timeout_link(self->outputs->loop, &self->outputs->heartbeat_timeout, &self->heartbeat);
}

/* ---- the HTTP/1.1 connection watch -------------------------------------- */

/* Each watched connection's fd is in the outputs' own epoll set for
 * EPOLLRDHUP (the peer closed or shut down its side) and the errors epoll
 * always reports - not EPOLLIN, so a pipelined request does not count.
 * Registering h2o's fd in a second epoll set takes no fd of its own (a dup
 * would double the fds of 10,000 streams) and leaves h2o's own watch alone.
 * The registration goes before h2o closes the fd: at the final send, or
 * when the stream stops (h2o calls stop before it closes a connection). */
static void unwatch_connection(rill_output_queue_t *self)
{
    if (!self->watched)
        return;
    self->watched = 0;
    (void)epoll_ctl(h2o_socket_get_fd(self->outputs->connections), EPOLL_CTL_DEL, self->watched_fd,
                    NULL);
}

static void flush_now(rill_output_queue_t *self, int force);

/* The client closed the connection: what is queued goes, and the response
 * ends now; the final send makes h2o write its last bytes and close the
 * connection, which frees the request. */
static void client_closed(rill_output_queue_t *self)
{
    unwatch_connection(self);
    if (self->stopped || self->final_sent)
        return;
    rill_log_info(self->who, "stream %llu: the client closed its connection",
                  (unsigned long long)self->serial);
    self->events->on_closed(self);
    entries_release(&self->pending);
    self->pending_bytes = 0;
    self->dropping = 0;
    self->req->http1_is_persistent = 0;
    self->ending = 1;
    if (h2o_linklist_is_linked(&self->delayed_link))
        h2o_linklist_unlink(&self->delayed_link);
    flush_now(self, 1); /* or at proceed, when a send is in flight */
}

/* The epoll set has closed connections: one at a time, so an event never
 * names a queue that handling the one before let go. */
static void on_connections_ready(h2o_socket_t *sock, const char *err)
{
    (void)err;
    struct epoll_event event;
    while (epoll_wait(h2o_socket_get_fd(sock), &event, 1, 0) == 1)
        client_closed(event.data.ptr);
}

static void watch_connection(rill_output_queue_t *self)
{
    if (self->sink != NULL)
        return;
    h2o_conn_t *conn = self->req->conn;
    if (self->outputs->connections == NULL || self->req->version >= 0x200 ||
        conn->callbacks->get_socket == NULL)
        return; /* HTTP/2: h2o reads the connection and calls stop at once */
    h2o_socket_t *sock = conn->callbacks->get_socket(conn);
    int fd = sock != NULL ? h2o_socket_get_fd(sock) : -1;
    struct epoll_event event = {.events = EPOLLRDHUP, .data.ptr = self};
    if (fd < 0 ||
        epoll_ctl(h2o_socket_get_fd(self->outputs->connections), EPOLL_CTL_ADD, fd, &event) != 0) {
        rill_log_debug(self->who, "stream %llu: no connection watch (%s)",
                       (unsigned long long)self->serial, fd < 0 ? "no fd" : strerror(errno));
        return;
    }
    self->watched = 1;
    self->watched_fd = fd;
}

/* ---- sending ------------------------------------------------------------ */

/* Sends everything queued as one h2o_send; with force, even nothing (this
 * makes HTTP/2 put the response headers on the wire). */
static void flush_now(rill_output_queue_t *self, int force)
{
    if (!self->started || self->stopped || self->final_sent || self->sending || self->in_send)
        return;
    if (self->dropping) {
        self->dropping = 0;
        self->events->on_resume(self); /* h2o takes bytes again: say what was lost */
    }
    if (self->pending.count == 0 && !self->ending && !force)
        return;
    rill_output_entries_t swap = self->in_flight;
    self->in_flight = self->pending;
    self->pending = swap;
    self->in_flight_bytes = self->pending_bytes;
    self->pending_bytes = 0;
    h2o_send_state_t state = H2O_SEND_STATE_IN_PROGRESS;
    if (self->ending) {
        state = H2O_SEND_STATE_FINAL;
        self->final_sent = 1;
        unwatch_connection(self);
    }
    /* With the final send the owner lets its subjects go at once, so the
     * broker learns that this frontend stopped listening. */
    self->events->on_send(self, self->final_sent);
    arm_heartbeat(self);
    /* Delivery is counted, and latency observed, here and only here. */
    rill_frontend_metrics_sent(self->outputs->metrics, self->in_flight.chunks, self->in_flight.count,
                               self->in_flight_bytes, self->who, self->serial);
    self->sending = 1;
    self->in_send = 1;
    if (self->sink != NULL)
        self->sink->send(self, self->in_flight.iov, self->in_flight.count, self->final_sent);
    else
        h2o_send(self->req, self->in_flight.iov, self->in_flight.count, state);
    self->in_send = 0;
    /* proceed may have run inside h2o_send: send what it left queued. */
    if (!self->sending && !self->disposed)
        flush_now(self, 0);
}

/* Sends what is queued, or, with a window (a pipeline's flush_ms, or
 * busy_flush_ms while the frontend is busy: write_pacing.h), holds it until
 * the window that the first held bytes opened closes (the flush tick sends
 * it). An ending stream goes at once. No allocation: the queue is linked. */
static void flush(rill_output_queue_t *self)
{
    rill_outputs_t *outputs = self->outputs;
    uint64_t window = 0;
    if (self->started && !self->ending && self->pending.count > 0) {
        window = rill_write_pacing_window(&outputs->pacing, h2o_now(outputs->loop));
        if (self->flush_ms > window)
            window = self->flush_ms;
    }
    if (window > 0) {
        if (h2o_linklist_is_linked(&self->delayed_link))
            return;
        self->flush_due_ms = h2o_now(outputs->loop) + window;
        h2o_linklist_insert(&outputs->delayed, &self->delayed_link);
        if (!h2o_timeout_is_linked(&outputs->flush_entry))
            h2o_timeout_link(outputs->loop, &outputs->flush_timeout, &outputs->flush_entry);
        return;
    }
    if (h2o_linklist_is_linked(&self->delayed_link))
        h2o_linklist_unlink(&self->delayed_link);
    flush_now(self, 0);
}

/* The flush tick: sends what queues held for windows that closed. */
static void on_flush_tick(h2o_timeout_entry_t *entry)
{
    rill_outputs_t *outputs = H2O_STRUCT_FROM_MEMBER(rill_outputs_t, flush_entry, entry);
    uint64_t now = h2o_now(outputs->loop);
    h2o_linklist_t *node = outputs->delayed.next;
    while (node != &outputs->delayed) {
        h2o_linklist_t *next = node->next;
        rill_output_queue_t *queue = H2O_STRUCT_FROM_MEMBER(rill_output_queue_t, delayed_link, node);
        if (queue->flush_due_ms <= now) {
            h2o_linklist_unlink(&queue->delayed_link);
            flush_now(queue, 0);
        }
        node = next;
    }
    if (!h2o_linklist_is_empty(&outputs->delayed) && !h2o_timeout_is_linked(&outputs->flush_entry))
        h2o_timeout_link(outputs->loop, &outputs->flush_timeout, &outputs->flush_entry);
}

void rill_outputs_init(rill_outputs_t *self, h2o_loop_t *loop, const rill_config_t *config,
                       rill_frontend_metrics_t *metrics)
{
    memset(self, 0, sizeof(*self));
    self->loop = loop;
    self->config = config;
    self->metrics = metrics;
    h2o_linklist_init_anchor(&self->dirty);
    h2o_linklist_init_anchor(&self->delayed);
    h2o_timeout_init(loop, &self->heartbeat_timeout, config->stream_heartbeat_ms);
    h2o_timeout_init(loop, &self->flush_timeout, RILL_FLUSH_TICK_MS);
    rill_write_pacing_init(&self->pacing, config->busy_flush_ms);
    self->flush_entry.cb = on_flush_tick;
    int connections = epoll_create1(EPOLL_CLOEXEC);
    if (connections < 0) {
        rill_log_warn(NULL, "no watch on HTTP/1.1 connections (%s): a closed one is seen at a write",
                      strerror(errno));
        return;
    }
    /* h2o closes what it is given: the epoll set is the socket's. */
    self->connections = h2o_evloop_socket_create(loop, connections, H2O_SOCKET_FLAG_DONT_READ);
    self->connections->data = self;
    h2o_socket_read_start(self->connections, on_connections_ready);
}

void rill_outputs_dispose(rill_outputs_t *self)
{
    if (self->connections != NULL) {
        h2o_socket_read_stop(self->connections);
        h2o_socket_close(self->connections);
        self->connections = NULL;
    }
    h2o_timeout_dispose(self->loop, &self->heartbeat_timeout);
    if (h2o_timeout_is_linked(&self->flush_entry))
        h2o_timeout_unlink(&self->flush_entry);
    h2o_timeout_dispose(self->loop, &self->flush_timeout);
}

void rill_outputs_set_heartbeat_ms(rill_outputs_t *self, uint64_t heartbeat_ms)
{
    self->heartbeat_timeout.timeout = heartbeat_ms;
}

void rill_outputs_set_busy_flush_ms(rill_outputs_t *self, uint64_t busy_flush_ms)
{
    rill_write_pacing_set_window_ms(&self->pacing, busy_flush_ms);
}

void rill_outputs_flush(rill_outputs_t *self)
{
    while (!h2o_linklist_is_empty(&self->dirty)) {
        rill_output_queue_t *queue =
            H2O_STRUCT_FROM_MEMBER(rill_output_queue_t, dirty_link, self->dirty.next);
        h2o_linklist_unlink(&queue->dirty_link);
        flush(queue);
    }
}

void rill_output_queue_note_flush_ms(rill_output_queue_t *self, uint64_t flush_ms)
{
    if (!self->flush_known || flush_ms < self->flush_ms)
        self->flush_ms = flush_ms;
    self->flush_known = 1;
}

/* The pause marks of on_behind: over half the soft limit the client is
 * behind; under a quarter it caught up (hysteresis, so a job does not flap
 * between paused and running with every send). */
static void check_behind(rill_output_queue_t *self)
{
    if (self->events->on_behind == NULL || self->stopped || self->disposed)
        return;
    uint64_t soft = self->outputs->config->slow_client_soft_bytes;
    uint64_t unsent = self->pending_bytes + self->in_flight_bytes;
    int behind = self->behind ? unsent >= soft / 4 : unsent > soft / 2;
    if (behind == (int)self->behind)
        return;
    self->behind = (unsigned)behind;
    self->events->on_behind(self);
}

static void on_proceed(h2o_generator_t *generator, h2o_req_t *req)
{
    (void)req;
    rill_output_queue_t *self = (rill_output_queue_t *)generator;
    self->sending = 0;
    self->in_flight_bytes = 0;
    if (self->pending_bytes <= self->outputs->config->slow_client_soft_bytes)
        self->over_soft_since = 0;
    entries_release(&self->in_flight);
    if (self->pending.capacity == 0 && self->in_flight.capacity != 0) {
        /* Nothing came while the send was out (an idle stream's heartbeat):
         * the next bytes reuse these arrays, so an idle stream holds one
         * pair of them, not two. */
        self->pending = self->in_flight;
        memset(&self->in_flight, 0, sizeof(self->in_flight));
    }
    check_behind(self); /* before the flush: the same count, and the queue surely alive */
    flush(self);
}

static void on_stop(h2o_generator_t *generator, h2o_req_t *req)
{
    (void)req;
    rill_output_queue_t *self = (rill_output_queue_t *)generator;
    self->events->on_stop(self);
}

static void on_heartbeat(h2o_timeout_entry_t *entry)
{
    rill_output_queue_t *self = H2O_STRUCT_FROM_MEMBER(rill_output_queue_t, heartbeat, entry);
    if (self->stopped || self->final_sent || !self->started)
        return;
    if (self->pending.count == 0 && !self->sending)
        push_heartbeat(self);
    arm_heartbeat(self);
    flush(self);
}

void rill_output_queue_init(rill_output_queue_t *self, rill_outputs_t *outputs, h2o_req_t *req,
                            const rill_output_events_t *events, rill_stream_format_t format,
                            const char *who, uint64_t serial)
{
    memset(self, 0, sizeof(*self));
    self->generator.proceed = on_proceed;
    self->generator.stop = on_stop;
    self->outputs = outputs;
    self->events = events;
    self->req = req;
    self->format = format;
    self->who = who;
    self->serial = serial;
    self->heartbeat.cb = on_heartbeat;
}

void rill_output_queue_set_sink(rill_output_queue_t *self, const rill_output_sink_t *sink, void *data)
{
    self->sink = sink;
    self->sink_data = data;
    self->req = NULL;
}

void rill_output_queue_sent(rill_output_queue_t *self)
{
    if (self->sending)
        on_proceed(&self->generator, NULL);
}

void rill_output_queue_client_gone(rill_output_queue_t *self)
{
    self->events->on_stop(self);
}

void rill_output_queue_refuse(rill_output_queue_t *self, int status, const char *code, const char *message)
{
    if (self->sink != NULL)
        self->sink->refuse(self, status, code, message);
    else if (status == 204)
        rill_http_reply_no_content(self->req);
    else
        rill_http_reply_error(self->req, status, code, message);
}

int rill_output_queue_is_open(const rill_output_queue_t *self)
{
    return !self->stopped && !self->ending && !self->final_sent;
}

void rill_output_queue_overflow(rill_output_queue_t *self)
{
    static const char line[] = "{\"event\":\"error\",\"data\":{\"code\":\"slow_client\","
                               "\"message\":\"the client reads too slowly; events were dropped\"}}\n";
    if (!self->ending)
        self->outputs->metrics->slow_client_drops++;
    self->overflowed = 1;
    entries_release(&self->pending);
    self->pending_bytes = 0;
    self->ending = 1;
    /* On SSE an error event like a job's: its data the same JSON line. */
    static const char sse_head[] = "event: error\ndata: ";
    if (self->format == RILL_STREAM_SSE)
        push_entry(self, NULL, sse_head, sizeof(sse_head) - 1);
    push_entry(self, NULL, line, sizeof(line) - 1);
    if (self->format == RILL_STREAM_SSE)
        push_entry(self, NULL, RILL_SSE_TAIL, sizeof(RILL_SSE_TAIL) - 1);
    /* The owner's subjects go with the final send, not here: its fan-out
     * may be walking them right now. */
    rill_output_queue_mark_dirty(self);
}

/* The client fell behind past a limit. slow_client_action "close" ends the
 * stream with an error event. "gap" drops what is queued and every event
 * after it until h2o can take bytes again; then the owner tells the client
 * what it lost (on_resume), and the stream goes on. */
static void slow_client(rill_output_queue_t *self, const char *which)
{
    const rill_config_t *config = self->outputs->config;
    rill_log_warn(self->who, "stream %llu: slow client, %zu bytes unsent (over the %s limit): %s",
                  (unsigned long long)self->serial, self->pending_bytes + self->in_flight_bytes, which,
                  config->slow_client_action == RILL_SLOW_CLIENT_GAP ? "dropping events"
                                                                      : "stream closed");
    if (config->slow_client_action != RILL_SLOW_CLIENT_GAP) {
        rill_output_queue_overflow(self);
        return;
    }
    self->outputs->metrics->slow_client_drops++;
    entries_release(&self->pending);
    self->pending_bytes = 0;
    self->over_soft_since = 0;
    self->dropping = 1;
    self->events->on_drop(self);
}

static void apply_limits(rill_output_queue_t *self)
{
    const rill_config_t *config = self->outputs->config;
    size_t unsent = self->pending_bytes + self->in_flight_bytes;
    if (unsent <= config->slow_client_soft_bytes || self->ending || self->dropping)
        return;
    if (unsent > config->slow_client_hard_bytes) {
        slow_client(self, "hard");
        return;
    }
    uint64_t now = h2o_now(self->outputs->loop);
    if (self->over_soft_since == 0)
        self->over_soft_since = now;
    else if (now - self->over_soft_since >= config->slow_client_soft_ms)
        slow_client(self, "soft");
}

void rill_output_queue_push(rill_output_queue_t *self, rill_chunk_t *chunk)
{
    push_entry(self, rill_chunk_ref(chunk), chunk->bytes, chunk->length);
    apply_limits(self);
    check_behind(self);
}

void rill_output_queue_push_sse(rill_output_queue_t *self, const char *type, const char *cursor,
                                size_t cursor_length, rill_chunk_t *line)
{
    rill_chunk_t *head = rill_event_format_sse_head(type, cursor, cursor_length);
    if (head == NULL) {
        rill_output_queue_overflow(self);
        return;
    }
    rill_output_queue_push(self, head);
    rill_chunk_unref(&head);
    /* The head may have tipped a slow client over: then no half event. */
    if (self->ending || self->dropping)
        return;
    rill_output_queue_push(self, line);
    if (self->ending)
        return;
    push_entry(self, NULL, RILL_SSE_TAIL, sizeof(RILL_SSE_TAIL) - 1);
}

void rill_output_queue_push_notice(rill_output_queue_t *self, const char *type, rill_chunk_t *line)
{
    if (self->dropping || self->stopped || self->final_sent)
        return;
    if (self->sink != NULL && !self->sink->keep_notice(self, type))
        return;
    if (self->format == RILL_STREAM_SSE)
        rill_output_queue_push_sse(self, type, NULL, 0, line);
    else
        rill_output_queue_push(self, line);
    rill_output_queue_mark_dirty(self);
}

void rill_output_queue_push_notice_first(rill_output_queue_t *self, const char *type,
                                         rill_chunk_t *line)
{
    if (self->started || self->stopped)
        return;
    uint32_t from = self->pending.count;
    rill_output_queue_push_notice(self, type, line);
    pending_to_front(self, from);
}

void rill_output_queue_start(rill_output_queue_t *self, int closing)
{
    if (self->stopped || self->started)
        return;
    if (self->sink != NULL) {
        self->sink->start(self);
        self->started = 1;
        self->ending |= (unsigned)closing;
        flush_now(self, 1);
        return;
    }
    h2o_req_t *req = self->req;
    req->res.status = 200;
    req->res.reason = "OK";
    if (self->format == RILL_STREAM_SSE)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                       H2O_STRLIT("text/event-stream"));
    else
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                       H2O_STRLIT("application/x-ndjson"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-cache"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-accel-buffering"), 0, NULL,
                          H2O_STRLIT("no"));
    if (closing) {
        req->http1_is_persistent = 0;
        self->ending = 1;
    }
    self->started = 1;
    if (!closing)
        watch_connection(self);
    /* h2o puts the headers on the wire with the first body byte only (seen
     * with HTTP/1.1 and HTTP/2 alike): a stream with nothing to say yet
     * (no retry: field, no accepted notice, no event) starts with a
     * heartbeat, so its client knows at once it is open. */
    if (self->format == RILL_STREAM_SSE) {
        /* EventSource's reconnection delay, before anything else. */
        uint32_t from = self->pending.count;
        push_entry(self, NULL, RILL_SSE_RETRY, sizeof(RILL_SSE_RETRY) - 1);
        pending_to_front(self, from);
    }
    if (self->pending.count == 0 && !self->ending)
        push_heartbeat(self);
    h2o_start_response(req, &self->generator);
    /* Send at once even when empty: HTTP/2 clients then see the headers. */
    flush_now(self, 1);
    /* The request is read and answered: an open HTTP/1.1 stream keeps its
     * request's bytes, not h2o's 8 KiB read buffer (request_bytes.h). */
    if (!self->ending && !self->stopped && !self->disposed)
        (void)rill_request_bytes_shrink(req);
}

void rill_output_queue_end(rill_output_queue_t *self, int close_connection)
{
    if (close_connection && self->req != NULL)
        self->req->http1_is_persistent = 0;
    self->closes |= (unsigned)(close_connection != 0);
    self->ending = 1;
}

void rill_output_queue_stop(rill_output_queue_t *self)
{
    self->stopped = 1;
    unwatch_connection(self);
    if (h2o_timeout_is_linked(&self->heartbeat))
        h2o_timeout_unlink(&self->heartbeat);
    if (h2o_linklist_is_linked(&self->dirty_link))
        h2o_linklist_unlink(&self->dirty_link);
    if (h2o_linklist_is_linked(&self->delayed_link))
        h2o_linklist_unlink(&self->delayed_link);
    entries_release(&self->pending);
    self->pending_bytes = 0;
}

void rill_output_queue_dispose(rill_output_queue_t *self)
{
    rill_output_queue_stop(self);
    entries_free(&self->in_flight);
    entries_free(&self->pending);
    self->disposed = 1;
}
