/*
 * topic_streams.c - a deleted topic leaves every stream; ?last=N. See
 * topic_streams.h.
 */
#include "topic_streams.h"

#include "event_format.h"
#include "rill_log.h"
#include "stream_state.h"
#include "topic_patterns.h"

#include <stdio.h>

void rill_stream_set_last_n(rill_stream_t *stream, uint64_t last_n)
{
    stream->last_n = last_n;
}

/* The topic_deleted notice {"topic":"<name>"}: no seq, not in the cursor. */
static rill_chunk_t *deleted_notice(const rill_event_t *event)
{
    char data[RILL_TOPIC_NAME_MAX + 16];
    int length = snprintf(data, sizeof(data), "{\"topic\":\"%.*s\"}", (int)event->subject.size,
                          (const char *)event->subject.data); /* a topic name needs no escaping */
    return rill_event_format_notice("topic_deleted", data, (size_t)length);
}

static void topic_deleted(rill_subject_t *subject, const rill_event_t *event)
{
    rill_chunk_t *notice = NULL;
    for (rill_subscription_t *s = subject != NULL ? subject->head : NULL; s != NULL;) {
        rill_subscription_t *next = s->next; /* the drop frees s */
        stream_subject_t *record = s->owner;
        rill_stream_t *stream = record->owner;
        s = next;
        const rill_fetch_t *fetch = record->sequencer.fetch;
        if (fetch != NULL && fetch->purpose == RILL_FETCH_OPENING)
            continue; /* its FETCH answers by itself: a resume past the end is a reset */
        if (stream->output.started && rill_output_queue_is_open(&stream->output)) {
            if (notice == NULL)
                notice = deleted_notice(event);
            if (notice != NULL) {
                rill_output_queue_push_notice(&stream->output, "topic_deleted", notice);
                rill_output_queue_mark_dirty(&stream->output);
            }
        }
        rill_log_info(stream->who, "stream %llu: topic %.*s deleted", (unsigned long long)stream->output.serial,
                      (int)event->subject.size, (const char *)event->subject.data);
        stream->streams->calls->topic_drop(stream, record);
    }
    rill_chunk_unref(&notice);
}

int rill_topic_streams_on_event(rill_streams_t *streams, const rill_event_t *event, rill_subject_t **subject)
{
    if (event->type == RILL_EVENT_DELETED) {
        topic_deleted(*subject, event);
        return 1;
    }
    if (rill_topic_patterns_on_event(streams, event))
        *subject = rill_subject_registry_find(streams->subjects, (const char *)event->topic.data,
                                              event->topic.size);
    return 0;
}
