/* test_hold_ring.c - a job's held parts: kept in order with their seqs,
 * oldest dropped first at the part bound and at the shared byte budget,
 * nothing held when either is 0, every byte given back on release. */
#include "hold_ring.h"
#include "rill_test.h"

#include <stdio.h>
#include <string.h>

static void push_text(rill_hold_ring_t *ring, uint64_t seq)
{
    char text[32];
    int length = snprintf(text, sizeof(text), "{\"i\":%llu}", (unsigned long long)seq);
    rill_hold_ring_push(ring, seq, text, (size_t)length);
}

static void test_part_bound(void)
{
    rill_hold_budget_t budget = {0, 1 << 20};
    rill_hold_ring_t ring;
    rill_hold_ring_init(&ring, 1000, &budget);
    CHECK(rill_hold_ring_count(&ring) == 0 && rill_hold_ring_first_seq(&ring, 7) == 7);
    for (uint64_t seq = 1; seq <= 2500; seq++)
        push_text(&ring, seq);
    /* The last 1000, oldest first, grown by doubling past the bound's
     * smaller powers: 1501..2500. */
    CHECK(rill_hold_ring_count(&ring) == 1000 && ring.dropped == 1500 && ring.capacity == 1000);
    CHECK(rill_hold_ring_first_seq(&ring, 0) == 1501);
    int in_order = 1;
    for (size_t i = 0; i < 1000; i++) {
        const rill_held_part_t *part = rill_hold_ring_at(&ring, i);
        char expected[32];
        snprintf(expected, sizeof(expected), "{\"i\":%llu}", (unsigned long long)(1501 + i));
        in_order &= part != NULL && part->seq == 1501 + i && part->length == strlen(expected) &&
                    memcmp(part->data, expected, part->length) == 0;
    }
    CHECK(in_order);
    CHECK(rill_hold_ring_at(&ring, 1000) == NULL);
    CHECK(budget.bytes == 1000 * strlen("{\"i\":1501}"));
    rill_hold_ring_release(&ring);
    CHECK(budget.bytes == 0 && ring.parts == NULL && rill_hold_ring_count(&ring) == 0);
}

static void test_byte_budget(void)
{
    /* Two jobs share 100 bytes: parts of 10 bytes each. */
    rill_hold_budget_t budget = {0, 100};
    rill_hold_ring_t first, second;
    rill_hold_ring_init(&first, 1000, &budget);
    rill_hold_ring_init(&second, 1000, &budget);
    const char part[] = "0123456789";
    for (uint64_t seq = 1; seq <= 7; seq++)
        CHECK(rill_hold_ring_push(&first, seq, part, 10) == 1);
    for (uint64_t seq = 1; seq <= 3; seq++)
        CHECK(rill_hold_ring_push(&second, seq, part, 10) == 1);
    CHECK(budget.bytes == 100);
    /* The budget is full: the second job gives up its own oldest. */
    CHECK(rill_hold_ring_push(&second, 4, part, 10) == 1);
    CHECK(rill_hold_ring_count(&second) == 3 && rill_hold_ring_first_seq(&second, 0) == 2 && budget.bytes == 100);
    CHECK(rill_hold_ring_count(&first) == 7);
    /* A part larger than the budget is not held at all. */
    char big[200];
    memset(big, 'x', sizeof(big));
    CHECK(rill_hold_ring_push(&first, 8, big, sizeof(big)) == 0 && rill_hold_ring_count(&first) == 7);
    /* One larger than what this job holds: it empties itself and still
     * does not fit, so it is not kept either. */
    CHECK(rill_hold_ring_push(&second, 5, big, 60) == 0 && rill_hold_ring_count(&second) == 0);
    CHECK(budget.bytes == 70);
    rill_hold_ring_release(&first);
    rill_hold_ring_release(&second);
    CHECK(budget.bytes == 0);
}

static void test_nothing_held(void)
{
    rill_hold_ring_t ring;
    rill_hold_ring_init(&ring, 0, NULL);
    CHECK(rill_hold_ring_push(&ring, 1, "{}", 2) == 0 && rill_hold_ring_count(&ring) == 0 && ring.dropped == 1);
    rill_hold_ring_release(&ring);
    rill_hold_budget_t none = {0, 0};
    rill_hold_ring_init(&ring, 10, &none);
    CHECK(rill_hold_ring_push(&ring, 1, "{}", 2) == 0 && rill_hold_ring_count(&ring) == 0);
    /* An empty part fits any budget. */
    CHECK(rill_hold_ring_push(&ring, 2, "", 0) == 1 && rill_hold_ring_at(&ring, 0)->seq == 2);
    rill_hold_ring_release(&ring);
    /* Without a budget only the count bounds it. */
    rill_hold_ring_init(&ring, 3, NULL);
    for (uint64_t seq = 10; seq < 20; seq++)
        push_text(&ring, seq);
    CHECK(rill_hold_ring_count(&ring) == 3 && rill_hold_ring_first_seq(&ring, 0) == 17);
    rill_hold_ring_release(&ring);
}

int main(void)
{
    test_part_bound();
    test_byte_budget();
    test_nothing_held();
    RILL_TEST_END();
}
