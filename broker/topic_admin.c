/*
 * topic_admin.c - TOPIC_DELETE and TOPIC_MATCH (rill/3). See topic_admin.h.
 */
#include "topic_admin.h"
#include "rill_buffer.h"
#include "rill_clock.h"
#include "rill_log.h"
#include "rill_topic_pattern.h"

#include <stdio.h>
#include <string.h>

/* The deleted event: seq is the topic's last (a receiver's cursor does not
 * move: the event is a notice, never delivered as an event), data names
 * the topic. */
static void publish_deleted(rill_broker_t *self, const rill_topic_t *topic, const char *name,
                            size_t length)
{
    char text[RILL_TOPIC_NAME_MAX + 16];
    int size = snprintf(text, sizeof(text), "{\"topic\":\"%.*s\"}", (int)length, name);
    uint64_t seq = topic->last_seq > 0 ? topic->last_seq : 1; /* an event's seq is never 0 */
    zmq_msg_t event; /* one frame (rill/3, rill_event_encode) */
    size_t offset;
    if (rill_event_encode(&event, topic->subject, topic->subject_length, RILL_EVENT_DELETED, seq,
                          rill_clock_monotonic_ns(), text, (size_t)size, &offset) != 0)
        return;
    if (self->outbox.publish(self->outbox.context, &event) != 0) {
        self->counters->publish_failures++;
        zmq_msg_close(&event);
        rill_log_warn(NULL, "topic %.*s: publishing its deletion failed", (int)length, name);
        return;
    }
    self->counters->events_published++;
    self->counters->event_messages++;
}

void rill_topic_admin_delete(rill_broker_t *self, const rill_frame_t *routing, const rill_message_t *message)
{
    rill_frame_t req = message->arguments[0];
    const char *name = (const char *)message->arguments[1].data;
    size_t length = message->arguments[1].size;
    if (!rill_topic_name_is_valid(name, length)) {
        rill_broker_reply_error(self, routing, req, "bad_request", "a topic name matches [A-Za-z0-9._-]{1,128}");
        return;
    }
    rill_topic_t *topic = rill_topic_table_find(self->topics, name, length);
    if (topic == NULL) {
        rill_broker_reply_error(self, routing, req, "not_found", "no such topic");
        return;
    }
    uint64_t last = topic->last_seq;
    publish_deleted(self, topic, name, length);
    rill_mirror_mark_deleted_topic(self->mirror, topic->subject, topic->subject_length);
    rill_topic_table_remove(self->topics, topic);
    rill_log_info(NULL, "topic %.*s deleted at seq %llu", (int)length, name, (unsigned long long)last);
    char answer[RILL_TOPIC_NAME_MAX + 64];
    snprintf(answer, sizeof(answer), "{\"topic\":\"%.*s\",\"last\":%llu}", (int)length, name,
             (unsigned long long)last);
    rill_frame_t arguments[2] = {req, rill_frame_from_string(answer)};
    (void)rill_broker_reply(self, routing, RILL_COMMAND_TOPIC_DELETED, arguments, 2);
}

typedef struct {
    const char *prefix;
    size_t prefix_length;
    rill_buffer_t *text;
    size_t count;
    size_t limit;  /* bytes: the reply stays one frame well under max_message_bytes */
    int truncated; /* topics left out past the limit */
} match_pass_t;

static void match_topic(void *argument, rill_topic_t *topic)
{
    match_pass_t *pass = argument;
    const char *name = topic->subject + 1;
    size_t length = topic->subject_length - 2;
    if (!rill_topic_pattern_matches(pass->prefix, pass->prefix_length, name, length))
        return;
    if (pass->text->length + length + 40 > pass->limit) {
        pass->truncated = 1;
        return;
    }
    rill_buffer_printf(pass->text, "%s{\"topic\":\"%.*s\",\"last\":%llu,\"epoch\":\"%s\"}", pass->count > 0 ? "," : "",
                       (int)length, name, (unsigned long long)topic->last_seq, topic->epoch);
    pass->count++;
}

void rill_topic_admin_match_answer(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t req,
                                   const char *prefix, size_t prefix_length)
{
    rill_buffer_t text;
    rill_buffer_init(&text);
    rill_buffer_append(&text, "{\"topics\":[", 11);
    match_pass_t pass = {prefix, prefix_length, &text, 0, self->config.max_message_bytes / 2, 0};
    rill_topic_table_foreach(self->topics, match_topic, &pass);
    rill_buffer_printf(&text, "]%s}", pass.truncated ? ",\"truncated\":true" : "");
    if (pass.truncated)
        rill_log_warn(NULL, "TOPIC_MATCH %.*s: more topics than one reply holds; the rest start from seq 1",
                      (int)prefix_length, prefix);
    if (text.failed) {
        rill_buffer_release(&text);
        rill_broker_reply_error(self, routing, req, "internal", "out of memory");
        return;
    }
    rill_frame_t arguments[2] = {req, {(const uint8_t *)text.data, text.length}};
    (void)rill_broker_reply(self, routing, RILL_COMMAND_TOPIC_MATCHED, arguments, 2);
    rill_buffer_release(&text);
}
