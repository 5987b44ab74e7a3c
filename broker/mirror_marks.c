/*
 * mirror_marks.c - the marks of what changed for a standby's mirror. See
 * mirror_marks.h.
 */
#include "mirror_marks.h"
#include "mirror_codec.h"
#include "rill_alloc.h"

#include <stdlib.h>
#include <string.h>

rill_mirror_marks_t *rill_mirror_marks_new(void)
{
    rill_mirror_marks_t *self = rill_xcalloc(1, sizeof(*self));
    rill_list_init(&self->jobs);
    rill_list_init(&self->topics);
    rill_buffer_init(&self->gone);
    return self;
}

void rill_mirror_marks_clear(rill_mirror_marks_t *self)
{
    if (self == NULL)
        return;
    while (!rill_list_is_empty(&self->jobs)) {
        rill_job_t *job = rill_container_of(self->jobs.next, rill_job_t, mirror_link);
        rill_list_remove(&job->mirror_link);
        job->mirror_record = 0;
    }
    while (!rill_list_is_empty(&self->topics))
        rill_list_remove(self->topics.next);
    rill_buffer_release(&self->gone);
    rill_buffer_init(&self->gone);
}

void rill_mirror_marks_destroy(rill_mirror_marks_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_mirror_marks_clear(*self_p);
    free(*self_p);
    *self_p = NULL;
}

void rill_mirror_mark_forgotten_job(rill_mirror_marks_t *self, const char *id)
{
    if (self == NULL || !self->on)
        return;
    (void)rill_mirror_record_append(&self->gone, RILL_MIRROR_FORGET, id, strlen(id), NULL, 0);
}

void rill_mirror_mark_deleted_topic(rill_mirror_marks_t *self, const char *subject, size_t length)
{
    if (self == NULL || !self->on || length < 3)
        return;
    (void)rill_mirror_record_append(&self->gone, RILL_MIRROR_TOPIC_DELETE, subject + 1, length - 2, NULL, 0);
}
