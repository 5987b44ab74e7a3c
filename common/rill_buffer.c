/* rill_buffer.c - see rill_buffer.h. */
#include "rill_buffer.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rill_buffer_init(rill_buffer_t *buffer)
{
    memset(buffer, 0, sizeof(*buffer));
}

void rill_buffer_release(rill_buffer_t *buffer)
{
    free(buffer->data);
    rill_buffer_init(buffer);
}

/* Room for more bytes plus the NUL. */
static int reserve(rill_buffer_t *buffer, size_t more)
{
    if (buffer->failed)
        return -1;
    if (more > SIZE_MAX / 4 - buffer->length) {
        buffer->failed = 1;
        return -1;
    }
    size_t needed = buffer->length + more + 1;
    if (needed <= buffer->capacity)
        return 0;
    size_t capacity = buffer->capacity > 0 ? buffer->capacity : 256;
    while (capacity < needed)
        capacity *= 2;
    char *grown = realloc(buffer->data, capacity);
    if (grown == NULL) {
        buffer->failed = 1;
        return -1;
    }
    buffer->data = grown;
    buffer->capacity = capacity;
    return 0;
}

int rill_buffer_append(rill_buffer_t *buffer, const void *data, size_t length)
{
    if (reserve(buffer, length) != 0)
        return -1;
    if (length > 0)
        memcpy(buffer->data + buffer->length, data, length);
    buffer->length += length;
    buffer->data[buffer->length] = '\0';
    return 0;
}

int rill_buffer_printf(rill_buffer_t *buffer, const char *format, ...)
{
    char small[256];
    va_list arguments;
    va_start(arguments, format);
    int length = vsnprintf(small, sizeof(small), format, arguments);
    va_end(arguments);
    if (length < 0) {
        buffer->failed = 1;
        return -1;
    }
    if ((size_t)length < sizeof(small))
        return rill_buffer_append(buffer, small, (size_t)length);
    if (reserve(buffer, (size_t)length) != 0)
        return -1;
    va_start(arguments, format);
    vsnprintf(buffer->data + buffer->length, (size_t)length + 1, format, arguments);
    va_end(arguments);
    buffer->length += (size_t)length;
    return 0;
}

void rill_buffer_consume(rill_buffer_t *buffer, size_t count)
{
    if (count >= buffer->length) {
        buffer->length = 0;
    } else {
        memmove(buffer->data, buffer->data + count, buffer->length - count);
        buffer->length -= count;
    }
    if (buffer->data != NULL)
        buffer->data[buffer->length] = '\0';
}
