/*
 * bench_http.c - see bench_http.h.
 */
#include "bench_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bench_http_subscribe_request(char *out, size_t size, const char *path, const char *host, int websocket)
{
    int length;
    if (websocket) /* the key is any 16 bytes in base64: "rill-bench-key!!" */
        length = snprintf(out, size, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: cmlsbC1iZW5jaC1rZXkhIQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                          path, host);
    else
        length = snprintf(out, size, "GET %s HTTP/1.1\r\nHost: %s\r\nTE: chunked\r\n"
                          "Accept: application/x-ndjson\r\n\r\n", path, host);
    return length < 0 || (size_t)length >= size ? -1 : length;
}

int bench_http_subscribe_status(int websocket)
{
    return websocket ? 101 : 200;
}

int bench_http_take_answer(char *buffer, size_t capacity, size_t *buffered, const char *data, size_t length,
                           int *status)
{
    if (length > capacity) {
        *buffered = 0;
        return -1;
    }
    if (*buffered + length > capacity)
        *buffered = 0; /* one answer is in flight at a time: what was held was no answer */
    memcpy(buffer + *buffered, data, length);
    *buffered += length;
    char *end = memmem(buffer, *buffered, "\r\n\r\n", 4);
    if (end == NULL)
        return 0;
    size_t header_length = (size_t)(end - buffer) + 4;
    size_t content_length = 0;
    char *field = memmem(buffer, header_length, "Content-Length:", 15);
    if (field == NULL)
        field = memmem(buffer, header_length, "content-length:", 15);
    if (field != NULL)
        content_length = strtoul(field + 15, NULL, 10);
    if (*buffered < header_length + content_length)
        return 0;
    *status = *buffered >= 12 ? atoi(buffer + 9) : 0;
    memmove(buffer, buffer + header_length + content_length, *buffered - header_length - content_length);
    *buffered -= header_length + content_length;
    return 1;
}

/* Two answers back to back, fed at every piece size: both taken, each
 * with its status, the second's bytes kept while the first is taken. */
int bench_http_self_test(void)
{
    static const char answers[] = "HTTP/1.1 202 Accepted\r\nContent-Length: 9\r\n\r\n{\"seq\":1}"
                                  "HTTP/1.1 503 Unavailable\r\ncontent-length: 2\r\n\r\n{}";
    size_t length = sizeof(answers) - 1;
    for (size_t piece = 1; piece <= length; piece++) {
        char buffer[256];
        size_t buffered = 0;
        int statuses[2] = {0, 0}, taken = 0;
        for (size_t at = 0; at < length; at += piece) {
            size_t take = at + piece > length ? length - at : piece;
            int status = 0;
            if (bench_http_take_answer(buffer, sizeof(buffer), &buffered, answers + at, take, &status) == 1 &&
                taken < 2)
                statuses[taken++] = status;
            while (taken < 2 && buffered > 0 && /* a whole answer left behind the one just taken */
                   bench_http_take_answer(buffer, sizeof(buffer), &buffered, "", 0, &status) == 1)
                statuses[taken++] = status;
        }
        if (taken != 2 || statuses[0] != 202 || statuses[1] != 503 || buffered != 0) {
            fprintf(stderr, "bench_http self-test: answers fed %zu bytes at a time: %d taken (%d, %d)\n", piece,
                    taken, statuses[0], statuses[1]);
            return -1;
        }
    }
    char small[8];
    size_t buffered = 0;
    int status = 0;
    if (bench_http_take_answer(small, sizeof(small), &buffered, answers, 20, &status) != -1 || buffered != 0) {
        fprintf(stderr, "bench_http self-test: an answer larger than the buffer was not refused\n");
        return -1;
    }
    return 0;
}
