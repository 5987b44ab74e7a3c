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
        if (strlen(self->subjects[i]) == size && memcmp(self->subjects[i], subject, size) == 0)
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
    if (find(self, subject, size) >= 0)
        return 0;
    self->subjects = rill_xrealloc(self->subjects, (self->count + 1) * sizeof(*self->subjects));
    self->subjects[self->count++] = rill_xmemdup_text(subject, size);
    return 1;
}

int rill_followers_remove(rill_followers_t *self, const char *subject, size_t size)
{
    ptrdiff_t at = find(self, subject, size);
    if (at < 0)
        return 0;
    free(self->subjects[at]);
    self->subjects[at] = self->subjects[--self->count];
    if (self->count == 0) {
        free(self->subjects);
        self->subjects = NULL;
    }
    return 1;
}

void rill_followers_clear(rill_followers_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        free(self->subjects[i]);
    free(self->subjects);
    self->subjects = NULL;
    self->count = 0;
}
