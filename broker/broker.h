/*
 * broker.h - the broker's state, in one object, and the few things every
 * decision needs: the outbox with its bookkeeping, and the log of bad peers.
 *
 * The broker's house, from the ground up (each file calls only files below
 * it, never a file above: tests/check_modules.py):
 *
 *   pure state   job_table, pipeline, ready_queue, worker_pool, interest,
 *                barrier, topic_table, retention, counters, peer_log,
 *                publish_keys, metrics: data and decisions without
 *                sockets, unit-tested
 *   outbox.h     how decisions leave the process (publish, send to a worker,
 *                reply to a frontend): function pointers, no sockets
 *   broker.c     this object: owns the state above and the outbox
 *   events.c     the responses subject: seqs, retention, publish, sync, replay
 *   held.c       work held for a barrier token (a SUBMIT's jobs, a FETCH)
 *   job_life.c   every change of a job's state: submit, start, end, retry,
 *                cancel, and the loss of its last subscriber
 *   worker_life.c  workers joining, crediting, leaving, dying
 *   dispatch.c   ready jobs and pipeline batches to workers
 *   tick.c       what time does: heartbeats, deadlines, expiries
 *   channels     worker_channel.c, control_channel.c, events_channel.c:
 *                decode a message, call one operation above, encode the
 *                answer; their senders are the outbox (sockets.c opens the
 *                sockets)
 *   standby      (rill/6, only with --pair-bind / --standby-of) pair.c the
 *                Binary Star states, peer_link.c the socket between two
 *                brokers, mirror_marks.c what changed (the hooks above
 *                call it: one branch without a pair), mirror_codec.c and
 *                mirror_job.c the records, mirror_out.c / mirror_in.c the
 *                active's and the passive's side, takeover.c the switch,
 *                standby.c all of it for main.c
 *   main.c       flags, config, signals, the poll loop; wires the outbox
 *
 * So one place moves a job between states, every path (done, fail, cancel,
 * timeout, dead worker, no subscriber left) publishes, counts and logs the
 * same way, and all of it runs in tests/unit/broker/test_job_life.c with a
 * fake outbox.
 */
#ifndef RILL_BROKER_BROKER_H
#define RILL_BROKER_BROKER_H

#include "barrier.h"
#include "counters.h"
#include "follower_batches.h"
#include "interest.h"
#include "job_table.h"
#include "mirror_marks.h"
#include "outbox.h"
#include "peer_log.h"
#include "pipeline.h"
#include "presence.h"
#include "publish_keys.h"
#include "ready_queue.h"
#include "rill_config.h"
#include "rill_id.h"
#include "rill_protocol.h"
#include "topic_table.h"
#include "worker_pool.h"

/* How often tick.c frees aged topic messages (publish and fetch drop them
 * lazily too). */
#define RILL_BROKER_TOPIC_SWEEP_MS 1000

typedef struct {
    rill_config_t config;
    /* The identity it presents (PONG, WELCOME): its own, or (rill/6) that
     * of the pair's broker whose state it mirrored and took over. */
    char instance_id[RILL_ID_TEXT_SIZE];
    char own_id[RILL_ID_TEXT_SIZE]; /* drawn at its start: batch ids (unique across a pair) */
    /* Nonzero while the parts of one PARTS message are handled: the moment
     * it was read, the acceptance time of every event it makes (a clock
     * read a message, not one a part: events.c). */
    uint64_t accepting_ns;
    /* The last acceptance time written in decimal, for the next event of
     * the same moment (events.c: a PARTS message's events share it). */
    uint64_t accepted_text_ns;
    char accepted_text[24];
    size_t accepted_text_length;
    rill_outbox_t outbox;
    rill_counters_t *counters;
    rill_job_table_t *jobs;
    rill_ready_queue_t *ready;     /* jobs no pipeline holds, and retries */
    rill_pipelines_t *pipelines;   /* jobs of a declared pipeline (docs/CONFIG.md "Pipelines") */
    rill_worker_pool_t *pool;
    rill_interest_t *interest;
    rill_presence_t *presence;     /* frontends' PRESENCE reports: client streams per subject */
    rill_barrier_t *barrier;       /* items: held.c's, one allocation each */
    rill_peer_log_t *peer_log;
    rill_peer_log_t *rejoin_log; /* REJOINs sent, by routing id: one per heartbeat */
    rill_peer_log_t *stale_log;  /* CANCELs for stale parts, by worker and job: one per heartbeat */
    rill_topic_table_t *topics; /* POST /v1/topics messages: seqs, retention */
    rill_link_t leased_topics;  /* rill/8: topics a frontend numbers (topic_lease.c), oldest lease first */
    rill_publish_keys_t *publish_keys; /* rill/10: keys of published messages (publish_keys.h) */
    uint64_t next_topic_expiry_ms;
    uint64_t batch_serial;
    uint64_t next_heartbeat_ms;
    uint64_t next_prune_ms;
    int dispatch_needed; /* something may now be dispatchable */
    uint64_t dispatched_ms; /* monotonic ms of the last dispatch pass */
    int reap_needed;     /* some worker is unreachable */
    rill_link_t orphans; /* jobs in their orphan grace, by due time (job_life.c) */
    rill_link_t active_jobs; /* jobs with an event in the sync window, oldest event first (events.c) */
    rill_link_t followed_jobs; /* the same, for jobs only their followers listen to: walked only at risk */
    /* Monotonic: the last moment an event could have been lost on its way
     * (events held or dropped at the XPUB, a publish failed, a follow
     * subject came back); 0 = never. Followed jobs get syncs only within
     * the sync window after it (events.c). */
    uint64_t events_at_risk_ms;
    /* Events for followers collected during one pass of the loop, one
     * batch per follow subject, sent by rill_events_flush (events.c). */
    rill_follower_batches_t *follower_batches; /* NULL until the first */
    uint64_t next_retry_ms; /* monotonic: the earliest retry backoff ending; UINT64_MAX = none */
    /* A partition between the broker and every worker (worker_life.c,
     * rill_broker_bury_silent_workers): the jobs it lost are not given to
     * another worker until those cut off with them had a chance to come
     * back and report them. cut_off: no worker heard since the workers
     * were buried unheard; cut_hold_until_ms: monotonic, until then (set
     * when the first worker is heard again). */
    int cut_off;
    uint64_t cut_hold_until_ms;
    uint64_t recovery_until_ms; /* monotonic end of the recovery window; 0 = none */
    uint64_t started_wall_ms; /* Unix epoch ms of the start (PONG "started_ms") */
    uint64_t last_tick_ms;    /* monotonic: the last tick (a longer pause is the broker's own stall) */
    uint64_t hello_serial;    /* HELLOs handled: marks the jobs one reported */
    /* rill/6, a standby pair: what changed since the passive was told
     * (mirror_marks.h); NULL without a pair, so no hook costs anything. */
    rill_mirror_marks_t *mirror;
} rill_broker_t;

/* outbox is copied. NULL with a reason in error (no randomness for the
 * instance id). */
rill_broker_t *rill_broker_new(const rill_config_t *config, const rill_outbox_t *outbox, char *error,
                               size_t error_size);
void rill_broker_destroy(rill_broker_t **self_p);
/* rill/6, a standby pair: forgets every job, worker and topic (a passive
 * that takes a snapshot, or an active that yields); interest and presence
 * stay (they are the frontends'). */
void rill_broker_forget_state(rill_broker_t *self);
/* Replaces the config in force (new jobs use it; running ones keep theirs). */
void rill_broker_set_config(rill_broker_t *self, const rill_config_t *config);
/* Client streams following subject ("j<id>", "t<name>/") over every
 * frontend: the frontends listening (XPUB) plus the extra streams their
 * PRESENCE reports name (presence.h). 0 when no frontend listens. */
uint64_t rill_broker_subscribers(rill_broker_t *self, const char *subject);
/* The frontends listening to a job: those subscribed to its subject on
 * the XPUB, plus its followers whose follow subject is subscribed there
 * (rill/4, docs/PROTOCOL.md "Direct delivery"). */
uint64_t rill_broker_listeners(rill_broker_t *self, const rill_job_t *job);
/* The status JSON of a job (docs/PROTOCOL.md; caller frees): STATUS, CANCEL
 * and the job lists (listing.h) all build it here. NULL only if jansson
 * refuses. */
char *rill_broker_job_status(rill_broker_t *self, const rill_job_t *job);
/* Is some available worker serving this kind (else the job is "waiting")? */
int rill_broker_kind_served(rill_broker_t *self, const char *kind);
/* The recovery window after the broker started: 3 heartbeats and a second,
 * while workers that ran jobs for a previous broker register them
 * (docs/PROTOCOL.md, "Broker restart"). A job the broker does not know may
 * still come: FETCH, STATUS and CANCEL of it answer unavailable. */
#define RILL_BROKER_RECOVERY_EXTRA_MS 1000
int rill_broker_recovering(const rill_broker_t *self, uint64_t now_ms);
/* No recovery window: no broker ran before this one (main.c: a run
 * directory without a lock file), so no worker runs a job it could report. */
void rill_broker_end_recovery(rill_broker_t *self);

/* Sends a command to a known worker; a failure marks it unreachable (the
 * next reap retries its jobs elsewhere: ROUTER_MANDATORY makes a vanished
 * worker a send error). 0 or -1. */
int rill_broker_send_worker(rill_broker_t *self, rill_worker_t *worker, rill_command_t command,
                            const rill_frame_t *arguments, size_t count);
/* Sends to a routing id no worker record stands for (REJOIN). A failure
 * is only logged. */
int rill_broker_send_routing(rill_broker_t *self, const rill_frame_t *routing, rill_command_t command,
                             const rill_frame_t *arguments, size_t count);
/* Replies to a frontend; a failure is counted (reply_failures). 0 or -1. */
int rill_broker_reply(rill_broker_t *self, const rill_frame_t *routing, rill_command_t command,
                      const rill_frame_t *arguments, size_t count);
/* ERROR req code message. */
void rill_broker_reply_error(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t req,
                             const char *code, const char *message);

/* Counts and (rate-limited) logs a malformed message. frames start at the
 * version frame; routing may be NULL (XPUB). */
void rill_broker_malformed(rill_broker_t *self, const char *channel, const rill_frame_t *routing,
                           const rill_frame_t *frames, size_t count, const char *reason);
/* A routing id as printable hex (logs); buffer >= 2*255+1. */
void rill_routing_to_text(const rill_frame_t *routing, char *text, size_t size);

#endif
