/*
 * rill_event_batch.c - a follower's batch of events (rill/4). See
 * rill_event_batch.h.
 */
#include "rill_event_batch.h"

#include <string.h>

#define BATCH_WORD " " RILL_PROTOCOL_VERSION " batch "

size_t rill_event_batch_header(char *buffer, const char *follow, size_t follow_length, size_t count)
{
    size_t length = follow_length;
    memcpy(buffer, follow, follow_length);
    memcpy(buffer + length, BATCH_WORD, sizeof(BATCH_WORD) - 1);
    length += sizeof(BATCH_WORD) - 1;
    length += rill_u64_to_text(count, buffer + length);
    buffer[length++] = '\n';
    return length;
}

size_t rill_event_batch_prefix(char *buffer, size_t frame_size)
{
    size_t length = rill_u64_to_text(frame_size, buffer);
    buffer[length++] = ' ';
    return length;
}

int rill_event_is_batch(rill_frame_t frame)
{
    if (frame.size < 2 || frame.data[0] != RILL_SUBJECT_FOLLOW)
        return 0;
    size_t limit = frame.size < RILL_FOLLOW_SUBJECT_MAX + 1 ? frame.size : RILL_FOLLOW_SUBJECT_MAX + 1;
    const uint8_t *space = memchr(frame.data, ' ', limit);
    return space != NULL && space > frame.data && space[-1] == '/';
}

int rill_event_batch_open(rill_frame_t frame, rill_event_batch_t *batch, const char **error)
{
    memset(batch, 0, sizeof(*batch));
    if (!rill_event_is_batch(frame)) {
        *error = "not an event batch";
        return -1;
    }
    const uint8_t *end = frame.data + frame.size;
    const uint8_t *space = memchr(frame.data, ' ', frame.size);
    size_t follow_size = (size_t)(space - frame.data);
    /* Its shape only, as for a lone followed event (rill_event_parse). */
    if (follow_size < RILL_FOLLOW_TOKEN_MIN + 2 || follow_size > RILL_FOLLOW_SUBJECT_MAX) {
        *error = "malformed follow subject";
        return -1;
    }
    const uint8_t *at = space;
    if ((size_t)(end - at) < sizeof(BATCH_WORD) - 1 || memcmp(at, BATCH_WORD, sizeof(BATCH_WORD) - 1) != 0) {
        *error = "malformed batch header";
        return -1;
    }
    at += sizeof(BATCH_WORD) - 1;
    uint64_t count = 0;
    at = rill_number_before(at, end, '\n', &count);
    if (at == NULL || count == 0 || count > RILL_EVENT_BATCH_MAX_EVENTS) {
        *error = "malformed batch count";
        return -1;
    }
    /* The framing whole, before any event is handled: a batch is taken
     * or dropped as one. */
    const uint8_t *entries = at;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t length = 0;
        at = rill_number_before(at, end, ' ', &length);
        if (at == NULL || length == 0 || length > (uint64_t)(end - at)) {
            *error = "malformed batch entry";
            return -1;
        }
        at += length;
    }
    if (at != end) {
        *error = "batch longer than its entries";
        return -1;
    }
    batch->follow.data = frame.data;
    batch->follow.size = follow_size;
    batch->count = (size_t)count;
    batch->at = entries;
    batch->end = end;
    return 0;
}

int rill_event_batch_next(rill_event_batch_t *batch, rill_event_t *event, const char **error)
{
    if (batch->index >= batch->count)
        return 0;
    uint64_t length = 0;
    const uint8_t *at = rill_number_before(batch->at, batch->end, ' ', &length);
    if (at == NULL || length == 0 || length > (uint64_t)(batch->end - at)) {
        /* Only for a batch that was not opened: stop here. */
        batch->index = batch->count;
        *error = "malformed batch entry";
        return -1;
    }
    rill_frame_t frame = {at, (size_t)length};
    batch->at = at + length;
    batch->index++;
    /* A follower's events are jobs' (a topic or a nested follow subject
     * here is malformed). */
    if (frame.data[0] != RILL_SUBJECT_JOB) {
        memset(event, 0, sizeof(*event));
        *error = "batch entry is not a job's event";
        return -1;
    }
    if (rill_event_parse(&frame, 1, event, error) != 0)
        return -1;
    event->follow = batch->follow;
    return 1;
}
