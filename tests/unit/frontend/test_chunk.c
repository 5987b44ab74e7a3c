/* test_chunk.c - refcounted shared bytes: the last unref frees, copies are exact. */
#include "rill_test.h"
#include "chunk.h"

#include <stdint.h>

int main(void)
{
    rill_chunk_t *chunk = rill_chunk_new_copy("hello\n", 6);
    CHECK(chunk != NULL);
    CHECK(chunk->references == 1);
    CHECK_BYTES(chunk->bytes, chunk->length, "hello\n");

    /* Three streams share it. */
    rill_chunk_t *a = rill_chunk_ref(chunk);
    rill_chunk_t *b = rill_chunk_ref(chunk);
    CHECK(a == chunk && b == chunk);
    CHECK(chunk->references == 3);
    rill_chunk_unref(&a);
    CHECK(a == NULL);
    CHECK(chunk->references == 2);
    rill_chunk_unref(&b);
    CHECK(chunk->references == 1);
    rill_chunk_unref(&chunk); /* frees: ASan/valgrind would report a leak or double free */
    CHECK(chunk == NULL);
    rill_chunk_unref(&chunk); /* NULL is fine */
    rill_chunk_unref(NULL);
    CHECK(rill_chunk_ref(NULL) == NULL);

    rill_chunk_t *empty = rill_chunk_new(0);
    CHECK(empty != NULL && empty->length == 0 && empty->capacity == 0);
    rill_chunk_unref(&empty);
    CHECK(rill_chunk_new((size_t)UINT32_MAX + 10) == NULL);
    RILL_TEST_END();
}
