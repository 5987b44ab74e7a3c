/*
 * sse_parser.c - an upstream stream cut into messages (SSE or NDJSON), and
 * a message as a part. See sse_parser.h.
 */
#include "sse_parser.h"

#include "rill_json_check.h"
#include "rill_json_compact.h"
#include "rill_json_text.h"

#include <jansson.h>
#include <string.h>

void rill_stream_parser_init(rill_stream_parser_t *parser, rill_stream_format_t format, size_t max_bytes)
{
    memset(parser, 0, sizeof(*parser));
    parser->format = format;
    parser->max_bytes = max_bytes;
    parser->retry_ms = -1;
    parser->at_start = 1;
}

void rill_stream_parser_release(rill_stream_parser_t *parser)
{
    rill_buffer_release(&parser->line);
    rill_buffer_release(&parser->data);
    rill_buffer_release(&parser->event);
    rill_buffer_release(&parser->id);
    rill_buffer_release(&parser->last_id);
}

static void buffer_clear(rill_buffer_t *buffer)
{
    rill_buffer_consume(buffer, buffer->length);
}

void rill_stream_parser_restart(rill_stream_parser_t *parser, rill_stream_format_t format)
{
    parser->format = format;
    buffer_clear(&parser->line);
    buffer_clear(&parser->data);
    buffer_clear(&parser->event);
    buffer_clear(&parser->id); /* an id of an event that did not end is forgotten */
    (void)rill_buffer_append(&parser->id, parser->last_id.data, parser->last_id.length);
    parser->at_start = 1;
    parser->bom_seen = 0;
    parser->after_cr = 0;
}

static int equals(const char *bytes, size_t length, const char *word)
{
    return strlen(word) == length && memcmp(bytes, word, length) == 0;
}

/* An empty line: the event's id becomes the last event id, and the event
 * is dispatched if it has data. */
static int sse_dispatch(rill_stream_parser_t *parser, rill_stream_callback_t callback, void *argument)
{
    int result = 0;
    buffer_clear(&parser->last_id);
    if (rill_buffer_append(&parser->last_id, parser->id.data, parser->id.length) != 0)
        return -1;
    if (parser->data.length > 0) {
        rill_stream_message_t message = {
            .data = parser->data.data,
            .data_length = parser->data.length - 1, /* the last "\n" */
            .event = parser->event.length > 0 ? parser->event.data : NULL,
            .event_length = parser->event.length,
            .id = parser->last_id.length > 0 ? parser->last_id.data : NULL,
            .id_length = parser->last_id.length,
        };
        result = callback(argument, &message) != 0 ? -1 : 0;
    }
    buffer_clear(&parser->data);
    buffer_clear(&parser->event);
    return result;
}

static int sse_line(rill_stream_parser_t *parser, const char *line, size_t length, rill_stream_callback_t callback,
                    void *argument)
{
    if (length == 0)
        return sse_dispatch(parser, callback, argument);
    if (line[0] == ':')
        return 0; /* a comment */
    const char *colon = memchr(line, ':', length);
    size_t name_length = colon != NULL ? (size_t)(colon - line) : length;
    const char *value = colon != NULL ? colon + 1 : line + length;
    size_t value_length = (size_t)(line + length - value);
    if (value_length > 0 && value[0] == ' ') {
        value++;
        value_length--;
    }
    if (equals(line, name_length, "data")) {
        if (parser->data.length + value_length + 1 > parser->max_bytes)
            return RILL_STREAM_TOO_LARGE;
        if (rill_buffer_append(&parser->data, value, value_length) != 0 ||
            rill_buffer_append(&parser->data, "\n", 1) != 0)
            return -1;
    } else if (equals(line, name_length, "event")) {
        buffer_clear(&parser->event);
        if (rill_buffer_append(&parser->event, value, value_length) != 0)
            return -1;
    } else if (equals(line, name_length, "id")) {
        if (memchr(value, '\0', value_length) == NULL && value_length <= RILL_SSE_ID_MAX) {
            buffer_clear(&parser->id);
            if (rill_buffer_append(&parser->id, value, value_length) != 0)
                return -1;
        }
    } else if (equals(line, name_length, "retry")) {
        long retry = 0;
        size_t i = 0;
        for (; i < value_length && value[i] >= '0' && value[i] <= '9'; i++)
            retry = retry < 100000000 ? retry * 10 + (value[i] - '0') : retry;
        if (value_length > 0 && i == value_length)
            parser->retry_ms = retry;
    }
    return 0; /* any other field is ignored */
}

static int ndjson_line(const char *line, size_t length, rill_stream_callback_t callback, void *argument)
{
    while (length > 0 && (line[0] == 0x1e || line[0] == ' ' || line[0] == '\t')) {
        line++;
        length--;
    }
    if (length == 0)
        return 0;
    rill_stream_message_t message = {.data = line, .data_length = length};
    return callback(argument, &message) != 0 ? -1 : 0;
}

static int parser_line(rill_stream_parser_t *parser, const char *line, size_t length, rill_stream_callback_t callback,
                       void *argument)
{
    if (parser->format == RILL_STREAM_SSE)
        return sse_line(parser, line, length, callback, argument);
    return ndjson_line(line, length, callback, argument);
}

int rill_stream_parser_feed(rill_stream_parser_t *parser, const char *bytes, size_t length,
                            rill_stream_callback_t callback, void *argument)
{
    /* A UTF-8 BOM may begin the stream: its bytes are dropped as they come;
     * the first byte that breaks it ends the check (bytes of a broken BOM
     * are fed as they were). */
    static const char bom[3] = {(char)0xef, (char)0xbb, (char)0xbf};
    while (parser->at_start && length > 0) {
        if (bytes[0] == bom[parser->bom_seen]) {
            bytes++;
            length--;
            parser->at_start = ++parser->bom_seen < 3;
            continue;
        }
        parser->at_start = 0;
        if (parser->bom_seen > 0) {
            int result = rill_stream_parser_feed(parser, bom, parser->bom_seen, callback, argument);
            if (result != 0)
                return result;
        }
    }
    size_t start = 0;
    for (size_t i = 0; i < length; i++) {
        char c = bytes[i];
        if (c != '\n' && c != '\r') {
            parser->after_cr = 0;
            continue;
        }
        if (c == '\n' && parser->after_cr) {
            /* The LF of a CRLF whose CR ended the line already. */
            parser->after_cr = 0;
            start = i + 1;
            continue;
        }
        parser->after_cr = c == '\r';
        const char *line = bytes + start;
        size_t line_length = i - start;
        if (parser->line.length > 0) {
            if (parser->line.length + line_length > parser->max_bytes)
                return RILL_STREAM_TOO_LARGE;
            if (rill_buffer_append(&parser->line, line, line_length) != 0)
                return -1;
            line = parser->line.data;
            line_length = parser->line.length;
        }
        if (line_length > parser->max_bytes)
            return RILL_STREAM_TOO_LARGE;
        int result = parser_line(parser, line, line_length, callback, argument);
        buffer_clear(&parser->line);
        if (result != 0)
            return result;
        start = i + 1;
    }
    if (start < length) {
        if (parser->line.length + (length - start) > parser->max_bytes)
            return RILL_STREAM_TOO_LARGE;
        if (rill_buffer_append(&parser->line, bytes + start, length - start) != 0)
            return -1;
    }
    return 0;
}

/* The data as a JSON value written on one line, or as a JSON string. */
static int append_data(rill_buffer_t *out, const char *data, size_t length)
{
    if (length > 0 && rill_json_check(data, length, NULL) == 0) {
        size_t before = out->length;
        if (rill_json_compact_append(out, data, length) == 0)
            return 0;
        if (out->failed || out->length != before)
            return -1;
        if (memchr(data, '\n', length) == NULL && memchr(data, '\r', length) == NULL) {
            /* Valid and on one line: as it is, without the blanks around it. */
            while (length > 0 && (data[0] == ' ' || data[0] == '\t')) {
                data++;
                length--;
            }
            while (length > 0 && (data[length - 1] == ' ' || data[length - 1] == '\t'))
                length--;
            return rill_buffer_append(out, data, length);
        }
        json_t *value = json_loadb(data, length, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (value != NULL) {
            rill_json_compact_dump(out, value);
            json_decref(value);
            return out->failed ? -1 : 0;
        }
    }
    return rill_json_append_string(out, data, length);
}

int rill_stream_message_part(rill_buffer_t *out, const rill_stream_message_t *message)
{
    buffer_clear(out);
    if (rill_buffer_append(out, "{\"data\":", 8) != 0 || append_data(out, message->data, message->data_length) != 0)
        return -1;
    if (message->event != NULL && (rill_buffer_append(out, ",\"event\":", 9) != 0 ||
                                   rill_json_append_string(out, message->event, message->event_length) != 0))
        return -1;
    if (message->id != NULL && (rill_buffer_append(out, ",\"id\":", 6) != 0 ||
                                rill_json_append_string(out, message->id, message->id_length) != 0))
        return -1;
    return rill_buffer_append(out, "}", 1);
}
