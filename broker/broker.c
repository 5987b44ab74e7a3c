/*
 * broker.c - the broker object: it owns every part of the state and the
 * outbox, and does the bookkeeping of sending (an unreachable worker, a
 * failed reply) and of bad peers. It decides nothing about jobs; the files
 * above it in broker.h's map do.
 */
#include "broker.h"
#include "follower_batches.h"
#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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

/* The job table is about to free an expired job: no dedup join may name it. */
static void forget_expired(void *argument, rill_job_t *job)
{
    rill_broker_t *self = argument;
    rill_pipelines_forget(self->pipelines, job);
    rill_mirror_mark_forgotten_job(self->mirror, job->id);
}

/* A topic with a listener (its subject, or a wildcard that matches it) is
 * never evicted for max_topics (topic_table.h). */
static int topic_listened(void *argument, const rill_topic_t *topic)
{
    rill_broker_t *self = argument;
    /* A leased topic (rill/8) is numbered by a frontend: never idle. */
    return rill_link_is_linked(&topic->lease.link) || rill_interest_count(self->interest, topic->subject) > 0 ||
           rill_interest_pattern_count(self->interest, topic->subject + 1, topic->subject_length - 2) > 0;
}

/* A topic evicted for max_topics: counted, and forgotten by a standby's
 * mirror as a deleted one (its next record there is a new numbering). */
static void topic_evicted(void *argument, const rill_topic_t *topic)
{
    rill_broker_t *self = argument;
    self->counters->topics_evicted++;
    rill_mirror_mark_deleted_topic(self->mirror, topic->subject, topic->subject_length);
}

rill_broker_t *rill_broker_new(const rill_config_t *config, const rill_outbox_t *outbox, char *error,
                               size_t error_size)
{
    rill_broker_t *self = rill_xcalloc(1, sizeof(*self));
    self->config = *config;
    self->outbox = *outbox;
    if (rill_id_generate(self->own_id) != 0) {
        snprintf(error, error_size, "no randomness for the instance id");
        free(self);
        return NULL;
    }
    memcpy(self->instance_id, self->own_id, sizeof(self->instance_id));
    self->counters = rill_counters_new();
    self->jobs = rill_job_table_new(self->counters);
    self->ready = rill_ready_queue_new();
    self->pool = rill_worker_pool_new();
    self->interest = rill_interest_new();
    self->presence = rill_presence_new();
    self->barrier = rill_barrier_new(free);
    self->peer_log = rill_peer_log_new();
    self->rejoin_log = rill_peer_log_new();
    self->stale_log = rill_peer_log_new();
    self->topics = rill_topic_table_new();
    rill_topic_table_set_bound(self->topics, (size_t)self->config.max_topics, topic_listened, topic_evicted, self);
    self->publish_keys = rill_publish_keys_new((size_t)self->config.max_publish_keys, self->config.publish_key_ttl_ms);
    self->pipelines = rill_pipelines_new();
    rill_job_table_on_expire(self->jobs, forget_expired, self);
    rill_job_table_set_bound(self->jobs, (size_t)self->config.max_retained_jobs);
    rill_list_init(&self->orphans);
    rill_list_init(&self->active_jobs);
    rill_list_init(&self->followed_jobs);
    rill_list_init(&self->leased_topics);
    uint64_t now = rill_clock_monotonic_ms();
    self->recovery_until_ms = now + 3 * self->config.heartbeat_ms + RILL_BROKER_RECOVERY_EXTRA_MS;
    self->started_wall_ms = rill_clock_wall_ms();
    self->last_tick_ms = now;
    self->next_retry_ms = UINT64_MAX;
    self->next_heartbeat_ms = now + self->config.heartbeat_ms;
    self->next_prune_ms = now + RILL_PEER_LOG_WINDOW_MS;
    self->next_topic_expiry_ms = now + RILL_BROKER_TOPIC_SWEEP_MS;
    return self;
}

void rill_broker_destroy(rill_broker_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_broker_t *self = *self_p;
    /* Jobs first: they unlink themselves from queue and worker lists. */
    rill_job_table_destroy(&self->jobs);
    rill_mirror_marks_destroy(&self->mirror);
    rill_ready_queue_destroy(&self->ready);
    rill_pipelines_destroy(&self->pipelines);
    rill_worker_pool_destroy(&self->pool);
    rill_barrier_destroy(&self->barrier);
    rill_interest_destroy(&self->interest);
    rill_presence_destroy(&self->presence);
    rill_peer_log_destroy(&self->peer_log);
    rill_peer_log_destroy(&self->rejoin_log);
    rill_peer_log_destroy(&self->stale_log);
    rill_topic_table_destroy(&self->topics);
    rill_publish_keys_destroy(&self->publish_keys);
    rill_follower_batches_destroy(&self->follower_batches);
    rill_counters_destroy(&self->counters);
    free(self);
    *self_p = NULL;
}

/* Collects what a table holds (its walk must not remove). */
typedef struct {
    void **items;
    size_t count;
} collected_t;

static void collect_job(void *argument, rill_job_t *job)
{
    collected_t *collected = argument;
    collected->items[collected->count++] = job;
}

static void collect_topic(void *argument, rill_topic_t *topic)
{
    collected_t *collected = argument;
    collected->items[collected->count++] = topic;
}

void rill_broker_forget_state(rill_broker_t *self)
{
    /* The tables are emptied, not replaced: what points at them (the
     * counters' gauges, a topic bound) stays right. Jobs first: they
     * unlink themselves from queue, worker, orphan and mirror lists. */
    collected_t jobs = {rill_xcalloc(rill_job_table_size(self->jobs) + 1, sizeof(void *)), 0};
    rill_job_table_foreach(self->jobs, collect_job, &jobs);
    for (size_t i = 0; i < jobs.count; i++)
        rill_job_table_forget(self->jobs, jobs.items[i]);
    free(jobs.items);
    rill_worker_t *worker = rill_worker_pool_first(self->pool);
    while (worker != NULL) {
        rill_worker_t *next = rill_worker_pool_next(self->pool, worker);
        rill_worker_pool_remove(self->pool, &worker);
        self->counters->workers_alive--;
        worker = next;
    }
    collected_t topics = {rill_xcalloc(rill_topic_table_size(self->topics) + 1, sizeof(void *)), 0};
    rill_topic_table_foreach(self->topics, collect_topic, &topics);
    for (size_t i = 0; i < topics.count; i++)
        rill_topic_table_remove(self->topics, topics.items[i]);
    free(topics.items);
    self->counters->topic_leases = 0; /* the leases went with their topics */
    rill_publish_keys_clear(self->publish_keys);
    rill_barrier_destroy(&self->barrier);
    self->barrier = rill_barrier_new(free);
    rill_follower_batches_destroy(&self->follower_batches);
    rill_mirror_marks_clear(self->mirror);
    self->next_retry_ms = UINT64_MAX;
    self->cut_off = 0;
    self->cut_hold_until_ms = 0;
}

uint64_t rill_broker_subscribers(rill_broker_t *self, const char *subject)
{
    uint64_t frontends = rill_interest_count(self->interest, subject);
    if (frontends == 0)
        return 0;
    return frontends + rill_presence_extra(self->presence, subject, rill_clock_monotonic_ms());
}

/* Followers whose frontend's follow subscription is at the XPUB. */
static uint64_t live_followers(rill_broker_t *self, const rill_job_t *job)
{
    uint64_t live = 0;
    for (size_t i = 0; i < job->followers.count; i++)
        live += rill_interest_count(self->interest, job->followers.subjects[i].text) > 0;
    return live;
}

uint64_t rill_broker_listeners(rill_broker_t *self, const rill_job_t *job)
{
    return job->followers.count > 0 ? job->subscribed + live_followers(self, job) : job->subscribed;
}

char *rill_broker_job_status(rill_broker_t *self, const rill_job_t *job)
{
    /* Its followers (rill/4) are listening frontends as much as its subscribers. */
    uint64_t frontends = rill_broker_listeners(self, job);
    uint64_t subscribers =
        frontends > 0 ? frontends + rill_presence_extra(self->presence, job->topic, rill_clock_monotonic_ms()) : 0;
    return rill_job_status_json(job, subscribers,
                                job->state != RILL_JOB_QUEUED || rill_broker_kind_served(self, job->kind));
}

void rill_broker_set_config(rill_broker_t *self, const rill_config_t *config)
{
    self->config = *config;
    rill_topic_table_set_bound(self->topics, (size_t)config->max_topics, topic_listened, topic_evicted, self);
    rill_job_table_set_bound(self->jobs, (size_t)config->max_retained_jobs);
    rill_publish_keys_set_bounds(self->publish_keys, (size_t)config->max_publish_keys, config->publish_key_ttl_ms);
    uint64_t now = rill_clock_monotonic_ms();
    if (self->next_heartbeat_ms > now + config->heartbeat_ms)
        self->next_heartbeat_ms = now + config->heartbeat_ms;
    self->dispatch_needed = 1;
}

int rill_broker_kind_served(rill_broker_t *self, const char *kind)
{
    return rill_worker_pool_serving(self->pool, kind) > 0;
}

int rill_broker_recovering(const rill_broker_t *self, uint64_t now_ms)
{
    return now_ms < self->recovery_until_ms;
}

void rill_broker_end_recovery(rill_broker_t *self)
{
    self->recovery_until_ms = 0;
}

int rill_broker_send_worker(rill_broker_t *self, rill_worker_t *worker, rill_command_t command,
                            const rill_frame_t *arguments, size_t count)
{
    if (worker->unreachable)
        return -1;
    rill_frame_t routing = {worker->routing_id, worker->routing_id_size};
    if (self->outbox.send_worker(self->outbox.context, &routing, command, arguments, count) == 0)
        return 0;
    rill_log_warn(NULL, "worker %s (%s pid %lld): cannot send %s: %s", worker->name, worker->host,
                  (long long)worker->pid, rill_command_name(command), zmq_strerror(errno));
    worker->unreachable = 1;
    self->reap_needed = 1;
    return -1;
}

int rill_broker_send_routing(rill_broker_t *self, const rill_frame_t *routing, rill_command_t command,
                             const rill_frame_t *arguments, size_t count)
{
    if (self->outbox.send_worker(self->outbox.context, routing, command, arguments, count) != 0) {
        rill_log_debug(NULL, "cannot send %s to a worker: %s", rill_command_name(command),
                       zmq_strerror(errno));
        return -1;
    }
    return 0;
}

int rill_broker_reply(rill_broker_t *self, const rill_frame_t *routing, rill_command_t command,
                      const rill_frame_t *arguments, size_t count)
{
    if (self->outbox.reply(self->outbox.context, routing, command, arguments, count) != 0) {
        self->counters->reply_failures++;
        rill_log_debug(NULL, "cannot send %s to a frontend: %s", rill_command_name(command),
                       zmq_strerror(errno));
        return -1;
    }
    return 0;
}

void rill_broker_reply_error(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t req,
                             const char *code, const char *message)
{
    rill_frame_t arguments[3] = {req, rill_frame_from_string(code), rill_frame_from_string(message)};
    (void)rill_broker_reply(self, routing, RILL_COMMAND_ERROR, arguments, 3);
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
