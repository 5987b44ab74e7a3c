/*
 * request_bytes.c - see request_bytes.h: the request's bytes move out of
 * h2o's read buffer into one of their own size.
 */
#include "request_bytes.h"

#include <stddef.h>
#include <string.h>

/* Worth a move only when it gives back at least this much. */
#define MOVE_AT_LEAST 1024

typedef struct {
    const char *from; /* the old bytes */
    size_t length;
    char *to; /* the new */
} rebase_t;

static void rebase_pointer(const rebase_t *rebase, char **pointer)
{
    if (*pointer != NULL && *pointer >= rebase->from && *pointer <= rebase->from + rebase->length)
        *pointer = rebase->to + (*pointer - rebase->from);
}

static void rebase_iovec(const rebase_t *rebase, h2o_iovec_t *iovec)
{
    rebase_pointer(rebase, &iovec->base);
}

static void rebase_headers(const rebase_t *rebase, h2o_headers_t *headers)
{
    for (size_t i = 0; i < headers->size; i++) {
        h2o_header_t *header = headers->entries + i;
        /* A token's name is h2o's own; any other name is an iovec in the
         * pool whose bytes are the request's (h2o_add_header_by_str). */
        if (!h2o_iovec_is_token(header->name))
            rebase_iovec(rebase, header->name);
        rebase_iovec(rebase, &header->value);
        if (header->orig_name != NULL)
            rebase_pointer(rebase, (char **)&header->orig_name);
    }
}

/* Every pointer of req that h2o's HTTP/1 parser (phr_parse_request) may
 * have set into the read buffer, and the ones derived from those when the
 * request was processed (h2o_process_request copies input.* to the fields
 * of the same name; a path needing no normalization is its own
 * normalization). A pointer outside the old bytes stays as it is. */
static void rebase_request(const rebase_t *rebase, h2o_req_t *req)
{
    rebase_iovec(rebase, &req->input.authority);
    rebase_iovec(rebase, &req->input.method);
    rebase_iovec(rebase, &req->input.path);
    rebase_iovec(rebase, &req->authority);
    rebase_iovec(rebase, &req->method);
    rebase_iovec(rebase, &req->path);
    rebase_iovec(rebase, &req->path_normalized);
    rebase_iovec(rebase, &req->upgrade);
    rebase_headers(rebase, &req->headers);
    rebase_headers(rebase, &req->res.headers);
    for (size_t i = 0; i < req->env.size; i++)
        rebase_iovec(rebase, &req->env.entries[i]);
}

size_t rill_request_bytes_move(h2o_req_t *req, h2o_buffer_t **input)
{
    h2o_buffer_t *old = *input;
    /* A body is parsed in place too (req->entity) and handlers may keep
     * what they parsed from it: such a request keeps its buffer. */
    if (old == NULL || old->bytes == NULL || old->size == 0 || req->entity.base != NULL)
        return 0;
    size_t capacity = old->size;
    if (capacity == old->_prototype->_initial_buf.capacity)
        capacity++; /* h2o would recycle a buffer of the prototype's size as one */
    if (old->capacity < capacity + MOVE_AT_LEAST)
        return 0;
    h2o_buffer_t *fresh = h2o_mem_alloc(offsetof(h2o_buffer_t, _buf) + capacity);
    fresh->capacity = capacity;
    fresh->size = old->size;
    fresh->bytes = fresh->_buf;
    fresh->_prototype = old->_prototype;
    fresh->_fd = -1;
    memcpy(fresh->_buf, old->bytes, old->size);
    rebase_t rebase = {old->bytes, old->size, fresh->_buf};
    rebase_request(&rebase, req);
    size_t given_back = old->capacity - capacity;
    *input = fresh;
    h2o_buffer_dispose(&old);
    return given_back;
}

size_t rill_request_bytes_shrink(h2o_req_t *req)
{
    h2o_conn_t *conn = req->conn;
    if (req->version >= 0x200 || conn == NULL || conn->callbacks->get_socket == NULL)
        return 0;
    h2o_socket_t *sock = conn->callbacks->get_socket(conn);
    /* TLS keeps a second buffer of its own; a reading socket writes into
     * the buffer at any time. */
    if (sock == NULL || sock->ssl != NULL || h2o_socket_is_reading(sock))
        return 0;
    return rill_request_bytes_move(req, &sock->input);
}
