/*
 * event_format.c - see event_format.h. Hand-written formatting with memcpy:
 * this runs once per event on the fan-out hot path, so no printf, no JSON
 * library; the data frame is already JSON and is copied as is.
 */
#include "event_format.h"

#include "rill_protocol.h"

#include <stdio.h>
#include <string.h>

static char *append(char *at, const char *text, size_t length)
{
    memcpy(at, text, length);
    return at + length;
}

#define APPEND_LITERAL(at, literal) append(at, literal, sizeof(literal) - 1)

rill_chunk_t *rill_event_format_line(int is_topic, const char *subject, size_t subject_length,
                                     uint64_t seq, const char *type, const char *data,
                                     size_t data_length)
{
    if (data_length == 0) {
        data = "null";
        data_length = 4;
    }
    size_t type_length = strlen(type);
    /* Subjects are job ids or topic names: [0-9a-f] / [A-Za-z0-9._-], never
     * in need of escaping (the codec checked them). */
    size_t capacity = sizeof("{\"topic\":\"\",\"seq\":,\"event\":\"\",\"data\":}\n") + subject_length +
                      20 + type_length + data_length;
    rill_chunk_t *chunk = rill_chunk_new(capacity);
    if (chunk == NULL)
        return NULL;
    char *at = chunk->bytes;
    if (is_topic)
        at = APPEND_LITERAL(at, "{\"topic\":\"");
    else
        at = APPEND_LITERAL(at, "{\"job\":\"");
    at = append(at, subject, subject_length);
    at = APPEND_LITERAL(at, "\",\"seq\":");
    at += rill_u64_to_text(seq, at);
    at = APPEND_LITERAL(at, ",\"event\":\"");
    at = append(at, type, type_length);
    at = APPEND_LITERAL(at, "\",\"data\":");
    at = append(at, data, data_length);
    at = APPEND_LITERAL(at, "}\n");
    chunk->length = (uint32_t)(at - chunk->bytes);
    if (type_length == 4 && memcmp(type, "part", 4) == 0)
        chunk->kind = RILL_CHUNK_PART;
    else if (type_length == 3 && memcmp(type, "gap", 3) == 0)
        chunk->kind = RILL_CHUNK_GAP;
    else
        chunk->kind = RILL_CHUNK_EVENT;
    return chunk;
}

rill_chunk_t *rill_event_format_gap(int is_topic, const char *subject, size_t subject_length,
                                    uint64_t from, uint64_t to)
{
    char data[64];
    int length = snprintf(data, sizeof(data), "{\"from\":%llu,\"to\":%llu}",
                          (unsigned long long)from, (unsigned long long)to);
    if (length < 0 || (size_t)length >= sizeof(data))
        return NULL;
    return rill_event_format_line(is_topic, subject, subject_length, to, "gap", data,
                                  (size_t)length);
}

rill_chunk_t *rill_event_format_error(int is_topic, const char *subject, size_t subject_length,
                                      uint64_t seq, const char *code, const char *message)
{
    char data[1024];
    size_t at = 0;
    at += (size_t)(APPEND_LITERAL(data, "{\"code\":") - data);
    size_t written = rill_json_escape(data + at, sizeof(data) - at - 16, code, strlen(code));
    if (written == 0)
        return NULL;
    at += written;
    at += (size_t)(APPEND_LITERAL(data + at, ",\"message\":") - (data + at));
    written = rill_json_escape(data + at, sizeof(data) - at - 2, message, strlen(message));
    if (written == 0)
        return NULL;
    at += written;
    data[at++] = '}';
    return rill_event_format_line(is_topic, subject, subject_length, seq, "error", data, at);
}

/* Bytes to concatenate. */
typedef struct {
    const char *bytes;
    size_t length;
} piece_t;

#define PIECE(literal) {literal, sizeof(literal) - 1}

/* A chunk holding the pieces one after the other (one reference), or NULL. */
static rill_chunk_t *concatenate(const piece_t *pieces, size_t count)
{
    size_t length = 0;
    for (size_t i = 0; i < count; i++)
        length += pieces[i].length;
    rill_chunk_t *chunk = rill_chunk_new(length);
    if (chunk == NULL)
        return NULL;
    char *at = chunk->bytes;
    for (size_t i = 0; i < count; i++)
        at = append(at, pieces[i].bytes, pieces[i].length);
    chunk->length = (uint32_t)length;
    return chunk;
}

rill_chunk_t *rill_event_format_sse_head(const char *type, const char *cursor,
                                         size_t cursor_length)
{
    piece_t pieces[] = {PIECE("event: "), {type, strlen(type)}, PIECE("\nid: "),
                        {cursor, cursor_length}, PIECE("\ndata: ")};
    if (cursor == NULL) {
        pieces[2] = pieces[4];
        return concatenate(pieces, 3);
    }
    return concatenate(pieces, 5);
}

rill_chunk_t *rill_event_format_notice(const char *type, const char *data, size_t data_length)
{
    piece_t pieces[] = {PIECE("{\"event\":\""), {type, strlen(type)}, PIECE("\",\"data\":"),
                        {data, data_length}, PIECE("}\n")};
    return concatenate(pieces, 5);
}

rill_chunk_t *rill_event_format_closing(const char *cursor, size_t cursor_length)
{
    piece_t pieces[] = {PIECE("{\"event\":\"closing\",\"data\":{\"cursor\":\""),
                        {cursor, cursor_length}, PIECE("\"}}\n")};
    return concatenate(pieces, 3);
}

rill_chunk_t *rill_event_format_accepted(const char (*ids)[RILL_ID_TEXT_SIZE], size_t count)
{
    static const char head[] = "{\"event\":\"accepted\",\"data\":{\"jobs\":[", tail[] = "]}}\n";
    const size_t id_length = RILL_ID_TEXT_SIZE - 1;
    /* Ids are 32 hex digits: nothing to escape. */
    rill_chunk_t *chunk = rill_chunk_new(sizeof(head) + count * (id_length + 3) + sizeof(tail));
    if (chunk == NULL)
        return NULL;
    char *at = APPEND_LITERAL(chunk->bytes, head);
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            *at++ = ',';
        *at++ = '"';
        at = append(at, ids[i], id_length);
        *at++ = '"';
    }
    at = APPEND_LITERAL(at, tail);
    chunk->length = (uint32_t)(at - chunk->bytes);
    return chunk;
}
