/*
 * mirror_codec.c - writing and reading MIRROR records. See mirror_codec.h.
 */
#include "mirror_codec.h"
#include "rill_protocol.h"

#include <stdio.h>
#include <string.h>

int rill_mirror_record_append(rill_buffer_t *buffer, rill_mirror_tag_t tag, const char *header,
                              size_t header_size, const void *data, size_t data_size)
{
    char line[RILL_MIRROR_RECORD_OVERHEAD];
    int length = snprintf(line, sizeof(line), "%c %zu %zu\n", (char)tag, header_size, data_size);
    if (length < 0 || (size_t)length >= sizeof(line))
        return -1;
    if (rill_buffer_append(buffer, line, (size_t)length) != 0)
        return -1;
    if (header_size > 0 && rill_buffer_append(buffer, header, header_size) != 0)
        return -1;
    if (data_size > 0 && rill_buffer_append(buffer, data, data_size) != 0)
        return -1;
    return 0;
}

static int known_tag(uint8_t tag)
{
    return tag == RILL_MIRROR_BEGIN || tag == RILL_MIRROR_END || tag == RILL_MIRROR_JOB || tag == RILL_MIRROR_EVENT ||
           tag == RILL_MIRROR_TOPIC || tag == RILL_MIRROR_MESSAGE || tag == RILL_MIRROR_FORGET ||
           tag == RILL_MIRROR_TOPIC_DELETE || tag == RILL_MIRROR_PUBLISH_KEY;
}

int rill_mirror_record_next(const uint8_t *frame, size_t size, size_t *offset, rill_mirror_record_t *record,
                            const char **error)
{
    if (*offset >= size)
        return 0;
    const uint8_t *at = frame + *offset;
    const uint8_t *end = frame + size;
    if (end - at < 2 || !known_tag(at[0]) || at[1] != ' ') {
        *error = "a record does not start with a known tag";
        return -1;
    }
    uint64_t header_size = 0, data_size = 0;
    const uint8_t *next = rill_number_before(at + 2, end, ' ', &header_size);
    if (next != NULL)
        next = rill_number_before(next, end, '\n', &data_size);
    if (next == NULL) {
        *error = "a record's lengths are malformed";
        return -1;
    }
    if (header_size > (uint64_t)(end - next) || data_size > (uint64_t)(end - next) - header_size) {
        *error = "a record runs past the end of the frame";
        return -1;
    }
    record->tag = (rill_mirror_tag_t)at[0];
    record->header = next;
    record->header_size = (size_t)header_size;
    record->data = next + header_size;
    record->data_size = (size_t)data_size;
    *offset = (size_t)(record->data + record->data_size - frame);
    return 1;
}
