/*
 * metrics.c - the broker's counters as Prometheus text. See metrics.h and
 * docs/METRICS.md (names, labels and meanings are documented there; keep the
 * two in step).
 */
#include "metrics.h"

#include <stddef.h>
#include <string.h>

#define LABELS "process=\"broker\""

/* One per-kind family: which field of rill_kind_counters_t, and how. */
typedef struct {
    const char *name;
    const char *type;
    const char *help;
    size_t offset;
} kind_family_t;

static const kind_family_t kind_families[] = {
    {"rill_jobs_submitted_total", "counter", "Jobs accepted by the broker, by kind.",
     offsetof(rill_kind_counters_t, submitted)},
    {"rill_jobs_queued", "gauge",
     "Jobs waiting for a worker now (queued, waiting, or held by a submit barrier), by kind.",
     offsetof(rill_kind_counters_t, queued)},
    {"rill_jobs_running", "gauge", "Jobs on a worker now, by kind.",
     offsetof(rill_kind_counters_t, running)},
    {"rill_jobs_done_total", "counter", "Jobs that ended with done, by kind.",
     offsetof(rill_kind_counters_t, done)},
    {"rill_jobs_failed_total", "counter",
     "Jobs that ended with an error (worker failure, timeout, worker lost), by kind.",
     offsetof(rill_kind_counters_t, failed)},
    {"rill_jobs_cancelled_total", "counter",
     "Jobs cancelled (by request, or because nobody listened any more), by kind.",
     offsetof(rill_kind_counters_t, cancelled)},
};

/* A plain family: one sample. */
typedef struct {
    const char *name;
    const char *type;
    const char *help;
    size_t offset;
} family_t;

static const family_t families[] = {
    {"rill_jobs_timed_out_total", "counter", "Jobs failed with code timeout (their deadline passed).",
     offsetof(rill_counters_t, jobs_timed_out)},
    {"rill_jobs_retried_total", "counter",
     "Re-dispatches of jobs whose worker died or handed them back.",
     offsetof(rill_counters_t, jobs_retried)},
    {"rill_jobs_retained", "gauge", "Jobs the broker knows now, ended ones kept for replay included.",
     offsetof(rill_counters_t, jobs_retained)},
    {"rill_jobs_expired_total", "counter", "Ended jobs forgotten after retain_ms.",
     offsetof(rill_counters_t, jobs_expired)},
    {"rill_broker_jobs_expired_early_total", "counter",
     "Ended jobs forgotten before retain_ms to keep the broker under max_retained_jobs.",
     offsetof(rill_counters_t, jobs_expired_early)},
    {"rill_broker_retained_bytes", "gauge",
     "Bytes of event data all jobs retain for replay (bounded by retain_total_bytes).",
     offsetof(rill_counters_t, retention.bytes)},
    {"rill_broker_retained_evicted_total", "counter",
     "Retained events evicted for a byte limit (retain_bytes, retain_total_bytes): a FETCH gets a gap.",
     offsetof(rill_counters_t, retention.evicted)},
    {"rill_broker_topics_evicted_total", "counter",
     "Idle topic records (nothing retained, nobody listening) forgotten to keep the topics under max_topics.",
     offsetof(rill_counters_t, topics_evicted)},
    {"rill_broker_parts_total", "counter", "Parts accepted from workers and published.",
     offsetof(rill_counters_t, parts)},
    {"rill_broker_part_bytes_total", "counter", "Bytes of part data accepted from workers.",
     offsetof(rill_counters_t, part_bytes)},
    {"rill_broker_parts_ignored_total", "counter",
     "PART, DONE, FAIL or RETURN messages for a job not running on that worker (late or stray).",
     offsetof(rill_counters_t, parts_ignored)},
    {"rill_broker_parts_stale_total", "counter",
     "PARTs from a worker that does not run the job (any more): dropped, the worker told to CANCEL it.",
     offsetof(rill_counters_t, parts_stale)},
    {"rill_broker_parts_duplicate_total", "counter",
     "PARTs with a seq the job has already (held parts a worker re-sent after a re-join): dropped.",
     offsetof(rill_counters_t, parts_duplicate)},
    {"rill_broker_bad_parts_total", "counter",
     "PARTs that were not one JSON value in valid UTF-8: published to no one, their job failed with bad_part.",
     offsetof(rill_counters_t, bad_parts)},
    {"rill_broker_part_gaps_total", "counter",
     "Gap events published for a jump in a worker's seqs (parts its hold ring dropped).",
     offsetof(rill_counters_t, part_gaps)},
    {"rill_broker_events_published_total", "counter",
     "Events published on the responses subject (parts, done, error, retry).",
     offsetof(rill_counters_t, events_published)},
    {"rill_broker_syncs_published_total", "counter",
     "Sync events published so that frontends notice a drop of a subject's last events.",
     offsetof(rill_counters_t, syncs_published)},
    {"rill_broker_event_messages_total", "counter",
     "Messages the events socket sent for events: one per event, or one per follower's batch (rill/4).",
     offsetof(rill_counters_t, event_messages)},
    {"rill_broker_publish_failures_total", "counter", "Events the events socket refused to send.",
     offsetof(rill_counters_t, publish_failures)},
    {"rill_broker_topic_leases", "gauge", "Topics a frontend numbers itself now, under the broker's lease (rill/8).",
     offsetof(rill_counters_t, topic_leases)},
    {"rill_broker_topic_leases_granted_total", "counter", "Topic leases granted to frontends.",
     offsetof(rill_counters_t, topic_leases_granted)},
    {"rill_broker_topic_leases_revoked_total", "counter",
     "Topic leases given back when the broker asked (another publisher, a delete, an idle topic).",
     offsetof(rill_counters_t, topic_leases_revoked)},
    {"rill_broker_topic_leases_cleared_total", "counter",
     "Topic leases ended without the holder's answer (it fell silent).",
     offsetof(rill_counters_t, topic_leases_cleared)},
    {"rill_broker_topic_lease_refusals_total", "counter",
     "Messages a frontend numbered under a lease the broker no longer knew (refused: lease_lost).",
     offsetof(rill_counters_t, topic_lease_refusals)},
    {"rill_broker_publish_repeats_total", "counter",
     "Messages published with a key the topic knew (rill/10): answered with the first one's seq, not published again.",
     offsetof(rill_counters_t, publish_repeats)},
    {"rill_batches_dispatched_total", "counter", "Batches sent to workers.",
     offsetof(rill_counters_t, batches)},
    {"rill_batch_jobs_total", "counter", "Jobs sent to workers, summed over batches.",
     offsetof(rill_counters_t, batch_jobs)},
    {"rill_dedup_joins_total", "counter",
     "Submissions joined to an identical queued, running or retained job (pipeline dedup).",
     offsetof(rill_counters_t, dedup_joins)},
    {"rill_debounced_jobs_total", "counter",
     "Submissions joined to an identical job still in its debounce quiet period (pipeline debounce).",
     offsetof(rill_counters_t, debounced_jobs)},
    {"rill_workers_alive", "gauge", "Workers connected and heard from now.",
     offsetof(rill_counters_t, workers_alive)},
    {"rill_workers_joined_total", "counter", "Worker HELLOs accepted.",
     offsetof(rill_counters_t, workers_joined)},
    {"rill_workers_lost_total", "counter", "Workers declared gone (silent, unreachable, or left).",
     offsetof(rill_counters_t, workers_lost)},
    {"rill_workers_rejoined_total", "counter",
     "HELLOs of a session the broker knew (a worker joining again after a pause or a reconnect).",
     offsetof(rill_counters_t, workers_rejoined)},
    {"rill_jobs_adopted_total", "counter",
     "Jobs a joining worker reported running and the broker let it go on with (no retry).",
     offsetof(rill_counters_t, jobs_adopted)},
    {"rill_broker_malformed_frames_total", "counter",
     "Malformed messages from workers or frontends, counted and dropped.",
     offsetof(rill_counters_t, malformed)},
    {"rill_broker_refused_version_total", "counter",
     "Messages refused because the peer spoke another protocol version.",
     offsetof(rill_counters_t, refused_version)},
    {"rill_broker_requests_total", "counter", "Well-formed requests from frontends.",
     offsetof(rill_counters_t, requests)},
    {"rill_broker_reply_failures_total", "counter", "Replies to frontends that could not be sent.",
     offsetof(rill_counters_t, reply_failures)},
    {"rill_barrier_timeouts_total", "counter",
     "Submit or fetch barriers released after 2 s without their subscription.",
     offsetof(rill_counters_t, barrier_timeouts)},
    {"rill_broker_subscription_messages_total", "counter",
     "Subscribe and unsubscribe messages the XPUB reported (a streamed submit's jobs cost none: they are followed).",
     offsetof(rill_counters_t, subscription_messages)},
    {"rill_broker_standby_state", "gauge",
     "A standby pair's state of this broker: 0 no pair, 1 primary, 2 backup, 3 active, 4 passive.",
     offsetof(rill_counters_t, standby_state)},
    {"rill_broker_mirror_messages_total", "counter", "MIRROR messages this broker sent its passive standby.",
     offsetof(rill_counters_t, mirror_messages)},
    {"rill_broker_mirror_snapshots_total", "counter",
     "Snapshots this broker began sending its passive standby (more than one: it fell out of sync).",
     offsetof(rill_counters_t, mirror_snapshots)},
};

static uint64_t field(const void *base, size_t offset)
{
    uint64_t value;
    memcpy(&value, (const char *)base + offset, sizeof(value));
    return value;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void render_kind_family(const rill_counters_t *counters, const rill_config_t *config,
                               const kind_family_t *family, rill_buffer_t *out)
{
    static const rill_kind_counters_t none;
    rill_metrics_family(out, family->name, family->type, family->help);
    for (size_t i = 0; i < config->kind_count; i++) {
        const rill_kind_counters_t *kind = zhashx_lookup(counters->kinds, config->kinds[i]);
        rill_metrics_sample(out, family->name, LABELS, "kind", config->kinds[i],
                            field(kind != NULL ? kind : &none, family->offset));
    }
    /* Kinds with jobs that the config does not (or no longer) declare. */
    zlistx_t *names = zhashx_keys(counters->kinds); /* czmq aborts on ENOMEM */
    zlistx_set_comparator(names, compare_names);
    zlistx_sort(names);
    for (const char *name = zlistx_first(names); name != NULL; name = zlistx_next(names)) {
        if (rill_config_declares_kind(config, name))
            continue;
        const rill_kind_counters_t *kind = zhashx_lookup(counters->kinds, name);
        rill_metrics_sample(out, family->name, LABELS, "kind", name, field(kind, family->offset));
    }
    zlistx_destroy(&names);
}

/* Per pipeline: every pipeline the config declares (0 before its first
 * job); one a reload removed is no longer shown. */
static const kind_family_t pipeline_families[] = {
    {"rill_pipeline_jobs_total", "counter", "New jobs a pipeline took.", offsetof(rill_pipeline_counters_t, jobs)},
    {"rill_pipeline_batches_total", "counter", "Batches of a pipeline's jobs dispatched to workers.",
     offsetof(rill_pipeline_counters_t, batches)},
    {"rill_pipeline_batch_jobs_total", "counter", "Jobs in a pipeline's dispatched batches (retries included).",
     offsetof(rill_pipeline_counters_t, batch_jobs)},
    {"rill_pipeline_dedup_joins_total", "counter", "Submissions a pipeline's dedup joined to an identical job.",
     offsetof(rill_pipeline_counters_t, dedup_joins)},
    {"rill_pipeline_debounced_total", "counter",
     "Submissions joined to an identical job in a pipeline's debounce quiet period.",
     offsetof(rill_pipeline_counters_t, debounced)},
};

static void render_pipeline_families(const rill_counters_t *counters, const rill_config_t *config,
                                     rill_buffer_t *out)
{
    static const rill_pipeline_counters_t none;
    for (size_t f = 0; f < sizeof(pipeline_families) / sizeof(pipeline_families[0]); f++) {
        rill_metrics_family(out, pipeline_families[f].name, pipeline_families[f].type, pipeline_families[f].help);
        for (size_t i = 0; i < config->pipeline_count; i++) {
            const rill_pipeline_counters_t *pipeline = zhashx_lookup(counters->pipelines, config->pipelines[i].name);
            rill_metrics_sample(out, pipeline_families[f].name, LABELS, "pipeline", config->pipelines[i].name,
                                field(pipeline != NULL ? pipeline : &none, pipeline_families[f].offset));
        }
    }
}

void rill_broker_metrics_render(const rill_counters_t *counters, const rill_config_t *config,
                                rill_buffer_t *out)
{
    render_pipeline_families(counters, config, out);
    for (size_t i = 0; i < sizeof(kind_families) / sizeof(kind_families[0]); i++)
        render_kind_family(counters, config, &kind_families[i], out);
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        rill_metrics_family(out, families[i].name, families[i].type, families[i].help);
        rill_metrics_sample(out, families[i].name, LABELS, NULL, NULL,
                            field(counters, families[i].offset));
    }
    rill_metrics_histogram(out, "rill_batch_size", "Jobs per batch dispatched to a worker.", LABELS,
                           &counters->batch_sizes, 1);
}
