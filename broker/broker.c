/*
 * broker.c - the broker's state, its timers, dispatch, and every change of
 * a job's life (end, retry, worker gone). See broker.h for why these live
 * together and the channels only translate messages.
 */
#include "broker.h"
#include "rill_clock.h"
#include "rill_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define TOPIC_EXPIRY_EVERY_MS 1000 /* sweep of aged topic messages */

void rill_routing_to_text(const rill_frame_t *routing, char *text, size_t size)
{
    static const char digits[] = "0123456789abcdef";
    size_t used = 0;
    if (routing == NULL) {
        snprintf(text, size, "-");
        return;
    }
    for (size_t i = 0; i < routing->size && used + 3 <= size; i++) {
        text[used++] = digits[routing->data[i] >> 4];
        text[used++] = digits[routing->data[i] & 15];
    }
    text[used] = '\0';
}

static zsock_t *open_socket(int type, const char *endpoint, const char *what, char *error,
                            size_t error_size)
{
    zsock_t *socket = zsock_new(type);
    if (socket == NULL) {
        snprintf(error, error_size, "cannot create the %s socket", what);
        return NULL;
    }
    void *raw = zsock_resolve(socket);
    int one = 1;
    int failed = rill_socket_configure(raw) != 0;
    if (!failed && type == ZMQ_ROUTER)
        failed = zmq_setsockopt(raw, ZMQ_ROUTER_MANDATORY, &one, sizeof(one)) != 0;
    if (!failed && type == ZMQ_XPUB)
        failed = zmq_setsockopt(raw, ZMQ_XPUB_VERBOSER, &one, sizeof(one)) != 0;
    if (failed) {
        snprintf(error, error_size, "cannot configure the %s socket: %s", what, zmq_strerror(errno));
        zsock_destroy(&socket);
        return NULL;
    }
    if (zsock_bind(socket, "%s", endpoint) < 0) {
        snprintf(error, error_size, "cannot bind the %s socket to %s: %s", what, endpoint,
                 zmq_strerror(errno));
        zsock_destroy(&socket);
        return NULL;
    }
    return socket;
}

/* The job table is about to free an expired job: no dedup join may name it. */
static void forget_expired(void *argument, rill_job_t *job)
{
    rill_broker_t *self = argument;
    rill_pipelines_forget(self->pipelines, job);
}

rill_broker_t *rill_broker_new(const rill_config_t *config, const rill_endpoints_t *endpoints,
                               char *error, size_t error_size)
{
    rill_broker_t *self = calloc(1, sizeof(*self));
    if (self == NULL) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    self->config = *config;
    if (rill_id_generate(self->instance_id) != 0) {
        snprintf(error, error_size, "no randomness for the instance id");
        free(self);
        return NULL;
    }
    self->counters = rill_counters_new();
    self->jobs = self->counters != NULL ? rill_job_table_new(self->counters) : NULL;
    self->ready = rill_ready_queue_new();
    self->pool = rill_worker_pool_new();
    self->interest = rill_interest_new();
    self->barrier = rill_barrier_new(rill_control_barrier_item_free);
    self->peer_log = rill_peer_log_new();
    self->topics = rill_topic_table_new();
    self->pipelines = rill_pipelines_new();
    if (self->jobs != NULL && self->pipelines != NULL)
        rill_job_table_on_expire(self->jobs, forget_expired, self);
    if (self->pipelines == NULL || self->jobs == NULL || self->ready == NULL || self->pool == NULL || self->interest == NULL ||
        self->barrier == NULL || self->peer_log == NULL || self->topics == NULL) {
        snprintf(error, error_size, "out of memory");
        rill_broker_destroy(&self);
        return NULL;
    }
    self->workers_socket = open_socket(ZMQ_ROUTER, endpoints->workers, "workers", error, error_size);
    if (self->workers_socket != NULL)
        self->control_socket = open_socket(ZMQ_ROUTER, endpoints->control, "control", error, error_size);
    if (self->control_socket != NULL)
        self->events_socket = open_socket(ZMQ_XPUB, endpoints->events, "events", error, error_size);
    if (self->events_socket == NULL) {
        rill_broker_destroy(&self);
        return NULL;
    }
    self->workers = zsock_resolve(self->workers_socket);
    self->control = zsock_resolve(self->control_socket);
    self->events = zsock_resolve(self->events_socket);
    uint64_t now = rill_clock_monotonic_ms();
    self->next_heartbeat_ms = now + self->config.heartbeat_ms;
    self->next_prune_ms = now + RILL_PEER_LOG_WINDOW_MS;
    self->next_topic_expiry_ms = now + TOPIC_EXPIRY_EVERY_MS;
    return self;
}

void rill_broker_destroy(rill_broker_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_broker_t *self = *self_p;
    /* Jobs first: they unlink themselves from queue and worker lists. */
    rill_job_table_destroy(&self->jobs);
    rill_ready_queue_destroy(&self->ready);
    rill_pipelines_destroy(&self->pipelines);
    rill_worker_pool_destroy(&self->pool);
    rill_barrier_destroy(&self->barrier);
    rill_interest_destroy(&self->interest);
    rill_peer_log_destroy(&self->peer_log);
    rill_topic_table_destroy(&self->topics);
    rill_counters_destroy(&self->counters);
    zsock_destroy(&self->events_socket);
    zsock_destroy(&self->control_socket);
    zsock_destroy(&self->workers_socket);
    free(self);
    *self_p = NULL;
}

void rill_broker_set_config(rill_broker_t *self, const rill_config_t *config)
{
    self->config = *config;
    uint64_t now = rill_clock_monotonic_ms();
    if (self->next_heartbeat_ms > now + config->heartbeat_ms)
        self->next_heartbeat_ms = now + config->heartbeat_ms;
    self->dispatch_needed = 1;
}

int rill_broker_kind_served(rill_broker_t *self, const char *kind)
{
    return rill_worker_pool_serving(self->pool, kind) > 0;
}

char *rill_broker_job_status(rill_broker_t *self, const rill_job_t *job)
{
    return rill_job_status_json(job, rill_interest_count(self->interest, job->topic),
                                job->state != RILL_JOB_QUEUED || rill_broker_kind_served(self, job->kind));
}

void rill_broker_unassign(rill_broker_t *self, rill_job_t *job, int give_credit)
{
    (void)self;
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
        rill_worker_t *worker = job->worker;
        if (tell_worker) {
            rill_frame_t id = {(const uint8_t *)job->id, RILL_JOB_ID_LENGTH};
            (void)rill_worker_channel_send(self, worker, RILL_COMMAND_CANCEL, &id, 1);
        }
        /* A cancelled job frees its slot on the worker: the credit comes back
         * here, and a DONE/FAIL that crossed the CANCEL is ignored. */
        rill_broker_unassign(self, job, 1);
    }
    rill_ready_queue_remove(self->ready, job);
    if (job->pipeline != NULL) {
        /* Its batch may end here: the group's next batch may go. */
        rill_pipelines_job_ended(self->pipelines, job);
        self->dispatch_needed = 1;
    }
    job->held = 0;
    if (state == RILL_JOB_DONE) {
        (void)rill_events_publish_json(self, job, RILL_EVENT_DONE,
                                       json_pack("{s:I}", "parts", (json_int_t)job->parts));
    } else {
        json_t *data = json_object();
        json_t *code_value = json_string(code != NULL ? code : "error");
        json_t *message_value = json_string(message != NULL ? message : "");
        if (code_value == NULL)
            code_value = json_string("error");
        if (message_value == NULL) /* not UTF-8 */
            message_value = json_string("(message was not valid UTF-8)");
        if (data != NULL) {
            json_object_set_new(data, "code", code_value);
            json_object_set_new(data, "message", message_value);
        } else {
            json_decref(code_value);
            json_decref(message_value);
        }
        (void)rill_events_publish_json(self, job, RILL_EVENT_ERROR, data);
    }
    uint64_t now = rill_clock_monotonic_ms();
    rill_job_table_set_state(self->jobs, job, state, now, job->retain_ms);
    if (state == RILL_JOB_DONE)
        rill_log_info(job->who, "job %s done: %llu parts", job->id, (unsigned long long)job->parts);
    else
        rill_log_info(job->who, "job %s %s: %s: %s", job->id, error_event_name(state),
                      code != NULL ? code : "error", message != NULL ? message : "");
}

void rill_broker_retry_job(rill_broker_t *self, rill_job_t *job, const char *reason)
{
    if (rill_job_is_ended(job))
        return;
    rill_broker_unassign(self, job, 0);
    int lost = strcmp(reason, "worker_lost") == 0;
    if (lost && job->attempt > job->retries) {
        char message[160];
        snprintf(message, sizeof(message), "its worker was lost on attempt %llu and no retries remain",
                 (unsigned long long)job->attempt);
        rill_broker_end_job(self, job, RILL_JOB_FAILED, "worker_lost", message, 0);
        return;
    }
    job->attempt++;
    self->counters->jobs_retried++;
    (void)rill_events_publish_json(self, job, RILL_EVENT_RETRY,
                                   json_pack("{s:I, s:s}", "attempt", (json_int_t)job->attempt,
                                             "reason", reason));
    (void)rill_job_set_worker_info(job, NULL, NULL, -1);
    rill_job_table_set_state(self->jobs, job, RILL_JOB_QUEUED, 0, 0);
    if (!job->held)
        rill_ready_queue_push_front(self->ready, job);
    self->dispatch_needed = 1;
    rill_log_info(job->who, "job %s re-queued for attempt %llu (%s)", job->id,
                  (unsigned long long)job->attempt, reason);
}

void rill_broker_worker_gone(rill_broker_t *self, rill_worker_t *worker, const char *why)
{
    rill_log_info(NULL, "worker %s (%s pid %lld) %s; it held %llu jobs", worker->name, worker->host,
                  (long long)worker->pid, why, (unsigned long long)worker->held);
    /* From the last to the first: each goes to the queue's front, so their
     * order is kept. */
    while (!rill_list_is_empty(&worker->jobs)) {
        rill_job_t *job = rill_container_of(worker->jobs.prev, rill_job_t, worker_link);
        rill_broker_retry_job(self, job, "worker_lost");
    }
    self->counters->workers_alive--;
    self->counters->workers_lost++;
    rill_worker_pool_remove(self->pool, &worker);
    self->dispatch_needed = 1;
}

void rill_broker_reap(rill_broker_t *self)
{
    if (!self->reap_needed)
        return;
    self->reap_needed = 0;
    rill_worker_t *worker = rill_worker_pool_first(self->pool);
    while (worker != NULL) {
        rill_worker_t *next = rill_worker_pool_next(self->pool, worker);
        if (worker->unreachable)
            rill_broker_worker_gone(self, worker, "is unreachable");
        worker = next;
    }
}

/* Sends one batch to worker. On failure the jobs stay in the ready queue and
 * the worker is marked unreachable. */
static int send_batch(rill_broker_t *self, rill_worker_t *worker, rill_job_t **jobs, size_t count)
{
    char batch_id[RILL_ID_TEXT_SIZE];
    snprintf(batch_id, sizeof(batch_id), "%.16s%016llx", self->instance_id,
             (unsigned long long)++self->batch_serial);
    json_t *list = json_array();
    json_t *batch = json_pack("{s:s, s:o}", "batch", batch_id, "jobs", list);
    if (batch == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        rill_job_t *job = jobs[i];
        json_t *args = job->args != NULL ? json_incref(job->args) : json_object();
        json_t *entry = json_pack("{s:s, s:s, s:s, s:o, s:I, s:s}", "id", job->id, "kind", job->kind,
                                  "source", job->source, "args", args, "attempt",
                                  (json_int_t)job->attempt, "who", job->who != NULL ? job->who : "");
        if (entry == NULL || json_array_append_new(list, entry) != 0) {
            json_decref(batch);
            return -1;
        }
    }
    char *text = json_dumps(batch, JSON_COMPACT);
    json_decref(batch);
    if (text == NULL)
        return -1;
    rill_frame_t frame = rill_frame_from_string(text);
    int sent = rill_worker_channel_send(self, worker, RILL_COMMAND_BATCH, &frame, 1);
    free(text);
    if (sent != 0)
        return -1;
    rill_worker_pool_note_batch(self->pool, worker, count);
    self->counters->batches++;
    self->counters->batch_jobs += count;
    rill_histogram_observe(&self->counters->batch_sizes, count);
    uint64_t now_wall = rill_clock_wall_ms();
    for (size_t i = 0; i < count; i++) {
        rill_job_t *job = jobs[i];
        rill_ready_queue_remove(self->ready, job);
        job->worker = worker;
        rill_list_push_back(&worker->jobs, &job->worker_link);
        memcpy(job->batch, batch_id, sizeof(job->batch));
        if (job->started_ms == 0)
            job->started_ms = now_wall;
        (void)rill_job_set_worker_info(job, worker->name, worker->host, worker->pid);
        rill_job_table_set_state(self->jobs, job, RILL_JOB_RUNNING, 0, 0);
        rill_log_info(job->who, "job %s dispatched to worker %s (%s pid %lld), attempt %llu, batch %s",
                      job->id, worker->name, worker->host, (long long)worker->pid,
                      (unsigned long long)job->attempt, batch_id);
    }
    return 0;
}

uint64_t rill_broker_next_due(rill_broker_t *self)
{
    return rill_pipelines_next_due(self->pipelines, self->dispatched_ms);
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
        if (worker != NULL && send_batch(self, worker, jobs, take) == 0) {
            rill_pipelines_start_batch(self->pipelines, group, jobs, take);
            /* A parallel group may send another batch at once. */
            if (rill_pipeline_group_is_ready(group, now))
                continue;
        }
        group = rill_pipelines_next_ready(self->pipelines, group, now);
    }
}

void rill_broker_dispatch(rill_broker_t *self)
{
    self->dispatch_needed = 0;
    self->dispatched_ms = rill_clock_monotonic_ms();
    dispatch_pipelines(self, self->dispatched_ms);
    if (rill_ready_queue_is_empty(self->ready))
        return;
    uint64_t credit = rill_worker_pool_free_credit(self->pool);
    /* Kinds found without a worker in this pass: skip their jobs quickly. */
    const char *starved[2 * RILL_CONFIG_MAX_KINDS];
    size_t starved_count = 0;
    rill_job_t *job = rill_ready_queue_first(self->ready);
    while (job != NULL && credit > 0) {
        rill_job_t *next = rill_ready_queue_next(self->ready, job);
        int skip = 0;
        for (size_t i = 0; i < starved_count && !skip; i++)
            skip = strcmp(starved[i], job->kind) == 0;
        if (!skip) {
            rill_worker_t *worker = rill_worker_pool_choose(self->pool, job->kind);
            if (worker == NULL) {
                if (starved_count < sizeof(starved) / sizeof(starved[0]))
                    starved[starved_count++] = job->kind;
            } else if (send_batch(self, worker, &job, 1) == 0) {
                credit--;
            } else {
                /* The worker is unreachable now; try this job again. */
                credit = rill_worker_pool_free_credit(self->pool);
                continue;
            }
        }
        job = next;
    }
    rill_broker_reap(self);
}

static void send_heartbeats(rill_broker_t *self)
{
    for (rill_worker_t *w = rill_worker_pool_first(self->pool); w != NULL;
         w = rill_worker_pool_next(self->pool, w)) {
        if (!w->unreachable)
            (void)rill_worker_channel_send(self, w, RILL_COMMAND_PING, NULL, 0);
    }
}

static void bury_silent_workers(rill_broker_t *self, uint64_t now)
{
    rill_worker_t *worker = rill_worker_pool_first(self->pool);
    while (worker != NULL) {
        rill_worker_t *next = rill_worker_pool_next(self->pool, worker);
        uint64_t heartbeat = worker->heartbeat_ms > self->config.heartbeat_ms ? worker->heartbeat_ms
                                                                              : self->config.heartbeat_ms;
        if (now - worker->last_seen_ms > 3 * heartbeat) {
            char why[96];
            snprintf(why, sizeof(why), "%s: silent for %llu ms",
                     worker->draining && worker->held == 0 ? "left" : "died",
                     (unsigned long long)(now - worker->last_seen_ms));
            rill_broker_worker_gone(self, worker, why);
        }
        worker = next;
    }
}

void rill_broker_tick(rill_broker_t *self, uint64_t now)
{
    if (now >= self->next_heartbeat_ms) {
        send_heartbeats(self);
        rill_events_publish_syncs(self, now);
        self->next_heartbeat_ms = now + self->config.heartbeat_ms;
    }
    bury_silent_workers(self, now);
    rill_broker_reap(self);
    rill_job_t *job;
    while ((job = rill_job_table_pop_overdue(self->jobs, now)) != NULL) {
        if (rill_job_is_ended(job))
            continue;
        char message[96];
        snprintf(message, sizeof(message), "the job did not end within its timeout");
        self->counters->jobs_timed_out++;
        rill_broker_end_job(self, job, RILL_JOB_FAILED, "timeout", message, 1);
    }
    rill_barrier_expire(self->barrier, now, rill_control_barrier_release, self);
    (void)rill_job_table_expire(self->jobs, now);
    if (now >= self->next_topic_expiry_ms) {
        /* Lazily on every publish and fetch too; this sweep frees memory. */
        rill_topic_table_expire(self->topics, now, self->config.topic_retain_ms);
        self->next_topic_expiry_ms = now + TOPIC_EXPIRY_EVERY_MS;
    }
    if (now >= self->next_prune_ms) {
        rill_peer_log_prune(self->peer_log, now);
        self->next_prune_ms = now + RILL_PEER_LOG_WINDOW_MS;
    }
}

/* Printable excerpt of untrusted bytes for a log line. */
static void printable(const rill_frame_t *frame, char *text, size_t size)
{
    size_t used = 0;
    for (size_t i = 0; i < frame->size && used + 5 < size && i < 32; i++) {
        uint8_t c = frame->data[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            text[used++] = (char)c;
        else
            used += (size_t)snprintf(text + used, size - used, "\\x%02x", c);
    }
    text[used] = '\0';
}

void rill_broker_malformed(rill_broker_t *self, const char *channel, const rill_frame_t *routing,
                           const rill_frame_t *frames, size_t count, const char *reason)
{
    self->counters->malformed++;
    /* "rill/<something else>": a peer of another protocol version. */
    int wrong_version = count >= 1 && frames[0].size >= 5 && memcmp(frames[0].data, "rill/", 5) == 0 &&
                        !rill_frame_equals(frames[0], RILL_PROTOCOL_VERSION);
    if (wrong_version)
        self->counters->refused_version++;
    char peer[2 * RILL_ROUTING_ID_MAX + 1];
    rill_routing_to_text(routing, peer, sizeof(peer));
    char key[sizeof(peer) + 16];
    snprintf(key, sizeof(key), "%s/%s", channel, peer);
    if (!rill_peer_log_allow(self->peer_log, key, rill_clock_monotonic_ms()))
        return;
    if (wrong_version) {
        char version[160];
        printable(&frames[0], version, sizeof(version));
        rill_log_warn(NULL, "refusing peer %s: protocol \"%s\", expected \"%s\"", peer, version,
                      RILL_PROTOCOL_VERSION);
    } else {
        rill_log_warn(NULL, "dropped a malformed message from %s peer %s: %s (%llu malformed so far)",
                      channel, peer, reason, (unsigned long long)self->counters->malformed);
    }
}
