/* test_follower_batches.c - the broker's per-pass batches of followed
 * events (broker/follower_batches.c): entries joined from a header and a
 * body, one message per follow subject, the limits that send a batch early,
 * and what is refused. Each sent batch is read back with the frontends'
 * reader (rill_event_batch.h). */
#include "follower_batches.h"
#include "rill_event_batch.h"
#include "rill_test.h"

#include <stdio.h>
#include <string.h>

#define ID "0123456789abcdef0123456789abcdef"

typedef struct {
    char follow[64];
    size_t events;   /* entries the batch was sent with */
    size_t read;     /* events read back from it */
    uint64_t last_seq;
    int ok;          /* opened, every entry a part of job ID with data {"i":<seq>} */
} sent_t;

typedef struct {
    sent_t sent[16];
    size_t count;
    size_t lost; /* sends with no message */
} sink_t;

static void on_send(void *context, const char *follow, zmq_msg_t *message, size_t events)
{
    sink_t *sink = context;
    if (message == NULL) {
        sink->lost++;
        return;
    }
    sent_t *sent = &sink->sent[sink->count++];
    memset(sent, 0, sizeof(*sent));
    snprintf(sent->follow, sizeof(sent->follow), "%s", follow);
    sent->events = events;
    rill_frame_t frame = {zmq_msg_data(message), zmq_msg_size(message)};
    rill_event_batch_t batch;
    const char *error = NULL;
    sent->ok = rill_event_batch_open(frame, &batch, &error) == 0 && batch.count == events &&
               rill_frame_equals(batch.follow, follow);
    rill_event_t event;
    int got;
    while (sent->ok && (got = rill_event_batch_next(&batch, &event, &error)) == 1) {
        char data[32];
        int length = snprintf(data, sizeof(data), "{\"i\":%llu}", (unsigned long long)event.seq);
        sent->ok = event.type == RILL_EVENT_PART && rill_frame_equals(event.subject, ID) &&
                   event.data.size == (size_t)length && memcmp(event.data.data, data, (size_t)length) == 0 &&
                   event.seq > sent->last_seq;
        sent->last_seq = event.seq;
        sent->read++;
    }
    zmq_msg_close(message);
}

/* Adds part seq of job ID ({"i":seq}) to follow's batch. */
static int add_part(rill_follower_batches_t *batches, const char *follow, uint64_t seq, size_t limit, sink_t *sink)
{
    char header[RILL_EVENT_HEADER_MAX];
    size_t header_length = rill_event_header_encode(header, "j" ID, 33, RILL_EVENT_PART, seq, 1000 + seq);
    CHECK(header_length > 0);
    char data[32];
    int length = snprintf(data, sizeof(data), "{\"i\":%llu}", (unsigned long long)seq);
    return rill_follower_batches_add(batches, follow, strlen(follow), header, header_length, data, (size_t)length,
                                     limit, on_send, sink);
}

int main(void)
{
    sink_t sink = {0};
    rill_follower_batches_t *batches = rill_follower_batches_new();
    CHECK(batches != NULL);

    /* Two follow subjects in one pass: one message each at the flush, in
     * the order added, every entry intact. */
    for (uint64_t seq = 1; seq <= 3; seq++)
        CHECK(add_part(batches, "dfrontendA/", seq, RILL_EVENT_BATCH_MAX_BYTES, &sink) == 0);
    CHECK(add_part(batches, "dfrontendB/", 7, RILL_EVENT_BATCH_MAX_BYTES, &sink) == 0);
    CHECK(sink.count == 0); /* nothing leaves before the flush */
    rill_follower_batches_flush(batches, on_send, &sink);
    CHECK(sink.count == 2 && sink.lost == 0);
    CHECK(strcmp(sink.sent[0].follow, "dfrontendA/") == 0 && sink.sent[0].events == 3 && sink.sent[0].read == 3);
    CHECK(sink.sent[0].ok && sink.sent[0].last_seq == 3);
    CHECK(strcmp(sink.sent[1].follow, "dfrontendB/") == 0 && sink.sent[1].events == 1 && sink.sent[1].ok);
    rill_follower_batches_flush(batches, on_send, &sink);
    CHECK(sink.count == 2); /* empty after a flush */

    /* The event count bound: the 65th event sends the first 64. */
    sink.count = 0;
    for (uint64_t seq = 1; seq <= RILL_EVENT_BATCH_MAX_EVENTS + 1; seq++)
        CHECK(add_part(batches, "dfrontendA/", seq, RILL_EVENT_BATCH_MAX_BYTES, &sink) == 0);
    CHECK(sink.count == 1 && sink.sent[0].events == RILL_EVENT_BATCH_MAX_EVENTS && sink.sent[0].ok);
    rill_follower_batches_flush(batches, on_send, &sink);
    CHECK(sink.count == 2 && sink.sent[1].events == 1 && sink.sent[1].last_seq == RILL_EVENT_BATCH_MAX_EVENTS + 1);

    /* The byte bound: entries past limit send the batch first; an entry
     * over limit by itself is refused, after its subject's batch left, so
     * the caller's lone send keeps the order. */
    sink.count = 0;
    size_t limit = 150; /* two entries of 63 bytes fit, not three */
    CHECK(add_part(batches, "dfrontendA/", 1, limit, &sink) == 0);
    CHECK(add_part(batches, "dfrontendA/", 2, limit, &sink) == 0);
    CHECK(add_part(batches, "dfrontendA/", 3, limit, &sink) == 0);
    CHECK(sink.count == 1 && sink.sent[0].events == 2 && sink.sent[0].ok);
    CHECK(add_part(batches, "dfrontendA/", 4, 40, &sink) == 1);
    CHECK(sink.count == 2 && sink.sent[1].events == 1 && sink.sent[1].last_seq == 3);

    /* A follow subject too long for any batch is refused. */
    char long_follow[RILL_FOLLOW_SUBJECT_MAX + 8];
    memset(long_follow, 'd', sizeof(long_follow) - 1);
    long_follow[sizeof(long_follow) - 1] = '\0';
    CHECK(add_part(batches, long_follow, 1, RILL_EVENT_BATCH_MAX_BYTES, &sink) == 1);

    /* What is not sent is freed with the batches (ASan and valgrind tell). */
    CHECK(add_part(batches, "dfrontendC/", 1, RILL_EVENT_BATCH_MAX_BYTES, &sink) == 0);
    rill_follower_batches_destroy(&batches);
    CHECK(batches == NULL);
    rill_follower_batches_destroy(&batches); /* twice is harmless */
    RILL_TEST_END();
}
