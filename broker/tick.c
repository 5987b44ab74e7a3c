/*
 * tick.c - the broker's timers. See tick.h.
 */
#include "tick.h"
#include "events.h"
#include "held.h"
#include "job_life.h"
#include "topic_lease.h"
#include "worker_life.h"

void rill_broker_tick(rill_broker_t *self, uint64_t now)
{
    /* A tick is due every 50 ms (main.c); one missed by more than a
     * heartbeat means the broker did not run, not that workers fell silent. */
    uint64_t stalled_ms = 0;
    if (now > self->last_tick_ms && now - self->last_tick_ms > self->config.heartbeat_ms) {
        stalled_ms = now - self->last_tick_ms;
        rill_broker_forgive_stall(self, now, stalled_ms);
    }
    self->last_tick_ms = now;
    if (now >= self->next_heartbeat_ms) {
        rill_broker_ping_workers(self);
        rill_events_publish_syncs(self, now);
        self->next_heartbeat_ms = now + self->config.heartbeat_ms;
    }
    rill_broker_bury_silent_workers(self, now);
    rill_broker_reap(self);
    rill_broker_end_overdue(self, now);
    rill_broker_end_orphans(self, now);
    rill_barrier_expire(self->barrier, now, rill_held_release, self);
    if (!rill_list_is_empty(&self->leased_topics))
        rill_topic_lease_tick(self, now, stalled_ms);
    (void)rill_job_table_expire(self->jobs, now);
    if (now >= self->next_topic_expiry_ms) {
        /* Lazily on every publish and fetch too; this sweep frees memory. */
        rill_topic_table_expire(self->topics, now, self->config.topic_retain_ms);
        rill_publish_keys_expire(self->publish_keys, now);
        self->next_topic_expiry_ms = now + RILL_BROKER_TOPIC_SWEEP_MS;
    }
    if (now >= self->next_prune_ms) {
        rill_peer_log_prune(self->peer_log, now);
        rill_peer_log_prune(self->rejoin_log, now);
        rill_peer_log_prune(self->stale_log, now);
        self->next_prune_ms = now + RILL_PEER_LOG_WINDOW_MS;
    }
}
