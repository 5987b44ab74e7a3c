/* test_hold_ring.c - a job's held parts: kept in order with their seqs,
 * oldest dropped first at the part bound and at the shared byte budget,
 * nothing held when either is 0, every byte given back on release. */
#include "hold_ring.h"
#include "rill_test.h"

#include <stdio.h>
#include <stdlib.h>
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

/* The parts' bytes share one buffer that moves as parts come and go:
 * against random sizes, every held part still reads as pushed, the budget
 * counts exactly what is held, and the buffer stays within 1.5 times the
 * most the ring needed at once (or its 1 KiB floor). */
static void test_bytes_move(void)
{
    rill_hold_budget_t budget = {0, 4000};
    rill_hold_ring_t ring;
    rill_hold_ring_init(&ring, 37, &budget);
    unsigned int seed = 3;
    char data[600];
    size_t most = 0;
    int intact = 1, counted = 1, bounded = 1;
    for (uint64_t seq = 1; seq <= 20000; seq++) {
        size_t length = (size_t)(rand_r(&seed) % (seq % 1000 < 500 ? 40 : 600));
        memset(data, 'a' + (int)(seq % 26), length);
        size_t held_before = ring.bytes_end - ring.bytes_head;
        if (held_before + length > most)
            most = held_before + length;
        rill_hold_ring_push(&ring, seq, data, length);
        size_t sum = 0;
        uint64_t last = 0;
        for (size_t i = 0; i < rill_hold_ring_count(&ring); i++) {
            const rill_held_part_t *part = rill_hold_ring_at(&ring, i);
            intact &= part->seq > last && part->data != NULL;
            for (size_t j = 0; j < part->length; j++)
                intact &= part->data[j] == 'a' + (int)(part->seq % 26);
            last = part->seq;
            sum += part->length;
        }
        counted &= budget.bytes == sum && ring.bytes_end - ring.bytes_head == sum;
        bounded &= ring.bytes_capacity <= (most + most / 2 > 1024 ? most + most / 2 : 1024);
    }
    CHECK(intact);
    CHECK(counted);
    CHECK(bounded);
    CHECK(ring.dropped > 0 && rill_hold_ring_count(&ring) > 0);
    rill_hold_ring_release(&ring);
    CHECK(budget.bytes == 0 && ring.bytes == NULL);
}

int main(void)
{
    test_part_bound();
    test_byte_budget();
    test_nothing_held();
    test_bytes_move();
    RILL_TEST_END();
}
