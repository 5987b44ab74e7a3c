/*
 * worker_channel.c - the ROUTER socket workers talk to.
 *
 * Decodes worker messages (docs/PROTOCOL.md, "Worker ⇄ broker") and calls
 * the operation each asks for (worker_life.h, job_life.h, events.h); sends
 * what the broker's outbox gives it. ROUTER_MANDATORY makes a vanished
 * worker a send error, which the broker turns into an unreachable worker
 * whose jobs the next reap retries elsewhere.
 */
#include "worker_channel.h"
#include "events.h"
#include "job_life.h"
#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_json_check.h"
#include "rill_log.h"
#include "rill_messages.h"
#include "rill_parts_batch.h"
#include "sockets.h"
#include "topic_lease.h"
#include "worker_life.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Frame index of argument i in a received message: routing, version, command. */
#define ARGUMENT_PART(i) (3 + (i))

int rill_worker_channel_send(void *context, const rill_frame_t *routing, rill_command_t command,
                             const rill_frame_t *arguments, size_t count)
{
    rill_broker_sockets_t *sockets = context;
    return rill_protocol_send_command(sockets->workers, routing, command, arguments, count, ZMQ_DONTWAIT);
}

static void handle_hello(rill_broker_t *broker, const rill_frame_t *routing, const rill_frame_t *frames,
                         size_t count, const rill_message_t *message)
{
    rill_hello_t hello;
    char reason[256];
    if (rill_hello_decode(message->arguments[0].data, message->arguments[0].size, &hello, reason,
                          sizeof(reason)) != 0) {
        rill_broker_malformed(broker, "workers", routing, frames, count, reason);
        return;
    }
    rill_broker_worker_hello(broker, routing, &hello);
    rill_hello_release(&hello);
}

/* A part is one line of NDJSON and one SSE data: line on every stream. A
 * worker (maybe not ours) may send pretty-printed JSON: in a part that
 * rill_json_check accepted a line break is only whitespace (inside a string
 * it is refused), so turning CR and LF into spaces, in place, keeps the
 * framing and the meaning. Usually there is none: memchr finds that fast. */
static void flatten_line_breaks(void *bytes, size_t size)
{
    char *text = bytes;
    char *end = text + size;
    for (char *c = memchr(text, '\n', size); c != NULL; c = memchr(c, '\n', (size_t)(end - c)))
        *c = ' ';
    for (char *c = memchr(text, '\r', size); c != NULL; c = memchr(c, '\r', (size_t)(end - c)))
        *c = ' ';
}

/* One part, from PART or an entry of PARTS: refused when too large or not
 * one JSON value, else published. data is writable (flattened in place). */
static void handle_part(rill_broker_t *broker, rill_worker_t *worker, rill_frame_t id, uint64_t seq, uint8_t *data,
                        size_t size)
{
    char refusal[160];
    if (size > broker->config.max_part_bytes) {
        snprintf(refusal, sizeof(refusal), "a part of %zu bytes is over max_part_bytes (%llu)", size,
                 (unsigned long long)broker->config.max_part_bytes);
        rill_broker_refuse_part(broker, worker, id, seq, "part_too_large", refusal);
        return;
    }
    /* No malformed part reaches a client (docs/PROTOCOL.md, "Parts are
     * checked"): checked before the line breaks are flattened, so a raw
     * line break inside a string stays the error it is. */
    rill_json_check_error_t why;
    if (rill_json_check(data, size, &why) != 0) {
        snprintf(refusal, sizeof(refusal), "part %llu from worker %s is not one JSON value: %s at byte %zu",
                 (unsigned long long)seq, worker->name, why.reason, why.offset);
        rill_broker_refuse_part(broker, worker, id, seq, "bad_part", refusal);
        return;
    }
    flatten_line_breaks(data, size);
    worker->parts++;
    rill_broker_part(broker, worker, id, seq, data, size);
}

/* TOPIC job name data (rill/5): a message of a running job on a topic, as
 * a frontend's PUBLISH would make it (events.h), checked as a part is: a
 * bad one fails the job and reaches no one. data is writable. */
static void handle_topic(rill_broker_t *broker, rill_worker_t *worker, const rill_message_t *message, uint8_t *data,
                         size_t size)
{
    rill_job_t *job = rill_broker_running_job(broker, worker, message->arguments[0], message->command);
    if (job == NULL)
        return;
    rill_frame_t name = message->arguments[1];
    char refusal[200];
    const char *code = "bad_part";
    rill_json_check_error_t why;
    if (!rill_topic_name_is_valid((const char *)name.data, name.size)) {
        snprintf(refusal, sizeof(refusal), "a topic name matches [A-Za-z0-9._-]{1,128}");
    } else if (size > broker->config.max_part_bytes) {
        code = "part_too_large";
        snprintf(refusal, sizeof(refusal), "a topic message of %zu bytes is over max_part_bytes (%llu)", size,
                 (unsigned long long)broker->config.max_part_bytes);
    } else if (rill_json_check(data, size, &why) != 0) {
        snprintf(refusal, sizeof(refusal), "a topic message from worker %s is not one JSON value: %s at byte %zu",
                 worker->name, why.reason, why.offset);
    } else {
        flatten_line_breaks(data, size);
        uint64_t seq = 0;
        int published = rill_topic_lease_publish_from_worker(broker, (const char *)name.data, name.size, data, size,
                                                             &seq);
        if (published < 0)
            rill_log_warn(job->who, "job %s: a message for topic %.*s could not be published", job->id,
                          (int)name.size, (const char *)name.data);
        else if (published == 0)
            rill_log_debug(job->who, "hop: job %s published seq %llu on topic %.*s", job->id,
                           (unsigned long long)seq, (int)name.size, (const char *)name.data);
        return;
    }
    broker->counters->bad_parts += strcmp(code, "bad_part") == 0;
    rill_log_warn(job->who, "job %s: topic message refused: %s", job->id, refusal);
    rill_broker_end_job(broker, job, RILL_JOB_FAILED, code, refusal, 1);
}

/* DONE id: the job ends well (its DONE, or an id of a PARTS's done frame). */
static void handle_done(rill_broker_t *broker, rill_worker_t *worker, rill_frame_t id)
{
    rill_job_t *job = rill_broker_running_job(broker, worker, id, RILL_COMMAND_DONE);
    if (job != NULL)
        rill_broker_end_job(broker, job, RILL_JOB_DONE, NULL, NULL, 0);
}

/* PARTS's done frame (rill/7, rill_parts_batch.h): id by id, as DONEs in a
 * row; a malformed id ends it there, counted as a malformed frame. */
static void handle_done_frame(rill_broker_t *broker, rill_worker_t *worker, rill_frame_t done,
                              const rill_frame_t *routing, const rill_frame_t *frames, size_t count)
{
    size_t offset = 0;
    rill_frame_t id;
    const char *why = NULL;
    int got;
    while ((got = rill_parts_next_done(done, &offset, &id, &why)) == 1)
        handle_done(broker, worker, id);
    if (got < 0)
        rill_broker_malformed(broker, "workers", routing, frames, count, why);
}

static void handle_message(void *argument, rill_received_t *received)
{
    rill_broker_t *broker = argument;
    const rill_frame_t *routing = &received->frames[0];
    const rill_frame_t *frames = received->frames + 1;
    size_t count = received->count - 1;
    rill_message_t message;
    const char *reason = NULL;
    if (received->truncated) {
        rill_broker_malformed(broker, "workers", routing, frames, count, "too many frames");
        return;
    }
    if (rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, frames, count, &message, &reason) != 0) {
        rill_broker_malformed(broker, "workers", routing, frames, count, reason);
        return;
    }
    rill_worker_t *worker = rill_broker_worker_heard(broker, routing);
    if (message.command == RILL_COMMAND_HELLO) {
        handle_hello(broker, routing, frames, count, &message);
        return;
    }
    if (worker == NULL) {
        /* Known by no one here (the broker restarted, or the worker was
         * declared dead): it is asked to say HELLO again. */
        rill_broker_worker_unknown(broker, routing, message.command);
        return;
    }
    rill_job_t *job;
    switch (message.command) {
    case RILL_COMMAND_CREDIT: {
        uint64_t credit = 0;
        (void)rill_frame_to_u64(message.arguments[0], &credit);
        rill_broker_worker_credit(broker, worker, credit);
        break;
    }
    case RILL_COMMAND_PART: {
        uint64_t seq = 0;
        (void)rill_frame_to_u64(message.arguments[1], &seq);
        zmq_msg_t *data = &received->parts[ARGUMENT_PART(2)];
        handle_part(broker, worker, message.arguments[0], seq, zmq_msg_data(data), zmq_msg_size(data));
        break;
    }
    case RILL_COMMAND_PARTS: {
        /* Entry by entry, as PARTs in a row (docs/PROTOCOL.md, "Parts in
         * batches"); a malformed entry ends the batch there. Each entry is
         * read one ahead, and its job's slot prefetched, while the one
         * before is handled: the entries are mostly of different jobs, and
         * the job table's lookup is a cache miss (id_index.h). */
        zmq_msg_t *frame = &received->parts[ARGUMENT_PART(0)];
        rill_frame_t batch = {zmq_msg_data(frame), zmq_msg_size(frame)};
        size_t offset = 0;
        rill_parts_entry_t entry, next;
        const char *why = NULL;
        int got = rill_parts_next(batch, &offset, &entry, &why);
        broker->accepting_ns = rill_clock_monotonic_ns();
        while (got == 1) {
            got = rill_parts_next(batch, &offset, &next, &why);
            if (got == 1)
                rill_job_table_prefetch(broker->jobs, next.id.data, next.id.size);
            handle_part(broker, worker, entry.id, entry.seq, (uint8_t *)entry.data.data, entry.data.size);
            entry = next;
        }
        broker->accepting_ns = 0;
        if (got < 0)
            rill_broker_malformed(broker, "workers", routing, frames, count, why);
        /* (rill/7) The jobs done after those parts: each as its DONE would
         * be, also after a malformed entry (their DONEs were sent). */
        if (message.argument_count > 1)
            handle_done_frame(broker, worker, message.arguments[1], routing, frames, count);
        break;
    }
    case RILL_COMMAND_TOPIC: {
        zmq_msg_t *data = &received->parts[ARGUMENT_PART(2)];
        handle_topic(broker, worker, &message, zmq_msg_data(data), zmq_msg_size(data));
        break;
    }
    case RILL_COMMAND_DONE:
        handle_done(broker, worker, message.arguments[0]);
        break;
    case RILL_COMMAND_FAIL:
        job = rill_broker_running_job(broker, worker, message.arguments[0], message.command);
        if (job != NULL) {
            char *code = rill_xmemdup_text(message.arguments[1].data, message.arguments[1].size);
            char *text = rill_xmemdup_text(message.arguments[2].data, message.arguments[2].size);
            rill_broker_end_job(broker, job, RILL_JOB_FAILED, code, text, 0);
            free(code);
            free(text);
        }
        break;
    case RILL_COMMAND_RETURN:
        job = rill_broker_running_job(broker, worker, message.arguments[0], message.command);
        if (job != NULL) {
            rill_broker_unassign(broker, job, 1);
            rill_broker_retry_job(broker, job, "worker_left", 0);
        }
        break;
    case RILL_COMMAND_BYE:
        rill_broker_worker_bye(broker, worker);
        break;
    case RILL_COMMAND_PING:
        /* rill/5: its process stats, for METRICS (worker_metrics.h). */
        if (message.argument_count >= 1)
            worker->has_process = rill_process_stats_from_json((const char *)message.arguments[0].data,
                                                               message.arguments[0].size, &worker->process) == 0;
        break;
    default:
        rill_broker_malformed(broker, "workers", routing, frames, count, "command not for the broker");
        break;
    }
}

void rill_worker_channel_receive(rill_broker_t *broker, void *socket)
{
    rill_broker_sockets_receive(socket, "workers", handle_message, broker);
}
