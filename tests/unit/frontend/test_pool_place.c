/* test_pool_place.c - state in a pool chunk's free room, disposed of when
 * the pool is cleared; a malloc of its own when there is no room. */
#include "rill_test.h"
#include "pool_place.h"

static int disposed;
static void *disposed_data;

static void on_dispose(void *data)
{
    disposed++;
    disposed_data = data;
    CHECK(((char *)data)[0] == 'x'); /* still readable while disposed of */
}

int main(void)
{
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    size_t chunk = pool.chunk_offset; /* an empty pool's offset: the chunk size */

    /* No chunk yet: a malloc of its own (placing it would take a chunk;
     * h2o's reference to it takes one anyway). */
    char *alone = rill_pool_place(&pool, 500, on_dispose);
    alone[0] = 'x';
    CHECK(pool.chunks == NULL || alone < (char *)pool.chunks || alone >= (char *)pool.chunks + chunk + 16);
    h2o_mem_clear_pool(&pool);
    CHECK(disposed == 1 && disposed_data == alone);

    /* A chunk with room: the state goes in it. */
    (void)h2o_mem_alloc_pool(&pool, 100);
    size_t offset = pool.chunk_offset;
    char *placed = rill_pool_place(&pool, 500, on_dispose);
    placed[0] = 'x';
    CHECKF(pool.chunk_offset >= offset + 512, "offset %zu -> %zu", offset, pool.chunk_offset);
    CHECK(placed >= (char *)pool.chunks && placed < (char *)pool.chunks + chunk + 16);
    /* Too little room left (the spare kept for h2o): a malloc again. */
    while (chunk - pool.chunk_offset > RILL_POOL_PLACE_SPARE + 256)
        (void)h2o_mem_alloc_pool(&pool, 256); /* small pieces: h2o puts big ones apart */
    offset = pool.chunk_offset;
    char *outside = rill_pool_place(&pool, 500, on_dispose);
    outside[0] = 'x';
    CHECK(outside < (char *)pool.chunks || outside >= (char *)pool.chunks + chunk + 16);
    CHECK(pool.chunk_offset - offset <= 16); /* only its reference, if anything */
    h2o_mem_clear_pool(&pool);
    CHECK(disposed == 3);
    RILL_TEST_END();
}
