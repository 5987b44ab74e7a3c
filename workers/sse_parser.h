/*
 * sse_parser.h - a live upstream stream's bytes cut into messages, for the
 * `subscribe` kind: Server-Sent Events (the WHATWG HTML "event stream"
 * rules) or newline-delimited JSON, and each message made into the JSON of
 * a part.
 *
 * Bytes arrive in chunks that end anywhere (inside a line, between a CR and
 * its LF, inside a UTF-8 character); the parser keeps what it needs and
 * calls back once per complete message. SSE: lines end with CRLF, LF or CR;
 * a leading UTF-8 BOM is skipped; `data:` lines are joined with "\n";
 * `event:`, `id:` (ignored when it holds a NUL) and `retry:` (digits only)
 * are kept; lines beginning with ':' are comments; an empty line
 * dispatches the event (none when it has no data); what is pending when the
 * stream ends is dropped. An id: becomes the last event id only once its
 * event ended (an empty line), so an event cut by a drop is asked for
 * again; the last event id outlives a connection: it is what the next one
 * sends as Last-Event-ID. NDJSON: each non-empty line is
 * a message (a leading RS, 0x1E, as in application/json-seq, is dropped).
 *
 * Pure (no worker, no I/O): tests/unit/workers/test_sse_parser.c.
 */
#ifndef RILL_WORKER_SSE_PARSER_H
#define RILL_WORKER_SSE_PARSER_H

#include "rill_buffer.h"

#include <stddef.h>

typedef enum {
    RILL_STREAM_SSE = 0,
    RILL_STREAM_NDJSON,
} rill_stream_format_t;

/* A message as the callback sees it (borrowed, valid during the call). */
typedef struct {
    const char *data;  /* SSE: the joined data lines; NDJSON: the line */
    size_t data_length;
    const char *event; /* SSE event type, NULL when none was given ("message") */
    size_t event_length;
    const char *id;    /* SSE last event id, NULL when empty */
    size_t id_length;
} rill_stream_message_t;

/* Called for each message; a non-zero return stops the feed (-1). */
typedef int (*rill_stream_callback_t)(void *argument, const rill_stream_message_t *message);

#define RILL_SSE_ID_MAX 1024 /* a longer id is ignored (it would be a header) */

typedef struct {
    rill_stream_format_t format;
    size_t max_bytes;      /* a line, or an event's data, longer than this: RILL_STREAM_TOO_LARGE */
    rill_buffer_t line;    /* the line not yet ended */
    rill_buffer_t data;    /* SSE: the event's data so far */
    rill_buffer_t event;   /* SSE: the event's type so far */
    rill_buffer_t id;      /* SSE: the id: of the event being read (the last event id buffer) */
    rill_buffer_t last_id; /* SSE: the last event id, set when an event ends (kept across connections) */
    long retry_ms;         /* SSE: the last retry: field, -1 for none */
    int at_start;          /* at the stream's start: a BOM may come */
    size_t bom_seen;       /* bytes of a BOM seen so far */
    int after_cr;          /* the last byte was a CR: an LF next belongs to it */
} rill_stream_parser_t;

#define RILL_STREAM_TOO_LARGE (-2)

void rill_stream_parser_init(rill_stream_parser_t *parser, rill_stream_format_t format, size_t max_bytes);
void rill_stream_parser_release(rill_stream_parser_t *parser);
/* A new connection: drops what the last one left unfinished (a line, an
 * event), keeps the last event id and the retry. format may change. */
void rill_stream_parser_restart(rill_stream_parser_t *parser, rill_stream_format_t format);
/* Feeds bytes; calls back for each complete message. Returns 0, -1 when a
 * callback stopped it or a buffer failed, or RILL_STREAM_TOO_LARGE. */
int rill_stream_parser_feed(rill_stream_parser_t *parser, const char *bytes, size_t length,
                            rill_stream_callback_t callback, void *argument);

/* Builds the part of a message into out (replacing what it held):
 * {"data":D} and then, SSE only, "event":"…" when given and "id":"…" when
 * there is one. D is the data itself when it is one JSON value (written
 * compactly), else the data as a JSON string (invalid UTF-8 as U+FFFD).
 * Returns 0, or -1 when out failed. */
int rill_stream_message_part(rill_buffer_t *out, const rill_stream_message_t *message);

#endif
