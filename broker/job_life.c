/*
 * job_life.c - submit, start, end, retry and cancel of jobs, the only code
 * that moves a job between states. See job_life.h for the states and
 * broker.h for where this file stands in the broker.
 */
#include "job_life.h"
#include "events.h"
#include "held.h"
#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rill_broker_refuse(rill_broker_error_t *error, const char *code, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    error->code = code;
    vsnprintf(error->message, sizeof(error->message), format, arguments);
    va_end(arguments);
    return -1;
}

/* ---- a new job in the table ------------------------------------------------- */

/* check_jobs and rill_messages.h's contract (a 32-hex-digit id, a kind)
 * make this unreachable: reaching it is a bug in the broker, not bad input. */
static void broken_contract(const char *id, const char *what)
{
    rill_log_error(NULL, "job %s: %s after the submit checks (a bug)", id, what);
    abort();
}

rill_job_t *rill_broker_insert_job(rill_broker_t *self, rill_job_spec_t *spec,
                                   const rill_pipeline_config_t *pipeline, char *identity, uint64_t now,
                                   uint64_t wall)
{
    spec->retain_parts = self->config.retain_parts;
    spec->retain_bytes = self->config.retain_bytes;
    rill_job_t *job = rill_job_new(spec);
    if (job == NULL)
        broken_contract(spec->id, "rill_job_new refused it");
    job->retain_ms = self->config.retain_ms;
    job->retries = self->config.retries;
    if (pipeline != NULL)
        rill_pipelines_adopt(job, pipeline, identity);
    else
        free(identity);
    uint64_t timeout_ms = pipeline != NULL ? pipeline->timeout_ms : self->config.timeout_ms;
    job->submitted_ms = wall;
    job->subscribed = rill_interest_count(self->interest, job->topic); /* a frontend may be first */
    if (rill_job_table_insert(self->jobs, job, timeout_ms > 0 ? now + timeout_ms : 0) != 0)
        broken_contract(spec->id, "its id was taken");
    rill_mirror_mark_job(self->mirror, job, 1);
    return job;
}

/* ---- requests about one job ----------------------------------------------- */

static char *status_of(rill_broker_t *self, const rill_job_t *job, rill_broker_error_t *error)
{
    char *text = rill_broker_job_status(self, job);
    if (text == NULL)
        rill_broker_refuse(error, "internal", "cannot encode the job's status");
    return text;
}

/* The job named by id, or NULL with the refusal: not_found, or during the
 * recovery window unavailable (a worker may still report it). */
static rill_job_t *find_job(rill_broker_t *self, rill_frame_t id, rill_broker_error_t *error)
{
    rill_job_t *job = rill_job_table_find_frame(self->jobs, id.data, id.size);
    if (job == NULL && rill_broker_recovering(self, rill_clock_monotonic_ms()))
        rill_broker_refuse(error, "unavailable", "recovering");
    else if (job == NULL)
        rill_broker_refuse(error, "not_found", "no such job");
    return job;
}

char *rill_broker_status(rill_broker_t *self, rill_frame_t id, rill_broker_error_t *error)
{
    rill_job_t *job = find_job(self, id, error);
    return job != NULL ? status_of(self, job, error) : NULL;
}

char *rill_broker_cancel(rill_broker_t *self, rill_frame_t id, rill_broker_error_t *error)
{
    rill_job_t *job = find_job(self, id, error);
    if (job == NULL)
        return NULL;
    if (rill_job_is_ended(job)) {
        rill_broker_refuse(error, "conflict", "the job has ended already (%s)", rill_job_state_name(job, 1));
        return NULL;
    }
    rill_broker_end_job(self, job, RILL_JOB_CANCELLED, "cancelled", "requested by a client", 1);
    return status_of(self, job, error);
}

rill_job_t *rill_broker_running_job(rill_broker_t *self, rill_worker_t *worker, rill_frame_t id,
                                    rill_command_t command)
{
    rill_job_t *job = rill_job_table_find_frame(self->jobs, id.data, id.size);
    if (job != NULL && job->state == RILL_JOB_RUNNING && job->worker == worker)
        return job;
    self->counters->parts_ignored++;
    rill_log_debug(job != NULL ? job->who : NULL, "ignored %s for job %.*s from worker %s: %s",
                   rill_command_name(command), (int)id.size, (const char *)id.data, worker->name,
                   job == NULL ? "unknown job" : "not running there");
    return NULL;
}

/* A part from a worker that does not run the job: it must stop it. Once
 * per job and worker per heartbeat, whatever the rate of its parts. */
static void cancel_stale(rill_broker_t *self, rill_worker_t *worker, rill_frame_t id)
{
    char key[sizeof(worker->key) + RILL_ID_TEXT_SIZE + 1];
    snprintf(key, sizeof(key), "%s/%.*s", worker->key, (int)id.size, (const char *)id.data);
    if (rill_peer_log_allow_every(self->stale_log, key, rill_clock_monotonic_ms(), self->config.heartbeat_ms))
        (void)rill_broker_send_worker(self, worker, RILL_COMMAND_CANCEL, &id, 1);
}

/* A gap event for the seqs after the job's last up to to, itself seq to. */
static void publish_gap(rill_broker_t *self, rill_job_t *job, uint64_t to)
{
    uint64_t from = job->last_seq + 1;
    self->counters->part_gaps++;
    char data[64];
    int length = snprintf(data, sizeof(data), "{\"from\":%llu,\"to\":%llu}", (unsigned long long)from,
                          (unsigned long long)to);
    (void)rill_events_publish_bytes(self, job, RILL_EVENT_GAP, to, data, (size_t)length);
}

/* The retry event a new attempt owes, if it owes one: published at its
 * dispatch, not when its last attempt was lost (until this dispatch the
 * lost attempt could still be adopted and go on), or later for a job after
 * the first of an ordered batch (rill_broker_start_job). */
static void publish_retry(rill_broker_t *self, rill_job_t *job)
{
    if (job->retry_reason == NULL)
        return;
    self->counters->jobs_retried++;
    job->parts = 0; /* done.parts and status count the attempt that ends (docs/API.md) */
    (void)rill_events_publish_json(self, job, RILL_EVENT_RETRY,
                                   json_pack("{s:I, s:s}", "attempt", (json_int_t)job->attempt, "reason",
                                             job->retry_reason));
    job->retry_reason = NULL;
}

/* The job a PART from worker may go to: NULL when the part is stale or a
 * duplicate (counted; a stale sender is told to CANCEL). */
static rill_job_t *part_job(rill_broker_t *self, rill_worker_t *worker, rill_frame_t id, uint64_t seq)
{
    rill_job_t *job = rill_job_table_find_frame(self->jobs, id.data, id.size);
    if (job == NULL || job->state != RILL_JOB_RUNNING || job->worker != worker) {
        self->counters->parts_ignored++;
        self->counters->parts_stale++;
        rill_log_debug(job != NULL ? job->who : NULL, "stale part %llu of job %.*s from worker %s: %s",
                       (unsigned long long)seq, (int)id.size, (const char *)id.data, worker->name,
                       job == NULL ? "unknown job" : "it does not run there");
        cancel_stale(self, worker, id);
        return NULL;
    }
    if (seq <= job->last_seq) {
        self->counters->parts_duplicate++;
        return NULL;
    }
    return job;
}

void rill_broker_part(rill_broker_t *self, rill_worker_t *worker, rill_frame_t id, uint64_t seq, const void *data,
                      size_t size)
{
    rill_job_t *job = part_job(self, worker, id, seq);
    if (job == NULL)
        return;
    publish_retry(self, job); /* one it still owes (its seq was kept: the BATCH's seq + 0) */
    if (seq > job->last_seq + 1) {
        /* The worker's hold ring dropped these (or a restarted broker
         * adopted the job late): the receivers are told which seqs they
         * will never get, in the seq just before the part's. */
        rill_log_warn(job->who, "job %s: parts %llu to %llu were lost on worker %s", job->id,
                      (unsigned long long)(job->last_seq + 1), (unsigned long long)(seq - 1), worker->name);
        publish_gap(self, job, seq - 1);
    }
    (void)rill_events_publish_bytes(self, job, RILL_EVENT_PART, seq, data, size);
}

void rill_broker_refuse_part(rill_broker_t *self, rill_worker_t *worker, rill_frame_t id, uint64_t seq,
                             const char *code, const char *message)
{
    rill_job_t *job = part_job(self, worker, id, seq);
    if (job == NULL)
        return;
    if (strcmp(code, "bad_part") == 0)
        self->counters->bad_parts++;
    rill_log_warn(job->who, "job %s: part %llu from worker %s refused: %s", job->id, (unsigned long long)seq,
                  worker->name, message);
    rill_broker_end_job(self, job, RILL_JOB_FAILED, code, message, 1);
}

/* ---- start, end, retry, adopt ------------------------------------------------ */

uint64_t rill_broker_attempt_seq(const rill_job_t *job)
{
    return job->last_seq + (job->retry_reason != NULL ? 1 : 0);
}

/* Tells the job's worker whether it is paused (docs/PROTOCOL.md, "Flow"). */
static void send_pause(rill_broker_t *self, rill_job_t *job)
{
    if (job->worker == NULL)
        return;
    rill_frame_t arguments[2] = {{(const uint8_t *)job->id, RILL_JOB_ID_LENGTH},
                                 rill_frame_from_string(job->paused ? "1" : "0")};
    (void)rill_broker_send_worker(self, job->worker, RILL_COMMAND_PAUSE, arguments, 2);
}

/* Links job to worker as one of the jobs it runs: state running. */
static void assign(rill_broker_t *self, rill_job_t *job, rill_worker_t *worker)
{
    rill_ready_queue_remove(self->ready, job);
    job->worker = worker;
    rill_list_push_back(&worker->jobs, &job->worker_link);
    job->dispatched_attempt = job->attempt;
    job->not_before_ms = 0;
    job->loss_counted = 0;
    job->worker_seq = 0;
    rill_job_set_worker_info(job, worker->name, worker->host, worker->pid);
    rill_job_table_set_state(self->jobs, job, RILL_JOB_RUNNING, 0, 0);
    rill_mirror_mark_job(self->mirror, job, 1);
}

void rill_broker_start_job(rill_broker_t *self, rill_job_t *job, rill_worker_t *worker, const char *batch_id,
                           uint64_t now_wall_ms, int owe_retry)
{
    if (!owe_retry)
        publish_retry(self, job);
    assign(self, job, worker);
    size_t batch_length = strnlen(batch_id, sizeof(job->batch) - 1); /* a copy, cut to fit: no snprintf a job */
    memcpy(job->batch, batch_id, batch_length);
    job->batch[batch_length] = '\0';
    if (job->started_ms == 0)
        job->started_ms = now_wall_ms;
    rill_log_info(job->who, "job %s dispatched to worker %s (%s pid %lld), attempt %llu, batch %s", job->id,
                  worker->name, worker->host, (long long)worker->pid, (unsigned long long)job->attempt,
                  batch_id);
    /* A new attempt starts unpaused: it learns, after its BATCH, that all
     * its listeners are still behind. */
    if (job->paused)
        send_pause(self, job);
}

void rill_broker_unassign(rill_broker_t *self, rill_job_t *job, int give_credit)
{
    rill_worker_t *worker = job->worker;
    if (worker == NULL)
        return;
    rill_list_remove(&job->worker_link);
    if (worker->held > 0)
        worker->held--;
    if (give_credit) {
        rill_worker_add_credit(worker, 1);
        self->dispatch_needed = 1;
    }
    job->worker = NULL;
}

static const char *error_event_name(rill_job_state_t state)
{
    return state == RILL_JOB_CANCELLED ? "cancelled" : "failed";
}

void rill_broker_end_job(rill_broker_t *self, rill_job_t *job, rill_job_state_t state,
                         const char *code, const char *message, int tell_worker)
{
    if (rill_job_is_ended(job))
        return;
    if (job->worker != NULL) {
        publish_retry(self, job); /* an attempt that owes its retry event: before its end */
        if (tell_worker) {
            rill_frame_t id = {(const uint8_t *)job->id, RILL_JOB_ID_LENGTH};
            (void)rill_broker_send_worker(self, job->worker, RILL_COMMAND_CANCEL, &id, 1);
        }
        /* A cancelled job frees its slot on the worker: the credit comes back
         * here, and a DONE/FAIL that crossed the CANCEL is ignored. */
        rill_broker_unassign(self, job, 1);
    }
    rill_ready_queue_remove(self->ready, job);
    job->retry_reason = NULL;
    if (job->pipeline != NULL) {
        /* Its batch may end here: the group's next batch may go. */
        rill_pipelines_job_ended(self->pipelines, job);
        self->dispatch_needed = 1;
    }
    job->held = 0;
    rill_job_flow_clear(job);
    job->paused = 0;
    if (job->worker_seq > job->last_seq) {
        /* Parts its worker reported (HELLO) never came: the receivers are told before the end. */
        publish_gap(self, job, job->worker_seq);
    }
    if (state == RILL_JOB_DONE) {
        /* Every job's last event: written directly, no jansson tree. */
        char data[40] = "{\"parts\":";
        size_t length = sizeof("{\"parts\":") - 1;
        length += rill_u64_to_text(job->parts, data + length);
        data[length++] = '}';
        (void)rill_events_publish_bytes(self, job, RILL_EVENT_DONE, job->last_seq + 1, data, length);
    } else {
        /* code and message come from a worker's FAIL: maybe not UTF-8. */
        json_t *code_value = json_string(code != NULL ? code : "error");
        json_t *message_value = json_string(message != NULL ? message : "");
        if (code_value == NULL)
            code_value = json_string("error");
        if (message_value == NULL)
            message_value = json_string("(message was not valid UTF-8)");
        (void)rill_events_publish_json(self, job, RILL_EVENT_ERROR,
                                       json_pack("{s:o, s:o}", "code", code_value, "message", message_value));
    }
    /* Its last event is kept: what it keeps for retain_ms is trimmed to
     * size (retention.h). */
    if (job->retention != NULL)
        rill_retention_trim(job->retention);
    uint64_t now = rill_clock_monotonic_ms();
    rill_job_table_set_state(self->jobs, job, state, now, job->retain_ms);
    rill_mirror_mark_job(self->mirror, job, 1);
    if (state == RILL_JOB_DONE)
        rill_log_info(job->who, "job %s done: %llu parts", job->id, (unsigned long long)job->parts);
    else if (code != NULL && strcmp(code, error_event_name(state)) == 0) /* the code names the state: said once */
        rill_log_info(job->who, "job %s %s: %s", job->id, code, message != NULL ? message : "");
    else
        rill_log_info(job->who, "job %s %s: %s: %s", job->id, error_event_name(state),
                      code != NULL ? code : "error", message != NULL ? message : "");
}

/* How long a job lost with its worker waits before its next dispatch. */
static uint64_t retry_backoff_ms(const rill_broker_t *self, const rill_job_t *job)
{
    uint64_t delay = self->config.retry_backoff_ms;
    for (uint64_t loss = 1; loss < job->losses && delay < RILL_BROKER_RETRY_BACKOFF_MAX_MS; loss++)
        delay *= 2;
    return delay < RILL_BROKER_RETRY_BACKOFF_MAX_MS ? delay : RILL_BROKER_RETRY_BACKOFF_MAX_MS;
}

void rill_broker_retry_job(rill_broker_t *self, rill_job_t *job, const char *reason, int counted)
{
    if (rill_job_is_ended(job))
        return;
    rill_broker_unassign(self, job, 0);
    int left = strcmp(reason, "worker_left") == 0;
    counted = counted && !left;
    if (counted && job->losses >= job->retries) {
        char message[160];
        snprintf(message, sizeof(message), "its worker was lost on attempt %llu and no retries remain",
                 (unsigned long long)job->attempt);
        rill_broker_end_job(self, job, RILL_JOB_FAILED, "worker_lost", message, 0);
        return;
    }
    if (counted)
        job->losses++;
    job->loss_counted = counted;
    job->attempt++;
    job->retry_reason = left ? "worker_left" : "worker_lost"; /* static: published at the next dispatch */
    job->not_before_ms = 0;
    if (!left) {
        job->not_before_ms = rill_clock_monotonic_ms() + retry_backoff_ms(self, job);
        if (job->not_before_ms < self->next_retry_ms)
            self->next_retry_ms = job->not_before_ms;
    }
    rill_job_set_worker_info(job, NULL, NULL, -1);
    rill_job_table_set_state(self->jobs, job, RILL_JOB_QUEUED, 0, 0);
    rill_mirror_mark_job(self->mirror, job, 1);
    if (!job->held)
        rill_ready_queue_push_front(self->ready, job);
    self->dispatch_needed = 1;
    rill_log_info(job->who, "job %s re-queued for attempt %llu (%s%s)", job->id, (unsigned long long)job->attempt,
                  reason, counted ? "" : ", not counted against its retries");
}

/* A job the broker does not know, reported by a worker during the recovery
 * window: it ran for the broker before this one. NULL with *why otherwise. */
static rill_job_t *recovered_job(rill_broker_t *self, const rill_hello_job_t *reported, const char **why)
{
    uint64_t now = rill_clock_monotonic_ms();
    if (!rill_broker_recovering(self, now)) {
        *why = "the broker does not know it";
        return NULL;
    }
    if (!rill_config_declares_kind(&self->config, reported->kind)) {
        *why = "its kind is not declared";
        return NULL;
    }
    rill_job_spec_t spec = {.id = reported->id, .kind = reported->kind, .source = reported->source,
                            .who = reported->who};
    rill_job_t *job = rill_broker_insert_job(self, &spec, rill_config_match_pipeline(&self->config, reported->kind,
                                                                         reported->source),
                                 NULL, now, rill_clock_wall_ms());
    job->started_ms = job->submitted_ms;
    job->args_unknown = 1; /* a worker's report names no args */
    /* What it published before is lost with the old broker; the parts the
     * worker still holds come again, so the job goes on from the one before
     * the oldest of them (receivers report the seqs before as a gap). */
    job->last_seq = reported->first - 1;
    job->attempt = reported->attempt;
    job->dispatched_attempt = reported->attempt;
    return job;
}

/* Why a known job cannot go on on worker, or NULL when it can. */
static const char *not_adoptable(const rill_job_t *job, const rill_worker_t *worker,
                                 const rill_hello_job_t *reported)
{
    if (rill_job_is_ended(job))
        return "it has ended";
    if (job->worker == worker)
        return NULL;
    if (job->worker != NULL)
        return "it runs on another worker";
    if (job->retry_reason == NULL || reported->attempt != job->dispatched_attempt)
        return "another attempt of it was dispatched";
    return NULL;
}

int rill_broker_adopt_job(rill_broker_t *self, rill_worker_t *worker, const rill_hello_job_t *reported,
                          uint64_t *last_seq)
{
    const char *why = NULL;
    rill_job_t *job = rill_job_table_find(self->jobs, reported->id);
    int recovered = job == NULL;
    if (job != NULL)
        why = not_adoptable(job, worker, reported);
    else
        job = recovered_job(self, reported, &why);
    if (why != NULL) {
        rill_log_info(job != NULL ? job->who : reported->who, "job %s: worker %s still runs attempt %llu, but %s: "
                      "cancelled there", reported->id, worker->name, (unsigned long long)reported->attempt, why);
        return 0;
    }
    job->rejoin_mark = self->hello_serial;
    *last_seq = job->last_seq;
    if (job->paused)
        send_pause(self, job); /* it may have been told otherwise before it left */
    if (job->worker == worker) {
        if (reported->seq > job->worker_seq)
            job->worker_seq = reported->seq;
        return 1;
    }
    /* Queued again after this very attempt was lost, and no retry event
     * went out: the attempt goes on, and its loss is forgiven. */
    if (job->loss_counted && job->losses > 0)
        job->losses--;
    job->attempt = reported->attempt;
    job->retry_reason = NULL;
    assign(self, job, worker);
    job->worker_seq = reported->seq;
    worker->held++;
    if (job->paused)
        send_pause(self, job);
    self->counters->jobs_adopted++;
    rill_log_info(job->who, "job %s adopted: it goes on on worker %s (attempt %llu, seq %llu)", job->id,
                  worker->name, (unsigned long long)job->attempt, (unsigned long long)job->last_seq);
    /* A job the old broker ran: if no frontend has subscribed to it again
     * (its clients went with the old broker), it gets the orphan grace. */
    if (recovered)
        rill_broker_watch_orphan(self, job, rill_clock_monotonic_ms());
    return 1;
}

void rill_broker_end_overdue(rill_broker_t *self, uint64_t now_ms)
{
    rill_job_t *job;
    while ((job = rill_job_table_pop_overdue(self->jobs, now_ms)) != NULL) {
        if (rill_job_is_ended(job))
            continue;
        self->counters->jobs_timed_out++;
        rill_broker_end_job(self, job, RILL_JOB_FAILED, "timeout", "the job did not end within its timeout", 1);
    }
}

/* ---- interest and orphan grace ------------------------------------------- */

/* Whether nobody listening to job should end it: not detached, not ended. */
static int needs_listener(const rill_job_t *job)
{
    return job != NULL && !job->detached && !rill_job_is_ended(job);
}

static void cancel_orphan(rill_broker_t *self, rill_job_t *job, const char *why)
{
    rill_list_remove(&job->orphan_link);
    rill_broker_end_job(self, job, RILL_JOB_CANCELLED, "cancelled", why, 1);
}

/* Someone listens again: no grace, no release mark. */
static void stop_orphan_grace(rill_job_t *job)
{
    job->released = 0;
    if (rill_link_is_linked(&job->orphan_link)) {
        rill_list_remove(&job->orphan_link);
        rill_log_info(job->who, "job %s has a subscriber again: orphan grace stopped", job->id);
    }
}

void rill_broker_watch_orphan(rill_broker_t *self, rill_job_t *job, uint64_t now_ms)
{
    if (!needs_listener(job) || rill_link_is_linked(&job->orphan_link) || rill_broker_listeners(self, job) > 0)
        return;
    job->orphan_due_ms = now_ms + self->config.orphan_grace_ms;
    /* Sorted by due time; a grace that a reload shortened may be due
     * before the last ones, so walk back from the tail. */
    rill_link_t *position = &self->orphans;
    while (position->prev != &self->orphans &&
           rill_container_of(position->prev, rill_job_t, orphan_link)->orphan_due_ms > job->orphan_due_ms)
        position = position->prev;
    rill_list_insert_before(position, &job->orphan_link);
    rill_log_info(job->who, "job %s: nobody listens; cancelled in %llu ms unless someone subscribes", job->id,
                  (unsigned long long)self->config.orphan_grace_ms);
}

void rill_broker_end_orphans(rill_broker_t *self, uint64_t now_ms)
{
    while (!rill_list_is_empty(&self->orphans)) {
        rill_job_t *job = rill_container_of(self->orphans.next, rill_job_t, orphan_link);
        if (job->orphan_due_ms > now_ms)
            return;
        rill_list_remove(&job->orphan_link);
        if (needs_listener(job) && rill_broker_listeners(self, job) == 0)
            cancel_orphan(self, job, "no subscriber left (orphan grace passed)");
    }
}

void rill_broker_release(rill_broker_t *self, rill_frame_t id)
{
    rill_job_t *job = rill_job_table_find_frame(self->jobs, id.data, id.size);
    if (!needs_listener(job))
        return;
    rill_log_debug(job->who, "job %s released by a frontend", job->id);
    if (rill_link_is_linked(&job->orphan_link)) {
        cancel_orphan(self, job, "no subscriber left");
        return;
    }
    /* Its frontend's unsubscribe may still be on its way (another pipe). */
    job->released = 1;
}

/* ---- flow ------------------------------------------------------------------ */

/* Paused while every frontend that listens has said its clients are behind;
 * the worker hears of a change only (docs/PROTOCOL.md, "Flow"). */
static void flow_update(rill_broker_t *self, rill_job_t *job)
{
    uint64_t listening = rill_broker_listeners(self, job);
    int paused = listening > 0 && job->flow_pauser_count >= listening && !rill_job_is_ended(job);
    if (paused == job->paused)
        return;
    job->paused = paused;
    rill_log_debug(job->who, "job %s %s: %zu of %llu listening frontends behind", job->id,
                   paused ? "paused" : "resumed", job->flow_pauser_count, (unsigned long long)listening);
    send_pause(self, job);
}

void rill_broker_flow(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t id, int paused)
{
    rill_job_t *job = rill_job_table_find_frame(self->jobs, id.data, id.size);
    if (job == NULL || rill_job_is_ended(job) || routing == NULL)
        return;
    if (rill_job_flow_mark(job, routing->data, routing->size, paused))
        flow_update(self, job);
}

/* The job's listening frontends (rill_broker_listeners) went from previous
 * to count; subscribe: one came (else one left). */
void rill_broker_listeners_changed(rill_broker_t *self, rill_job_t *job, int subscribe, uint64_t previous,
                                   uint64_t count)
{
    if (job == NULL)
        return;
    if (!subscribe && count < previous) {
        /* A listener left and the XPUB does not say which: a pauser that
         * died must not keep the job paused for the others, so everyone
         * starts over unpaused (a frontend still behind says so again). */
        rill_job_flow_clear(job);
    }
    flow_update(self, job);
    if (subscribe) {
        stop_orphan_grace(job);
        return;
    }
    if (previous != 1 || count != 0 || !needs_listener(job))
        return;
    if (job->released)
        cancel_orphan(self, job, "no subscriber left");
    else
        rill_broker_watch_orphan(self, job, rill_clock_monotonic_ms());
}
