/*
 * worker_life.c - workers joining, crediting, draining and going. See
 * worker_life.h.
 */
#include "worker_life.h"
#include "job_life.h"
#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

rill_worker_t *rill_broker_worker_heard(rill_broker_t *self, const rill_frame_t *routing)
{
    rill_worker_t *worker = rill_worker_pool_find(self->pool, routing->data, routing->size);
    uint64_t now = rill_clock_monotonic_ms();
    if (worker != NULL)
        worker->last_seen_ms = now;
    if (self->cut_off) {
        /* The first word from any worker after a cut: the others cut off
         * with it get two heartbeats to say HELLO and report their jobs
         * (adopted then) before those jobs go to another worker. */
        self->cut_off = 0;
        self->cut_hold_until_ms = now + 2 * self->config.heartbeat_ms;
        self->dispatch_needed = 1;
        rill_log_info(NULL, "a worker is heard again after the cut: the jobs lost in it wait %llu ms for their "
                      "workers to report them", (unsigned long long)(2 * self->config.heartbeat_ms));
    }
    return worker;
}

void rill_broker_worker_unknown(rill_broker_t *self, const rill_frame_t *routing, rill_command_t command)
{
    char key[2 * RILL_ROUTING_ID_MAX + 1];
    rill_routing_to_text(routing, key, sizeof(key));
    /* Its queued messages all come from the same unknown id: one REJOIN a
     * heartbeat, not one per message (the worker then says HELLO once). */
    if (!rill_peer_log_allow_every(self->rejoin_log, key, rill_clock_monotonic_ms(), self->config.heartbeat_ms))
        return;
    rill_log_debug(NULL, "%s from an unknown worker %s: REJOIN", rill_command_name(command), key);
    (void)rill_broker_send_routing(self, routing, RILL_COMMAND_REJOIN, NULL, 0);
}

/* WELCOME: the broker, its heartbeat, and what became of the jobs the
 * HELLO reported. */
static void welcome(rill_broker_t *self, rill_worker_t *worker, const rill_welcome_job_t *adopted,
                    size_t adopted_count, const char **cancelled, size_t cancelled_count)
{
    rill_welcome_t message = {.broker = self->instance_id, .heartbeat_ms = self->config.heartbeat_ms,
                              .adopted = (rill_welcome_job_t *)adopted, .adopted_count = adopted_count,
                              .cancelled = cancelled, .cancelled_count = cancelled_count};
    char *text = rill_welcome_encode(&message);
    rill_frame_t frame = rill_frame_from_string(text);
    (void)rill_broker_send_worker(self, worker, RILL_COMMAND_WELCOME, &frame, 1);
    free(text);
}

static void log_joined(rill_broker_t *self, const rill_worker_t *worker)
{
    char kinds[RILL_CONFIG_MAX_KINDS * RILL_CONFIG_KIND_NAME_MAX];
    size_t used = 0;
    kinds[0] = '\0';
    for (size_t i = 0; i < worker->kind_count; i++) {
        int written = snprintf(kinds + used, sizeof(kinds) - used, "%s%s", i ? "," : "", worker->kinds[i]);
        if (written > 0)
            used += (size_t)written;
        if (!rill_config_declares_kind(&self->config, worker->kinds[i]))
            rill_log_warn(NULL, "worker %s serves kind \"%s\", which the config does not declare",
                          worker->name, worker->kinds[i]);
    }
    rill_log_info(NULL, "worker %s (%s pid %lld) joined: kinds %s, credit %llu", worker->name,
                  worker->host, (long long)worker->pid, kinds, (unsigned long long)worker->capacity);
}

/* The worker record a HELLO from routing stands for: the one of its
 * session (moved to routing when the worker reconnected: *reconnected), or
 * a new one. NULL when it cannot be registered. */
static rill_worker_t *hello_worker(rill_broker_t *self, const rill_frame_t *routing, const rill_hello_t *hello,
                                   int *reconnected)
{
    rill_worker_spec_t spec = {.name = hello->name, .host = hello->host, .pid = hello->pid,
                               .kind_count = hello->kind_count, .credit = hello->credit,
                               .session = hello->session};
    if (spec.credit > self->config.max_worker_credit) {
        /* A worker that asks for every job would sit on them until their
         * deadline: the broker believes max_worker_credit of it. */
        rill_log_warn(NULL, "worker %s (%s pid %lld) announced credit %llu: capped at max_worker_credit %llu",
                      hello->name, hello->host, (long long)hello->pid, (unsigned long long)hello->credit,
                      (unsigned long long)self->config.max_worker_credit);
        spec.credit = self->config.max_worker_credit;
    }
    memcpy(spec.kinds, hello->kinds, sizeof(spec.kinds));
    uint64_t now = rill_clock_monotonic_ms();
    rill_worker_t *worker = rill_worker_pool_find(self->pool, routing->data, routing->size);
    if (worker != NULL && strcmp(worker->session, hello->session) != 0) {
        /* One connection, another session: the worker started over, and
         * the jobs of its old session are lost with it. */
        rill_broker_worker_gone(self, worker, "started a new session", 1);
        worker = NULL;
    }
    *reconnected = 0;
    if (worker == NULL && (worker = rill_worker_pool_find_session(self->pool, hello->session)) != NULL) {
        if (rill_worker_pool_rekey(self->pool, worker, routing->data, routing->size) != 0)
            return NULL;
        *reconnected = 1;
    }
    if (worker != NULL) {
        if (rill_worker_pool_update(worker, &spec) != 0)
            return NULL;
        worker->last_seen_ms = now;
        worker->unreachable = 0; /* a send to its old connection may have failed */
        self->counters->workers_rejoined++;
        return worker;
    }
    worker = rill_worker_pool_add(self->pool, routing->data, routing->size, &spec, now);
    if (worker == NULL)
        return NULL;
    worker->heartbeat_ms = self->config.heartbeat_ms;
    self->counters->workers_alive++;
    self->counters->workers_joined++;
    log_joined(self, worker);
    return worker;
}

void rill_broker_worker_hello(rill_broker_t *self, const rill_frame_t *routing, const rill_hello_t *hello)
{
    int reconnected = 0;
    rill_worker_t *worker = hello_worker(self, routing, hello, &reconnected);
    if (worker == NULL) {
        rill_log_error(NULL, "cannot register worker %s: bad routing id or kind", hello->name);
        return;
    }
    self->hello_serial++;
    size_t count = hello->job_count;
    rill_welcome_job_t *adopted = rill_xcalloc(count > 0 ? count : 1, sizeof(*adopted));
    const char **cancelled = rill_xcalloc(count > 0 ? count : 1, sizeof(*cancelled));
    size_t adopted_count = 0, cancelled_count = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t last_seq = 0;
        if (rill_broker_adopt_job(self, worker, &hello->jobs[i], &last_seq))
            adopted[adopted_count++] = (rill_welcome_job_t){hello->jobs[i].id, last_seq};
        else
            cancelled[cancelled_count++] = hello->jobs[i].id;
    }
    if (reconnected) {
        /* What went to its old connection and is not in its list was lost
         * on the way (a BATCH in flight): not the job's failure. On the same
         * connection such a job may still be on its way: it stays. */
        rill_link_t *link = worker->jobs.next;
        while (link != &worker->jobs) {
            rill_job_t *job = rill_container_of(link, rill_job_t, worker_link);
            link = link->next;
            if (job->rejoin_mark != self->hello_serial)
                rill_broker_retry_job(self, job, "worker_lost", 0);
        }
    }
    rill_worker_recount_credit(worker);
    if (hello->job_count > 0 || reconnected)
        rill_log_info(NULL, "worker %s (%s pid %lld) joined again%s: %zu jobs adopted, %zu cancelled, credit %llu",
                      worker->name, worker->host, (long long)worker->pid, reconnected ? " (reconnected)" : "",
                      adopted_count, cancelled_count, (unsigned long long)worker->credit);
    welcome(self, worker, adopted, adopted_count, cancelled, cancelled_count);
    free(adopted);
    free((void *)cancelled);
    self->dispatch_needed = 1;
}

void rill_broker_worker_credit(rill_broker_t *self, rill_worker_t *worker, uint64_t credit)
{
    uint64_t room = self->config.max_worker_credit > worker->capacity
                        ? self->config.max_worker_credit - worker->capacity : 0;
    if (credit > room) {
        /* Logged when the cap is reached, not for each CREDIT past it. */
        if (room > 0)
            rill_log_warn(NULL, "worker %s (%s pid %lld) granted credit %llu more: capped at max_worker_credit %llu",
                          worker->name, worker->host, (long long)worker->pid, (unsigned long long)credit,
                          (unsigned long long)self->config.max_worker_credit);
        credit = room;
    }
    rill_worker_grant_credit(worker, credit);
    self->dispatch_needed = 1;
}

void rill_broker_worker_bye(rill_broker_t *self, rill_worker_t *worker)
{
    (void)self;
    if (!worker->draining)
        rill_log_info(NULL, "worker %s (%s pid %lld) is draining: %llu jobs left", worker->name,
                      worker->host, (long long)worker->pid, (unsigned long long)worker->held);
    worker->draining = 1;
}

void rill_broker_worker_gone(rill_broker_t *self, rill_worker_t *worker, const char *why, int counted)
{
    rill_log_info(NULL, "worker %s (%s pid %lld) %s; it held %llu jobs", worker->name, worker->host,
                  (long long)worker->pid, why, (unsigned long long)worker->held);
    /* From the last to the first: each goes to the queue's front, so their
     * order is kept. */
    while (!rill_list_is_empty(&worker->jobs)) {
        rill_job_t *job = rill_container_of(worker->jobs.prev, rill_job_t, worker_link);
        rill_broker_retry_job(self, job, "worker_lost", counted);
    }
    self->counters->workers_alive--;
    self->counters->workers_lost++;
    rill_worker_pool_remove(self->pool, &worker);
    self->dispatch_needed = 1;
}


void rill_broker_ping_workers(rill_broker_t *self)
{
    for (rill_worker_t *w = rill_worker_pool_first(self->pool); w != NULL;
         w = rill_worker_pool_next(self->pool, w)) {
        if (!w->unreachable)
            (void)rill_broker_send_worker(self, w, RILL_COMMAND_PING, NULL, 0);
    }
}

/* The silence after which a worker is dead: three of its heartbeats. */
static uint64_t dead_window(const rill_broker_t *self, const rill_worker_t *worker)
{
    uint64_t heartbeat = worker->heartbeat_ms > self->config.heartbeat_ms ? worker->heartbeat_ms
                                                                          : self->config.heartbeat_ms;
    return 3 * heartbeat;
}

/* When no worker at all was heard within the last heartbeat and a half
 * (each sends at least a PING every heartbeat), the broker was cut off (or
 * stalled) rather than each worker lost: the attempts lost then do not
 * count against the jobs' retries, and wait for their workers to come back
 * (cut_off). Not "within its dead window": the workers of one cut cross
 * theirs one after another, and the first would be judged while the
 * others still looked alive. */
static int any_worker_heard(const rill_broker_t *self, uint64_t now)
{
    for (rill_worker_t *w = rill_worker_pool_first(self->pool); w != NULL; w = rill_worker_pool_next(self->pool, w))
        if (now - w->last_seen_ms <= dead_window(self, w) / 2)
            return 1;
    return 0;
}

void rill_broker_reap(rill_broker_t *self)
{
    if (!self->reap_needed)
        return;
    self->reap_needed = 0;
    /* Over tcp:// a cut closes every worker's connection (its ZeroMQ
     * heartbeat times out) before the workers' dead windows pass, and a
     * send to a closed one fails: such workers are reaped here first. A
     * cut is judged as for silent workers, or their jobs would be sent to
     * the first worker that comes back while their own workers, coming
     * back a moment later, still run them (run twice). */
    int any_heard = any_worker_heard(self, rill_clock_monotonic_ms());
    rill_worker_t *worker = rill_worker_pool_first(self->pool);
    while (worker != NULL) {
        rill_worker_t *next = rill_worker_pool_next(self->pool, worker);
        if (worker->unreachable) {
            if (!any_heard)
                self->cut_off = 1; /* their jobs wait for them (rill_broker_worker_heard) */
            rill_broker_worker_gone(self, worker,
                                    any_heard ? "is unreachable"
                                              : "is unreachable (no worker was heard: its jobs' retries are not used up)",
                                    any_heard);
        }
        worker = next;
    }
}

void rill_broker_bury_silent_workers(rill_broker_t *self, uint64_t now)
{
    int any_heard = any_worker_heard(self, now); /* a cut, not each worker dead */
    rill_worker_t *worker = rill_worker_pool_first(self->pool);
    while (worker != NULL) {
        rill_worker_t *next = rill_worker_pool_next(self->pool, worker);
        if (now - worker->last_seen_ms > dead_window(self, worker)) {
            if (!any_heard)
                self->cut_off = 1; /* their jobs wait for them (rill_broker_worker_heard) */
            char why[128];
            snprintf(why, sizeof(why), "%s: silent for %llu ms%s",
                     worker->draining && worker->held == 0 ? "left" : "died",
                     (unsigned long long)(now - worker->last_seen_ms),
                     any_heard ? "" : " (no worker was heard: its jobs' retries are not used up)");
            rill_broker_worker_gone(self, worker, why, any_heard);
        }
        worker = next;
    }
}

void rill_broker_forgive_stall(rill_broker_t *self, uint64_t now, uint64_t stalled_ms)
{
    rill_log_warn(NULL, "the broker itself was stalled for %llu ms: every worker gets a fresh heartbeat window",
                  (unsigned long long)stalled_ms);
    for (rill_worker_t *w = rill_worker_pool_first(self->pool); w != NULL; w = rill_worker_pool_next(self->pool, w)) {
        w->last_seen_ms += stalled_ms;
        if (w->last_seen_ms > now)
            w->last_seen_ms = now;
    }
}
