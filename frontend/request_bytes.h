/*
 * request_bytes.h - an open HTTP/1.1 stream keeps its request's bytes, not
 * h2o's read buffer.
 *
 * h2o 2.2 reads a request into the connection's input buffer (an 8 KiB
 * h2o_buffer from h2o_socket_buffer_prototype) and parses it in place: the
 * method, the path, the Host and every header value of the h2o_req_t point
 * into that buffer, and h2o consumes the request's bytes from it only when
 * the response is over. For a stream that stays open for hours, that is
 * 8 KiB held for the ~100 bytes of a GET - and about 4 KiB of RSS each, the
 * largest single cost of an idle stream (docs/DESIGN.md, "Performance").
 *
 * Once the stream's response has started (the handler is done with the
 * request, h2o reads nothing more while the response is open), the bytes
 * move to an h2o_buffer of their own size, every pointer h2o parsed into
 * the old buffer moves with them (the same set h2o itself copies to the
 * pool when a request body could make the buffer move: http1.c
 * fixup_request), and the read buffer goes back to h2o's prototype. Should
 * the connection be kept alive after the stream, h2o grows the small buffer
 * again at its next read (h2o_buffer_reserve), as it grows any buffer.
 */
#ifndef RILL_FRONTEND_REQUEST_BYTES_H
#define RILL_FRONTEND_REQUEST_BYTES_H

#include <h2o.h>

/* Moves the bytes of *input (the connection's read buffer, that req was
 * parsed from) into a buffer of their own size and rebases every pointer of
 * req into them; the old buffer is disposed of. Returns the bytes given
 * back (the old capacity less the new), 0 when nothing was worth moving
 * (an empty or already small buffer, a request with a body). */
size_t rill_request_bytes_move(h2o_req_t *req, h2o_buffer_t **input);

/* The same for the connection of req, when it is a plain-text HTTP/1.x
 * connection that h2o does not read now (an open streaming response);
 * anything else (HTTP/2, TLS, a reading socket) is left as it is. */
size_t rill_request_bytes_shrink(h2o_req_t *req);

#endif
