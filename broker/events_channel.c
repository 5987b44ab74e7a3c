/*
 * events_channel.c - the responses subject's socket, the XPUB.
 *
 * Outgoing: one event is one message [subject, "rill/2", event, seq, data,
 * accepted_ns]; accepted_ns is this host's CLOCK_MONOTONIC at acceptance,
 * for the frontends' latency histogram. What to publish, with which seq,
 * is events.c's. Incoming: each subscribe/unsubscribe message goes to
 * rill_broker_subscription (job_life.h).
 */
#include "events_channel.h"
#include "job_life.h"
#include "rill_log.h"
#include "sockets.h"

#include <errno.h>
#include <string.h>

/* An XPUB never blocks: at its HWM it drops the whole message, which the
 * receivers detect through the seq and repair with FETCH. */
int rill_events_channel_publish(void *context, const char *subject, size_t subject_length, const char *event,
                                uint64_t seq, zmq_msg_t *data, uint64_t accepted_ns)
{
    rill_broker_sockets_t *sockets = context;
    void *socket = sockets->events;
    char seq_text[24];
    char accepted_text[24];
    size_t seq_length = rill_u64_to_text(seq, seq_text);
    size_t accepted_length = rill_u64_to_text(accepted_ns, accepted_text);
    int flags = ZMQ_DONTWAIT | ZMQ_SNDMORE;
    if (zmq_send(socket, subject, subject_length, flags) < 0 ||
        zmq_send(socket, RILL_PROTOCOL_VERSION, strlen(RILL_PROTOCOL_VERSION), flags) < 0 ||
        zmq_send(socket, event, strlen(event), flags) < 0 || zmq_send(socket, seq_text, seq_length, flags) < 0 ||
        zmq_msg_send(data, socket, flags) < 0 ||
        zmq_send(socket, accepted_text, accepted_length, ZMQ_DONTWAIT) < 0)
        return -1;
    return 0;
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
