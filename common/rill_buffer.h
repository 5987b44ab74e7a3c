/*
 * rill_buffer.h - a growable byte buffer, the one every module builds text in
 * (Prometheus text, JSON parts, partial lines).
 *
 * Appends report failure (-1) and also make it sticky (failed): a renderer
 * that appends many pieces checks `failed` once at the end; a caller that
 * must react at once checks the return value. The data stays NUL-terminated
 * after every successful operation, so text can be used as a C string.
 */
#ifndef RILL_BUFFER_H
#define RILL_BUFFER_H

#include <stddef.h>

typedef struct {
    char *data; /* NULL until the first append */
    size_t length;
    size_t capacity;
    int failed; /* an append ran out of memory; later appends do nothing */
} rill_buffer_t;

/* A zeroed buffer is an empty one; init is the same as zeroing. */
void rill_buffer_init(rill_buffer_t *buffer);
void rill_buffer_release(rill_buffer_t *buffer);
/* Returns 0, or -1 (out of memory, or failed before) leaving the bytes unchanged. */
int rill_buffer_append(rill_buffer_t *buffer, const void *data, size_t length);
int rill_buffer_printf(rill_buffer_t *buffer, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first count bytes. */
void rill_buffer_consume(rill_buffer_t *buffer, size_t count);

#endif
