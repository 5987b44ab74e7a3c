/* test_worker_pool.c - which worker gets a batch (broker/worker_pool.c). */
#include "rill_test.h"
#include "worker_pool.h"

static rill_worker_t *add(rill_worker_pool_t *pool, uint8_t id, const char *kind, uint64_t credit)
{
    uint8_t routing[5] = {0, 0, 0, 0, id};
    rill_worker_spec_t spec = {.name = "w", .host = "h", .pid = id, .kind_count = 1, .credit = credit};
    spec.kinds[0] = kind;
    return rill_worker_pool_add(pool, routing, sizeof(routing), &spec, 0);
}

int main(void)
{
    rill_worker_pool_t *pool = rill_worker_pool_new();
    CHECK(pool != NULL);
    CHECK(rill_worker_pool_choose(pool, "demo") == NULL);

    rill_worker_t *w1 = add(pool, 1, "demo", 10);
    rill_worker_t *w2 = add(pool, 2, "demo", 10);
    rill_worker_t *w3 = add(pool, 3, "tail", 1);
    CHECK(w1 != NULL && w2 != NULL && w3 != NULL);
    CHECK(add(pool, 1, "demo", 1) == NULL); /* same routing id twice */
    uint8_t routing2[5] = {0, 0, 0, 0, 2};
    CHECK(rill_worker_pool_find(pool, routing2, 5) == w2);
    CHECK(rill_worker_pool_size(pool) == 3);

    /* Equal workers share the load: round-robin. */
    int got1 = 0, got2 = 0;
    rill_worker_t *previous = NULL;
    for (int i = 0; i < 8; i++) {
        rill_worker_t *chosen = rill_worker_pool_choose(pool, "demo");
        CHECK(chosen == w1 || chosen == w2);
        CHECK(chosen != previous);
        got1 += chosen == w1;
        got2 += chosen == w2;
        rill_worker_pool_note_batch(pool, chosen, 1);
        previous = chosen;
    }
    CHECK(got1 == 4 && got2 == 4);
    CHECK(w1->credit == 6 && w2->credit == 6 && w1->held == 4);

    /* Most free credit wins. */
    rill_worker_add_credit(w2, 3);
    CHECK(rill_worker_pool_choose(pool, "demo") == w2);
    /* ... unless the preferred worker is within 1/16 of its capacity of it
     * (one dispatch pass's jobs to one worker): w1 has 6 free, w2 9. */
    w1->capacity = 48; /* 3 */
    CHECK(rill_worker_pool_choose_near(pool, "demo", w1) == w1);
    w1->capacity = 47; /* 2 */
    CHECK(rill_worker_pool_choose_near(pool, "demo", w1) == w2);
    w1->capacity = 10;
    CHECK(rill_worker_pool_choose_near(pool, "demo", NULL) == w2);
    CHECK(rill_worker_pool_choose_near(pool, "demo", w3) == w2); /* w3 does not serve demo */
    CHECK(rill_worker_pool_choose_near(pool, "tail", w1) == w3);
    /* Kind filter. */
    CHECK(rill_worker_pool_choose(pool, "tail") == w3);
    CHECK(rill_worker_pool_choose(pool, "exec") == NULL);
    CHECK(rill_worker_pool_serving(pool, "demo") == 2);
    CHECK(rill_worker_pool_free_credit(pool) == 6 + 9 + 1);
    /* No credit, no batch. */
    rill_worker_pool_note_batch(pool, w3, 1);
    CHECK(w3->credit == 0);
    CHECK(rill_worker_pool_choose(pool, "tail") == NULL);
    CHECK(rill_worker_pool_choose_near(pool, "tail", w3) == NULL); /* no credit, even preferred */
    CHECK(rill_worker_pool_serving(pool, "tail") == 1); /* still serves: "queued", not "waiting" */
    /* Draining and unreachable workers get nothing and serve nothing. */
    w2->draining = 1;
    CHECK(rill_worker_pool_choose(pool, "demo") == w1);
    CHECK(rill_worker_pool_choose_near(pool, "demo", w2) == w1); /* preferred, but draining */
    w1->unreachable = 1;
    CHECK(rill_worker_pool_choose(pool, "demo") == NULL);
    CHECK(rill_worker_pool_serving(pool, "demo") == 0);
    /* Credit is bounded. */
    rill_worker_add_credit(w3, 5 * RILL_WORKER_CREDIT_MAX);
    CHECK(w3->credit == RILL_WORKER_CREDIT_MAX);

    rill_worker_pool_remove(pool, &w2);
    CHECK(w2 == NULL && rill_worker_pool_size(pool) == 2);
    CHECK(rill_worker_pool_find(pool, routing2, 5) == NULL);
    rill_worker_pool_destroy(&pool);
    CHECK(pool == NULL);
    RILL_TEST_END();
}
