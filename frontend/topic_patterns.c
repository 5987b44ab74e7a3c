/*
 * topic_patterns.c - wildcard topics in a stream. See topic_patterns.h.
 */
#include "topic_patterns.h"

#include "rill_alloc.h"
#include "rill_log.h"
#include "rill_topic_pattern.h"
#include "stream_state.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t seq;
    size_t length;
    char name[RILL_TOPIC_NAME_MAX + 1];
    char epoch[RILL_TOPIC_EPOCH_LENGTH + 1]; /* rill/6: the cursor's numbering; "" none */
} resume_point_t;

struct rill_topic_pattern {
    rill_stream_t *stream;
    rill_subscription_t *subscription; /* "t" + prefix in the registry; its owner is this pattern */
    rill_broker_call_t *call;          /* the TOPIC_MATCH in flight */
    int listed;                        /* the broker said which topics match */
    int resuming;                      /* the stream has a cursor */
    size_t resume_count;
    resume_point_t *resume;            /* the cursor's entries of matched topics */
    rill_topic_pattern_t *next;
    size_t subject_length;
    char subject[RILL_TOPIC_NAME_MAX + 2]; /* "t" + prefix ("talerts."), NUL-terminated */
};

static const char *prefix_of(const rill_topic_pattern_t *self, size_t *length)
{
    *length = self->subject_length - 1;
    return self->subject + 1;
}

int rill_stream_add_pattern(rill_stream_t *stream, const char *pattern, size_t length,
                            const rill_cursor_t *cursor)
{
    if (stream->output.stopped || stream->output.started || !rill_topic_pattern_is_valid(pattern, length))
        return -1;
    size_t prefix_length = length - 1;
    for (rill_topic_pattern_t *p = stream->patterns; p != NULL; p = p->next) {
        if (p->subject_length == prefix_length + 1 && memcmp(p->subject + 1, pattern, prefix_length) == 0)
            return 0; /* named twice: followed once */
    }
    rill_topic_pattern_t *self = rill_xcalloc(1, sizeof(*self));
    self->stream = stream;
    self->subject[0] = RILL_SUBJECT_TOPIC;
    memcpy(self->subject + 1, pattern, prefix_length);
    self->subject_length = prefix_length + 1;
    self->subject[self->subject_length] = '\0';
    self->subscription = rill_subject_registry_add(stream->streams->subjects, self->subject,
                                                   self->subject_length, self);
    if (self->subscription == NULL) {
        free(self);
        return -1;
    }
    self->resuming = cursor != NULL && cursor->count > 0;
    for (size_t i = 0; cursor != NULL && i < cursor->count; i++) {
        const rill_cursor_entry_t *entry = &cursor->entries[i];
        if (!rill_topic_pattern_matches(pattern, prefix_length, entry->name, entry->length) ||
            entry->length > RILL_TOPIC_NAME_MAX)
            continue;
        if (self->resume == NULL)
            self->resume = rill_xcalloc(cursor->count, sizeof(*self->resume));
        resume_point_t *point = &self->resume[self->resume_count++];
        point->seq = entry->seq;
        point->length = entry->length;
        memcpy(point->name, entry->name, entry->length);
        if (entry->epoch != NULL)
            memcpy(point->epoch, entry->epoch, RILL_TOPIC_EPOCH_LENGTH);
    }
    self->next = stream->patterns;
    stream->patterns = self;
    stream->topics++;
    return 0;
}

void rill_topic_patterns_release(rill_stream_t *stream)
{
    rill_streams_t *streams = stream->streams;
    while (stream->patterns != NULL) {
        rill_topic_pattern_t *self = stream->patterns;
        stream->patterns = self->next;
        if (self->call != NULL && streams->broker != NULL)
            rill_broker_link_cancel(streams->broker, &self->call);
        rill_subject_registry_remove(streams->subjects, &self->subscription);
        free(self->resume);
        free(self);
    }
}

static const resume_point_t *resume_find(const rill_topic_pattern_t *self, const char *name, size_t length)
{
    for (size_t i = 0; i < self->resume_count; i++) {
        if (self->resume[i].length == length && memcmp(self->resume[i].name, name, length) == 0)
            return &self->resume[i];
    }
    return NULL;
}

/* A record this file made before the broker's list came: its FETCH is
 * begun, not sent. */
static int is_waiting(const stream_subject_t *record)
{
    const rill_fetch_t *fetch = record->sequencer.fetch;
    return fetch != NULL && fetch->purpose == RILL_FETCH_REPAIR && record->call == NULL &&
           !h2o_timeout_is_linked((h2o_timeout_entry_t *)&record->retry);
}

/* Starts a matched topic: listed (it existed when the broker listed the
 * matches, its last seq then was last) from the cursor's seq, its last N
 * or its first retained message when resuming (a FETCH each), or else live
 * after last: no FETCH, since a FETCH's own "last" could already count a
 * message the client published after the stream answered; not listed
 * (created since) from seq 1, fetched. */
static void topic_start(rill_topic_pattern_t *self, stream_subject_t *record, int listed, uint64_t last,
                        const char *epoch)
{
    rill_sequencer_t *sequencer = &record->sequencer;
    size_t length;
    const char *name = rill_sequencer_name(sequencer, &length);
    const resume_point_t *point = listed ? resume_find(self, name, length) : NULL;
    int resumed = point != NULL;
    uint64_t since = resumed ? point->seq : 0;
    if (listed && !resumed && self->stream->last_n == 0 && !self->resuming) {
        if (epoch != NULL) /* rill/6: the list's; a cursor made of this stream names it */
            memcpy(sequencer->epoch, epoch, RILL_TOPIC_EPOCH_LENGTH);
        if (sequencer->fetch == NULL) {
            sequencer->next_seq = last + 1;
            return;
        }
        /* Live events came before the list: they go on from last + 1. */
        sequencer->fetch->live_only = 1;
        rill_sequencer_fetch_finish(sequencer, last, 0);
        return;
    }
    rill_fetch_t *fetch = sequencer->fetch;
    if (fetch == NULL)
        fetch = rill_sequencer_fetch_begin(sequencer, RILL_FETCH_REPAIR, 0);
    fetch->after = 0;
    sequencer->next_seq = 1;
    if (resumed) {
        fetch->after = since; /* since wins over last */
        sequencer->next_seq = since + 1;
        memcpy(sequencer->epoch, point->epoch, sizeof(sequencer->epoch)); /* rill/6 */
    } else if (listed && self->stream->last_n > 0) {
        fetch->last_n = self->stream->last_n;
    }
    if (rill_stream_subject_repair(record) != 0) /* none while the frontend drains */
        rill_sequencer_fetch_failed(sequencer, "the broker cannot be reached");
}

/* Follows each listed topic; the held records of unlisted ones start from 1. */
static void follow_listed(rill_topic_pattern_t *self, json_t *topics)
{
    rill_stream_t *stream = self->stream;
    size_t prefix_length, index;
    const char *prefix = prefix_of(self, &prefix_length);
    json_t *item;
    char subject[RILL_TOPIC_NAME_MAX + 3];
    json_array_foreach(topics, index, item) {
        const char *name = json_string_value(json_object_get(item, "topic"));
        json_t *last = json_object_get(item, "last");
        size_t length = name != NULL ? strlen(name) : 0;
        if (name == NULL || !json_is_integer(last) || json_integer_value(last) < 0 ||
            !rill_topic_name_is_valid(name, length) ||
            !rill_topic_pattern_matches(prefix, prefix_length, name, length))
            continue;
        subject[0] = RILL_SUBJECT_TOPIC;
        memcpy(subject + 1, name, length);
        subject[length + 1] = '/';
        stream_subject_t *record = rill_stream_find_subject(stream, subject, length + 2);
        if (record == NULL)
            record = stream->streams->calls->topic_add(stream, subject, length + 2);
        else if (!is_waiting(record))
            continue; /* named by the stream itself, or by another pattern */
        const char *epoch = json_string_value(json_object_get(item, "epoch")); /* rill/6 */
        if (epoch != NULL && !rill_topic_epoch_is_valid(epoch, strlen(epoch)))
            epoch = NULL;
        if (record != NULL)
            topic_start(self, record, 1, (uint64_t)json_integer_value(last), epoch);
    }
    for (stream_subject_t *record = stream->subjects; record != NULL; record = record->next) {
        size_t length;
        const char *name = rill_sequencer_name(&record->sequencer, &length);
        if (rill_sequencer_is_topic(&record->sequencer) && is_waiting(record) &&
            rill_topic_pattern_matches(prefix, prefix_length, name, length))
            topic_start(self, record, 0, 0, NULL);
    }
}

static void on_matched(void *owner, rill_call_outcome_t outcome, const rill_message_t *message,
                       const rill_replay_header_t *replay)
{
    (void)replay;
    rill_topic_pattern_t *self = owner;
    rill_stream_t *stream = self->stream;
    rill_streams_t *streams = stream->streams;
    self->call = NULL;
    json_t *answer = NULL, *topics = NULL;
    if (outcome == RILL_CALL_TIMEOUT) {
        rill_stream_opening_refused(stream, 504, "timeout", "the broker did not answer in time");
    } else if (outcome != RILL_CALL_REPLIED) {
        rill_stream_opening_refused(stream, 503, "unavailable", "the frontend is shutting down");
    } else if (message->command == RILL_COMMAND_TOPIC_MATCHED &&
               (answer = json_loadb((const char *)message->arguments[1].data, message->arguments[1].size, 0,
                                    NULL)) != NULL &&
               json_is_array(topics = json_object_get(answer, "topics"))) {
        self->listed = 1;
        follow_listed(self, topics);
        rill_log_debug(stream->who, "stream %llu: %s* matches %zu topic(s)",
                       (unsigned long long)stream->output.serial, self->subject + 1, json_array_size(topics));
    } else {
        rill_stream_opening_refused(stream, 502, "bad_gateway", "the broker could not list the matching topics");
    }
    json_decref(answer);
    streams->calls->opening_done(stream); /* last: the stream (self too) may be gone after it */
    rill_outputs_flush(&streams->outputs);
}

int rill_topic_patterns_open(rill_stream_t *stream)
{
    rill_broker_link_t *broker = stream->streams->broker;
    for (rill_topic_pattern_t *self = stream->patterns; self != NULL; self = self->next) {
        size_t prefix_length;
        const char *prefix = prefix_of(self, &prefix_length);
        /* rill/11: the stream's barrier token (rill_stream_open subscribed
         * it after the pattern), so the broker lists the matches once the
         * pattern's subscription reaches it: a message published after the
         * stream answered its client is not missed by the SUB socket. */
        const char *token = stream->token[0] != '\0' ? stream->token + 1 : "";
        rill_frame_t arguments[2] = {{(const uint8_t *)prefix, prefix_length},
                                     {(const uint8_t *)token, strlen(token)}};
        self->call = broker != NULL ? rill_broker_link_call(broker, RILL_COMMAND_TOPIC_MATCH, arguments, 2,
                                                            on_matched, self)
                                    : NULL;
        if (self->call == NULL)
            return -1;
        stream->opening++;
    }
    return 0;
}

int rill_topic_patterns_on_event(rill_streams_t *streams, const rill_event_t *event)
{
    if (event->type != RILL_EVENT_PART && event->type != RILL_EVENT_SYNC)
        return 0;
    const char *name = (const char *)event->subject.data;
    size_t length = event->subject.size;
    char key[RILL_TOPIC_NAME_MAX + 2];
    int added = 0, marked = 0;
    static uint64_t mark;
    key[0] = RILL_SUBJECT_TOPIC;
    /* Each dot with a byte after it ends a prefix a pattern may name. */
    for (size_t i = 0; i + 1 < length && i < RILL_TOPIC_NAME_MAX; i++) {
        key[i + 1] = name[i];
        if (name[i] != '.')
            continue;
        rill_subject_t *subject = rill_subject_registry_find(streams->subjects, key, i + 2);
        if (subject != NULL && !marked) {
            /* The streams that follow the topic already, marked once per
             * event: a check per pattern stream, not a search. */
            marked = 1;
            mark++;
            rill_subject_t *exact = rill_subject_registry_find(streams->subjects, (const char *)event->topic.data,
                                                               event->topic.size);
            for (rill_subscription_t *s = exact != NULL ? exact->head : NULL; s != NULL; s = s->next)
                ((rill_stream_t *)((stream_subject_t *)s->owner)->owner)->follows_mark = mark;
        }
        for (rill_subscription_t *s = subject != NULL ? subject->head : NULL; s != NULL; s = s->next) {
            rill_topic_pattern_t *self = s->owner;
            rill_stream_t *stream = self->stream;
            const char *topic = (const char *)event->topic.data;
            if (!rill_output_queue_is_open(&stream->output) || stream->follows_mark == mark)
                continue;
            stream_subject_t *record = streams->calls->topic_add(stream, topic, event->topic.size);
            if (record == NULL)
                continue;
            stream->follows_mark = mark; /* a second pattern of the stream that matches finds it */
            added = 1;
            rill_log_debug(stream->who, "stream %llu: now follows topic %.*s (%s*)",
                           (unsigned long long)stream->output.serial, (int)length, name, self->subject + 1);
            if (!self->listed)
                rill_sequencer_fetch_begin(&record->sequencer, RILL_FETCH_REPAIR, 0); /* held until listed */
            else if (event->type != RILL_EVENT_PART || event->seq != 1)
                topic_start(self, record, 0, 0, NULL);
            /* else a new topic's first message: it is delivered live */
        }
    }
    return added;
}
