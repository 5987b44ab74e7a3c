/*
 * rill_alloc.c - allocation that never returns NULL (rill_alloc.h says why).
 */
#include "rill_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t size)
{
    fprintf(stderr, "rill: out of memory allocating %zu bytes\n", size);
    abort();
}

void *rill_xmalloc(size_t size)
{
    void *pointer = malloc(size == 0 ? 1 : size);
    if (pointer == NULL)
        out_of_memory(size);
    return pointer;
}

void *rill_xcalloc(size_t count, size_t size)
{
    void *pointer = calloc(count == 0 ? 1 : count, size == 0 ? 1 : size);
    if (pointer == NULL)
        out_of_memory(count * size);
    return pointer;
}

void *rill_xrealloc(void *pointer, size_t size)
{
    void *moved = realloc(pointer, size == 0 ? 1 : size);
    if (moved == NULL)
        out_of_memory(size);
    return moved;
}

char *rill_xstrdup(const char *text)
{
    return rill_xmemdup_text(text, strlen(text));
}

char *rill_xstrndup(const char *text, size_t length)
{
    return rill_xmemdup_text(text, strnlen(text, length));
}

char *rill_xmemdup_text(const void *bytes, size_t length)
{
    char *copy = rill_xmalloc(length + 1);
    if (length > 0)
        memcpy(copy, bytes, length);
    copy[length] = '\0';
    return copy;
}
