/* test_retention.c - the per-job ring of retained events (broker/retention.c). */
#include "rill_test.h"
#include "retention.h"

#include <string.h>

static void push_text(rill_retention_t *ring, uint64_t seq, const char *text)
{
    zmq_msg_t message;
    zmq_msg_init_size(&message, strlen(text));
    memcpy(zmq_msg_data(&message), text, strlen(text));
    CHECK(rill_retention_push(ring, RILL_EVENT_PART, seq, &message) == 0);
    zmq_msg_close(&message); /* the ring keeps its own copy */
}

static int data_is(rill_retained_event_t *event, const char *text)
{
    return event != NULL && rill_retained_size(event) == strlen(text) &&
           memcmp(rill_retained_data(event), text, strlen(text)) == 0;
}

int main(void)
{
    /* Bounded: the oldest go first. */
    rill_retention_t *ring = rill_retention_new(3);
    CHECK(ring != NULL);
    push_text(ring, 1, "{\"i\":1}");
    push_text(ring, 2, "{\"i\":2}");
    push_text(ring, 3, "{\"i\":3}");
    push_text(ring, 4, "{\"i\":4}");
    push_text(ring, 5, "{\"i\":5}");
    CHECK(rill_retention_count(ring) == 3);
    CHECK(rill_retention_at(ring, 0)->seq == 3);
    CHECK(data_is(rill_retention_at(ring, 0), "{\"i\":3}"));
    CHECK(data_is(rill_retention_at(ring, 2), "{\"i\":5}"));
    CHECK(rill_retention_at(ring, 3) == NULL);
    CHECK(rill_retention_find_after(ring, 0) == 0);
    CHECK(rill_retention_find_after(ring, 3) == 1);
    CHECK(rill_retention_find_after(ring, 4) == 2);
    CHECK(rill_retention_find_after(ring, 5) == 3);
    CHECK(rill_retention_find_after(ring, 99) == 3);
    rill_retention_destroy(&ring);
    CHECK(ring == NULL);

    /* Growth keeps order across the wrap point. */
    ring = rill_retention_new(10);
    char text[32];
    for (uint64_t seq = 1; seq <= 25; seq++) {
        snprintf(text, sizeof(text), "%llu", (unsigned long long)seq);
        push_text(ring, seq, text);
    }
    CHECK(rill_retention_count(ring) == 10);
    for (size_t i = 0; i < 10; i++) {
        snprintf(text, sizeof(text), "%zu", 16 + i);
        CHECK(rill_retention_at(ring, i)->seq == 16 + i);
        CHECK(data_is(rill_retention_at(ring, i), text));
    }
    rill_retention_destroy(&ring);

    /* Stamped events age out oldest first; a shrink drops the oldest and
     * the ring keeps its order when it wraps afterwards. */
    ring = rill_retention_new(8);
    for (uint64_t seq = 1; seq <= 8; seq++) {
        zmq_msg_t message;
        zmq_msg_init_size(&message, 1);
        memcpy(zmq_msg_data(&message), "1", 1);
        CHECK(rill_retention_push_at(ring, RILL_EVENT_PART, seq, &message, 100 * seq) == 0);
        zmq_msg_close(&message);
    }
    CHECK(rill_retention_at(ring, 0)->at_ms == 100);
    CHECK(rill_retention_drop_before(ring, 300) == 2);
    CHECK(rill_retention_count(ring) == 6 && rill_retention_at(ring, 0)->seq == 3);
    CHECK(rill_retention_drop_before(ring, 300) == 0);
    rill_retention_set_capacity(ring, 3);
    CHECK(rill_retention_count(ring) == 3 && rill_retention_at(ring, 0)->seq == 6);
    for (uint64_t seq = 9; seq <= 20; seq++) {
        snprintf(text, sizeof(text), "%llu", (unsigned long long)seq);
        push_text(ring, seq, text);
    }
    CHECK(rill_retention_count(ring) == 3);
    for (size_t i = 0; i < 3; i++) {
        snprintf(text, sizeof(text), "%zu", 18 + i);
        CHECK(rill_retention_at(ring, i)->seq == 18 + i && data_is(rill_retention_at(ring, i), text));
    }
    rill_retention_set_capacity(ring, 5);
    push_text(ring, 21, "21");
    push_text(ring, 22, "22");
    push_text(ring, 23, "23");
    CHECK(rill_retention_count(ring) == 5 && rill_retention_at(ring, 0)->seq == 19);
    CHECK(rill_retention_at(ring, 4)->seq == 23 && data_is(rill_retention_at(ring, 4), "23"));
    CHECK(rill_retention_drop_before(ring, UINT64_MAX) == 5 && rill_retention_count(ring) == 0);
    rill_retention_destroy(&ring);

    /* Capacity 0 keeps nothing. */
    ring = rill_retention_new(0);
    push_text(ring, 1, "x");
    CHECK(rill_retention_count(ring) == 0);
    CHECK(rill_retention_find_after(ring, 0) == 0);
    rill_retention_destroy(&ring);

    /* Parts large and small are copied into the ring's own buffer: the
     * message they came from may go. */
    ring = rill_retention_new(2);
    zmq_msg_t large;
    zmq_msg_init_size(&large, 65536);
    memset(zmq_msg_data(&large), 'a', 65536);
    CHECK(rill_retention_push(ring, RILL_EVENT_PART, 1, &large) == 0);
    CHECK(rill_retained_data(rill_retention_at(ring, 0)) != zmq_msg_data(&large));
    zmq_msg_close(&large);
    CHECK(rill_retention_at(ring, 0)->type == RILL_EVENT_PART);
    CHECK(rill_retained_size(rill_retention_at(ring, 0)) == 65536);
    CHECK(rill_retained_data(rill_retention_at(ring, 0))[65535] == 'a');
    zmq_msg_t small;
    zmq_msg_init_size(&small, 100);
    memset(zmq_msg_data(&small), 'b', 100);
    CHECK(rill_retention_push(ring, RILL_EVENT_PART, 2, &small) == 0);
    CHECK(rill_retained_data(rill_retention_at(ring, 1)) != zmq_msg_data(&small));
    zmq_msg_close(&small);
    CHECK(rill_retained_size(rill_retention_at(ring, 1)) == 100 && rill_retained_data(rill_retention_at(ring, 1))[99] == 'b');
    CHECK(rill_retained_data(rill_retention_at(ring, 0))[0] == 'a');
    rill_retention_destroy(&ring);
    rill_retention_destroy(&ring); /* idempotent */

    /* An event's data alone is kept, and only it counts. */
    ring = rill_retention_new(2);
    CHECK(rill_retention_push_bytes(ring, RILL_EVENT_PART, 1, "{\"i\":1}", 7, 42) == 0);
    CHECK(rill_retention_count(ring) == 1);
    CHECK(rill_retention_bytes(ring) == 7 && rill_retention_at(ring, 0)->at_ms == 42);
    CHECK(rill_retained_size(rill_retention_at(ring, 0)) == 7);
    CHECK(memcmp(rill_retained_data(rill_retention_at(ring, 0)), "{\"i\":1}", 7) == 0);
    for (uint64_t seq = 2; seq <= 4; seq++) /* through a grow and a wrap */
        CHECK(rill_retention_push_bytes(ring, RILL_EVENT_PART, seq, "12", 2, 0) == 0);
    CHECK(rill_retention_count(ring) == 2 && rill_retention_bytes(ring) == 4);
    CHECK(rill_retention_at(ring, 0)->seq == 3 && memcmp(rill_retained_data(rill_retention_at(ring, 1)), "12", 2) == 0);
    rill_retention_destroy(&ring);

    /* The data buffer through many pushes of every size: each event keeps
     * its bytes while older ones go and the buffer is compacted, grown and
     * shrunk under it; then trimmed, and pushed to again. */
    ring = rill_retention_new(50);
    char big[3000];
    for (uint64_t seq = 1; seq <= 2000; seq++) {
        size_t size = seq % 97 == 0 ? 2000 + seq % 1000 : seq % 13; /* now and then a large one */
        memset(big, 'a' + (int)(seq % 26), size);
        zmq_msg_t message;
        zmq_msg_init_size(&message, size);
        memcpy(zmq_msg_data(&message), big, size);
        CHECK(rill_retention_push(ring, RILL_EVENT_PART, seq, &message) == 0);
        zmq_msg_close(&message);
        if (seq % 500 == 0)
            rill_retention_trim(ring);
    }
    int intact = 1;
    uint64_t bytes = 0;
    for (size_t i = 0; i < rill_retention_count(ring); i++) {
        rill_retained_event_t *kept = rill_retention_at(ring, i);
        uint64_t seq = 2000 - 49 + i;
        size_t size = seq % 97 == 0 ? 2000 + seq % 1000 : seq % 13;
        intact &= kept->seq == seq && rill_retained_size(kept) == size;
        for (size_t b = 0; b < size && intact; b++)
            intact &= rill_retained_data(kept)[b] == 'a' + (int)(seq % 26);
        bytes += size;
    }
    CHECKF(intact && rill_retention_count(ring) == 50, "count %zu", rill_retention_count(ring));
    CHECK(rill_retention_bytes(ring) == bytes);
    rill_retention_trim(ring);
    CHECK(rill_retention_count(ring) == 50 && rill_retention_at(ring, 49)->seq == 2000);
    push_text(ring, 2001, "after the trim");
    CHECK(data_is(rill_retention_at(ring, 49), "after the trim") && rill_retention_at(ring, 0)->seq == 1952);
    rill_retention_set_capacity(ring, 3); /* fewer slots than it has */
    push_text(ring, 2002, "x");
    CHECK(rill_retention_count(ring) == 3 && data_is(rill_retention_at(ring, 1), "after the trim"));
    CHECK(data_is(rill_retention_at(ring, 2), "x"));
    rill_retention_set_capacity(ring, 0);
    rill_retention_trim(ring); /* empty: holds nothing */
    CHECK(rill_retention_count(ring) == 0 && rill_retention_bytes(ring) == 0);
    rill_retention_set_capacity(ring, 5);
    push_text(ring, 2003, "");
    push_text(ring, 2004, "y");
    CHECK(rill_retention_count(ring) == 2 && data_is(rill_retention_at(ring, 0), "") && data_is(rill_retention_at(ring, 1), "y"));
    rill_retention_destroy(&ring);

    /* Bytes are bounded: the oldest go first, and the shared totals follow
     * every push, eviction and destroy. */
    rill_retention_totals_t totals = {0};
    ring = rill_retention_new(100);
    rill_retention_set_totals(ring, &totals);
    rill_retention_set_max_bytes(ring, 10);
    push_text(ring, 1, "aaaa");
    push_text(ring, 2, "bbbb");
    CHECK(rill_retention_bytes(ring) == 8 && totals.bytes == 8 && totals.evicted == 0);
    push_text(ring, 3, "cccc"); /* 12 > 10: seq 1 goes */
    CHECK(rill_retention_count(ring) == 2 && rill_retention_at(ring, 0)->seq == 2);
    CHECK(rill_retention_bytes(ring) == 8 && totals.bytes == 8 && totals.evicted == 1);
    push_text(ring, 4, "dddddddddd"); /* exactly the limit: alone */
    CHECK(rill_retention_count(ring) == 1 && rill_retention_at(ring, 0)->seq == 4);
    CHECK(totals.bytes == 10 && totals.evicted == 3);
    /* Too large to keep: not kept, and nothing older either (first moves
     * past it), then the next fits again. */
    push_text(ring, 5, "eeeeeeeeeee");
    CHECK(rill_retention_count(ring) == 0 && totals.bytes == 0 && totals.evicted == 5);
    push_text(ring, 6, "ff");
    CHECK(rill_retention_count(ring) == 1 && rill_retention_at(ring, 0)->seq == 6);
    CHECK(rill_retention_find_after(ring, 0) == 0);
    /* evict_oldest, as the job table uses it across jobs. */
    push_text(ring, 7, "gg");
    CHECK(rill_retention_evict_oldest(ring) == 2 && rill_retention_at(ring, 0)->seq == 7);
    CHECK(totals.bytes == 2 && totals.evicted == 6);
    /* Lowering the limit drops at once; a second ring adds to the totals. */
    rill_retention_t *other = rill_retention_new(10);
    rill_retention_set_totals(other, &totals);
    push_text(other, 1, "hhh");
    CHECK(totals.bytes == 5);
    rill_retention_set_max_bytes(ring, 1);
    CHECK(rill_retention_count(ring) == 0 && totals.bytes == 3 && totals.evicted == 7);
    CHECK(rill_retention_evict_oldest(ring) == 0 && totals.evicted == 7);
    rill_retention_destroy(&other);
    CHECK(totals.bytes == 0);
    rill_retention_destroy(&ring);

    /* Rings that share totals learn from the ones trimmed before them
     * (the first push allocates what those held): the averages follow the
     * trimmed rings, and a ring sized so keeps every byte right, also
     * past what the others held. */
    rill_retention_totals_t learned = {0};
    for (int job = 0; job < 40; job++) {
        rill_retention_t *done = rill_retention_new(1000);
        rill_retention_set_totals(done, &learned);
        for (uint64_t seq = 1; seq <= 20; seq++)
            push_text(done, seq, "0123456789012345678901234567890123456789");
        rill_retention_trim(done);
        rill_retention_destroy(&done);
    }
    CHECK(learned.typical_events16 / 16 >= 18 && learned.typical_events16 / 16 <= 20);
    CHECK(learned.typical_bytes16 / 16 >= 720 && learned.typical_bytes16 / 16 <= 800);
    rill_retention_t *like = rill_retention_new(1000);
    rill_retention_set_totals(like, &learned);
    char filler[2100];
    for (uint64_t seq = 1; seq <= 60; seq++) {
        size_t size = seq == 30 ? 2000 : 40; /* one larger than the others held in all */
        memset(filler, (int)('a' + seq % 26), size);
        filler[size] = 0;
        push_text(like, seq, filler);
    }
    CHECK(rill_retention_count(like) == 60 && rill_retention_bytes(like) == 59 * 40 + 2000);
    int kept_right = 1;
    for (size_t i = 0; i < 60; i++) {
        rill_retained_event_t *event = rill_retention_at(like, i);
        size_t size = i + 1 == 30 ? 2000 : 40;
        kept_right &= event->seq == i + 1 && event->size == size && event->data[0] == 'a' + (i + 1) % 26 &&
                  event->data[size - 1] == 'a' + (i + 1) % 26;
    }
    CHECK(kept_right);
    rill_retention_destroy(&like);
    CHECK(learned.bytes == 0);
    RILL_TEST_END();
}
