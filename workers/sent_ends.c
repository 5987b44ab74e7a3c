/*
 * sent_ends.c - ends sent while joined, kept for a few heartbeats. See
 * sent_ends.h.
 */
#include "sent_ends.h"

#include "rill_alloc.h"
#include "rill_log.h"

#include <stdlib.h>
#include <string.h>

struct rill_sent_end {
    char id[RILL_JOB_ID_LENGTH + 1];
    const char *kind; /* the kind's static name */
    char *source;     /* NULL: the kind */
    char *who;
    uint64_t attempt;
    uint64_t seq;
    rill_hold_ring_t held;
    char *code; /* NULL: DONE */
    char *message;
    uint64_t epoch;
    uint64_t sent_ns;
};

static void end_destroy(struct rill_sent_end **self)
{
    if (*self == NULL)
        return;
    rill_hold_ring_release(&(*self)->held);
    free((*self)->source);
    free((*self)->who);
    free((*self)->code);
    free((*self)->message);
    free(*self);
    *self = NULL;
}

static void end_table_free(void **item)
{
    end_destroy((struct rill_sent_end **)item);
}

void rill_sent_ends_init(rill_sent_ends_t *self)
{
    self->ends = zhashx_new(); /* czmq aborts when memory runs out */
    zhashx_set_destructor(self->ends, end_table_free);
}

void rill_sent_ends_release(rill_sent_ends_t *self)
{
    zhashx_destroy(&self->ends);
}

static char *copy_or_null(const char *text)
{
    return text != NULL ? rill_xstrdup(text) : NULL;
}

void rill_sent_ends_add(rill_sent_ends_t *self, const char *id, const char *kind, const char *source,
                        const char *who, uint64_t attempt, uint64_t seq, rill_hold_ring_t *held,
                        const char *code, const char *message, uint64_t epoch, uint64_t now_ns)
{
    struct rill_sent_end *end = rill_xcalloc(1, sizeof(*end));
    snprintf(end->id, sizeof(end->id), "%s", id);
    end->kind = kind;
    end->source = copy_or_null(source);
    end->who = copy_or_null(who);
    end->attempt = attempt;
    end->seq = seq;
    end->held = *held;
    memset(held, 0, sizeof(*held));
    end->code = copy_or_null(code);
    end->message = code != NULL ? rill_xstrdup(message != NULL ? message : "") : NULL;
    end->epoch = epoch;
    end->sent_ns = now_ns;
    zhashx_delete(self->ends, end->id); /* a later attempt's end replaces an earlier one's */
    zhashx_insert(self->ends, end->id, end);
}

void rill_sent_ends_forget(rill_sent_ends_t *self, const char *id)
{
    zhashx_delete(self->ends, id);
}

void rill_sent_ends_prune(rill_sent_ends_t *self, uint64_t older_than_ns)
{
    if (zhashx_size(self->ends) == 0)
        return;
    zlistx_t *ids = zhashx_keys(self->ends);
    for (char *id = zlistx_first(ids); id != NULL; id = zlistx_next(ids)) {
        struct rill_sent_end *end = zhashx_lookup(self->ends, id);
        if (end != NULL && end->sent_ns < older_than_ns)
            zhashx_delete(self->ends, id);
    }
    zlistx_destroy(&ids);
}

size_t rill_sent_ends_count(const rill_sent_ends_t *self, uint64_t epoch)
{
    size_t count = 0;
    for (struct rill_sent_end *end = zhashx_first(self->ends); end != NULL; end = zhashx_next(self->ends))
        count += end->epoch < epoch;
    return count;
}

size_t rill_sent_ends_report(const rill_sent_ends_t *self, uint64_t epoch, rill_hello_job_t *jobs, size_t max)
{
    size_t index = 0;
    for (struct rill_sent_end *end = zhashx_first(self->ends); end != NULL && index < max;
         end = zhashx_next(self->ends)) {
        if (end->epoch >= epoch)
            continue;
        jobs[index++] = (rill_hello_job_t){
            .id = end->id,
            .kind = end->kind,
            .source = end->source,
            .who = end->who != NULL && strcmp(end->who, "-") != 0 ? end->who : NULL,
            .attempt = end->attempt > 0 ? end->attempt : 1,
            .seq = end->seq,
            .first = rill_hold_ring_first_seq(&end->held, end->seq + 1),
        };
    }
    return index;
}

int rill_sent_ends_welcomed(rill_sent_ends_t *self, rill_worker_link_t *link, const char *id, int adopted,
                            uint64_t last_seq)
{
    struct rill_sent_end *end = zhashx_lookup(self->ends, id);
    if (end == NULL)
        return 0;
    if (adopted) {
        rill_log_info(end->who, "job %s: its end was lost with the connection: sent again", end->id);
        size_t count = rill_hold_ring_count(&end->held);
        for (size_t i = 0; i < count; i++) {
            const rill_held_part_t *part = rill_hold_ring_at(&end->held, i);
            if (part->seq > last_seq && rill_worker_link_send_part(link, end->id, part->seq, part->data,
                                                                    part->length) != 0)
                break;
        }
        rill_worker_link_send_end(link, end->id, end->code, end->message);
    }
    zhashx_delete(self->ends, id);
    return 1;
}
