/*
 * job_registry.c - the jobs one worker holds. See job_registry.h.
 */
#include "job_registry.h"

#include "kinds.h"
#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_log.h"
#include "rill_protocol.h" /* RILL_JOB_ID_LENGTH */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The jobs of one ordered BATCH, in its order (docs/PROTOCOL.md, BATCH):
 * one of them runs at a time; shared by its jobs, freed with the last. */
typedef struct {
    size_t refs;
    size_t count;
    char (*ids)[RILL_JOB_ID_LENGTH + 1];
} ordered_run_t;

struct rill_worker_job {
    char id[RILL_JOB_ID_LENGTH + 1];
    const char *who;       /* in the job's own allocation, as source and args_text */
    const char *source;    /* NULL: the kind */
    const char *args_text; /* the args object's JSON text as the BATCH carried it, or NULL */
    size_t args_length;
    json_t *args;          /* decoded: by the BATCH's full decoder, or when a kind first asks */
    const rill_worker_kind_t *kind;
    void *state;
    uint64_t attempt;
    uint64_t seq;        /* the last seq given to a part (the BATCH's before any) */
    uint64_t sent_seq;   /* the highest seq sent to a broker */
    uint64_t sent_epoch; /* the link's join_epoch when it was sent */
    rill_hold_ring_t held;
    int ended;           /* the kind ended it while not joined: the end waits for a WELCOME */
    int paused;          /* the broker said every client of it is behind (PAUSE) */
    char *fail_code;     /* that end, when it failed (NULL: done) */
    char *fail_message;
    size_t refused_bytes;    /* a part over max_part_bytes was refused: its size (0 = none) */
    uint64_t refused_limit;  /* ... and the limit it was over */
    ordered_run_t *run;      /* its ordered batch, or NULL */
    int waiting;             /* in an ordered batch, its turn has not come: not started */
};

/* ---- what a kind reads of its job (rill_worker_kind.h) ---- */

const char *rill_worker_job_id(const rill_worker_job_t *job)
{
    return job->id;
}

const char *rill_worker_job_who(const rill_worker_job_t *job)
{
    return job->who;
}

json_t *rill_worker_job_args(const rill_worker_job_t *job)
{
    if (job->args == NULL && job->args_text != NULL) {
        /* Parsed once, when a kind first asks (most read the text instead);
         * the fast BATCH reader let only text jansson reads through
         * (rill_batch_fast.h). The cache is the job's own: the const is the
         * kind's view, not the object's. */
        json_t *args = json_loadb(job->args_text, job->args_length, 0, NULL);
        if (json_is_object(args))
            ((rill_worker_job_t *)job)->args = args;
        else
            json_decref(args);
    }
    return job->args;
}

const char *rill_worker_job_args_text(const rill_worker_job_t *job, size_t *length)
{
    *length = job->args_text != NULL ? job->args_length : 0;
    return job->args_text;
}

void *rill_worker_job_state(const rill_worker_job_t *job)
{
    return job->state;
}

void rill_worker_job_set_state(rill_worker_job_t *job, void *state)
{
    job->state = state;
}

/* ---- the registry ---- */

static void run_release(ordered_run_t **run)
{
    if (*run != NULL && --(*run)->refs == 0) {
        free((*run)->ids);
        free(*run);
    }
    *run = NULL;
}

static void job_destroy(rill_worker_job_t **self)
{
    if (*self == NULL)
        return;
    run_release(&(*self)->run);
    free((*self)->fail_code);
    free((*self)->fail_message);
    rill_hold_ring_release(&(*self)->held);
    json_decref((*self)->args);
    free(*self);
    *self = NULL;
}

static void job_table_free(void **item)
{
    job_destroy((rill_worker_job_t **)item);
}

void rill_job_registry_init(rill_job_registry_t *self, rill_worker_link_t *link, rill_worker_context_t *context,
                            rill_timer_heap_t *timers)
{
    memset(self, 0, sizeof(*self));
    self->jobs = zhashx_new();
    zhashx_set_destructor(self->jobs, job_table_free);
    self->link = link;
    self->context = context;
    self->timers = timers;
    rill_sent_ends_init(&self->sent);
}

void rill_job_registry_prune_ends(rill_job_registry_t *self, uint64_t older_than_ns)
{
    rill_sent_ends_prune(&self->sent, older_than_ns);
}

void rill_job_registry_release(rill_job_registry_t *self)
{
    if (self->jobs == NULL)
        return;
    rill_job_registry_cancel_all(self, RILL_COMMAND_INVALID);
    if (self->timers != NULL)
        rill_timer_heap_disarm(self->timers, &self->turn_timer);
    zhashx_destroy(&self->jobs);
    rill_sent_ends_release(&self->sent);
    for (size_t i = 0; i < self->served_count; i++) {
        if (self->served[i]->shutdown != NULL)
            self->served[i]->shutdown(self->context);
    }
}

/* 1 if name is one of list's comma-separated entries. */
static int listed(const char *list, const char *name)
{
    size_t length = strlen(name);
    for (const char *p = list; p != NULL && *p != '\0'; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
        if (strncmp(p, name, length) == 0 && (p[length] == ',' || p[length] == '\0'))
            return 1;
    }
    return 0;
}

int rill_job_registry_serve(rill_job_registry_t *self, const char *list)
{
    for (size_t i = 0; rill_worker_builtin_kinds[i] != NULL; i++) {
        const rill_worker_kind_t *kind = rill_worker_builtin_kinds[i];
        if ((list == NULL || listed(list, kind->name)) && self->served_count < RILL_WORKER_MAX_KINDS)
            self->served[self->served_count++] = kind;
    }
    if (self->served_count == 0) {
        rill_log_error(NULL, "no known job kind in \"%s\"", list != NULL ? list : "");
        return -1;
    }
    return 0;
}

void rill_job_registry_set_hold(rill_job_registry_t *self, uint64_t parts, uint64_t bytes)
{
    self->hold_parts = (size_t)parts;
    self->hold_budget.max_bytes = bytes;
}

size_t rill_job_registry_count(const rill_job_registry_t *self)
{
    return self->jobs != NULL ? zhashx_size(self->jobs) : 0;
}

rill_worker_job_t *rill_job_registry_find(const rill_job_registry_t *self, const char *id)
{
    return zhashx_lookup(self->jobs, id);
}

static const rill_worker_kind_t *served_kind(const rill_job_registry_t *self, const char *name)
{
    for (size_t i = 0; i < self->served_count; i++) {
        if (strcmp(self->served[i]->name, name) == 0)
            return self->served[i];
    }
    return NULL;
}

static void send_fail(rill_job_registry_t *self, const char *id, const char *code, const char *message)
{
    rill_frame_t arguments[3] = {rill_frame_from_string(id), rill_frame_from_string(code),
                                 rill_frame_from_string(message)};
    rill_worker_link_send(self->link, RILL_COMMAND_FAIL, arguments, 3);
}

/* Copies text (length bytes) to *at, NUL-terminated; returns the copy and
 * moves *at past it. */
static const char *place_text(char **at, const char *text, size_t length)
{
    char *copy = *at;
    memcpy(copy, text, length);
    copy[length] = '\0';
    *at += length + 1;
    return copy;
}

/* One allocation for the job and its texts (who, source, args): a job
 * costs one malloc and one free, not four. */
static rill_worker_job_t *job_new(const rill_batch_entry_t *entry)
{
    const char *who = entry->who != NULL && entry->who[0] != '\0' ? entry->who : "-";
    size_t who_length = strlen(who);
    size_t source_length = entry->source != NULL ? strlen(entry->source) : 0;
    size_t args_length = entry->args_text != NULL ? entry->args_length : 0;
    size_t size = sizeof(rill_worker_job_t) + who_length + 1 + (entry->source != NULL ? source_length + 1 : 0) +
                  (entry->args_text != NULL ? args_length + 1 : 0);
    rill_worker_job_t *job = rill_xcalloc(1, size);
    char *at = (char *)(job + 1);
    job->who = place_text(&at, who, who_length);
    if (entry->source != NULL)
        job->source = place_text(&at, entry->source, source_length);
    if (entry->args_text != NULL) {
        job->args_text = place_text(&at, entry->args_text, args_length);
        job->args_length = args_length;
    }
    job->args = json_incref(entry->args);
    return job;
}

/* Takes one BATCH entry: the new held job, or NULL when it is not to run here. */
static rill_worker_job_t *take_entry(rill_job_registry_t *self, const rill_batch_entry_t *entry, int draining)
{
    if (!entry->valid) {
        self->link->malformed++;
        rill_log_warn(NULL, "malformed job in BATCH: dropped");
        return NULL;
    }
    if (rill_job_registry_find(self, entry->id) != NULL) {
        rill_log_warn(entry->who, "job %s sent twice: ignored", entry->id);
        return NULL;
    }
    rill_sent_ends_forget(&self->sent, entry->id); /* given to this worker again: that end is over */
    if (draining) {
        rill_worker_link_send_job(self->link, RILL_COMMAND_RETURN, entry->id);
        return NULL;
    }
    const rill_worker_kind_t *kind = served_kind(self, entry->kind);
    if (kind == NULL) {
        rill_log_warn(entry->who, "job %s refused: %s", entry->id, "this worker does not serve that kind");
        send_fail(self, entry->id, "unknown_kind", "this worker does not serve that kind");
        return NULL;
    }
    rill_worker_job_t *job = job_new(entry);
    memcpy(job->id, entry->id, RILL_JOB_ID_LENGTH); /* a valid entry's id is a job id */
    job->kind = kind;
    job->attempt = entry->attempt;
    job->seq = entry->seq;
    job->sent_seq = entry->seq;
    rill_hold_ring_init(&job->held, self->hold_parts, &self->hold_budget);
    zhashx_insert(self->jobs, job->id, job);
    rill_log_info(job->who, "job %s (%s) started, attempt %llu", job->id, kind->name,
                  (unsigned long long)job->attempt);
    return job;
}

/* Starts one job of a per-job kind, or the waiting job whose turn came. */
static void start_one(rill_job_registry_t *self, rill_worker_job_t *job)
{
    job->waiting = 0;
    job->kind->start_job(self->context, job);
    /* It may have ended at once (freed then); else a PAUSE that came while
     * it waited applies now. */
    rill_worker_job_t *still = rill_job_registry_find(self, job->id);
    if (still == job && job->paused && !job->ended && job->kind->pause != NULL)
        job->kind->pause(self->context, job, 1);
}

/* The next job of run, when none of it runs: started (and the next after
 * it, when it ended at once). Not while every job is being cancelled. */
static void run_advance(rill_job_registry_t *self, ordered_run_t *run)
{
    if (run == NULL || self->stopping)
        return;
    run->refs++; /* the jobs started here may end, and free, at once */
    for (size_t i = 0; i < run->count; i++) {
        rill_worker_job_t *job = rill_job_registry_find(self, run->ids[i]);
        if (job == NULL || job->run != run)
            continue; /* ended */
        if (!job->waiting)
            break; /* its turn: it runs (or its end waits for a WELCOME) */
        rill_log_debug(job->who, "job %s: its turn in its ordered batch", job->id);
        start_one(self, job);
        if (rill_job_registry_find(self, run->ids[i]) == job)
            break; /* it runs */
    }
    run_release(&run);
}

/* An ordered batch: its per-job kind's jobs wait for their turn, one
 * running at a time; a batch kind (start_batch) gets them all at once and
 * ends them in order itself (rill_worker_kind.h). */
static ordered_run_t *run_new(rill_worker_job_t **jobs, size_t count)
{
    ordered_run_t *run = rill_xcalloc(1, sizeof(*run));
    run->ids = rill_xcalloc(count, sizeof(*run->ids));
    run->count = count;
    run->refs = count;
    for (size_t i = 0; i < count; i++) {
        memcpy(run->ids[i], jobs[i]->id, sizeof(run->ids[i]));
        jobs[i]->run = run;
        jobs[i]->waiting = jobs[i]->kind->start_batch == NULL;
    }
    return run;
}

void rill_job_registry_start(rill_job_registry_t *self, const rill_batch_entry_t *entries, size_t count, int ordered,
                             int draining)
{
    /* A batch of a few jobs (one, without a pipeline) allocates nothing here. */
    rill_worker_job_t *taken_few[16], *group_few[16];
    rill_worker_job_t **taken = count <= 16 ? taken_few : rill_xcalloc(count, sizeof(*taken));
    rill_worker_job_t **group = count <= 16 ? group_few : rill_xcalloc(count, sizeof(*group));
    size_t taken_count = 0;
    for (size_t i = 0; i < count; i++) {
        rill_worker_job_t *job = take_entry(self, &entries[i], draining);
        if (job != NULL)
            taken[taken_count++] = job;
    }
    if (ordered && taken_count > 1) {
        ordered_run_t *run = run_new(taken, taken_count);
        if (taken[0]->kind->start_batch != NULL) {
            /* One kind per pipeline: all at once, in order. */
            taken[0]->kind->start_batch(self->context, taken, taken_count);
        } else {
            run_advance(self, run);
        }
        if (taken != taken_few) {
            free(group);
            free(taken);
        }
        return;
    }
    /* Kind by kind, in the order they first appear in the batch: a batch
     * kind sees all of its jobs at once, a per-job kind gets them one by one. */
    for (size_t i = 0; i < taken_count; i++) {
        if (taken[i] == NULL)
            continue;
        const rill_worker_kind_t *kind = taken[i]->kind;
        size_t group_count = 0;
        for (size_t j = i; j < taken_count; j++) {
            if (taken[j] != NULL && taken[j]->kind == kind) {
                group[group_count++] = taken[j];
                taken[j] = NULL;
            }
        }
        if (kind->start_batch != NULL) {
            kind->start_batch(self->context, group, group_count);
            continue;
        }
        for (size_t j = 0; j < group_count; j++)
            kind->start_job(self->context, group[j]);
    }
    if (taken != taken_few) {
        free(group);
        free(taken);
    }
}

static void advance_all(rill_job_registry_t *self);

static void next_turns(void *argument)
{
    advance_all(argument);
}

/* Ends a job's life in this process: out of the table, freed. In an
 * ordered batch, the next job's turn comes (its end went to the broker):
 * from the loop, at once, not inside the kind's callback that ended it. */
static void forget(rill_job_registry_t *self, rill_worker_job_t *job)
{
    int ordered = job->run != NULL;
    zhashx_delete(self->jobs, job->id); /* the table's destructor frees it */
    if (ordered && !self->stopping && self->timers != NULL)
        rill_timer_heap_start(self->timers, &self->turn_timer, 0, next_turns, self);
}

/* PART id seq data: batched with the loop turn's other parts (PARTS). */
static int send_part(rill_job_registry_t *self, rill_worker_job_t *job, uint64_t seq, const char *data, size_t length)
{
    job->sent_seq = seq;
    job->sent_epoch = self->link->join_epoch;
    return rill_worker_link_send_part(self->link, job->id, seq, data, length);
}

int rill_job_registry_publish(rill_job_registry_t *self, rill_worker_job_t *job, const char *data, size_t length)
{
    uint64_t seq = ++job->seq;
    rill_hold_ring_push(&job->held, seq, data, length);
    if (!self->link->joined) {
        rill_log_debug(job->who, "hop: job %s part held, not sent: no broker joined (%zu bytes, seq %llu)", job->id,
                       length, (unsigned long long)seq);
        return 0;
    }
    rill_log_debug(job->who, "hop: job %s part sent to broker (%zu bytes, seq %llu)", job->id, length,
                   (unsigned long long)seq);
    return send_part(self, job, seq, data, length);
}

void rill_job_registry_refuse_part(rill_job_registry_t *self, rill_worker_job_t *job, size_t length,
                                   uint64_t max_part_bytes)
{
    (void)self;
    job->refused_bytes = length;
    job->refused_limit = max_part_bytes;
    rill_log_warn(job->who, "job %s: a part of %zu bytes is over max_part_bytes (%llu): refused", job->id, length,
                  (unsigned long long)max_part_bytes);
}

/* The end of a job the kind ended: DONE, or FAIL code message. It goes
 * after the turn's batch of parts (rill_worker_link_send_end), except in
 * an ordered batch, where it must precede the next job's parts. */
static void send_end(rill_job_registry_t *self, rill_worker_job_t *job, const char *code, const char *message)
{
    if (job->run == NULL)
        rill_worker_link_send_end(self->link, job->id, code, message);
    else if (code == NULL)
        rill_worker_link_send_job(self->link, RILL_COMMAND_DONE, job->id);
    else
        send_fail(self, job->id, code, message);
}

/* Joined: the end goes, and is kept with the job's held parts until it
 * cannot have been lost with a dying connection (sent_ends.h). */
static void send_and_keep_end(rill_job_registry_t *self, rill_worker_job_t *job, const char *code,
                              const char *message)
{
    send_end(self, job, code, message);
    rill_sent_ends_add(&self->sent, job->id, job->kind->name, job->source, job->who, job->attempt, job->seq,
                       &job->held, code, message, self->link->join_epoch, rill_clock_monotonic_ns());
    forget(self, job);
}

/* Not joined: the broker would not take the end (or not know the job).
 * The job stays, ended, until a WELCOME says what became of it. */
static void hold_end(rill_job_registry_t *self, rill_worker_job_t *job, const char *code, const char *message)
{
    (void)self;
    job->ended = 1;
    job->fail_code = code != NULL ? rill_xstrdup(code) : NULL;
    job->fail_message = message != NULL ? rill_xstrdup(message) : NULL;
    rill_log_info(job->who, "job %s ended while no broker is joined: its end waits for the next WELCOME", job->id);
}

void rill_job_registry_done(rill_job_registry_t *self, rill_worker_job_t *job)
{
    rill_log_info(job->who, "job %s done", job->id);
    if (!self->link->joined) {
        hold_end(self, job, NULL, NULL);
        return;
    }
    send_and_keep_end(self, job, NULL, NULL);
}

void rill_job_registry_fail(rill_job_registry_t *self, rill_worker_job_t *job, const char *code, const char *message)
{
    char refusal[128];
    if (job->refused_bytes != 0) {
        snprintf(refusal, sizeof(refusal), "a part of %zu bytes is over max_part_bytes (%llu)", job->refused_bytes,
                 (unsigned long long)job->refused_limit);
        code = "part_too_large";
        message = refusal;
    }
    rill_log_info(job->who, "job %s failed: %s: %s", job->id, code, message);
    if (!self->link->joined) {
        hold_end(self, job, code, message);
        return;
    }
    send_and_keep_end(self, job, code, message);
}

void rill_job_registry_pause(rill_job_registry_t *self, rill_worker_job_t *job, int paused)
{
    if (job->ended || job->paused == paused)
        return;
    job->paused = paused;
    rill_log_debug(job->who, "job %s %s: its clients are %s", job->id, paused ? "paused" : "resumed",
                   paused ? "behind" : "reading again");
    if (job->kind->pause != NULL && !job->waiting) /* a waiting job is paused when it starts */
        job->kind->pause(self->context, job, paused);
}

void rill_job_registry_cancel(rill_job_registry_t *self, rill_worker_job_t *job)
{
    if (!job->ended && !job->waiting) /* an ended job is the kind's no more; a waiting one never was */
        job->kind->cancel(self->context, job);
    forget(self, job);
}

void rill_job_registry_cancel_all(rill_job_registry_t *self, rill_command_t tell_broker)
{
    self->stopping++; /* no waiting job starts while they all go */
    zlistx_t *ids = zhashx_keys(self->jobs);
    for (char *id = zlistx_first(ids); id != NULL; id = zlistx_next(ids)) {
        rill_worker_job_t *job = zhashx_lookup(self->jobs, id);
        if (job == NULL)
            continue; /* ended while an earlier one was cancelled */
        if (tell_broker != RILL_COMMAND_INVALID && job->ended)
            send_end(self, job, job->fail_code, job->fail_message);
        else if (tell_broker != RILL_COMMAND_INVALID)
            rill_worker_link_send_job(self->link, tell_broker, job->id);
        rill_job_registry_cancel(self, job);
    }
    zlistx_destroy(&ids);
    self->stopping--;
}

size_t rill_job_registry_report(const rill_job_registry_t *self, rill_hello_job_t **jobs)
{
    size_t running = rill_job_registry_count(self);
    size_t count = running + rill_sent_ends_count(&self->sent, self->link->join_epoch);
    *jobs = count > 0 ? rill_xcalloc(count, sizeof(**jobs)) : NULL;
    /* First the ends kept from before the link stopped being joined. */
    size_t index = count > running ? rill_sent_ends_report(&self->sent, self->link->join_epoch, *jobs, count) : 0;
    for (rill_worker_job_t *job = zhashx_first(self->jobs); job != NULL && index < count;
         job = zhashx_next(self->jobs)) {
        (*jobs)[index++] = (rill_hello_job_t){
            .id = job->id,
            .kind = job->kind->name,
            .source = job->source,
            .who = strcmp(job->who, "-") != 0 ? job->who : NULL,
            .attempt = job->attempt > 0 ? job->attempt : 1,
            .seq = job->seq,
            .first = rill_hold_ring_first_seq(&job->held, job->seq + 1),
        };
    }
    return index;
}

/* Each ordered batch whose running job went: its next one's turn. */
static void advance_all(rill_job_registry_t *self)
{
    zlistx_t *ids = zhashx_keys(self->jobs);
    for (char *id = zlistx_first(ids); id != NULL; id = zlistx_next(ids)) {
        rill_worker_job_t *job = zhashx_lookup(self->jobs, id);
        if (job != NULL && job->waiting)
            run_advance(self, job->run);
    }
    zlistx_destroy(&ids);
}

/* Sends the held parts of job with a seq after after. */
static void send_held_after(rill_job_registry_t *self, rill_worker_job_t *job, uint64_t after)
{
    size_t count = rill_hold_ring_count(&job->held);
    for (size_t i = 0; i < count; i++) {
        const rill_held_part_t *part = rill_hold_ring_at(&job->held, i);
        if (part->seq > after && send_part(self, job, part->seq, part->data, part->length) != 0)
            return; /* the link refused: the rest would be refused too */
    }
}

void rill_job_registry_rejoined(rill_job_registry_t *self, const rill_welcome_t *welcome)
{
    /* The stopped jobs first, none of their ordered batch started in
     * between: then each batch's next turn. */
    self->stopping++;
    for (size_t i = 0; i < welcome->cancelled_count; i++) {
        rill_worker_job_t *job = rill_job_registry_find(self, welcome->cancelled[i]);
        if (job == NULL) {
            rill_sent_ends_welcomed(&self->sent, self->link, welcome->cancelled[i], 0, 0); /* it arrived */
            continue;
        }
        rill_log_info(job->who, "job %s stopped: the broker runs it elsewhere or it ended", job->id);
        rill_job_registry_cancel(self, job);
    }
    self->stopping--;
    advance_all(self);
    for (size_t i = 0; i < welcome->adopted_count; i++) {
        rill_worker_job_t *job = rill_job_registry_find(self, welcome->adopted[i].id);
        if (job == NULL) {
            rill_sent_ends_welcomed(&self->sent, self->link, welcome->adopted[i].id, 1, welcome->adopted[i].last_seq);
            continue;
        }
        /* From what the broker has; a WELCOME that answers an earlier HELLO
         * of this same join finds these sent already. */
        uint64_t after = welcome->adopted[i].last_seq;
        if (job->sent_epoch == self->link->join_epoch && job->sent_seq > after)
            after = job->sent_seq;
        send_held_after(self, job, after);
    }
    /* Every job: what it held and never sent (a job the WELCOME did not
     * name came in a BATCH after the HELLO), then the ends that waited. */
    zlistx_t *ids = zhashx_keys(self->jobs);
    for (char *id = zlistx_first(ids); id != NULL; id = zlistx_next(ids)) {
        rill_worker_job_t *job = zhashx_lookup(self->jobs, id);
        if (job == NULL)
            continue;
        send_held_after(self, job, job->sent_seq);
        if (job->ended) {
            send_end(self, job, job->fail_code, job->fail_message);
            forget(self, job);
        }
    }
    zlistx_destroy(&ids);
}
