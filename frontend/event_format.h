/*
 * event_format.h - the bytes a client reads for one event (docs/API.md).
 *
 * Pure functions, no h2o: an event is formatted ONCE per SUB message into a
 * shared chunk (the NDJSON line), and every stream queues that chunk. SSE is
 * a second formatter layered on the same line: a small per-stream head
 * ("event: …\nid: <cursor>\ndata: "), the shared NDJSON line as the data,
 * and a blank line - so both formats share the expensive bytes.
 */
#ifndef RILL_FRONTEND_EVENT_FORMAT_H
#define RILL_FRONTEND_EVENT_FORMAT_H

#include "chunk.h"
#include "rill_id.h"
#include "rill_json_text.h" /* rill_json_escape: error events and error bodies */

#include <stddef.h>
#include <stdint.h>

/* What a stream's client reads: NDJSON lines, or Server-Sent Events. */
typedef enum {
    RILL_STREAM_NDJSON = 0,
    RILL_STREAM_SSE,
} rill_stream_format_t;

#define RILL_HEARTBEAT_NDJSON "{\"event\":\"heartbeat\"}\n"
#define RILL_HEARTBEAT_SSE ":\n\n"
#define RILL_SSE_TAIL "\n"
/* The first bytes of every SSE stream: EventSource waits this long before
 * it reconnects (docs/API.md, "Server-Sent Events"). */
#define RILL_SSE_RETRY "retry: 3000\n\n"

/* {"job":"<id>","seq":N,"event":"<type>","data":<data>}\n, or "topic"
 * instead of "job" when is_topic. data is copied verbatim (it is JSON);
 * empty data becomes null. Returns a chunk with one reference, or NULL;
 * its kind is RILL_CHUNK_PART, _GAP or _EVENT after the type. */
rill_chunk_t *rill_event_format_line(int is_topic, const char *subject, size_t subject_length,
                                     uint64_t seq, const char *type, const char *data,
                                     size_t data_length);

/* The gap event for missing seqs from..to: data {"from":F,"to":T}, seq = to. */
rill_chunk_t *rill_event_format_gap(int is_topic, const char *subject, size_t subject_length,
                                    uint64_t from, uint64_t to);

/* An error event with data {"code":code,"message":message} (both escaped). */
rill_chunk_t *rill_event_format_error(int is_topic, const char *subject, size_t subject_length,
                                      uint64_t seq, const char *code, const char *message);

/* "event: <type>\nid: <cursor>\ndata: " - followed by the line, then "\n".
 * A NULL cursor writes no id: line (a notice is not part of the cursor). */
rill_chunk_t *rill_event_format_sse_head(const char *type, const char *cursor,
                                         size_t cursor_length);

/* A notice (docs/API.md, "Notices"): {"event":"<type>","data":<data>}\n,
 * with no subject and no seq; data is JSON, copied verbatim. One reference,
 * kind RILL_CHUNK_BYTES (a notice is not an event of a subject). */
rill_chunk_t *rill_event_format_notice(const char *type, const char *data, size_t data_length);

/* The closing notice, {"event":"closing","data":{"cursor":"<cursor>"}}\n
 * (a cursor needs no escaping: cursor.h). */
rill_chunk_t *rill_event_format_closing(const char *cursor, size_t cursor_length);

/* The accepted notice of a POST /v1/jobs, {"event":"accepted","data":
 * {"jobs":["<id>",…]}}\n: count ids of RILL_ID_TEXT_SIZE bytes (hex, NUL
 * at the end), in request order. */
rill_chunk_t *rill_event_format_accepted(const char (*ids)[RILL_ID_TEXT_SIZE], size_t count);

#endif
