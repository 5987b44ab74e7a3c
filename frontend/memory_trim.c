/*
 * memory_trim.c - see memory_trim.h: after a burst, once quiet, trim once.
 */
#include "memory_trim.h"

#include <string.h>

void rill_memory_trim_init(rill_memory_trim_t *self)
{
    memset(self, 0, sizeof(*self));
}

int rill_memory_trim_tick(rill_memory_trim_t *self, uint64_t accepted, uint64_t streams_open)
{
    if (accepted != self->accepted || streams_open != self->streams_open) {
        /* Still busy: connections come, streams open or close. Trim later. */
        self->accepted = accepted;
        self->streams_open = streams_open;
        self->dirty = 1;
        return 0;
    }
    if (!self->dirty)
        return 0;
    self->dirty = 0;
    return 1;
}
