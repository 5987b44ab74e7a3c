/*
 * events_channel.c - the responses subject's socket, the XPUB.
 *
 * Outgoing: one event is one message of ONE frame (rill/3), "<subject>
 * rill/4 <event> <seq> <accepted_ns>\n<data>" (rill_event_encode), which
 * the XPUB filters by its subject prefix; accepted_ns is this host's
 * CLOCK_MONOTONIC at acceptance, for the frontends' latency histogram; a
 * follower's events of one pass go as ONE batch message (rill/4,
 * follower_batches.h), held or dropped here like any other message. What
 * to publish, with which seq, is events.c's. Incoming: each subscribe/unsubscribe message goes to
 * rill_broker_subscription (listeners.h).
 */
#include "listeners.h"
#include "events_channel.h"
#include "job_life.h"
#include "rill_log.h"
#include "sockets.h"

#include <errno.h>
#include <string.h>

int rill_events_channel_publish(void *context, zmq_msg_t *event)
{
    rill_broker_sockets_t *sockets = context;
    if (rill_send_queue_messages(&sockets->events_waiting) == 0) {
        /* Nothing waits: the event goes without a copy. */
        if (zmq_msg_send(event, sockets->events, ZMQ_DONTWAIT) >= 0)
            return 0;
        if (errno != EAGAIN)
            return -1;
    }
    rill_frame_t frame = {zmq_msg_data(event), zmq_msg_size(event)};
    rill_send_queue_push(&sockets->events_waiting, &frame, 1);
    zmq_msg_close(event);
    return 0;
}

static void set_lossy(rill_broker_sockets_t *sockets, int lossy)
{
    int nodrop = !lossy;
    if (zmq_setsockopt(sockets->events, ZMQ_XPUB_NODROP, &nodrop, sizeof(nodrop)) != 0)
        rill_log_warn(NULL, "cannot set the events socket's ZMQ_XPUB_NODROP: %s", zmq_strerror(errno));
}

int rill_events_channel_flush(rill_broker_sockets_t *sockets, uint64_t now_ms, uint64_t patience_ms)
{
    rill_send_queue_t *waiting = &sockets->events_waiting;
    if (sockets->events_lossy_until_ms != 0 && now_ms >= sockets->events_lossy_until_ms) {
        sockets->events_lossy_until_ms = 0;
        set_lossy(sockets, 0);
    }
    if (rill_send_queue_messages(waiting) == 0)
        return 0;
    int flushed = rill_send_queue_flush(waiting);
    if (flushed < 0) {
        /* Not a full pipe: the socket itself failed. The events are
         * retained; frontends repair what they miss. */
        rill_log_warn(NULL, "events socket: %s; %zu waiting events dropped", zmq_strerror(errno),
                      rill_send_queue_messages(waiting));
        rill_send_queue_release(waiting);
        sockets->events_lost = 1;
    }
    if (rill_send_queue_messages(waiting) == 0) {
        sockets->events_waiting_since_ms = 0;
        return 0;
    }
    if (sockets->events_waiting_since_ms == 0)
        sockets->events_waiting_since_ms = now_ms;
    if (now_ms - sockets->events_waiting_since_ms < patience_ms)
        return 1;
    rill_log_warn(NULL, "events waited %llu ms for a frontend that is behind: dropping what it cannot take "
                        "for %llu ms (it repairs from retention or reports a gap)",
                  (unsigned long long)patience_ms, (unsigned long long)(10 * patience_ms));
    set_lossy(sockets, 1);
    sockets->events_lossy_until_ms = now_ms + 10 * patience_ms;
    rill_send_queue_flush(waiting);
    sockets->events_waiting_since_ms = 0;
    return rill_send_queue_messages(waiting) > 0;
}

int rill_events_channel_take_risk(rill_broker_sockets_t *sockets)
{
    int lost = sockets->events_lost;
    sockets->events_lost = 0;
    return lost || sockets->events_lossy_until_ms != 0;
}

void rill_events_channel_receive(rill_broker_t *broker, void *socket)
{
    for (int i = 0; i < RILL_BROKER_BURST; i++) {
        zmq_msg_t message;
        zmq_msg_init(&message);
        if (zmq_msg_recv(&message, socket, ZMQ_DONTWAIT) < 0) {
            int saved = errno;
            zmq_msg_close(&message);
            if (saved != EAGAIN && saved != EINTR)
                rill_log_warn(NULL, "events socket receive failed: %s", zmq_strerror(saved));
            return;
        }
        int more = zmq_msg_more(&message);
        const uint8_t *bytes = zmq_msg_data(&message);
        size_t size = zmq_msg_size(&message);
        /* A topic is known from its first listener on (GET /v1/topics). */
        if (size >= 4 && bytes[0] == 1 && bytes[1] == RILL_SUBJECT_TOPIC && bytes[size - 1] == '/')
            (void)rill_topic_table_get(broker->topics, (const char *)bytes + 2, size - 3);
        rill_broker_subscription(broker, zmq_msg_data(&message), zmq_msg_size(&message));
        zmq_msg_close(&message);
        /* A subscription is one frame; drain any rest of a stray multipart. */
        while (more) {
            zmq_msg_init(&message);
            if (zmq_msg_recv(&message, socket, 0) < 0) {
                zmq_msg_close(&message);
                break;
            }
            more = zmq_msg_more(&message);
            zmq_msg_close(&message);
        }
    }
}
