/*
 * presence.c - the PRESENCE snapshots of this frontend. See presence.h.
 */
#include "presence.h"

#include "rill_alloc.h"
#include "rill_buffer.h"
#include "rill_json_text.h"

#include <stdlib.h>
#include <string.h>

struct rill_presence_reporter {
    h2o_loop_t *loop;
    rill_subject_registry_t *subjects;
    rill_broker_link_t *broker;
    uint64_t interval_ms;
    uint64_t max_bytes;
    int reported; /* the last snapshot sent named a subject */
    h2o_timeout_t timeout;
    h2o_timeout_entry_t entry;
};

typedef struct {
    rill_buffer_t text;
    size_t subjects;
    uint64_t max_bytes;
} snapshot_t;

static void add_subject(void *argument, const rill_subject_t *subject)
{
    snapshot_t *snapshot = argument;
    if (subject->count < 2 || snapshot->text.length + 2 * subject->topic_length + 32 > snapshot->max_bytes)
        return;
    if (snapshot->subjects > 0)
        rill_buffer_append(&snapshot->text, ",", 1);
    rill_json_append_string(&snapshot->text, subject->topic, subject->topic_length);
    rill_buffer_printf(&snapshot->text, ":%zu", subject->count);
    snapshot->subjects++;
}

static void on_tick(h2o_timeout_entry_t *entry)
{
    rill_presence_reporter_t *self = H2O_STRUCT_FROM_MEMBER(rill_presence_reporter_t, entry, entry);
    snapshot_t snapshot = {.max_bytes = self->max_bytes};
    rill_buffer_init(&snapshot.text);
    rill_buffer_printf(&snapshot.text, "{\"interval_ms\":%llu,\"subjects\":{",
                       (unsigned long long)self->interval_ms);
    rill_subject_registry_foreach(self->subjects, add_subject, &snapshot);
    rill_buffer_append(&snapshot.text, "}}", 2);
    if (!snapshot.text.failed && (snapshot.subjects > 0 || self->reported) &&
        rill_broker_link_is_connected(self->broker)) {
        rill_frame_t frame = {(const uint8_t *)snapshot.text.data, snapshot.text.length};
        if (rill_broker_link_tell(self->broker, RILL_COMMAND_PRESENCE, &frame, 1) == 0)
            self->reported = snapshot.subjects > 0;
    }
    rill_buffer_release(&snapshot.text);
    h2o_timeout_link(self->loop, &self->timeout, &self->entry);
}

rill_presence_reporter_t *rill_presence_reporter_new(h2o_loop_t *loop, rill_subject_registry_t *subjects,
                                                     rill_broker_link_t *broker, uint64_t interval_ms,
                                                     uint64_t max_bytes)
{
    rill_presence_reporter_t *self = rill_xcalloc(1, sizeof(*self));
    self->loop = loop;
    self->subjects = subjects;
    self->broker = broker;
    self->interval_ms = interval_ms;
    self->max_bytes = max_bytes;
    h2o_timeout_init(loop, &self->timeout, interval_ms);
    self->entry.cb = on_tick;
    h2o_timeout_link(loop, &self->timeout, &self->entry);
    return self;
}

void rill_presence_reporter_destroy(rill_presence_reporter_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_presence_reporter_t *self = *self_p;
    if (h2o_timeout_is_linked(&self->entry))
        h2o_timeout_unlink(&self->entry);
    h2o_timeout_dispose(self->loop, &self->timeout);
    free(self);
    *self_p = NULL;
}
