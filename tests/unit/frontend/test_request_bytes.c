/* test_request_bytes.c - a request's bytes move out of h2o's read buffer
 * with every pointer parsed into them; what is not worth a move stays. */
#include "rill_test.h"
#include "request_bytes.h"

static const char REQUEST[] = "GET /v1/topics/news?since=3 HTTP/1.1\r\nHost: rill\r\n"
                              "Accept: application/x-ndjson\r\nX-Thing: yes\r\nUpgrade: h2c\r\n\r\n";

static int within(const char *p, const h2o_buffer_t *buffer)
{
    return p >= buffer->bytes && p < buffer->bytes + buffer->size;
}

static int same(h2o_iovec_t v, const char *text)
{
    return v.len == strlen(text) && memcmp(v.base, text, v.len) == 0;
}

/* A request as h2o's HTTP/1 parser leaves it: its strings in the buffer. */
static void parse_into(h2o_req_t *req, h2o_buffer_t *buffer)
{
    memset(req, 0, sizeof(*req));
    h2o_mem_init_pool(&req->pool);
    char *at = buffer->bytes;
    req->input.method = h2o_iovec_init(at, 3);
    req->input.path = h2o_iovec_init(at + 4, strlen("/v1/topics/news?since=3"));
    req->method = req->input.method;
    req->path = req->input.path;
    req->path_normalized = h2o_iovec_init(req->path.base, strlen("/v1/topics/news"));
    char *host = strstr(at, "rill");
    req->input.authority = req->authority = h2o_iovec_init(host, 4);
    char *accept = strstr(at, "application/");
    h2o_add_header(&req->pool, &req->headers, H2O_TOKEN_ACCEPT, NULL, accept,
                   strlen("application/x-ndjson"));
    char *name = strstr(at, "X-Thing"), *value = strstr(at, "yes");
    h2o_add_header_by_str(&req->pool, &req->headers, name, 7, 0, NULL, value, 3);
    req->upgrade = h2o_iovec_init(strstr(at, "h2c"), 3);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/x-ndjson"));
}

static h2o_buffer_t *read_buffer(const char *bytes, size_t length)
{
    h2o_buffer_t *buffer;
    h2o_buffer_init(&buffer, &h2o_socket_buffer_prototype);
    h2o_iovec_t room = h2o_buffer_reserve(&buffer, 4096);
    memcpy(room.base, bytes, length);
    buffer->size += length;
    return buffer;
}

int main(void)
{
    /* A request and the next one pipelined behind it, after an earlier
     * request consumed from the same buffer. */
    static const char EARLIER[] = "GET /healthz HTTP/1.1\r\n\r\n";
    static const char NEXT[] = "GET /healthz HTTP/1.1\r\nHost: rill\r\n\r\n";
    char bytes[1024];
    size_t length = (size_t)snprintf(bytes, sizeof(bytes), "%s%s%s", EARLIER, REQUEST, NEXT);
    h2o_buffer_t *buffer = read_buffer(bytes, length);
    h2o_buffer_consume(&buffer, strlen(EARLIER));
    size_t capacity = buffer->capacity, size = buffer->size;
    h2o_req_t req;
    parse_into(&req, buffer);

    size_t given = rill_request_bytes_move(&req, &buffer);
    CHECKF(given == capacity - size, "%zu given back of %zu", given, capacity);
    CHECK(buffer->size == size && buffer->capacity == size);
    CHECK(memcmp(buffer->bytes, REQUEST, strlen(REQUEST)) == 0);
    CHECK(memcmp(buffer->bytes + strlen(REQUEST), NEXT, strlen(NEXT)) == 0);
    CHECK(within(req.input.method.base, buffer) && same(req.input.method, "GET"));
    CHECK(within(req.method.base, buffer) && same(req.method, "GET"));
    CHECK(within(req.input.path.base, buffer) && same(req.input.path, "/v1/topics/news?since=3"));
    CHECK(req.path.base == req.input.path.base && req.path.len == req.input.path.len);
    CHECK(req.path_normalized.base == req.path.base && same(req.path_normalized, "/v1/topics/news"));
    CHECK(within(req.input.authority.base, buffer) && same(req.authority, "rill"));
    CHECK(within(req.upgrade.base, buffer) && same(req.upgrade, "h2c"));
    CHECK(req.headers.size == 2);
    CHECK(req.headers.entries[0].name == &H2O_TOKEN_ACCEPT->buf);
    CHECK(within(req.headers.entries[0].value.base, buffer) &&
          same(req.headers.entries[0].value, "application/x-ndjson"));
    CHECK(within(req.headers.entries[1].name->base, buffer) &&
          same(*req.headers.entries[1].name, "X-Thing"));
    CHECK(within(req.headers.entries[1].value.base, buffer) && same(req.headers.entries[1].value, "yes"));
    /* Bytes elsewhere (the pool, h2o's own) stay where they are. */
    CHECK(same(req.res.headers.entries[0].value, "application/x-ndjson") &&
          !within(req.res.headers.entries[0].value.base, buffer));

    /* Moved already: nothing more to give. */
    CHECK(rill_request_bytes_move(&req, &buffer) == 0);
    /* h2o consumes the request at the end of the response, then the next
     * read grows the small buffer again. */
    h2o_buffer_consume(&buffer, strlen(REQUEST));
    CHECK(buffer->size == strlen(NEXT) && memcmp(buffer->bytes, NEXT, strlen(NEXT)) == 0);
    h2o_iovec_t room = h2o_buffer_reserve(&buffer, 4096);
    CHECK(room.base != NULL && room.len >= 4096);
    CHECK(memcmp(buffer->bytes, NEXT, strlen(NEXT)) == 0);
    h2o_buffer_consume(&buffer, strlen(NEXT)); /* empty: freed, the prototype again */
    CHECK(buffer == &h2o_socket_buffer_prototype._initial_buf);
    h2o_mem_clear_pool(&req.pool);

    /* A request with a body keeps its buffer: handlers parse it in place. */
    buffer = read_buffer(REQUEST, strlen(REQUEST));
    parse_into(&req, buffer);
    req.entity = h2o_iovec_init(buffer->bytes + buffer->size, 0);
    h2o_buffer_t *before = buffer;
    CHECK(rill_request_bytes_move(&req, &buffer) == 0 && buffer == before);
    h2o_mem_clear_pool(&req.pool);
    h2o_buffer_dispose(&buffer);

    /* Nothing in the buffer: nothing to move. */
    h2o_buffer_init(&buffer, &h2o_socket_buffer_prototype);
    memset(&req, 0, sizeof(req));
    CHECK(rill_request_bytes_move(&req, &buffer) == 0);
    RILL_TEST_END();
}
