/*
 * stream.c - see stream.h.
 *
 * Queue: two small arrays of (iovec, chunk) - "pending" fills while
 * "in flight" is owned by h2o; on proceed the in-flight chunks are unref'd
 * and the arrays swap roles. Both start empty (no allocation for an idle
 * stream) and shrink back after a burst, so 10,000 idle streams stay cheap.
 */
#include "stream.h"

#include "chunk.h"
#include "event_format.h"
#include "rill_log.h"

#include <stdlib.h>
#include <string.h>

#define QUEUE_SHRINK_ABOVE 64 /* entries kept allocated between bursts */

typedef struct {
    h2o_iovec_t *iov;
    rill_chunk_t **chunks; /* NULL entries are static bytes */
    uint32_t count;
    uint32_t capacity;
} queue_t;

struct rill_stream {
    h2o_generator_t generator; /* first: h2o hands it back to proceed/stop */
    rill_frontend_t *frontend;
    h2o_req_t *req;
    h2o_linklist_t link;       /* frontend->streams */
    h2o_linklist_t dirty_link; /* frontend->dirty_streams */
    h2o_timeout_entry_t heartbeat;
    rill_subscription_t *subscriptions; /* owner_next list, in job order */
    rill_subscription_t *subscriptions_tail;
    uint32_t open_jobs; /* subscriptions without done/error yet */
    queue_t pending;
    queue_t in_flight;
    size_t pending_bytes;
    rill_stream_format_t format;
    unsigned started : 1;   /* h2o_start_response done */
    unsigned sending : 1;   /* an h2o_send is in flight */
    unsigned in_send : 1;   /* inside our own h2o_send call */
    unsigned ending : 1;    /* send FINAL once the queue is out */
    unsigned final_sent : 1;
    unsigned stopped : 1;   /* client gone, or abandoned */
    unsigned disposed : 1;
    char who[64];
};

static void queue_release(queue_t *queue)
{
    for (uint32_t i = 0; i < queue->count; i++)
        rill_chunk_unref(&queue->chunks[i]);
    queue->count = 0;
    if (queue->capacity > QUEUE_SHRINK_ABOVE) {
        free(queue->iov);
        free(queue->chunks);
        queue->iov = NULL;
        queue->chunks = NULL;
        queue->capacity = 0;
    }
}

static void queue_free(queue_t *queue)
{
    queue_release(queue);
    free(queue->iov);
    free(queue->chunks);
    memset(queue, 0, sizeof(*queue));
}

/* Takes over one reference of chunk (NULL for static bytes). */
static int queue_push(queue_t *queue, rill_chunk_t *chunk, const void *base, size_t length)
{
    if (queue->count == queue->capacity) {
        uint32_t capacity = queue->capacity == 0 ? 4 : queue->capacity * 2;
        h2o_iovec_t *iov = realloc(queue->iov, capacity * sizeof(*iov));
        if (iov == NULL)
            goto fail;
        queue->iov = iov;
        rill_chunk_t **chunks = realloc(queue->chunks, capacity * sizeof(*chunks));
        if (chunks == NULL)
            goto fail;
        queue->chunks = chunks;
        queue->capacity = capacity;
    }
    queue->iov[queue->count] = h2o_iovec_init(base, length);
    queue->chunks[queue->count] = chunk;
    queue->count++;
    return 0;
fail:
    rill_chunk_unref(&chunk);
    return -1;
}

static void release_subscriptions(rill_stream_t *self)
{
    rill_subscription_t *subscription = self->subscriptions;
    while (subscription != NULL) {
        rill_subscription_t *next = subscription->owner_next;
        rill_subject_registry_remove(self->frontend->subjects, &subscription);
        subscription = next;
    }
    self->subscriptions = NULL;
    self->subscriptions_tail = NULL;
    self->open_jobs = 0;
}

static void mark_dirty(rill_stream_t *self)
{
    if (!h2o_linklist_is_linked(&self->dirty_link))
        h2o_linklist_insert(&self->frontend->dirty_streams, &self->dirty_link);
}

static void arm_heartbeat(rill_stream_t *self)
{
    if (h2o_timeout_is_linked(&self->heartbeat))
        h2o_timeout_unlink(&self->heartbeat);
    if (!self->final_sent && !self->stopped)
        h2o_timeout_link(self->frontend->context.loop, &self->frontend->heartbeat_timeout,
                         &self->heartbeat);
}

/* Releases everything but the pool memory itself; safe to call twice. */
static void stream_release(rill_stream_t *self)
{
    self->stopped = 1;
    if (h2o_timeout_is_linked(&self->heartbeat))
        h2o_timeout_unlink(&self->heartbeat);
    if (h2o_linklist_is_linked(&self->dirty_link))
        h2o_linklist_unlink(&self->dirty_link);
    release_subscriptions(self);
    queue_release(&self->pending);
    self->pending_bytes = 0;
}

/* Sends everything queued as one h2o_send; with force, even nothing (this
 * makes HTTP/2 put the response headers on the wire). */
static void flush_now(rill_stream_t *self, int force)
{
    if (!self->started || self->stopped || self->final_sent || self->sending || self->in_send)
        return;
    if (self->pending.count == 0 && !self->ending && !force)
        return;
    queue_t swap = self->in_flight;
    self->in_flight = self->pending;
    self->pending = swap;
    self->pending_bytes = 0;
    h2o_send_state_t state = H2O_SEND_STATE_IN_PROGRESS;
    if (self->ending) {
        state = H2O_SEND_STATE_FINAL;
        self->final_sent = 1;
        /* Nothing more will be sent: let the subjects go now, so the broker
         * learns at once that this frontend stopped listening. */
        release_subscriptions(self);
    }
    arm_heartbeat(self);
    self->sending = 1;
    self->in_send = 1;
    h2o_send(self->req, self->in_flight.iov, self->in_flight.count, state);
    self->in_send = 0;
    /* proceed may have run inside h2o_send: send what it left queued. */
    if (!self->sending && !self->disposed)
        flush_now(self, 0);
}

static void flush(rill_stream_t *self)
{
    flush_now(self, 0);
}

static void on_proceed(h2o_generator_t *generator, h2o_req_t *req)
{
    (void)req;
    rill_stream_t *self = (rill_stream_t *)generator;
    self->sending = 0;
    queue_release(&self->in_flight);
    flush(self);
}

static void on_stop(h2o_generator_t *generator, h2o_req_t *req)
{
    (void)req;
    rill_stream_t *self = (rill_stream_t *)generator;
    rill_log_debug(self->who, "stream closed by the client");
    stream_release(self);
}

static void on_dispose(void *data)
{
    rill_stream_t *self = data;
    stream_release(self);
    queue_free(&self->in_flight);
    queue_free(&self->pending);
    if (h2o_linklist_is_linked(&self->link))
        h2o_linklist_unlink(&self->link);
    self->disposed = 1;
}

static void enqueue_chunk(rill_stream_t *self, rill_chunk_t *chunk, int take);

/* Ends the stream with an error line: its client reads too slowly. */
static void overflow(rill_stream_t *self)
{
    static const char line[] = "{\"event\":\"error\",\"data\":{\"code\":\"slow_client\","
                               "\"message\":\"the client reads too slowly; events were dropped\"}}\n";
    rill_log_warn(self->who, "slow client: over %u queued bytes, stream ended",
                  RILL_STREAM_HARD_LIMIT_BYTES);
    queue_release(&self->pending);
    self->pending_bytes = 0;
    self->ending = 1;
    if (queue_push(&self->pending, NULL, line, sizeof(line) - 1) == 0)
        self->pending_bytes += sizeof(line) - 1;
    /* Subscriptions go with the final send (flush), not here: fan-out may be
     * walking them right now. */
    mark_dirty(self);
}

/* Queues chunk (a new reference is taken unless take). */
static void enqueue_chunk(rill_stream_t *self, rill_chunk_t *chunk, int take)
{
    if (!take)
        rill_chunk_ref(chunk);
    size_t length = chunk->length;
    if (queue_push(&self->pending, chunk, chunk->bytes, length) != 0) {
        overflow(self);
        return;
    }
    self->pending_bytes += length;
    if (self->pending_bytes > RILL_STREAM_HARD_LIMIT_BYTES)
        overflow(self);
}

/* The cursor "<subject>:<last seq>,..." with subscription's last seq = seq. */
static char *build_cursor(rill_stream_t *self, rill_subscription_t *current, uint64_t seq,
                          size_t *length)
{
    size_t size = 1;
    for (rill_subscription_t *s = self->subscriptions; s != NULL; s = s->owner_next)
        size += s->subject->topic_length + 22;
    char *cursor = malloc(size);
    if (cursor == NULL)
        return NULL;
    size_t at = 0;
    for (rill_subscription_t *s = self->subscriptions; s != NULL; s = s->owner_next) {
        const rill_subject_t *subject = s->subject;
        size_t name_length = subject->topic_length - 1;
        if (subject->topic[0] == 't')
            name_length--; /* "t<name>/" */
        if (at > 0)
            cursor[at++] = ',';
        memcpy(cursor + at, subject->topic + 1, name_length);
        at += name_length;
        cursor[at++] = ':';
        uint64_t last = s == current ? seq : s->next_seq - 1;
        at += rill_u64_to_text(last, cursor + at);
    }
    cursor[at] = '\0';
    *length = at;
    return cursor;
}

/* Queues one event line for a subscription, in the stream's format. */
static void enqueue_event(rill_stream_t *self, rill_subscription_t *subscription, uint64_t seq,
                          const char *type, rill_chunk_t *line, int take)
{
    if (self->format == RILL_STREAM_SSE) {
        size_t cursor_length = 0;
        char *cursor = build_cursor(self, subscription, seq, &cursor_length);
        rill_chunk_t *head =
            cursor != NULL ? rill_event_format_sse_head(type, cursor, cursor_length) : NULL;
        free(cursor);
        if (head == NULL) {
            if (take)
                rill_chunk_unref(&line);
            overflow(self);
            return;
        }
        enqueue_chunk(self, head, 1);
        if (self->ending)
            goto drop;
        enqueue_chunk(self, line, take);
        if (self->ending)
            return;
        if (queue_push(&self->pending, NULL, RILL_SSE_TAIL, sizeof(RILL_SSE_TAIL) - 1) != 0)
            overflow(self);
        return;
    }
    enqueue_chunk(self, line, take);
    return;
drop:
    if (take)
        rill_chunk_unref(&line);
}

static void job_ended(rill_stream_t *self, rill_subscription_t *subscription)
{
    if (subscription->ended)
        return;
    subscription->ended = 1;
    if (self->open_jobs > 0)
        self->open_jobs--;
    if (self->open_jobs == 0)
        self->ending = 1;
}

static void on_heartbeat(h2o_timeout_entry_t *entry);

rill_stream_t *rill_stream_new(rill_frontend_t *frontend, h2o_req_t *req,
                               rill_stream_format_t format, const char *who)
{
    rill_stream_t *self = h2o_mem_alloc_shared(&req->pool, sizeof(*self), on_dispose);
    memset(self, 0, sizeof(*self));
    self->generator.proceed = on_proceed;
    self->generator.stop = on_stop;
    self->frontend = frontend;
    self->req = req;
    self->format = format;
    self->heartbeat.cb = on_heartbeat;
    snprintf(self->who, sizeof(self->who), "%s", who != NULL ? who : "");
    h2o_linklist_insert(&frontend->streams, &self->link);
    frontend->streams_opened++;
    return self;
}

const char *rill_stream_who(rill_stream_t *stream)
{
    return stream->who;
}

int rill_stream_add_job(rill_stream_t *self, const char *job_id)
{
    char topic[1 + 32 + 1];
    size_t length = strlen(job_id);
    if (length != 32 || self->stopped)
        return -1;
    topic[0] = 'j';
    memcpy(topic + 1, job_id, length);
    rill_subscription_t *subscription =
        rill_subject_registry_add(self->frontend->subjects, topic, length + 1, self);
    if (subscription == NULL)
        return -1;
    if (self->subscriptions_tail != NULL)
        self->subscriptions_tail->owner_next = subscription;
    else
        self->subscriptions = subscription;
    self->subscriptions_tail = subscription;
    self->open_jobs++;
    return 0;
}

static rill_subscription_t *find_job(rill_stream_t *self, const char *job_id)
{
    for (rill_subscription_t *s = self->subscriptions; s != NULL; s = s->owner_next) {
        if (s->subject->topic_length == 33 && memcmp(s->subject->topic + 1, job_id, 32) == 0)
            return s;
    }
    return NULL;
}

int rill_stream_replace_job(rill_stream_t *self, const char *old_id, const char *new_id)
{
    rill_subscription_t *previous = NULL;
    if (strlen(new_id) != 32)
        return -1;
    for (rill_subscription_t *s = self->subscriptions; s != NULL; previous = s, s = s->owner_next) {
        if (s->subject->topic_length == 33 && memcmp(s->subject->topic + 1, old_id, 32) == 0) {
            /* Subscribe the new one first so a shared subject never drops;
             * two jobs joined into one are followed once. */
            if (find_job(self, new_id) == NULL && rill_stream_add_job(self, new_id) != 0)
                return -1;
            rill_subscription_t *next = s->owner_next;
            if (previous != NULL)
                previous->owner_next = next;
            else
                self->subscriptions = next;
            if (self->subscriptions_tail == s)
                self->subscriptions_tail = previous;
            if (!s->ended && self->open_jobs > 0)
                self->open_jobs--;
            rill_subject_registry_remove(self->frontend->subjects, &s);
            return 0;
        }
    }
    return -1;
}

void rill_stream_start(rill_stream_t *self)
{
    if (self->stopped || self->started)
        return;
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
    if (self->frontend->shutting_down) {
        req->http1_is_persistent = 0;
        self->ending = 1;
    }
    self->started = 1;
    h2o_start_response(req, &self->generator);
    /* Send at once even when empty: HTTP/2 clients then see the headers. */
    flush_now(self, 1);
}

void rill_stream_abandon(rill_stream_t *self)
{
    stream_release(self);
    if (h2o_linklist_is_linked(&self->link))
        h2o_linklist_unlink(&self->link);
}

static void on_heartbeat(h2o_timeout_entry_t *entry)
{
    rill_stream_t *self = (rill_stream_t *)((char *)entry - offsetof(rill_stream_t, heartbeat));
    if (self->stopped || self->final_sent || !self->started)
        return;
    if (self->pending.count == 0 && !self->sending) {
        if (self->format == RILL_STREAM_SSE)
            queue_push(&self->pending, NULL, RILL_HEARTBEAT_SSE, sizeof(RILL_HEARTBEAT_SSE) - 1);
        else
            queue_push(&self->pending, NULL, RILL_HEARTBEAT_NDJSON,
                       sizeof(RILL_HEARTBEAT_NDJSON) - 1);
    }
    arm_heartbeat(self);
    flush(self);
}

void rill_streams_on_event(rill_frontend_t *frontend, const rill_event_t *event)
{
    frontend->events_received++;
    rill_subject_t *subject = rill_subject_registry_find(
        frontend->subjects, (const char *)event->topic.data, event->topic.size);
    if (subject == NULL)
        return; /* a late event for a subject nobody here wants any more */
    int is_topic = event->subject_kind == RILL_SUBJECT_TOPIC;
    const char *name = (const char *)event->subject.data;
    size_t name_length = event->subject.size;
    const char *type = rill_event_type_name(event->type);
    int ends = event->type == RILL_EVENT_DONE || event->type == RILL_EVENT_ERROR;
    rill_chunk_t *line = NULL; /* formatted once, on first need */
    for (rill_subscription_t *s = subject->head; s != NULL;) {
        rill_subscription_t *next = s->next;
        rill_stream_t *stream = s->owner;
        if (s->ended || stream->stopped || stream->ending || stream->final_sent) {
            s = next;
            continue;
        }
        uint64_t from = 0, to = 0;
        rill_accept_t accept = rill_subscription_accept(s, event->seq, &from, &to);
        if (accept == RILL_ACCEPT_DUPLICATE) {
            rill_log_debug(stream->who, "duplicate seq %llu on %s dropped",
                           (unsigned long long)event->seq, subject->topic);
            s = next;
            continue;
        }
        if (accept == RILL_ACCEPT_GAP) {
            rill_log_warn(stream->who, "gap on %s: seqs %llu..%llu missing", subject->topic,
                          (unsigned long long)from, (unsigned long long)to);
            rill_chunk_t *gap = rill_event_format_gap(is_topic, name, name_length, from, to);
            if (gap == NULL) {
                overflow(stream);
                s = next;
                continue;
            }
            enqueue_event(stream, s, to, "gap", gap, 1);
        }
        if (line == NULL)
            line = rill_event_format_line(is_topic, name, name_length, event->seq, type,
                                          (const char *)event->data.data, event->data.size);
        if (line == NULL) {
            overflow(stream);
        } else if (!stream->ending) {
            enqueue_event(stream, s, event->seq, type, line, 0);
            rill_log_debug(stream->who, "%s %s seq %llu queued", subject->topic, type,
                           (unsigned long long)event->seq);
        }
        if (ends && !is_topic)
            job_ended(stream, s);
        mark_dirty(stream);
        s = next;
    }
    rill_chunk_unref(&line);
}

void rill_streams_flush(rill_frontend_t *frontend)
{
    while (!h2o_linklist_is_empty(&frontend->dirty_streams)) {
        rill_stream_t *stream =
            H2O_STRUCT_FROM_MEMBER(rill_stream_t, dirty_link, frontend->dirty_streams.next);
        h2o_linklist_unlink(&stream->dirty_link);
        flush(stream);
    }
}

void rill_streams_broker_restarted(rill_frontend_t *frontend)
{
    for (h2o_linklist_t *node = frontend->streams.next; node != &frontend->streams;
         node = node->next) {
        rill_stream_t *stream = H2O_STRUCT_FROM_MEMBER(rill_stream_t, link, node);
        if (stream->stopped || stream->final_sent || stream->ending)
            continue;
        for (rill_subscription_t *s = stream->subscriptions; s != NULL; s = s->owner_next) {
            if (s->ended)
                continue;
            const rill_subject_t *subject = s->subject;
            uint64_t seq = s->next_seq++;
            rill_chunk_t *error = rill_event_format_error(
                0, subject->topic + 1, subject->topic_length - 1, seq, "broker_restarted",
                "the broker restarted and lost this job");
            if (error == NULL) {
                overflow(stream);
                break;
            }
            enqueue_event(stream, s, seq, "error", error, 1);
            job_ended(stream, s);
        }
        mark_dirty(stream);
    }
    rill_streams_flush(frontend);
}

void rill_streams_end_all(rill_frontend_t *frontend)
{
    for (h2o_linklist_t *node = frontend->streams.next; node != &frontend->streams;
         node = node->next) {
        rill_stream_t *stream = H2O_STRUCT_FROM_MEMBER(rill_stream_t, link, node);
        if (stream->stopped || stream->final_sent)
            continue;
        stream->req->http1_is_persistent = 0;
        stream->ending = 1;
        mark_dirty(stream);
    }
    rill_streams_flush(frontend);
}

size_t rill_streams_count(rill_frontend_t *frontend)
{
    size_t count = 0;
    for (h2o_linklist_t *node = frontend->streams.next; node != &frontend->streams;
         node = node->next)
        count++;
    return count;
}
