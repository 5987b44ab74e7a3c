/*
 * dispatch.c - pipeline batches and the ready queue to workers: a
 * pipeline's batch as a BATCH of its own, the ready queue's batches of one
 * job held per worker and sent as one BATCH a pass. See dispatch.h.
 */
#include "dispatch.h"
#include "job_life.h"
#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_messages.h"
#include "rill_log.h"
#include "worker_life.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The batch id: the broker's own id's first half, then a serial in 16 hex
 * digits (by hand: snprintf cost ~4k instructions a job here). */
static void next_batch_id(rill_broker_t *self, char batch_id[RILL_ID_TEXT_SIZE])
{
    memcpy(batch_id, self->own_id, 16);
    uint64_t serial = ++self->batch_serial;
    for (int digit = 31; digit >= 16; digit--, serial >>= 4)
        batch_id[digit] = "0123456789abcdef"[serial & 15];
    batch_id[32] = '\0';
}

/* A batch's BATCH frame (its JSON), for the caller to free. */
static char *encode_batch(const char *batch_id, rill_job_t **jobs, size_t count, int ordered)
{
    rill_batch_job_t few[4] = {{0}};
    rill_batch_job_t *entries = count <= 4 ? few : rill_xcalloc(count, sizeof(*entries));
    for (size_t i = 0; i < count; i++) {
        const rill_job_t *job = jobs[i];
        entries[i] = (rill_batch_job_t){.id = job->id, .kind = job->kind, .source = job->source,
                                        .who = job->who, .args_text = job->args,
                                        .args_text_length = job->args_length, .attempt = job->attempt,
                                        .seq = rill_broker_attempt_seq(job)};
    }
    char *text = rill_batch_encode(batch_id, ordered && count > 1, entries, count);
    if (entries != few)
        free(entries);
    return text;
}

/* A batch went to worker: counted, and its jobs start there. */
static void batch_sent(rill_broker_t *self, rill_worker_t *worker, const char *batch_id, rill_job_t **jobs,
                       size_t count, int ordered, uint64_t now_wall)
{
    self->counters->batches++;
    self->counters->batch_jobs += count;
    rill_histogram_observe(&self->counters->batch_sizes, count);
    if (jobs[0]->pipeline != NULL) {
        rill_pipeline_counters_t *pipeline = rill_counters_pipeline(self->counters, jobs[0]->pipeline);
        pipeline->batches++;
        pipeline->batch_jobs += count;
    }
    for (size_t i = 0; i < count; i++)
        rill_broker_start_job(self, jobs[i], worker, batch_id, now_wall, ordered && i > 0);
}

/* Sends one batch to worker at once, and its jobs start there. On failure
 * the jobs stay where they wait and the worker is marked unreachable.
 * ordered: an ordered pipeline's batch, whose jobs the worker runs one after
 * another (docs/PROTOCOL.md, BATCH). */
static int send_batch(rill_broker_t *self, rill_worker_t *worker, rill_job_t **jobs, size_t count, int ordered)
{
    char batch_id[RILL_ID_TEXT_SIZE];
    next_batch_id(self, batch_id);
    char *text = encode_batch(batch_id, jobs, count, ordered);
    rill_frame_t frame = rill_frame_from_string(text);
    int sent = rill_broker_send_worker(self, worker, RILL_COMMAND_BATCH, &frame, 1);
    free(text);
    if (sent != 0)
        return -1;
    rill_worker_pool_note_batch(self->pool, worker, count);
    batch_sent(self, worker, batch_id, jobs, count, ordered, rill_clock_wall_ms());
    return 0;
}

/* ---- the ready queue's batches of one job, one message per worker ---------
 *
 * The ready queue's jobs each go as a batch of their own, and a pass
 * dispatches many (a request of four jobs: four). They are held per worker
 * and leave at the end of the pass as ONE BATCH message of several batch
 * frames (rill/7): libzmq, the kernel and the worker cost per message. The
 * worker's credit is taken when a job is held, so the pass's choices see
 * it; the job starts (job_life.h) only once its message went, and a message
 * that could not go gives the credit back and leaves its jobs queued, as a
 * batch sent at once that failed does. */

#define HELD_WORKERS 8

typedef struct {
    rill_worker_t *worker;
    size_t count;
    rill_job_t *jobs[RILL_BATCHES_PER_MESSAGE];
    char *texts[RILL_BATCHES_PER_MESSAGE];
    char ids[RILL_BATCHES_PER_MESSAGE][RILL_ID_TEXT_SIZE];
} held_batches_t;

static void send_held(rill_broker_t *self, held_batches_t *held, uint64_t now_wall)
{
    if (held->count == 0)
        return;
    rill_frame_t frames[RILL_BATCHES_PER_MESSAGE];
    for (size_t i = 0; i < held->count; i++)
        frames[i] = rill_frame_from_string(held->texts[i]);
    int sent = rill_broker_send_worker(self, held->worker, RILL_COMMAND_BATCH, frames, held->count);
    for (size_t i = 0; i < held->count; i++) {
        free(held->texts[i]);
        if (sent == 0)
            batch_sent(self, held->worker, held->ids[i], &held->jobs[i], 1, 0, now_wall);
    }
    if (sent != 0) {
        /* Still queued: the next pass offers them to the other workers. */
        for (size_t i = 0; i < held->count; i++)
            rill_worker_pool_forget_batch(self->pool, held->worker, 1);
        self->dispatch_needed = 1;
    }
    held->count = 0;
}

/* Holds job's batch of one for worker (sending what worker holds first
 * when full, and the oldest worker's when every slot is taken). */
static void hold_batch(rill_broker_t *self, held_batches_t *held, size_t *held_count, rill_worker_t *worker,
                       rill_job_t *job, uint64_t now_wall)
{
    held_batches_t *slot = NULL;
    for (size_t i = 0; i < *held_count && slot == NULL; i++)
        if (held[i].worker == worker)
            slot = &held[i];
    if (slot == NULL && *held_count == HELD_WORKERS) {
        slot = &held[0];
        send_held(self, slot, now_wall);
    } else if (slot == NULL) {
        slot = &held[(*held_count)++];
        slot->count = 0;
    }
    if (slot->count == RILL_BATCHES_PER_MESSAGE)
        send_held(self, slot, now_wall);
    slot->worker = worker;
    size_t at = slot->count++;
    slot->jobs[at] = job;
    next_batch_id(self, slot->ids[at]);
    slot->texts[at] = encode_batch(slot->ids[at], &job, 1, 0);
    rill_worker_pool_note_batch(self->pool, worker, 1);
}

uint64_t rill_broker_next_due(rill_broker_t *self)
{
    uint64_t due = rill_pipelines_next_due(self->pipelines, self->dispatched_ms);
    return due < self->next_retry_ms ? due : self->next_retry_ms;
}

/* A worker for count jobs of kind: one with that much free credit; else an
 * idle one (it holds nothing) gets what its credit allows, so a batch larger
 * than any worker's credit is split instead of waiting for ever. *take is
 * how many it gets. NULL: the batch waits for credit. */
static rill_worker_t *choose_for_batch(rill_broker_t *self, const char *kind, size_t count, size_t *take)
{
    rill_worker_t *worker = rill_worker_pool_choose(self->pool, kind);
    if (worker == NULL)
        return NULL;
    *take = count;
    if (worker->credit >= count)
        return worker;
    if (worker->held == 0 && worker->credit > 0) {
        *take = (size_t)worker->credit;
        return worker;
    }
    return NULL;
}

/* Each pipeline group whose window closed (or is full) and that has room in
 * flight sends one batch, to one worker. */
static void dispatch_pipelines(rill_broker_t *self, uint64_t now)
{
    if (rill_pipelines_release_debounced(self->pipelines, now) > 0)
        rill_log_debug(NULL, "debounced jobs are quiet: buffered");
    rill_job_t *jobs[RILL_PIPELINE_BATCH_MAX];
    rill_pipeline_group_t *group = rill_pipelines_first_ready(self->pipelines, now);
    while (group != NULL) {
        size_t count = rill_pipeline_group_peek(group, jobs, RILL_PIPELINE_BATCH_MAX);
        size_t take = 0;
        rill_worker_t *worker =
            count > 0 ? choose_for_batch(self, rill_pipeline_group_kind(group), count, &take) : NULL;
        if (worker != NULL && send_batch(self, worker, jobs, take, rill_pipeline_group_ordered(group)) == 0) {
            rill_pipelines_start_batch(self->pipelines, group, jobs, take);
            /* A parallel group may send another batch at once. */
            if (rill_pipeline_group_is_ready(group, now))
                continue;
        }
        group = rill_pipelines_next_ready(self->pipelines, group, now);
    }
}

/* The jobs of an ordered batch whose worker was lost go again together, in
 * their order, as one ordered batch (else they could run at once on two
 * workers, or in the ready queue's order). 1: sent; 0: they wait (a backoff,
 * or no worker with credit for them: *starved); -1: the worker is
 * unreachable. */
static int dispatch_ordered_retry(rill_broker_t *self, rill_job_t **jobs, size_t count, int *starved)
{
    *starved = 0;
    for (size_t i = 0; i < count; i++) {
        if (jobs[i]->not_before_ms > self->dispatched_ms) {
            if (jobs[i]->not_before_ms < self->next_retry_ms)
                self->next_retry_ms = jobs[i]->not_before_ms;
            return 0;
        }
    }
    size_t take = 0;
    rill_worker_t *worker = choose_for_batch(self, jobs[0]->kind, count, &take);
    if (worker == NULL) {
        *starved = 1;
        return 0;
    }
    return send_batch(self, worker, jobs, take, 1) == 0 ? 1 : -1;
}

/* Queued again by a loss that did not count: its worker went while the
 * broker heard no worker at all (a cut, worker_life.c). While the cut
 * lasts, and for the hold after it, it waits for its worker to report it. */
static int lost_in_cut(const rill_job_t *job)
{
    return !job->loss_counted && job->retry_reason != NULL && strcmp(job->retry_reason, "worker_lost") == 0;
}

void rill_broker_dispatch(rill_broker_t *self)
{
    self->dispatch_needed = 0;
    self->dispatched_ms = rill_clock_monotonic_ms();
    dispatch_pipelines(self, self->dispatched_ms);
    /* Found again below: the retries still in their backoff. */
    self->next_retry_ms = UINT64_MAX;
    if (rill_ready_queue_is_empty(self->ready))
        return;
    uint64_t credit = rill_worker_pool_free_credit(self->pool);
    held_batches_t held[HELD_WORKERS];
    size_t held_count = 0;
    /* The worker the pass gave its last job keeps getting them while the
     * load stays even (rill_worker_pool_choose_near): a request of four
     * jobs is one BATCH message to one worker, not one to each (~7 % of
     * the broker's CPU a part at ~50 k parts/s; docs/BENCHMARKS.md,
     * 2026-11-30 18:35); the next pass starts from the most free credit. */
    rill_worker_t *last_held = NULL;
    uint64_t now_wall = rill_clock_wall_ms();
    /* Kinds found without a worker in this pass: skip their jobs quickly. */
    const char *starved[2 * RILL_CONFIG_MAX_KINDS];
    size_t starved_count = 0;
    rill_job_t *job = rill_ready_queue_first(self->ready);
    while (job != NULL && credit > 0) {
        rill_job_t *next = rill_ready_queue_next(self->ready, job);
        int skip = 0;
        uint64_t not_before = job->not_before_ms;
        if (lost_in_cut(job) && self->cut_off)
            not_before = UINT64_MAX; /* until a worker is heard (worker_life.c) */
        else if (lost_in_cut(job) && self->cut_hold_until_ms > not_before)
            not_before = self->cut_hold_until_ms;
        if (not_before > self->dispatched_ms) {
            /* A retry in its backoff: later (main.c polls until then). */
            if (not_before < self->next_retry_ms)
                self->next_retry_ms = not_before;
            skip = 1;
        }
        for (size_t i = 0; i < starved_count && !skip; i++)
            skip = strcmp(starved[i], job->kind) == 0;
        size_t together = 0;
        rill_job_t **batch = !skip ? rill_pipelines_ordered_retry(job, &together) : NULL;
        if (together > 1) {
            int starved_now = 0;
            int sent = dispatch_ordered_retry(self, batch, together, &starved_now);
            free(batch);
            if (starved_now && starved_count < sizeof(starved) / sizeof(starved[0]))
                starved[starved_count++] = job->kind;
            credit = rill_worker_pool_free_credit(self->pool);
            if (sent != 0) {
                /* Jobs after this one may have left the queue: from the
                 * start, once the held batches went (their jobs still sit in
                 * the queue until they start: held twice otherwise). */
                for (size_t i = 0; i < held_count; i++)
                    send_held(self, &held[i], now_wall);
                held_count = 0;
                job = rill_ready_queue_first(self->ready);
                continue;
            }
            job = next;
            continue;
        }
        free(batch);
        if (!skip) {
            rill_worker_t *worker = rill_worker_pool_choose_near(self->pool, job->kind, last_held);
            if (worker == NULL) {
                if (starved_count < sizeof(starved) / sizeof(starved[0]))
                    starved[starved_count++] = job->kind;
            } else {
                hold_batch(self, held, &held_count, worker, job, now_wall);
                last_held = worker;
                credit--;
            }
        }
        job = next;
    }
    for (size_t i = 0; i < held_count; i++)
        send_held(self, &held[i], now_wall);
    rill_broker_reap(self);
}
