/*
 * bench_http.h - the HTTP rill-bench speaks besides the job answers
 * (bench_stream.h): a subscriber's request, as a chunked stream or as a
 * WebSocket, and a publisher's answers read off the bytes as they come.
 *
 * A WebSocket subscriber is not parsed: the server's text frames carry the
 * same JSON as a stream's lines, unmasked, so rill-bench finds each
 * message's "mono_ns" in the frames as it does in chunks. It answers the
 * server's pings without reading them, with an unsolicited pong now and
 * then (RFC 6455 5.5.3 allows one as a one-way heartbeat).
 */
#ifndef BENCH_HTTP_H
#define BENCH_HTTP_H

#include <stddef.h>

/* A masked client pong with no payload, every 4 s: rill closes a WebSocket
 * that answered none of 3 pings (one every stream_heartbeat_ms, 5 s by
 * default); as often as a real client answers, not more (a socket that
 * hears from its client several times a ping keeps its wslay context). */
#define BENCH_HTTP_PONG_INTERVAL_NS 4000000000ull
#define BENCH_HTTP_PONG "\x8a\x80\x00\x00\x00\x00"
#define BENCH_HTTP_PONG_LENGTH 6

/* The request of a subscriber of path on host: a stream of NDJSON, or
 * with websocket an upgrade (RFC 6455 4.1). Its length, or -1 when it
 * does not fit in size bytes. */
int bench_http_subscribe_request(char *out, size_t size, const char *path, const char *host, int websocket);
/* The status a subscriber's answer must have: 200, or 101 for a WebSocket. */
int bench_http_subscribe_status(int websocket);

/* A publisher's answer (rill and Nchan both send headers, then
 * Content-Length bytes), read as its bytes come into buffer (capacity
 * bytes, *buffered of them held): 1 when one whole answer was taken, with
 * *status, and what came after it kept at the front of buffer; 0 while it
 * is not all there; -1 when data alone is larger than any answer (nothing
 * kept). */
int bench_http_take_answer(char *buffer, size_t capacity, size_t *buffered, const char *data, size_t length,
                           int *status);

/* Checks the two above on canned bytes: 0, or -1 with a line on stderr. */
int bench_http_self_test(void);

#endif
