/* test_ready_queue.c - the dispatch order of ready jobs (broker/ready_queue.c). */
#include "rill_test.h"
#include "ready_queue.h"

static rill_job_t *make(char digit)
{
    char id[33];
    for (int i = 0; i < 32; i++)
        id[i] = digit;
    id[32] = '\0';
    rill_job_spec_t spec = {.id = id, .kind = "demo"};
    return rill_job_new(&spec);
}

int main(void)
{
    rill_ready_queue_t *queue = rill_ready_queue_new();
    rill_job_t *a = make('a'), *b = make('b'), *c = make('c');
    CHECK(rill_ready_queue_is_empty(queue));
    rill_ready_queue_push_back(queue, a);
    rill_ready_queue_push_back(queue, b);
    rill_ready_queue_push_back(queue, a); /* already queued: stays where it is */
    rill_ready_queue_push_front(queue, c); /* a retry goes first */
    CHECK(rill_ready_queue_length(queue) == 3);
    CHECK(rill_ready_queue_first(queue) == c);
    CHECK(rill_ready_queue_next(queue, c) == a);
    CHECK(rill_ready_queue_next(queue, a) == b);
    CHECK(rill_ready_queue_next(queue, b) == NULL);
    /* Remove while iterating. */
    rill_job_t *job = rill_ready_queue_first(queue);
    while (job != NULL) {
        rill_job_t *next = rill_ready_queue_next(queue, job);
        if (job == a)
            rill_ready_queue_remove(queue, job);
        job = next;
    }
    CHECK(!rill_ready_queue_contains(a) && rill_ready_queue_contains(b));
    CHECK(rill_ready_queue_length(queue) == 2);
    /* A job freed while queued leaves the queue. */
    rill_job_destroy(&c);
    CHECK(rill_ready_queue_first(queue) == b);
    rill_ready_queue_destroy(&queue);
    CHECK(!rill_ready_queue_contains(b));
    rill_job_destroy(&a);
    rill_job_destroy(&b);
    RILL_TEST_END();
}
