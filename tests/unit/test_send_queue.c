/* test_send_queue.c - the outbox of messages a socket has not taken yet:
 * nothing dropped, order kept, copies taken, marks with hysteresis, a
 * message cut by a failure resumed where it stopped. A fake socket stands
 * in for ZeroMQ: it takes a given number of messages, then says EAGAIN. */
#include "rill_send_queue.h"
#include "rill_test.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

typedef struct {
    int room;             /* whole messages it takes before EAGAIN */
    int fail_frame;       /* when >= 0: that frame of the next message fails (EAGAIN), once */
    int fail_errno;       /* errno of a refusal (EAGAIN unless a test says) */
    int in_message;       /* frames of the message being taken so far */
    char received[64][32]; /* each whole message, its frames joined with '|' */
    int received_count;
    char current[32];
} fake_socket_t;

static int fake_send(void *socket, const void *data, size_t size, int flags)
{
    fake_socket_t *fake = socket;
    CHECK(flags & ZMQ_DONTWAIT);
    if ((fake->in_message == 0 && fake->room == 0) || fake->fail_frame == fake->in_message) {
        fake->fail_frame = -1;
        errno = fake->fail_errno;
        return -1;
    }
    size_t used = strlen(fake->current);
    snprintf(fake->current + used, sizeof(fake->current) - used, "%s%.*s", fake->in_message > 0 ? "|" : "",
             (int)size, (const char *)data);
    fake->in_message++;
    if (!(flags & ZMQ_SNDMORE)) {
        snprintf(fake->received[fake->received_count++], sizeof(fake->received[0]), "%s", fake->current);
        fake->current[0] = '\0';
        fake->in_message = 0;
        fake->room--;
    }
    return (int)size;
}

static void send_text(rill_send_queue_t *queue, const char *a, const char *b)
{
    rill_frame_t frames[2] = {rill_frame_from_string(a), rill_frame_from_string(b)};
    rill_send_queue_send(queue, frames, 2);
}

int main(void)
{
    fake_socket_t fake = {.room = 2, .fail_frame = -1, .fail_errno = EAGAIN};
    rill_send_queue_t queue;
    rill_send_queue_init(&queue, fake_send, &fake);

    /* The socket takes what it has room for at once; nothing is queued. */
    send_text(&queue, "A", "1");
    send_text(&queue, "B", "2");
    CHECK(fake.received_count == 2 && strcmp(fake.received[1], "B|2") == 0);
    CHECK(rill_send_queue_messages(&queue) == 0 && rill_send_queue_flush(&queue) == 0);

    /* Full: messages wait, as copies (the caller's bytes may change). */
    char volatile_text[8] = "C";
    send_text(&queue, volatile_text, "3");
    strcpy(volatile_text, "X");
    send_text(&queue, "D", "4");
    CHECK(fake.received_count == 2);
    CHECK(rill_send_queue_messages(&queue) == 2 && rill_send_queue_bytes(&queue) == 4);
    CHECK(rill_send_queue_flush(&queue) == 1 && rill_send_queue_messages(&queue) == 2);

    /* Room for one: the oldest goes; a newer one never overtakes. */
    fake.room = 1;
    CHECK(rill_send_queue_flush(&queue) == 1);
    CHECK(fake.received_count == 3 && strcmp(fake.received[2], "C|3") == 0);
    fake.room = 1;
    send_text(&queue, "E", "5"); /* D waits: E queues behind it though the socket has room */
    CHECK(fake.received_count == 3 && rill_send_queue_messages(&queue) == 2);
    fake.room = 10;
    CHECK(rill_send_queue_flush(&queue) == 0);
    CHECK(fake.received_count == 5 && strcmp(fake.received[3], "D|4") == 0 && strcmp(fake.received[4], "E|5") == 0);
    CHECK(rill_send_queue_messages(&queue) == 0 && rill_send_queue_bytes(&queue) == 0);

    /* push queues even when the socket has room (its caller tried already). */
    rill_frame_t frame = rill_frame_from_string("F");
    rill_send_queue_push(&queue, &frame, 1);
    CHECK(fake.received_count == 5 && rill_send_queue_messages(&queue) == 1);
    CHECK(rill_send_queue_flush(&queue) == 0 && strcmp(fake.received[5], "F") == 0);

    /* A failure in the middle of a message: the rest goes later, from there. */
    fake.fail_frame = 1;
    send_text(&queue, "G", "7");
    CHECK(fake.received_count == 6 && rill_send_queue_messages(&queue) == 1);
    CHECK(rill_send_queue_flush(&queue) == 0);
    CHECK(fake.received_count == 7 && strcmp(fake.received[6], "G|7") == 0);

    /* Another error than a full socket: reported, the message kept. */
    fake.room = 0;
    fake.fail_errno = ENOTSOCK;
    send_text(&queue, "H", "8");
    CHECK(rill_send_queue_flush(&queue) == -1 && errno == ENOTSOCK && rill_send_queue_messages(&queue) == 1);
    fake.fail_errno = EAGAIN;
    fake.room = 10;
    CHECK(rill_send_queue_flush(&queue) == 0 && strcmp(fake.received[7], "H|8") == 0);

    /* No marks: never full. */
    fake.room = 0;
    for (int i = 0; i < 100; i++)
        send_text(&queue, "I", "9");
    CHECK(!rill_send_queue_full(&queue));
    rill_send_queue_release(&queue);
    CHECK(rill_send_queue_messages(&queue) == 0 && rill_send_queue_bytes(&queue) == 0);

    /* Marks: full above 3 messages, not full again until at most 1 waits. */
    rill_send_queue_set_marks(&queue, 3, 1000, 1, 1000);
    for (int i = 0; i < 3; i++)
        send_text(&queue, "J", "0");
    CHECK(!rill_send_queue_full(&queue));
    send_text(&queue, "K", "0");
    CHECK(rill_send_queue_full(&queue));
    fake.room = 2;
    CHECK(rill_send_queue_flush(&queue) == 1 && rill_send_queue_messages(&queue) == 2);
    CHECK(rill_send_queue_full(&queue)); /* under high, not yet at low */
    fake.room = 1;
    CHECK(rill_send_queue_flush(&queue) == 1 && rill_send_queue_messages(&queue) == 1);
    CHECK(!rill_send_queue_full(&queue));

    /* The byte mark alone makes it full too. */
    rill_send_queue_release(&queue);
    fake.room = 0;
    rill_send_queue_set_marks(&queue, 1000, 9, 1000, 4);
    uint64_t queued_before = queue.queued_total;
    send_text(&queue, "0123", "4567");
    CHECK(!rill_send_queue_full(&queue));
    send_text(&queue, "ab", "");
    CHECK(rill_send_queue_full(&queue) && rill_send_queue_bytes(&queue) == 10);
    send_text(&queue, "c", "");
    CHECK(rill_send_queue_full(&queue) && rill_send_queue_bytes(&queue) == 11);
    fake.room = 1;
    CHECK(rill_send_queue_flush(&queue) == 1 && rill_send_queue_bytes(&queue) == 3);
    CHECK(!rill_send_queue_full(&queue));
    CHECK(queue.queued_total == queued_before + 3);
    rill_send_queue_release(&queue);
    RILL_TEST_END();
}
