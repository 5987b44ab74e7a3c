/*
 * rill_parts_batch.c - a worker's batch of parts and the jobs done after
 * them. See rill_parts_batch.h.
 */
#include "rill_parts_batch.h"

#include <string.h>

int rill_parts_next(rill_frame_t frame, size_t *offset, rill_parts_entry_t *entry, const char **error)
{
    if (*offset >= frame.size)
        return 0;
    const uint8_t *at = frame.data + *offset;
    const uint8_t *end = frame.data + frame.size;
    uint64_t size = 0;
    if ((size_t)(end - at) < RILL_JOB_ID_LENGTH + 1 || !rill_job_id_is_valid(at, RILL_JOB_ID_LENGTH) ||
        at[RILL_JOB_ID_LENGTH] != ' ') {
        *error = "malformed job id in PARTS";
        return -1;
    }
    entry->id.data = at;
    entry->id.size = RILL_JOB_ID_LENGTH;
    at += RILL_JOB_ID_LENGTH + 1;
    if ((at = rill_number_before(at, end, ' ', &entry->seq)) == NULL || (at = rill_number_before(at, end, '\n', &size)) == NULL) {
        *error = "malformed seq or size in PARTS";
        return -1;
    }
    if (size > (uint64_t)(end - at)) {
        *error = "a PARTS entry runs past its frame";
        return -1;
    }
    entry->data.data = at;
    entry->data.size = (size_t)size;
    *offset = (size_t)(at + size - frame.data);
    return 1;
}

size_t rill_parts_entry_header(char *buffer, const char *id, uint64_t seq, size_t size)
{
    size_t length = RILL_JOB_ID_LENGTH;
    memcpy(buffer, id, RILL_JOB_ID_LENGTH);
    buffer[length++] = ' ';
    length += rill_u64_to_text(seq, buffer + length);
    buffer[length++] = ' ';
    length += rill_u64_to_text(size, buffer + length);
    buffer[length++] = '\n';
    return length;
}
int rill_parts_next_done(rill_frame_t frame, size_t *offset, rill_frame_t *id, const char **error)
{
    if (*offset >= frame.size)
        return 0;
    const uint8_t *at = frame.data + *offset;
    size_t left = frame.size - *offset;
    /* An id, then a space before the next one or the frame's end. */
    if (left < RILL_JOB_ID_LENGTH || !rill_job_id_is_valid(at, RILL_JOB_ID_LENGTH) ||
        (left > RILL_JOB_ID_LENGTH && (at[RILL_JOB_ID_LENGTH] != ' ' || left == RILL_JOB_ID_LENGTH + 1))) {
        *error = "malformed job id in the done frame of PARTS";
        return -1;
    }
    id->data = at;
    id->size = RILL_JOB_ID_LENGTH;
    *offset += left > RILL_JOB_ID_LENGTH ? RILL_JOB_ID_LENGTH + 1 : RILL_JOB_ID_LENGTH;
    return 1;
}

void rill_parts_add_done(char *buffer, size_t *length, const char *id)
{
    if (*length > 0)
        buffer[(*length)++] = ' ';
    memcpy(buffer + *length, id, RILL_JOB_ID_LENGTH);
    *length += RILL_JOB_ID_LENGTH;
}
