/*
 * counters.h - every number the broker keeps about itself, in one struct.
 *
 * /metrics (broker/metrics.c, docs/METRICS.md) reads this struct and
 * nothing else, so counting lives next to the code that changes state, never
 * in the metrics code. Totals only grow; the fields marked "gauge" go up and
 * down.
 */
#ifndef RILL_BROKER_COUNTERS_H
#define RILL_BROKER_COUNTERS_H

#include "retention.h"
#include "rill_metrics.h"

#include <czmq.h>
#include <stdint.h>

typedef struct {
    uint64_t submitted;
    uint64_t queued;  /* gauge: queued or waiting (held by a barrier included) */
    uint64_t running; /* gauge */
    uint64_t done;
    uint64_t failed;
    uint64_t cancelled;
} rill_kind_counters_t;

/* Per pipeline (docs/CONFIG.md "Pipelines"), by its name. */
typedef struct {
    uint64_t jobs;        /* new jobs it took */
    uint64_t batches;     /* batches of its jobs dispatched */
    uint64_t batch_jobs;  /* jobs in those batches (retries included) */
    uint64_t dedup_joins;
    uint64_t debounced;
} rill_pipeline_counters_t;

typedef struct {
    /* jobs */
    uint64_t jobs_submitted;
    uint64_t jobs_queued;  /* gauge */
    uint64_t jobs_running; /* gauge */
    uint64_t jobs_done;
    uint64_t jobs_failed;
    uint64_t jobs_cancelled;
    uint64_t jobs_timed_out;
    uint64_t jobs_retried;
    uint64_t jobs_expired; /* removed after retain_ms */
    uint64_t jobs_expired_early; /* removed before it, for max_retained_jobs */
    uint64_t jobs_retained; /* gauge: jobs in the table, ended or not */
    /* events */
    uint64_t parts;
    uint64_t part_bytes;
    uint64_t parts_ignored; /* PART/DONE/FAIL/RETURN for a job not running there */
    uint64_t parts_stale;     /* PARTs from a worker that is not the job's current one (dropped, CANCEL sent) */
    uint64_t parts_duplicate; /* PARTs with a seq the job has already (re-sent after a re-join) */
    uint64_t bad_parts;       /* PARTs that were not one JSON value in valid UTF-8: their job failed (bad_part) */
    uint64_t part_gaps;       /* gap events for a jump in a worker's seqs */
    uint64_t events_published;
    uint64_t syncs_published; /* sync events (events.c): never delivered to clients */
    uint64_t event_messages;  /* XPUB messages that carried events: one per event, or per follower's batch */
    uint64_t publish_failures;
    uint64_t topics_evicted;  /* idle topic records forgotten for max_topics (topic_table.h) */
    /* rill/8, topic leases (topic_lease.h) */
    uint64_t topic_leases;          /* gauge: topics a frontend numbers now */
    uint64_t topic_leases_granted;
    uint64_t topic_leases_revoked;  /* given back when asked (another publisher, idle) */
    uint64_t topic_leases_cleared;  /* ended without the holder's answer (it went silent) */
    uint64_t publish_repeats;       /* rill/10: messages whose key was known: answered, not published again */
    uint64_t topic_lease_refusals;  /* messages numbered under a lease the broker no longer knew */
    rill_retention_totals_t retention; /* every job's retained bytes (gauge), parts evicted for bytes */
    /* dispatch */
    uint64_t batches;
    uint64_t batch_jobs;
    rill_histogram_t batch_sizes; /* jobs per batch */
    uint64_t dedup_joins;    /* submissions joined to an identical job (dedup) */
    uint64_t debounced_jobs; /* submissions joined to a debouncing identical job */
    /* workers */
    uint64_t workers_alive; /* gauge */
    uint64_t workers_joined;
    uint64_t workers_lost;
    uint64_t workers_rejoined; /* HELLOs of a session the broker knew (idempotent) */
    uint64_t jobs_adopted;     /* jobs a (re-)joining worker reported and goes on with */
    /* peers */
    uint64_t malformed;
    uint64_t refused_version;
    uint64_t requests;
    uint64_t reply_failures;
    uint64_t barrier_timeouts;
    uint64_t subscription_messages; /* XPUB subscribe/unsubscribe messages read (rill/4: not per streamed job) */
    /* rill/6, a standby pair (standby.c): its Binary Star state (gauge: 0
     * no pair, 1 primary, 2 backup, 3 active, 4 passive), MIRROR messages
     * sent and snapshots begun as the active. */
    uint64_t standby_state;
    uint64_t mirror_messages;
    uint64_t mirror_snapshots;
    /* per declared kind: key = kind name, value = rill_kind_counters_t */
    zhashx_t *kinds;
    /* per pipeline: key = pipeline name, value = rill_pipeline_counters_t */
    zhashx_t *pipelines;
} rill_counters_t;

rill_counters_t *rill_counters_new(void);
void rill_counters_destroy(rill_counters_t **self_p);
/* The counters of one kind, created on first use. */
rill_kind_counters_t *rill_counters_kind(rill_counters_t *self, const char *kind);
/* The counters of one pipeline, created on first use. */
rill_pipeline_counters_t *rill_counters_pipeline(rill_counters_t *self, const char *pipeline);

#endif
