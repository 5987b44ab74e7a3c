/*
 * stream_state.c - what needs no more than a stream's fields: its cursor
 * text (docs/API.md, "Cursor and resume"), finding one of its subjects, an
 * opening failure. See stream_state.h.
 */
#include "stream_state.h"

#include "cursor.h"
#include "rill_alloc.h"

#include <stdio.h>
#include <string.h>

/* A topic still looking for its start is left out: one without since
 * (resuming without it starts it live again, as the first time), or one
 * with ?last=N whose replay has not said where its last N begin. */
static int start_unknown(const rill_sequencer_t *sequencer)
{
    const rill_fetch_t *fetch = sequencer->fetch;
    return fetch != NULL && (fetch->live_only || fetch->last_n != 0);
}

char *rill_stream_build_cursor(rill_stream_t *self, stream_subject_t *current, uint64_t seq,
                               char *buffer, size_t capacity, size_t *length)
{
    size_t size = 1;
    for (stream_subject_t *record = self->subjects; record != NULL; record = record->next)
        size += record->sequencer.topic_length + 22 + 1 + RILL_TOPIC_EPOCH_LENGTH; /* ",", name, ":", 20 digits, "@", epoch, NUL */
    char *cursor = size <= capacity ? buffer : rill_xmalloc(size);
    size_t at = 0;
    cursor[0] = '\0';
    for (stream_subject_t *record = self->subjects; record != NULL; record = record->next) {
        const rill_sequencer_t *sequencer = &record->sequencer;
        if (record != current && start_unknown(sequencer))
            continue;
        size_t name_length;
        const char *name = rill_sequencer_name(sequencer, &name_length);
        at = rill_cursor_append(cursor, at, name, name_length,
                                record == current ? seq : sequencer->next_seq - 1, sequencer->epoch);
    }
    *length = at;
    return cursor;
}

stream_subject_t *rill_stream_find_subject(rill_stream_t *self, const char *topic, size_t length)
{
    stream_subject_t *record = self->subjects;
    while (record != NULL && (record->sequencer.topic_length != length ||
                              memcmp(record->sequencer.topic, topic, length) != 0))
        record = record->next;
    return record;
}

void rill_stream_opening_refused(rill_stream_t *self, int status, const char *code, const char *message)
{
    if (self->open_status == 0 || (status == 404 && self->open_status != 404)) {
        self->open_status = status;
        snprintf(self->open_code, sizeof(self->open_code), "%s", code);
        snprintf(self->open_message, sizeof(self->open_message), "%s", message);
    }
}
