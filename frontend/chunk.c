/*
 * chunk.c - see chunk.h. Kept tiny: it is on the hot path of every event.
 */
#include "chunk.h"

#include "rill_alloc.h"

#include <stdlib.h>
#include <string.h>

rill_chunk_t *rill_chunk_new(size_t capacity)
{
    if (capacity > UINT32_MAX - sizeof(rill_chunk_t))
        return NULL;
    rill_chunk_t *chunk = rill_xmalloc(sizeof(*chunk) + capacity);
    chunk->references = 1;
    chunk->length = 0;
    chunk->capacity = (uint32_t)capacity;
    chunk->kind = RILL_CHUNK_BYTES;
    chunk->accepted_ns = 0;
    return chunk;
}

rill_chunk_t *rill_chunk_new_copy(const char *text, size_t length)
{
    rill_chunk_t *chunk = rill_chunk_new(length);
    if (chunk == NULL)
        return NULL;
    if (length > 0)
        memcpy(chunk->bytes, text, length);
    chunk->length = (uint32_t)length;
    return chunk;
}

rill_chunk_t *rill_chunk_ref(rill_chunk_t *chunk)
{
    if (chunk != NULL)
        chunk->references++;
    return chunk;
}

void rill_chunk_unref(rill_chunk_t **chunk)
{
    if (chunk == NULL || *chunk == NULL)
        return;
    rill_chunk_t *self = *chunk;
    *chunk = NULL;
    if (--self->references == 0)
        free(self);
}
