/*
 * followers.c - a job's follow subjects. See followers.h. Almost every job
 * has one follower (the frontend it was submitted on) or none, so a plain
 * array searched in order is the right structure.
 */
#include "followers.h"
#include "rill_alloc.h"

#include <stdlib.h>
#include <string.h>

static ptrdiff_t find(const rill_followers_t *self, const char *subject, size_t size)
{
    for (size_t i = 0; i < self->count; i++) {
        if (self->subjects[i].length == size && memcmp(self->subjects[i].text, subject, size) == 0)
            return (ptrdiff_t)i;
    }
    return -1;
}

int rill_followers_has(const rill_followers_t *self, const char *subject, size_t size)
{
    return find(self, subject, size) >= 0;
}

int rill_followers_add(rill_followers_t *self, const char *subject, size_t size)
{
    if (size > RILL_FOLLOW_SUBJECT_MAX || find(self, subject, size) >= 0)
        return 0;
    self->subjects = rill_xrealloc(self->subjects, (self->count + 1) * sizeof(*self->subjects));
    rill_follower_t *added = &self->subjects[self->count++];
    memcpy(added->text, subject, size);
    added->text[size] = '\0';
    added->length = size;
    return 1;
}

int rill_followers_remove(rill_followers_t *self, const char *subject, size_t size)
{
    ptrdiff_t at = find(self, subject, size);
    if (at < 0)
        return 0;
    self->subjects[at] = self->subjects[--self->count];
    if (self->count == 0) {
        free(self->subjects);
        self->subjects = NULL;
    }
    return 1;
}

void rill_followers_clear(rill_followers_t *self)
{
    free(self->subjects);
    self->subjects = NULL;
    self->count = 0;
}
