/*
 * streams.c - see streams.h. Each walks every stream and leaves what it
 * means for one stream to stream.c; then everything queued is flushed.
 */
#include "streams.h"

#include "rill_log.h"
#include "ws_session.h"

#include <string.h>

void rill_streams_stop(rill_streams_t *self)
{
    self->shutting_down = 1;
    self->fetches.stopping = 1;
}

void rill_streams_forget_broker(rill_streams_t *self)
{
    self->broker = NULL;
    self->fetches.broker = NULL;
}

#define FOR_EACH_STREAM(self, stream)                                                       \
    for (h2o_linklist_t *node_ = (self)->all.next;                                          \
         node_ != &(self)->all && ((stream) = rill_stream_at(node_)) != NULL; node_ = node_->next)

void rill_streams_broker_restarted(rill_streams_t *self)
{
    /* A restarted broker knows no follower (rill/4): the followed jobs are
     * subscribed, before each stream FETCHes what it lacks. */
    size_t subscribed = rill_subject_registry_subscribe_followed(self->subjects);
    if (subscribed > 0)
        rill_log_info(NULL, "broker restarted: %zu followed job(s) subscribed instead", subscribed);
    rill_stream_t *stream;
    FOR_EACH_STREAM(self, stream)
        rill_stream_broker_changed(stream, 1);
    rill_streams_flush(self);
}

void rill_streams_broker_switched(rill_streams_t *self)
{
    size_t subscribed = rill_subject_registry_subscribe_followed_too(self->subjects);
    if (subscribed > 0)
        rill_log_info(NULL, "broker switched: %zu followed job(s) subscribed too", subscribed);
    rill_stream_t *stream;
    FOR_EACH_STREAM(self, stream)
        rill_stream_broker_changed(stream, 0);
    rill_streams_flush(self);
}

void rill_streams_notice(rill_streams_t *self, const char *type, const char *data)
{
    rill_chunk_t *line = rill_event_format_notice(type, data, strlen(data));
    if (line == NULL)
        return;
    rill_stream_t *stream;
    FOR_EACH_STREAM(self, stream)
        rill_stream_notice(stream, type, line);
    rill_chunk_unref(&line);
    rill_streams_flush(self);
}

void rill_streams_end_all(rill_streams_t *self)
{
    rill_stream_t *stream;
    FOR_EACH_STREAM(self, stream)
        rill_stream_close(stream);
    rill_streams_flush(self);
    rill_ws_sessions_close_all(&self->websockets); /* 1001, after their closing notices */
}

size_t rill_streams_count(rill_streams_t *self)
{
    size_t count = 0;
    for (h2o_linklist_t *node = self->all.next; node != &self->all; node = node->next)
        count++;
    return count;
}

size_t rill_streams_left(rill_streams_t *self)
{
    size_t count = rill_streams_count(self);
    /* A WebSocket counts until its socket is closed, subscribed or not. */
    for (h2o_linklist_t *node = self->websockets.next; node != &self->websockets; node = node->next)
        count++;
    return count;
}
