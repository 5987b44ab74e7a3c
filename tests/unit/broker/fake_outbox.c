/*
 * fake_outbox.c - an outbox that records instead of sending. See
 * fake_outbox.h.
 */
#include "rill_event_batch.h"
#include "fake_outbox.h"
#include "topic_lease.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

fake_t fake;

static void copy_text(char *text, const void *bytes, size_t size)
{
    if (size >= FRAME_TEXT_MAX)
        size = FRAME_TEXT_MAX - 1;
    if (size > 0)
        memcpy(text, bytes, size);
    text[size] = '\0';
}

static int record_event(const rill_event_t *event, size_t batch)
{
    if (fake.published_count == RECORDED_MAX)
        return -1;
    published_t *record = &fake.published[fake.published_count++];
    copy_text(record->follow, event->follow.data, event->follow.size);
    copy_text(record->subject, event->topic.data, event->topic.size);
    snprintf(record->event, sizeof(record->event), "%s", rill_event_type_name(event->type));
    record->seq = event->seq;
    copy_text(record->data, event->data.data, event->data.size);
    record->message = fake.message_count;
    record->batch = batch;
    return 0;
}

static int fake_publish(void *context, zmq_msg_t *message)
{
    (void)context;
    rill_frame_t frame = {zmq_msg_data(message), zmq_msg_size(message)};
    rill_event_t event;
    const char *error = NULL;
    if (rill_event_is_batch(frame)) {
        rill_event_batch_t batch;
        if (rill_event_batch_open(frame, &batch, &error) != 0) {
            fprintf(stderr, "fake outbox: the broker published a malformed batch: %s\n", error);
            return -1;
        }
        int got;
        while ((got = rill_event_batch_next(&batch, &event, &error)) == 1) {
            if (record_event(&event, batch.count) != 0)
                return -1;
        }
        if (got < 0) {
            fprintf(stderr, "fake outbox: the broker published a malformed batch entry: %s\n", error);
            return -1;
        }
    } else {
        if (rill_event_parse(&frame, 1, &event, &error) != 0) {
            fprintf(stderr, "fake outbox: the broker published a malformed event: %s\n", error);
            return -1;
        }
        if (record_event(&event, 0) != 0)
            return -1;
    }
    fake.message_count++;
    zmq_msg_close(message); /* sent: the outbox releases it */
    return 0;
}

static void record(sent_t *sent, const rill_frame_t *routing, rill_command_t command,
                   const rill_frame_t *arguments, size_t count)
{
    copy_text(sent->routing, routing->data, routing->size);
    sent->command = command;
    sent->count = count;
    for (size_t i = 0; i < count && i < FRAMES_MAX; i++)
        copy_text(sent->frames[i], arguments[i].data, arguments[i].size);
}

static int fake_send_worker(void *context, const rill_frame_t *routing, rill_command_t command,
                            const rill_frame_t *arguments, size_t count)
{
    (void)context;
    if (fake.workers_unreachable || fake.command_count == RECORDED_MAX) {
        errno = EHOSTUNREACH;
        return -1;
    }
    record(&fake.commands[fake.command_count++], routing, command, arguments, count);
    return 0;
}

static int fake_reply(void *context, const rill_frame_t *routing, rill_command_t command,
                      const rill_frame_t *arguments, size_t count)
{
    (void)context;
    if (fake.reply_count == RECORDED_MAX)
        return -1;
    record(&fake.replies[fake.reply_count++], routing, command, arguments, count);
    return 0;
}

rill_outbox_t fake_outbox(void)
{
    rill_outbox_t outbox = {NULL, fake_publish, fake_send_worker, fake_reply};
    return outbox;
}

void forget_recorded(void)
{
    fake.published_count = 0;
    fake.message_count = 0;
    fake.command_count = 0;
    fake.reply_count = 0;
}

const published_t *last_published(void)
{
    return fake.published_count > 0 ? &fake.published[fake.published_count - 1] : NULL;
}

const sent_t *last_command(const char *routing, rill_command_t command)
{
    for (size_t i = fake.command_count; i > 0; i--) {
        const sent_t *sent = &fake.commands[i - 1];
        if (sent->command == command && strcmp(sent->routing, routing) == 0)
            return sent;
    }
    return NULL;
}

rill_broker_t *fake_outbox_broker(const rill_config_t *config)
{
    rill_outbox_t outbox = fake_outbox();
    char error[128];
    rill_broker_t *broker = rill_broker_new(config, &outbox, error, sizeof(error));
    if (broker == NULL) {
        fprintf(stderr, "cannot make a broker: %s\n", error);
        exit(1);
    }
    rill_broker_end_recovery(broker);
    return broker;
}

void fake_publish_keyed(rill_broker_t *broker, const char *routing, const char *req, const char *name,
                        const char *data, const char *key)
{
    rill_frame_t from = rill_frame_from_string(routing);
    rill_message_t message = {.command = RILL_COMMAND_PUBLISH, .argument_count = 5};
    message.arguments[0] = rill_frame_from_string(req);
    message.arguments[1] = rill_frame_from_string(name);
    message.arguments[2] = rill_frame_from_string(data);
    message.arguments[3] = (rill_frame_t){NULL, 0};
    message.arguments[4] = rill_frame_from_string(key);
    rill_topic_lease_publish(broker, &from, &message);
}

rill_pipeline_config_t *fake_add_pipeline(rill_config_t *config, const char *name, const char *kind)
{
    rill_pipeline_config_t *pipeline = &config->pipelines[config->pipeline_count++];
    memset(pipeline, 0, sizeof(*pipeline));
    snprintf(pipeline->name, sizeof(pipeline->name), "%s", name);
    snprintf(pipeline->kind, sizeof(pipeline->kind), "%s", kind);
    pipeline->buffer_max = 1;
    pipeline->concurrency = 1;
    pipeline->retain_ms = 60000;
    pipeline->retain_parts = 100;
    pipeline->timeout_ms = 600000;
    return pipeline;
}
