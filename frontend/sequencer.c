/*
 * sequencer.c - see sequencer.h. Every path that advances next_seq runs
 * through rill_sequencer_accept and one of deliver_in_order / emit_gap, so
 * the live path, the replay path and the repair agree on what is next.
 */
#include "sequencer.h"

#include "event_format.h"
#include "rill_alloc.h"
#include "rill_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_open(rill_sequencer_t *self)
{
    return self->sink->is_open(self);
}

void rill_sequencer_init(rill_sequencer_t *self, const rill_sequencer_sink_t *sink,
                         const char *topic, size_t topic_length, const char *who,
                         const uint64_t *hold_limit)
{
    memset(self, 0, sizeof(*self));
    self->sink = sink;
    self->topic = topic;
    self->topic_length = topic_length;
    self->who = who;
    self->hold_limit = hold_limit;
    self->next_seq = 1;
}

static void held_release(rill_held_event_t *held, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++)
        rill_chunk_unref(&held[i].line);
    free(held);
}

static void fetch_free(rill_sequencer_t *self)
{
    rill_fetch_t *fetch = self->fetch;
    if (fetch == NULL)
        return;
    self->fetch = NULL;
    held_release(fetch->held, fetch->held_count);
    free(fetch);
}

void rill_sequencer_release(rill_sequencer_t *self)
{
    fetch_free(self);
}

int rill_sequencer_is_topic(const rill_sequencer_t *self)
{
    return self->topic[0] == RILL_SUBJECT_TOPIC;
}

const char *rill_sequencer_name(const rill_sequencer_t *self, size_t *length)
{
    *length = self->topic_length - (rill_sequencer_is_topic(self) ? 2 : 1);
    return self->topic + 1;
}

rill_accept_t rill_sequencer_accept(const rill_sequencer_t *self, uint64_t seq)
{
    if (seq < self->next_seq)
        return RILL_ACCEPT_DUPLICATE;
    return seq == self->next_seq ? RILL_ACCEPT_DELIVER : RILL_ACCEPT_GAP;
}

/* The job is over for the stream: its done or error went out. */
static void mark_ended(rill_sequencer_t *self)
{
    if (self->ended)
        return;
    self->ended = 1;
    self->sink->ended(self);
}

/* seq is next (rill_sequencer_accept said so, after any gap): out it goes. */
static void deliver_in_order(rill_sequencer_t *self, uint64_t seq, rill_event_type_t type,
                             rill_chunk_t *line)
{
    self->next_seq = seq + 1;
    self->sink->deliver(self, seq, type, line);
    if (!rill_sequencer_is_topic(self) && (type == RILL_EVENT_DONE || type == RILL_EVENT_ERROR))
        mark_ended(self);
}

void rill_sequencer_gap(rill_sequencer_t *self, uint64_t from, uint64_t to)
{
    size_t length;
    const char *name = rill_sequencer_name(self, &length);
    rill_log_warn(self->who, "gap on %s: seqs %llu..%llu are gone", self->topic,
                  (unsigned long long)from, (unsigned long long)to);
    self->next_seq = to + 1;
    rill_chunk_t *gap = rill_event_format_gap(rill_sequencer_is_topic(self), name, length, from, to);
    if (gap == NULL) {
        self->sink->overflow(self);
        return;
    }
    self->sink->deliver(self, to, RILL_EVENT_GAP, gap);
    rill_chunk_unref(&gap);
}

/* Holds a live event while the FETCH is in flight. Live events held for a
 * replay are unsent bytes of the stream like any other: past the hold
 * limit the stream ends as a slow client. */
static void hold(rill_sequencer_t *self, uint64_t seq, rill_event_type_t type, rill_chunk_t *line)
{
    rill_fetch_t *fetch = self->fetch;
    if (fetch->held_bytes + line->length > *self->hold_limit) {
        self->sink->overflow(self);
        return;
    }
    if (fetch->held_count == fetch->held_capacity) {
        fetch->held_capacity = fetch->held_capacity == 0 ? 8 : fetch->held_capacity * 2;
        fetch->held = rill_xrealloc(fetch->held, fetch->held_capacity * sizeof(*fetch->held));
    }
    rill_held_event_t *slot = &fetch->held[fetch->held_count++];
    slot->seq = seq;
    slot->type = type;
    slot->line = rill_chunk_ref(line);
    fetch->held_bytes += line->length;
}

void rill_sequencer_queued(rill_sequencer_t *self, uint64_t seq)
{
    if (self->queued_from == 0)
        self->queued_from = seq;
}

void rill_sequencer_sent(rill_sequencer_t *self)
{
    self->queued_from = 0;
}

void rill_sequencer_dropped(rill_sequencer_t *self, uint64_t seq)
{
    if (self->dropped_from == 0)
        self->dropped_from = seq;
}

void rill_sequencer_dropped_queued(rill_sequencer_t *self)
{
    rill_sequencer_dropped(self, self->queued_from);
    self->queued_from = 0;
}

void rill_sequencer_report_dropped(rill_sequencer_t *self)
{
    uint64_t from = self->dropped_from;
    self->dropped_from = 0;
    if (from != 0 && from < self->next_seq)
        rill_sequencer_gap(self, from, self->next_seq - 1);
}

rill_fetch_t *rill_sequencer_fetch_begin(rill_sequencer_t *self, rill_fetch_purpose_t purpose,
                                         uint64_t after)
{
    if (self->fetch != NULL)
        return NULL;
    rill_fetch_t *fetch = rill_xcalloc(1, sizeof(*fetch));
    fetch->purpose = purpose;
    fetch->after = after;
    self->fetch = fetch;
    return fetch;
}

/* A seq jumped ahead on a live subject: FETCH what is missing. 0, or -1
 * when no FETCH could be sent. */
static int start_repair(rill_sequencer_t *self)
{
    rill_fetch_t *fetch = rill_sequencer_fetch_begin(self, RILL_FETCH_REPAIR, self->next_seq - 1);
    if (fetch == NULL || self->sink->repair(self, fetch->after) != 0) {
        fetch_free(self);
        return -1;
    }
    rill_log_info(self->who, "%s: seq jump after %llu, fetching the missing events", self->topic,
                  (unsigned long long)(self->next_seq - 1));
    return 0;
}

/* One live event, from the SUB socket or held during a FETCH. With
 * allow_repair a seq jump is fetched from the broker's retention; without,
 * it is a gap at once. */
static void process(rill_sequencer_t *self, uint64_t seq, rill_event_type_t type,
                    rill_chunk_t *line, int allow_repair)
{
    if (self->ended || !is_open(self))
        return;
    if (self->fetch != NULL) {
        hold(self, seq, type, line);
        return;
    }
    switch (rill_sequencer_accept(self, seq)) {
    case RILL_ACCEPT_DUPLICATE:
        rill_log_debug(self->who, "duplicate seq %llu on %s dropped", (unsigned long long)seq,
                       self->topic);
        return;
    case RILL_ACCEPT_GAP:
        if (allow_repair && start_repair(self) == 0) {
            hold(self, seq, type, line);
            return;
        }
        rill_sequencer_gap(self, self->next_seq, seq - 1);
        if (!is_open(self))
            return;
        break;
    case RILL_ACCEPT_DELIVER:
        break;
    }
    deliver_in_order(self, seq, type, line);
}

void rill_sequencer_on_event(rill_sequencer_t *self, uint64_t seq, rill_event_type_t type,
                             rill_chunk_t *line)
{
    process(self, seq, type, line, 1);
}

void rill_sequencer_on_sync(rill_sequencer_t *self, uint64_t last_seq)
{
    if (self->ended || self->fetch != NULL || !is_open(self) || last_seq < self->next_seq)
        return;
    if (start_repair(self) != 0)
        rill_sequencer_gap(self, self->next_seq, last_seq);
}

void rill_sequencer_on_sync_data(rill_sequencer_t *self, const uint8_t *data, size_t size)
{
    static const char prefix[] = "{\"epoch\":\"";
    size_t prefix_length = sizeof(prefix) - 1;
    if (self->epoch[0] != '\0' || self->fetch != NULL || !rill_sequencer_is_topic(self) ||
        size != prefix_length + RILL_TOPIC_EPOCH_LENGTH + 2 || memcmp(data, prefix, prefix_length) != 0 ||
        memcmp(data + size - 2, "\"}", 2) != 0 ||
        !rill_topic_epoch_is_valid((const char *)data + prefix_length, RILL_TOPIC_EPOCH_LENGTH))
        return;
    memcpy(self->epoch, data + prefix_length, RILL_TOPIC_EPOCH_LENGTH);
    self->epoch[RILL_TOPIC_EPOCH_LENGTH] = '\0';
}

void rill_sequencer_on_replay_header(rill_sequencer_t *self, uint64_t first, uint64_t last)
{
    rill_fetch_t *fetch = self->fetch;
    if (fetch == NULL || fetch->last_n == 0)
        return;
    uint64_t from = last >= fetch->last_n ? last - fetch->last_n + 1 : 1;
    if (from < first)
        from = first; /* at most what is retained */
    if (from > self->next_seq)
        self->next_seq = from;
    fetch->last_n = 0;
}

void rill_sequencer_on_epoch(rill_sequencer_t *self, const char *epoch)
{
    rill_fetch_t *fetch = self->fetch;
    if (fetch == NULL || !rill_sequencer_is_topic(self) || epoch == NULL ||
        !rill_topic_epoch_is_valid(epoch, strlen(epoch)))
        return;
    memcpy(fetch->epoch, epoch, sizeof(fetch->epoch));
    /* With none known, it is the numbering from now on: the cursor of each
     * replayed event names it. Another than the known one is settled when
     * the FETCH finishes (rill_sequencer_fetch_finish). */
    if (self->epoch[0] == '\0' || fetch->live_only)
        memcpy(self->epoch, epoch, sizeof(self->epoch));
}

/* The FETCH resumes the topic in one numbering and the broker answers in
 * another (rill/6): what it replays is not after the client's seq. */
static int replay_of_other_epoch(const rill_sequencer_t *self)
{
    const rill_fetch_t *fetch = self->fetch;
    return fetch != NULL && !fetch->live_only && fetch->epoch[0] != '\0' && self->epoch[0] != '\0' &&
           strcmp(fetch->epoch, self->epoch) != 0;
}

void rill_sequencer_on_replay(rill_sequencer_t *self, rill_frame_t type_frame,
                              rill_frame_t seq_frame, rill_frame_t data)
{
    rill_event_type_t type;
    uint64_t seq;
    if (self->ended || !is_open(self) || replay_of_other_epoch(self) ||
        rill_event_type_from_name((const char *)type_frame.data, type_frame.size, &type) != 0 ||
        rill_frame_to_u64(seq_frame, &seq) != 0)
        return;
    rill_accept_t accept = rill_sequencer_accept(self, seq);
    if (accept == RILL_ACCEPT_DUPLICATE)
        return;
    if (accept == RILL_ACCEPT_GAP) {
        rill_sequencer_gap(self, self->next_seq, seq - 1); /* retained from seq on only */
        if (!is_open(self))
            return;
    }
    size_t length;
    const char *name = rill_sequencer_name(self, &length);
    rill_chunk_t *line = rill_event_format_line(rill_sequencer_is_topic(self), name, length, seq,
                                                rill_event_type_name(type),
                                                (const char *)data.data, data.size);
    if (line == NULL) {
        self->sink->overflow(self);
        return;
    }
    deliver_in_order(self, seq, type, line);
    rill_chunk_unref(&line);
}

static void topic_renumbered(rill_sequencer_t *self, const char *reason);

/* The FETCH is gone; the live events held meanwhile are processed in order
 * (repaired: 1 when the replay filled what they follow). */
static void release_held(rill_sequencer_t *self, int repaired)
{
    rill_fetch_t *fetch = self->fetch;
    rill_held_event_t *held = fetch->held;
    uint32_t held_count = fetch->held_count;
    fetch->held = NULL;
    fetch->held_count = 0;
    fetch_free(self);
    for (uint32_t i = 0; i < held_count; i++)
        process(self, held[i].seq, held[i].type, held[i].line, repaired);
    held_release(held, held_count);
}

rill_fetch_purpose_t rill_sequencer_fetch_finish(rill_sequencer_t *self, uint64_t last, int ended)
{
    rill_fetch_t *fetch = self->fetch;
    rill_fetch_purpose_t purpose = fetch->purpose;
    int active = !self->ended && is_open(self);
    /* rill/6: the numbering the topic's seqs are in now, when the broker said. */
    const char *epoch = rill_sequencer_is_topic(self) && fetch->epoch[0] != '\0' ? fetch->epoch : NULL;
    int other_epoch = epoch != NULL && self->epoch[0] != '\0' && strcmp(self->epoch, epoch) != 0;
    if (epoch != NULL)
        memcpy(self->epoch, epoch, sizeof(self->epoch));
    if (active && rill_sequencer_is_topic(self) && !fetch->live_only && (other_epoch || self->next_seq > last + 1)) {
        /* Resumed past the topic's end, or in another epoch: it was reset
         * since (deleted or evicted, or a restarted broker), and numbers
         * from 1 again. Nothing of it was replayed (a replay of the new
         * numbering after the old seq is not the client's): the held
         * events go on from 1, else it is fetched anew. */
        topic_renumbered(self, "topic_reset");
        release_held(self, 1);
        if (self->fetch == NULL && last >= self->next_seq && is_open(self) && start_repair(self) != 0)
            rill_sequencer_gap(self, self->next_seq, last);
        return purpose;
    }
    /* A resume point past the end: from the end. Not after a broker
     * restart or switch: a job's seqs are its worker's, and the new broker
     * is behind only until the worker has sent again what it holds (the
     * client had those parts: they come again as duplicates). */
    if (active && self->next_seq > last + 1 && !fetch->recovering)
        self->next_seq = last + 1;
    if (active && fetch->live_only) {
        self->next_seq = last + 1;
    } else if (active) {
        /* Seqs up to last that were neither replayed nor held are gone. */
        uint64_t bound = last;
        for (uint32_t i = 0; i < fetch->held_count; i++) {
            if (fetch->held[i].seq >= self->next_seq) {
                if (fetch->held[i].seq - 1 < bound)
                    bound = fetch->held[i].seq - 1;
                break;
            }
        }
        if (bound >= self->next_seq)
            rill_sequencer_gap(self, self->next_seq, bound);
    }
    if (active && ended && !rill_sequencer_is_topic(self) && self->next_seq > last)
        mark_ended(self); /* resumed after the job's end: nothing new, and it is over */
    release_held(self, 1);
    return purpose;
}

rill_fetch_purpose_t rill_sequencer_fetch_failed(rill_sequencer_t *self, const char *reason)
{
    rill_fetch_purpose_t purpose = self->fetch->purpose;
    if (purpose == RILL_FETCH_OPENING) {
        fetch_free(self);
        return purpose;
    }
    if (reason != NULL)
        rill_log_warn(self->who, "%s: repair failed (%s): reporting the gap", self->topic, reason);
    release_held(self, 0);
    return purpose;
}

rill_fetch_purpose_t rill_sequencer_fetch_drop(rill_sequencer_t *self)
{
    rill_fetch_purpose_t purpose = self->fetch != NULL ? self->fetch->purpose : RILL_FETCH_REPAIR;
    fetch_free(self);
    return purpose;
}

/* A topic after a broker restart: what the old broker published after
 * next_seq - 1 is lost, how much is unknown; the new one numbers from 1. */
static void topic_restarted(rill_sequencer_t *self)
{
    if (self->fetch != NULL && self->fetch->purpose != RILL_FETCH_OPENING)
        fetch_free(self); /* its held seqs are the old broker's */
    topic_renumbered(self, "broker_restarted");
}

/* The topic numbers from 1 again: a gap of unknown end from next_seq. */
static void topic_renumbered(rill_sequencer_t *self, const char *reason)
{
    size_t length;
    const char *name = rill_sequencer_name(self, &length);
    char text[96];
    int text_length = snprintf(text, sizeof(text), "{\"from\":%llu,\"to\":null,\"reason\":\"%s\"}",
                               (unsigned long long)self->next_seq, reason);
    rill_chunk_t *gap = rill_event_format_line(1, name, length, 0, "gap", text, (size_t)text_length);
    self->next_seq = 1;
    if (gap == NULL) {
        self->sink->overflow(self);
        return;
    }
    self->sink->deliver(self, 0, RILL_EVENT_GAP, gap);
    rill_chunk_unref(&gap);
}

rill_fetch_t *rill_sequencer_broker_restarted(rill_sequencer_t *self)
{
    if (self->ended || !is_open(self))
        return NULL;
    if (rill_sequencer_is_topic(self)) {
        topic_restarted(self);
        return NULL;
    }
    rill_fetch_t *fetch = self->fetch;
    if (fetch != NULL && fetch->purpose == RILL_FETCH_OPENING)
        return NULL;
    if (fetch == NULL)
        fetch = rill_sequencer_fetch_begin(self, RILL_FETCH_REPAIR, self->next_seq - 1);
    fetch->recovering = 1;
    fetch->tries = 0;
    rill_log_info(self->who, "%s: broker restarted, fetching from seq %llu", self->topic,
                  (unsigned long long)self->next_seq);
    return fetch;
}

rill_fetch_purpose_t rill_sequencer_job_lost(rill_sequencer_t *self)
{
    rill_fetch_purpose_t purpose = rill_sequencer_fetch_drop(self);
    if (self->ended || !is_open(self))
        return purpose;
    size_t length;
    const char *name = rill_sequencer_name(self, &length);
    rill_chunk_t *error = rill_event_format_error(0, name, length, self->next_seq,
                                                  "broker_restarted",
                                                  "the broker restarted and lost this job");
    if (error == NULL) {
        self->next_seq++;
        self->sink->overflow(self);
        return purpose;
    }
    deliver_in_order(self, self->next_seq, RILL_EVENT_ERROR, error);
    rill_chunk_unref(&error);
    return purpose;
}
