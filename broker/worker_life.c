/*
 * worker_life.c - workers joining, crediting, draining and going. See
 * worker_life.h.
 */
#include "worker_life.h"
#include "job_life.h"
#include "rill_clock.h"
#include "rill_log.h"

#include <stdio.h>
#include <stdlib.h>

rill_worker_t *rill_broker_worker_heard(rill_broker_t *self, const rill_frame_t *routing)
{
    rill_worker_t *worker = rill_worker_pool_find(self->pool, routing->data, routing->size);
    if (worker != NULL)
        worker->last_seen_ms = rill_clock_monotonic_ms();
    return worker;
}

static void welcome(rill_broker_t *self, rill_worker_t *worker)
{
    json_t *value = json_pack("{s:s, s:I}", "broker", self->instance_id, "heartbeat_ms",
                              (json_int_t)self->config.heartbeat_ms);
    char *text = value != NULL ? json_dumps(value, JSON_COMPACT) : NULL;
    json_decref(value);
    if (text == NULL) {
        rill_log_error(NULL, "cannot encode the WELCOME of worker %s", worker->name);
        return;
    }
    rill_frame_t frame = rill_frame_from_string(text);
    (void)rill_broker_send_worker(self, worker, RILL_COMMAND_WELCOME, &frame, 1);
    free(text);
}

void rill_broker_worker_hello(rill_broker_t *self, rill_worker_t *known, const rill_frame_t *routing,
                              const rill_worker_spec_t *spec)
{
    if (known != NULL) {
        /* Same connection says HELLO again: it lost its session. Its jobs
         * are stopped and retried like those of a lost worker. */
        for (rill_link_t *link = known->jobs.next; link != &known->jobs; link = link->next) {
            rill_job_t *job = rill_container_of(link, rill_job_t, worker_link);
            rill_frame_t id = {(const uint8_t *)job->id, RILL_JOB_ID_LENGTH};
            (void)rill_broker_send_routing(self, routing, RILL_COMMAND_CANCEL, &id, 1);
        }
        rill_broker_worker_gone(self, known, "said HELLO again");
    }
    rill_worker_t *worker =
        rill_worker_pool_add(self->pool, routing->data, routing->size, spec, rill_clock_monotonic_ms());
    if (worker == NULL) {
        rill_log_error(NULL, "cannot register worker %s: bad routing id or kind", spec->name);
        return;
    }
    self->counters->workers_alive++;
    self->counters->workers_joined++;
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
                  worker->host, (long long)worker->pid, kinds, (unsigned long long)worker->credit);
    worker->heartbeat_ms = self->config.heartbeat_ms;
    welcome(self, worker);
    self->dispatch_needed = 1;
}

void rill_broker_worker_credit(rill_broker_t *self, rill_worker_t *worker, uint64_t credit)
{
    rill_worker_add_credit(worker, credit);
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

void rill_broker_ping_workers(rill_broker_t *self)
{
    for (rill_worker_t *w = rill_worker_pool_first(self->pool); w != NULL;
         w = rill_worker_pool_next(self->pool, w)) {
        if (!w->unreachable)
            (void)rill_broker_send_worker(self, w, RILL_COMMAND_PING, NULL, 0);
    }
}

void rill_broker_bury_silent_workers(rill_broker_t *self, uint64_t now)
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
