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
#include "cursor.h"
#include "http_reply.h"
#include "rill_id.h"
#include "rill_log.h"

#include <jansson.h>
#include <stdio.h>
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
    uint32_t topics;    /* topic subscriptions: a stream naming one never ends by itself */
    uint32_t opening;   /* GET /v1/stream: opening FETCHes not answered yet */
    int open_status;    /* the first opening FETCH failure (HTTP status), 0 = none */
    char open_code[24];
    char open_message[96];
    char token[1 + RILL_ID_TEXT_SIZE]; /* "s<token>" while subscribed, else "" */
    queue_t pending;
    queue_t in_flight;
    size_t pending_bytes;
    size_t in_flight_bytes;  /* handed to h2o, not yet proceeded */
    uint64_t over_soft_since; /* loop ms when unsent bytes went over the soft limit; 0 = under */
    unsigned dropping : 1;    /* slow client, action gap: events are dropped until h2o is ready */
    rill_stream_format_t format;
    uint64_t serial; /* names the stream in debug lines */
    unsigned started : 1;   /* h2o_start_response done */
    unsigned sending : 1;   /* an h2o_send is in flight */
    unsigned in_send : 1;   /* inside our own h2o_send call */
    unsigned ending : 1;    /* send FINAL once the queue is out */
    unsigned final_sent : 1;
    unsigned stopped : 1;   /* client gone, or abandoned */
    unsigned disposed : 1;
    unsigned flush_known : 1; /* flush_ms was set by a job */
    uint64_t flush_ms;        /* write window (pipelines' flush_ms); 0 = at once */
    uint64_t flush_due_ms;    /* loop ms the held window closes, while delayed */
    h2o_linklist_t delayed_link; /* frontend->delayed_streams */
    uint32_t joining;         /* FETCHes of joined jobs in flight (token held) */
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

/* Queues bytes on the stream's pending queue and counts them: the one place
 * pending_bytes grows, so the slow-client limits see every byte. */
static int stream_push(rill_stream_t *self, rill_chunk_t *chunk, const void *base, size_t length)
{
    if (queue_push(&self->pending, chunk, base, length) != 0)
        return -1;
    self->pending_bytes += length;
    return 0;
}

/* An idle stream's heartbeat: a comment line on SSE, a line on NDJSON. */
static void queue_heartbeat(rill_stream_t *self)
{
    if (self->format == RILL_STREAM_SSE)
        (void)stream_push(self, NULL, RILL_HEARTBEAT_SSE, sizeof(RILL_HEARTBEAT_SSE) - 1);
    else
        (void)stream_push(self, NULL, RILL_HEARTBEAT_NDJSON, sizeof(RILL_HEARTBEAT_NDJSON) - 1);
}

static void fetch_free(void *fetch);
static void emit_dropped_gaps(rill_stream_t *self);

static void unsubscribe_token(rill_stream_t *self)
{
    if (self->token[0] != '\0') {
        if (self->frontend->broker != NULL)
            rill_broker_link_unsubscribe(self->frontend->broker, self->token, strlen(self->token));
        self->token[0] = '\0';
    }
}

/* Drops one subscription of the stream, with its replay if one is in flight. */
static void subscription_forget(rill_stream_t *self, rill_subscription_t **subscription)
{
    if (*subscription != NULL && (*subscription)->fetch != NULL)
        fetch_free((*subscription)->fetch);
    rill_subject_registry_remove(self->frontend->subjects, subscription);
}

static void release_subscriptions(rill_stream_t *self)
{
    unsubscribe_token(self);
    rill_subscription_t *subscription = self->subscriptions;
    while (subscription != NULL) {
        rill_subscription_t *next = subscription->owner_next;
        subscription_forget(self, &subscription);
        subscription = next;
    }
    self->subscriptions = NULL;
    self->subscriptions_tail = NULL;
    self->open_jobs = 0;
    self->topics = 0;
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
    if (h2o_linklist_is_linked(&self->delayed_link))
        h2o_linklist_unlink(&self->delayed_link);
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
    if (self->dropping)
        emit_dropped_gaps(self); /* h2o takes bytes again: say what was lost */
    if (self->pending.count == 0 && !self->ending && !force)
        return;
    queue_t swap = self->in_flight;
    self->in_flight = self->pending;
    self->pending = swap;
    self->in_flight_bytes = self->pending_bytes;
    self->pending_bytes = 0;
    for (rill_subscription_t *s = self->subscriptions; s != NULL; s = s->owner_next)
        s->queued_from = 0;
    h2o_send_state_t state = H2O_SEND_STATE_IN_PROGRESS;
    if (self->ending) {
        state = H2O_SEND_STATE_FINAL;
        self->final_sent = 1;
        /* Nothing more will be sent: let the subjects go now, so the broker
         * learns at once that this frontend stopped listening. */
        release_subscriptions(self);
    }
    arm_heartbeat(self);
    /* Delivery is counted, and latency observed, here and only here. */
    rill_frontend_metrics_sent(&self->frontend->metrics, self->in_flight.chunks,
                               self->in_flight.count, self->in_flight_bytes, self->who, self->serial);
    self->sending = 1;
    self->in_send = 1;
    h2o_send(self->req, self->in_flight.iov, self->in_flight.count, state);
    self->in_send = 0;
    /* proceed may have run inside h2o_send: send what it left queued. */
    if (!self->sending && !self->disposed)
        flush_now(self, 0);
}

/* Sends what is queued, or, with a flush_ms window, holds it until the
 * window that the first held bytes opened closes (the flush tick sends it).
 * An ending stream goes at once. No allocation: the stream is linked. */
static void flush(rill_stream_t *self)
{
    if (self->flush_ms > 0 && self->started && !self->ending && self->pending.count > 0) {
        if (h2o_linklist_is_linked(&self->delayed_link))
            return;
        rill_frontend_t *frontend = self->frontend;
        self->flush_due_ms = h2o_now(frontend->context.loop) + self->flush_ms;
        h2o_linklist_insert(&frontend->delayed_streams, &self->delayed_link);
        if (!h2o_timeout_is_linked(&frontend->flush_entry))
            h2o_timeout_link(frontend->context.loop, &frontend->flush_timeout, &frontend->flush_entry);
        return;
    }
    if (h2o_linklist_is_linked(&self->delayed_link))
        h2o_linklist_unlink(&self->delayed_link);
    flush_now(self, 0);
}

void rill_streams_on_flush_tick(h2o_timeout_entry_t *entry)
{
    rill_frontend_t *frontend = (rill_frontend_t *)((char *)entry - offsetof(rill_frontend_t, flush_entry));
    uint64_t now = h2o_now(frontend->context.loop);
    h2o_linklist_t *node = frontend->delayed_streams.next;
    while (node != &frontend->delayed_streams) {
        h2o_linklist_t *next = node->next;
        rill_stream_t *stream = H2O_STRUCT_FROM_MEMBER(rill_stream_t, delayed_link, node);
        if (stream->flush_due_ms <= now) {
            h2o_linklist_unlink(&stream->delayed_link);
            flush_now(stream, 0);
        }
        node = next;
    }
    if (!h2o_linklist_is_empty(&frontend->delayed_streams) && !h2o_timeout_is_linked(&frontend->flush_entry))
        h2o_timeout_link(frontend->context.loop, &frontend->flush_timeout, &frontend->flush_entry);
}

void rill_stream_note_flush_ms(rill_stream_t *self, uint64_t flush_ms)
{
    if (!self->flush_known || flush_ms < self->flush_ms)
        self->flush_ms = flush_ms;
    self->flush_known = 1;
}

static void on_proceed(h2o_generator_t *generator, h2o_req_t *req)
{
    (void)req;
    rill_stream_t *self = (rill_stream_t *)generator;
    self->sending = 0;
    self->in_flight_bytes = 0;
    if (self->pending_bytes <= self->frontend->config.slow_client_soft_bytes)
        self->over_soft_since = 0;
    queue_release(&self->in_flight);
    flush(self);
}

static void on_stop(h2o_generator_t *generator, h2o_req_t *req)
{
    (void)req;
    rill_stream_t *self = (rill_stream_t *)generator;
    if (self->final_sent)
        rill_log_debug(self->who, "stream %llu: client gone after the end",
                       (unsigned long long)self->serial);
    else
        rill_log_info(self->who, "stream %llu: client went away mid-stream (%u job(s) open)",
                      (unsigned long long)self->serial, self->open_jobs);
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

/* Ends the stream with an error line: it cannot be fed any more (its client
 * reads too slowly, or memory ran out). */
static void overflow(rill_stream_t *self)
{
    static const char line[] = "{\"event\":\"error\",\"data\":{\"code\":\"slow_client\","
                               "\"message\":\"the client reads too slowly; events were dropped\"}}\n";
    if (!self->ending)
        self->frontend->metrics.slow_client_drops++;
    queue_release(&self->pending);
    self->pending_bytes = 0;
    self->ending = 1;
    (void)stream_push(self, NULL, line, sizeof(line) - 1);
    /* Subscriptions go with the final send (flush), not here: fan-out may be
     * walking them right now. */
    mark_dirty(self);
}

/* The client fell behind past a limit. slow_client_action "close" ends the
 * stream with an error event. "gap" drops what is queued and every event
 * after it until h2o can take bytes again; then each subject gets one gap
 * event for what it lost (emit_dropped_gaps), and the stream goes on. */
static void slow_client(rill_stream_t *self, const char *which)
{
    const rill_config_t *config = &self->frontend->config;
    rill_log_warn(self->who, "stream %llu: slow client, %zu bytes unsent (over the %s limit): %s",
                  (unsigned long long)self->serial, self->pending_bytes + self->in_flight_bytes, which,
                  config->slow_client_action == RILL_SLOW_CLIENT_GAP ? "dropping events"
                                                                      : "stream closed");
    if (config->slow_client_action != RILL_SLOW_CLIENT_GAP) {
        overflow(self);
        return;
    }
    self->frontend->metrics.slow_client_drops++;
    queue_release(&self->pending);
    self->pending_bytes = 0;
    self->over_soft_since = 0;
    self->dropping = 1;
    for (rill_subscription_t *s = self->subscriptions; s != NULL; s = s->owner_next) {
        if (s->dropped_from == 0)
            s->dropped_from = s->queued_from;
        s->queued_from = 0;
    }
}

static void emit_gap(rill_stream_t *self, rill_subscription_t *s, uint64_t from, uint64_t to);

static void emit_dropped_gaps(rill_stream_t *self)
{
    self->dropping = 0;
    for (rill_subscription_t *s = self->subscriptions; s != NULL; s = s->owner_next) {
        uint64_t from = s->dropped_from;
        s->dropped_from = 0;
        if (from != 0 && from < s->next_seq)
            emit_gap(self, s, from, s->next_seq - 1);
    }
}

/* Queues chunk (a new reference is taken unless take). */
static void enqueue_chunk(rill_stream_t *self, rill_chunk_t *chunk, int take)
{
    if (!take)
        rill_chunk_ref(chunk);
    size_t length = chunk->length;
    if (stream_push(self, chunk, chunk->bytes, length) != 0) {
        overflow(self);
        return;
    }
    const rill_config_t *config = &self->frontend->config;
    size_t unsent = self->pending_bytes + self->in_flight_bytes;
    if (unsent <= config->slow_client_soft_bytes || self->ending || self->dropping)
        return;
    if (unsent > config->slow_client_hard_bytes) {
        slow_client(self, "hard");
        return;
    }
    uint64_t now = h2o_now(self->frontend->context.loop);
    if (self->over_soft_since == 0)
        self->over_soft_since = now;
    else if (now - self->over_soft_since >= config->slow_client_soft_ms)
        slow_client(self, "soft");
}

/* A subject's name without its prefix ("j", "t") and suffix ("/"). */
static const char *subject_name(const rill_subject_t *subject, size_t *length, int *is_topic)
{
    *is_topic = subject->topic[0] == 't';
    *length = subject->topic_length - (*is_topic ? 2 : 1);
    return subject->topic + 1;
}

static int fetch_is_live_only(void *fetch);

/* The cursor (cursor.h) with current's last seq = seq, into buffer when
 * it fits (capacity bytes), else into a malloc'd one. NULL on ENOMEM. A
 * topic still looking for its start (no since) is left out: resuming
 * without it starts it live again, as the first time. */
static char *build_cursor(rill_stream_t *self, rill_subscription_t *current, uint64_t seq,
                          char *buffer, size_t capacity, size_t *length)
{
    size_t size = 1;
    for (rill_subscription_t *s = self->subscriptions; s != NULL; s = s->owner_next)
        size += s->subject->topic_length + 22; /* ",", name, ":", 20 digits, NUL */
    char *cursor = size <= capacity ? buffer : malloc(size);
    if (cursor == NULL)
        return NULL;
    size_t at = 0;
    cursor[0] = '\0';
    for (rill_subscription_t *s = self->subscriptions; s != NULL; s = s->owner_next) {
        if (s != current && s->fetch != NULL && fetch_is_live_only(s->fetch))
            continue;
        int is_topic;
        size_t name_length;
        const char *name = subject_name(s->subject, &name_length, &is_topic);
        at = rill_cursor_append(cursor, at, name, name_length, s == current ? seq : s->next_seq - 1);
    }
    *length = at;
    return cursor;
}

/* Queues one event line for a subscription, in the stream's format. */
static void enqueue_event(rill_stream_t *self, rill_subscription_t *subscription, uint64_t seq,
                          const char *type, rill_chunk_t *line, int take)
{
    if (self->dropping) {
        if (subscription->dropped_from == 0)
            subscription->dropped_from = seq;
        if (take)
            rill_chunk_unref(&line);
        return;
    }
    if (subscription->queued_from == 0)
        subscription->queued_from = seq;
    if (self->format == RILL_STREAM_SSE) {
        size_t cursor_length = 0;
        char buffer[1024];
        char *cursor = build_cursor(self, subscription, seq, buffer, sizeof(buffer), &cursor_length);
        rill_chunk_t *head =
            cursor != NULL ? rill_event_format_sse_head(type, cursor, cursor_length) : NULL;
        if (cursor != buffer)
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
        if (stream_push(self, NULL, RILL_SSE_TAIL, sizeof(RILL_SSE_TAIL) - 1) != 0)
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
    if (self->open_jobs == 0 && self->topics == 0)
        self->ending = 1;
}

/* ---- replay, resume and repair (FETCH) --------------------------------- */

/* A live event held while its subscription's FETCH is in flight. */
typedef struct {
    uint64_t seq;
    rill_event_type_t type;
    rill_chunk_t *line; /* one reference */
} held_event_t;

/* One FETCH in flight for a subscription: the replay that opens a subject
 * of GET /v1/stream, or the repair of a seq jump on a live one. The
 * subject's live events are held meanwhile and processed once the last
 * REPLAY is in, so replayed and live events meet with no duplicate and no
 * gap (next_seq decides). */
typedef struct {
    rill_stream_t *stream;
    rill_subscription_t *subscription;
    rill_broker_call_t *call;
    uint64_t after; /* the resume point asked for */
    held_event_t *held;
    uint32_t held_count;
    uint32_t held_capacity;
    size_t held_bytes; /* counted against the slow-client hard limit */
    unsigned opening : 1;   /* counts in stream->opening */
    unsigned live_only : 1; /* a topic without since: starts after its last message */
    unsigned joining : 1;   /* a joined job's replay: counts in stream->joining */
} fetch_t;

/* "After" for a topic that starts live: the largest seq a frame carries,
 * so nothing is replayed and the REPLAY header still tells the last seq. */
#define FETCH_AFTER_LATEST UINT64_C(9999999999999999999)

static int fetch_is_live_only(void *fetch)
{
    return ((fetch_t *)fetch)->live_only;
}

static void held_release(held_event_t *held, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++)
        rill_chunk_unref(&held[i].line);
    free(held);
}

/* Frees a fetch, its call and its held events; the subscription forgets it. */
static void fetch_free(void *data)
{
    fetch_t *fetch = data;
    if (fetch == NULL)
        return;
    rill_broker_link_cancel(fetch->stream->frontend->broker, &fetch->call);
    held_release(fetch->held, fetch->held_count);
    if (fetch->subscription->fetch == fetch)
        fetch->subscription->fetch = NULL;
    free(fetch);
}

static fetch_t *fetch_new(rill_stream_t *self, rill_subscription_t *subscription, uint64_t after)
{
    fetch_t *fetch = calloc(1, sizeof(*fetch));
    if (fetch == NULL)
        return NULL;
    fetch->stream = self;
    fetch->subscription = subscription;
    fetch->after = after;
    subscription->fetch = fetch;
    return fetch;
}

/* Holds a live event while the fetch is in flight. -1 on ENOMEM, or when
 * what is held would pass the slow-client hard limit: live events held for
 * a replay are unsent bytes of the stream like any other (the caller then
 * ends the stream as a slow client). */
static int held_push(fetch_t *fetch, uint64_t seq, rill_event_type_t type, rill_chunk_t *line)
{
    if (fetch->held_bytes + line->length > fetch->stream->frontend->config.slow_client_hard_bytes)
        return -1;
    if (fetch->held_count == fetch->held_capacity) {
        uint32_t capacity = fetch->held_capacity == 0 ? 8 : fetch->held_capacity * 2;
        held_event_t *held = realloc(fetch->held, capacity * sizeof(*held));
        if (held == NULL)
            return -1;
        fetch->held = held;
        fetch->held_capacity = capacity;
    }
    held_event_t *slot = &fetch->held[fetch->held_count++];
    slot->seq = seq;
    slot->type = type;
    slot->line = rill_chunk_ref(line);
    fetch->held_bytes += line->length;
    return 0;
}

static void on_fetch_reply(void *owner, rill_call_outcome_t outcome, const rill_message_t *message);

/* Sends the fetch's FETCH (token "" when the subscription is active). */
static int fetch_send(fetch_t *fetch, const char *token)
{
    rill_subscription_t *s = fetch->subscription;
    char after[24];
    rill_frame_t arguments[3] = {
        rill_frame_from_string(token),
        {(const uint8_t *)s->subject->topic, s->subject->topic_length},
        {(const uint8_t *)after, rill_u64_to_text(fetch->after, after)},
    };
    fetch->call = rill_broker_link_call(fetch->stream->frontend->broker, RILL_COMMAND_FETCH,
                                        arguments, 3, on_fetch_reply, fetch);
    return fetch->call != NULL ? 0 : -1;
}

/* A gap event for seqs from..to of s (docs/API.md: never a silent loss). */
static void emit_gap(rill_stream_t *self, rill_subscription_t *s, uint64_t from, uint64_t to)
{
    int is_topic;
    size_t length;
    const char *name = subject_name(s->subject, &length, &is_topic);
    rill_log_warn(self->who, "gap on %s: seqs %llu..%llu are gone", s->subject->topic,
                  (unsigned long long)from, (unsigned long long)to);
    s->next_seq = to + 1;
    rill_chunk_t *gap = rill_event_format_gap(is_topic, name, length, from, to);
    if (gap == NULL) {
        overflow(self);
        return;
    }
    enqueue_event(self, s, to, "gap", gap, 1);
    mark_dirty(self);
}

/* A seq jumped ahead on a live subscription (the XPUB dropped something):
 * FETCH what is missing. 0, or -1 when no FETCH could be sent. */
static int start_repair(rill_stream_t *self, rill_subscription_t *s)
{
    if (self->frontend->shutting_down)
        return -1; /* no new call may outlive the broker link */
    fetch_t *fetch = fetch_new(self, s, s->next_seq - 1);
    if (fetch == NULL)
        return -1;
    if (fetch_send(fetch, "") != 0) {
        fetch_free(fetch);
        return -1;
    }
    rill_log_info(self->who, "%s: seq jump after %llu, fetching the missing events",
                  s->subject->topic, (unsigned long long)(s->next_seq - 1));
    return 0;
}

/* One event for subscription s: live from the SUB socket, or held during a
 * fetch. line is borrowed. With allow_repair a seq jump is fetched from the
 * broker's retention; without, it is reported as a gap at once. */
static void process_event(rill_stream_t *self, rill_subscription_t *s, uint64_t seq,
                          rill_event_type_t type, rill_chunk_t *line, int allow_repair)
{
    if (s->ended || self->stopped || self->ending || self->final_sent)
        return;
    if (s->fetch != NULL) {
        if (held_push(s->fetch, seq, type, line) != 0)
            overflow(self);
        return;
    }
    if (seq < s->next_seq) {
        rill_log_debug(self->who, "duplicate seq %llu on %s dropped", (unsigned long long)seq,
                       s->subject->topic);
        return;
    }
    if (seq > s->next_seq) {
        if (allow_repair && start_repair(self, s) == 0) {
            if (held_push(s->fetch, seq, type, line) != 0)
                overflow(self);
            return;
        }
        emit_gap(self, s, s->next_seq, seq - 1);
        if (self->ending)
            return;
    }
    s->next_seq = seq + 1;
    enqueue_event(self, s, seq, rill_event_type_name(type), line, 0);
    if (s->subject->topic[0] == 'j' && (type == RILL_EVENT_DONE || type == RILL_EVENT_ERROR))
        job_ended(self, s);
    mark_dirty(self);
}

/* One retained event of a REPLAY: formatted for this stream alone. */
static void replay_event(rill_stream_t *self, rill_subscription_t *s, rill_frame_t type_frame,
                         rill_frame_t seq_frame, rill_frame_t data)
{
    rill_event_type_t type;
    uint64_t seq;
    if (s->ended || self->stopped || self->ending ||
        rill_event_type_from_name((const char *)type_frame.data, type_frame.size, &type) != 0 ||
        rill_frame_to_u64(seq_frame, &seq) != 0 || seq < s->next_seq)
        return;
    if (seq > s->next_seq) {
        emit_gap(self, s, s->next_seq, seq - 1); /* retained from seq on only */
        if (self->ending)
            return;
    }
    int is_topic;
    size_t length;
    const char *name = subject_name(s->subject, &length, &is_topic);
    rill_chunk_t *line = rill_event_format_line(is_topic, name, length, seq,
                                                rill_event_type_name(type),
                                                (const char *)data.data, data.size);
    if (line == NULL) {
        overflow(self);
        return;
    }
    s->next_seq = seq + 1;
    enqueue_event(self, s, seq, rill_event_type_name(type), line, 1);
    if (!is_topic && (type == RILL_EVENT_DONE || type == RILL_EVENT_ERROR))
        job_ended(self, s);
    mark_dirty(self);
}

/* Every opening FETCH has answered: start the stream, or answer the error
 * (an unknown job makes the whole request 404). */
static void opening_done(rill_stream_t *self)
{
    if (self->opening > 0)
        self->opening--;
    if (self->opening > 0)
        return;
    unsubscribe_token(self);
    if (self->open_status != 0) {
        h2o_req_t *req = self->req;
        rill_log_info(self->who, "stream %llu refused: %d %s", (unsigned long long)self->serial,
                      self->open_status, self->open_message);
        rill_stream_abandon(self);
        rill_http_reply_error(req, self->open_status, self->open_code, self->open_message);
        return;
    }
    rill_log_info(self->who, "stream %llu: replayed, streaming (%u job(s), %u topic(s))",
                  (unsigned long long)self->serial, self->open_jobs, self->topics);
    rill_stream_start(self);
}

/* A joined job's replay is in: the barrier token goes with the last one. */
static void joining_done(rill_stream_t *self)
{
    if (self->joining > 0 && --self->joining == 0)
        unsubscribe_token(self);
}

/* Frees the fetch, then processes the live events held while it was in
 * flight, in order (repaired: 1 when the replay filled what they follow). */
static void fetch_release_held(fetch_t *fetch, int repaired)
{
    rill_stream_t *self = fetch->stream;
    rill_subscription_t *s = fetch->subscription;
    held_event_t *held = fetch->held;
    uint32_t held_count = fetch->held_count;
    fetch->held = NULL;
    fetch->held_count = 0;
    fetch->held_bytes = 0;
    fetch_free(fetch);
    for (uint32_t i = 0; i < held_count; i++)
        process_event(self, s, held[i].seq, held[i].type, held[i].line, repaired);
    held_release(held, held_count);
}

/* The last REPLAY is in: what was not retained is a gap, then the held
 * live events follow. The fetch is freed. */
static void fetch_finish(fetch_t *fetch, uint64_t last, int ended)
{
    rill_stream_t *self = fetch->stream;
    rill_subscription_t *s = fetch->subscription;
    int active = !s->ended && !self->stopped && !self->ending;
    if (active && s->next_seq > last + 1)
        s->next_seq = last + 1; /* a resume point past the end: from the end */
    if (active && fetch->live_only) {
        s->next_seq = last + 1;
    } else if (active) {
        /* Seqs up to last that were neither replayed nor held are gone. */
        uint64_t bound = last;
        for (uint32_t i = 0; i < fetch->held_count; i++) {
            if (fetch->held[i].seq >= s->next_seq) {
                if (fetch->held[i].seq - 1 < bound)
                    bound = fetch->held[i].seq - 1;
                break;
            }
        }
        if (bound >= s->next_seq)
            emit_gap(self, s, s->next_seq, bound);
    }
    if (active && ended && s->subject->topic[0] == 'j' && s->next_seq > last && !s->ended) {
        /* Resumed after the job's end: nothing new, and it is over. */
        job_ended(self, s);
        mark_dirty(self);
    }
    int opening = fetch->opening;
    int joining = fetch->joining;
    fetch_release_held(fetch, 1);
    if (opening)
        opening_done(self);
    if (joining)
        joining_done(self);
}

/* The FETCH failed. Opening: the request fails with status. Repair: the
 * held events go on, the jump reported as a gap. The fetch is freed. */
static void fetch_failed(fetch_t *fetch, int status, const char *code, const char *message)
{
    rill_stream_t *self = fetch->stream;
    rill_subscription_t *s = fetch->subscription;
    if (fetch->opening) {
        if (self->open_status == 0 || (status == 404 && self->open_status != 404)) {
            self->open_status = status;
            snprintf(self->open_code, sizeof(self->open_code), "%s", code);
            snprintf(self->open_message, sizeof(self->open_message), "%s", message);
        }
        fetch_free(fetch);
        opening_done(self);
        return;
    }
    rill_log_warn(self->who, "%s: repair failed (%s): reporting the gap", s->subject->topic,
                  message);
    int joining = fetch->joining;
    fetch_release_held(fetch, 0);
    if (joining)
        joining_done(self);
}

static void on_fetch_reply(void *owner, rill_call_outcome_t outcome, const rill_message_t *message)
{
    fetch_t *fetch = owner;
    rill_stream_t *self = fetch->stream;
    rill_frontend_t *frontend = self->frontend;
    if (outcome != RILL_CALL_MORE)
        fetch->call = NULL;
    if (outcome == RILL_CALL_TIMEOUT || outcome == RILL_CALL_SHUTDOWN) {
        if (outcome == RILL_CALL_TIMEOUT)
            fetch_failed(fetch, 504, "timeout", "the broker did not answer in time");
        else
            fetch_failed(fetch, 503, "unavailable", "the frontend is shutting down");
        rill_streams_flush(frontend);
        return;
    }
    if (message->command == RILL_COMMAND_ERROR) {
        char text[96];
        rill_frame_t code = message->arguments[1];
        if (rill_frame_equals(code, "not_found")) {
            int is_topic;
            size_t length;
            const char *name = subject_name(fetch->subscription->subject, &length, &is_topic);
            snprintf(text, sizeof(text), "no such job: %.*s", (int)length, name);
            fetch_failed(fetch, 404, "not_found", text);
        } else {
            snprintf(text, sizeof(text), "the broker refused the replay: %.*s",
                     (int)(code.size < 40 ? code.size : 40), (const char *)code.data);
            fetch_failed(fetch, 502, "bad_gateway", text);
        }
        rill_streams_flush(frontend);
        return;
    }
    json_error_t error;
    json_t *header = message->command == RILL_COMMAND_REPLAY
                         ? json_loadb((const char *)message->arguments[2].data,
                                      message->arguments[2].size, 0, &error)
                         : NULL;
    json_t *last = json_object_get(header, "last");
    if (!json_is_integer(last) || json_integer_value(last) < 0) {
        json_decref(header);
        if (outcome == RILL_CALL_MORE)
            rill_broker_link_cancel(frontend->broker, &fetch->call);
        fetch_failed(fetch, 502, "bad_gateway", "unexpected reply from the broker");
        rill_streams_flush(frontend);
        return;
    }
    uint64_t last_seq = (uint64_t)json_integer_value(last);
    int ended = json_is_true(json_object_get(header, "ended"));
    json_t *flush_ms = json_object_get(header, "flush_ms");
    if (fetch->subscription->subject->topic[0] == 'j' && json_is_integer(flush_ms) &&
        json_integer_value(flush_ms) >= 0)
        rill_stream_note_flush_ms(self, (uint64_t)json_integer_value(flush_ms));
    json_decref(header);
    rill_subscription_t *s = fetch->subscription;
    for (size_t i = 3; i + 2 < message->argument_count; i += 3)
        replay_event(self, s, message->arguments[i], message->arguments[i + 1],
                     message->arguments[i + 2]);
    if (outcome == RILL_CALL_REPLIED)
        fetch_finish(fetch, last_seq, ended);
    /* Last: a final send may release every subscription and fetch. */
    rill_streams_flush(frontend);
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
    self->serial = ++frontend->streams_opened;
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

int rill_stream_add_subject(rill_stream_t *self, int is_topic, const char *name, size_t length,
                            int has_since, uint64_t since)
{
    char topic[RILL_SUBJECT_TOPIC_MAX + 1];
    if (self->stopped || self->started || length == 0 || length > 128)
        return -1;
    topic[0] = is_topic ? 't' : 'j';
    memcpy(topic + 1, name, length);
    size_t topic_length = length + 1;
    if (is_topic)
        topic[topic_length++] = '/';
    for (rill_subscription_t *s = self->subscriptions; s != NULL; s = s->owner_next) {
        if (s->subject->topic_length == topic_length &&
            memcmp(s->subject->topic, topic, topic_length) == 0)
            return 0; /* named twice: followed once */
    }
    rill_subscription_t *subscription =
        rill_subject_registry_add(self->frontend->subjects, topic, topic_length, self);
    if (subscription == NULL)
        return -1;
    uint64_t after = has_since ? since : is_topic ? FETCH_AFTER_LATEST : 0;
    fetch_t *fetch = fetch_new(self, subscription, after);
    if (fetch == NULL) {
        rill_subject_registry_remove(self->frontend->subjects, &subscription);
        return -1;
    }
    fetch->opening = 1;
    fetch->live_only = is_topic && !has_since;
    subscription->next_seq = has_since ? since + 1 : 1;
    if (self->subscriptions_tail != NULL)
        self->subscriptions_tail->owner_next = subscription;
    else
        self->subscriptions = subscription;
    self->subscriptions_tail = subscription;
    if (is_topic)
        self->topics++;
    else
        self->open_jobs++;
    return 0;
}

/* A fresh barrier token "s<id>", subscribed after the stream's subjects
 * (PROTOCOL.md, "The barrier"); unsubscribe_token releases it. */
static int subscribe_token(rill_stream_t *self)
{
    char token[RILL_ID_TEXT_SIZE];
    if (rill_id_generate(token) != 0)
        return -1;
    self->token[0] = 's';
    memcpy(self->token + 1, token, RILL_ID_TEXT_SIZE);
    if (rill_broker_link_subscribe(self->frontend->broker, self->token, strlen(self->token)) != 0) {
        self->token[0] = '\0';
        return -1;
    }
    return 0;
}

int rill_stream_open(rill_stream_t *self)
{
    if (self->stopped || self->subscriptions == NULL)
        return -1;
    /* Subjects first (rill_stream_add_subject), then the barrier token, then
     * the FETCHes: PROTOCOL.md, "The barrier". */
    if (subscribe_token(self) != 0)
        return -1;
    /* Topics that start live first: the broker answers in order, so their
     * positions are known before any replayed event needs a cursor. */
    for (int pass = 0; pass < 2; pass++) {
        for (rill_subscription_t *s = self->subscriptions; s != NULL; s = s->owner_next) {
            fetch_t *fetch = s->fetch;
            if (fetch == NULL || !fetch->opening || fetch->live_only != (pass == 0))
                continue;
            if (fetch_send(fetch, self->token + 1) != 0)
                return -1; /* the caller abandons the stream: calls sent are cancelled */
            self->opening++;
        }
    }
    rill_log_debug(self->who, "stream %llu: %u FETCH(es) sent", (unsigned long long)self->serial,
                   self->opening);
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
            if (find_job(self, new_id) == NULL) {
                if (rill_stream_add_job(self, new_id) != 0)
                    return -1;
                /* Its events so far come by FETCH (rill_stream_fetch_joined). */
                rill_subscription_t *joined = self->subscriptions_tail;
                fetch_t *fetch = fetch_new(self, joined, 0);
                if (fetch == NULL)
                    return -1;
                fetch->joining = 1;
                joined->next_seq = 1;
            }
            rill_subscription_t *next = s->owner_next;
            if (previous != NULL)
                previous->owner_next = next;
            else
                self->subscriptions = next;
            if (self->subscriptions_tail == s)
                self->subscriptions_tail = previous;
            if (!s->ended && self->open_jobs > 0)
                self->open_jobs--;
            subscription_forget(self, &s);
            return 0;
        }
    }
    return -1;
}

int rill_stream_fetch_joined(rill_stream_t *self)
{
    uint32_t waiting = 0;
    for (rill_subscription_t *s = self->subscriptions; s != NULL; s = s->owner_next)
        waiting += s->fetch != NULL && ((fetch_t *)s->fetch)->joining && ((fetch_t *)s->fetch)->call == NULL;
    if (waiting == 0)
        return 0;
    if (self->stopped || self->token[0] != '\0')
        return -1;
    /* Subjects are subscribed; now the token, then the FETCHes. */
    if (subscribe_token(self) != 0)
        return -1;
    for (rill_subscription_t *s = self->subscriptions; s != NULL; s = s->owner_next) {
        fetch_t *fetch = s->fetch;
        if (fetch == NULL || !fetch->joining || fetch->call != NULL)
            continue;
        if (fetch_send(fetch, self->token + 1) != 0) {
            fetch->joining = 0;
            fetch_release_held(fetch, 0);
            continue;
        }
        self->joining++;
    }
    if (self->joining == 0)
        unsubscribe_token(self);
    return 0;
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
    /* h2o puts the headers on the wire with the first body byte only (seen
     * with HTTP/1.1 and HTTP/2 alike): a stream with nothing to say yet
     * starts with a heartbeat, so its client knows at once it is open. */
    if (self->pending.count == 0 && !self->ending)
        queue_heartbeat(self);
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
    if (self->pending.count == 0 && !self->sending)
        queue_heartbeat(self);
    arm_heartbeat(self);
    flush(self);
}

/* The "received" hop line (--log debug). Its who is the client of the
 * subject's oldest local stream: for a job submitted here, its submitter. */
static void log_received(rill_subject_t *subject, const rill_event_t *event)
{
    const char *who = NULL;
    for (rill_subscription_t *s = subject != NULL ? subject->head : NULL; s != NULL; s = s->next)
        who = ((rill_stream_t *)s->owner)->who;
    rill_log_debug(who, "hop: %s %.*s %s seq %llu received from broker%s",
                   event->subject_kind == RILL_SUBJECT_TOPIC ? "topic" : "job",
                   (int)event->subject.size, (const char *)event->subject.data,
                   rill_event_type_name(event->type), (unsigned long long)event->seq,
                   subject == NULL ? " (no local stream wants it)" : "");
}

/* The broker says the subject's last seq is last_seq (PROTOCOL.md, sync):
 * a subscription that has not seen it lost the subject's last events to a
 * drop, with no later event to show the jump. Fetch them, as for a jump. */
static void streams_on_sync(rill_subject_t *subject, uint64_t last_seq)
{
    for (rill_subscription_t *s = subject->head; s != NULL; s = s->next) {
        rill_stream_t *stream = s->owner;
        if (s->ended || s->fetch != NULL || !stream->started || stream->stopped || stream->ending ||
            stream->final_sent || last_seq < s->next_seq)
            continue;
        if (start_repair(stream, s) != 0)
            emit_gap(stream, s, s->next_seq, last_seq);
        mark_dirty(stream);
    }
}

void rill_streams_on_event(rill_frontend_t *frontend, const rill_event_t *event)
{
    frontend->events_received++;
    rill_subject_t *subject = rill_subject_registry_find(
        frontend->subjects, (const char *)event->topic.data, event->topic.size);
    if (rill_log_enabled(RILL_LOG_DEBUG))
        log_received(subject, event);
    if (subject == NULL)
        return; /* a late event for a subject nobody here wants any more */
    if (event->type == RILL_EVENT_SYNC) {
        streams_on_sync(subject, event->seq);
        return;
    }
    int is_topic = event->subject_kind == RILL_SUBJECT_TOPIC;
    const char *name = (const char *)event->subject.data;
    size_t name_length = event->subject.size;
    const char *type = rill_event_type_name(event->type);
    rill_chunk_t *line = NULL; /* formatted once, on first need */
    for (rill_subscription_t *s = subject->head; s != NULL;) {
        rill_subscription_t *next = s->next;
        rill_stream_t *stream = s->owner;
        if (s->ended || stream->stopped || stream->ending || stream->final_sent) {
            s = next;
            continue;
        }
        if (line == NULL) {
            line = rill_event_format_line(is_topic, name, name_length, event->seq, type,
                                          (const char *)event->data.data, event->data.size);
            if (line != NULL)
                line->accepted_ns = event->accepted_ns; /* latency: frontend/metrics.h */
        }
        if (line == NULL) {
            overflow(stream);
            mark_dirty(stream);
        } else {
            /* Duplicates dropped, a seq jump repaired (FETCH), held while
             * the subscription replays: see process_event. */
            process_event(stream, s, event->seq, event->type, line, 1);
        }
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
            if (subject->topic[0] == 't') {
                /* What the old broker published after next_seq - 1 is lost,
                 * how much is unknown; the new one numbers from 1 again. */
                char text[96];
                int text_length =
                    snprintf(text, sizeof(text), "{\"from\":%llu,\"to\":null,\"reason\":\"%s\"}",
                             (unsigned long long)s->next_seq, "broker_restarted");
                rill_chunk_t *gap = rill_event_format_line(1, subject->topic + 1,
                                                           subject->topic_length - 2, 0, "gap",
                                                           text, (size_t)text_length);
                s->next_seq = 1;
                if (gap == NULL) {
                    overflow(stream);
                    break;
                }
                enqueue_event(stream, s, 0, "gap", gap, 1);
                continue;
            }
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
