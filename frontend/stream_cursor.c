/*
 * stream_cursor.c - a stream's cursor text (docs/API.md, "Cursor and
 * resume"): for each subject, the last seq delivered. See stream_private.h.
 */
#include "stream_private.h"

#include "cursor.h"
#include "rill_alloc.h"

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
        size += record->sequencer.topic_length + 22; /* ",", name, ":", 20 digits, NUL */
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
                                record == current ? seq : sequencer->next_seq - 1);
    }
    *length = at;
    return cursor;
}
