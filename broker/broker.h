/*
 * broker.h - the broker's state and the operations that change a job's life.
 *
 * One rill_broker_t ties the modules together: the three sockets, the config
 * in force, the job table, the ready queue, the worker pool, interest, the
 * barrier and the counters. The channel files (worker_channel.c,
 * control_channel.c, events_channel.c) translate messages into the job-life
 * operations declared here (broker.c), which are the only code that moves a
 * job between states, so every path (done, fail, cancel, timeout, dead
 * worker, no subscriber left) publishes, counts and logs the same way.
 */
#ifndef RILL_BROKER_BROKER_H
#define RILL_BROKER_BROKER_H

#include "barrier.h"
#include "counters.h"
#include "interest.h"
#include "job_table.h"
#include "peer_log.h"
#include "pipeline.h"
#include "ready_queue.h"
#include "rill_config.h"
#include "rill_endpoints.h"
#include "rill_id.h"
#include "rill_protocol.h"
#include "topic_table.h"
#include "worker_pool.h"

#include <czmq.h>

/* Messages read from one socket before the others get a turn. */
#define RILL_BROKER_BURST 512

typedef struct {
    rill_config_t config;
    char instance_id[RILL_ID_TEXT_SIZE];
    zsock_t *workers_socket;
    zsock_t *control_socket;
    zsock_t *events_socket;
    void *workers; /* raw libzmq handles of the three */
    void *control;
    void *events;
    rill_counters_t *counters;
    rill_job_table_t *jobs;
    rill_ready_queue_t *ready;     /* jobs no pipeline matched, and retries */
    rill_pipelines_t *pipelines;   /* jobs of a declared pipeline (docs/CONFIG.md "Pipelines") */
    rill_worker_pool_t *pool;
    rill_interest_t *interest;
    rill_barrier_t *barrier;
    rill_peer_log_t *peer_log;
    rill_topic_table_t *topics; /* POST /v1/topics messages: seqs, retention */
    uint64_t next_topic_expiry_ms;
    uint64_t batch_serial;
    uint64_t next_heartbeat_ms;
    uint64_t next_prune_ms;
    int dispatch_needed; /* something may now be dispatchable */
    uint64_t dispatched_ms; /* monotonic ms of the last dispatch pass */
    int reap_needed;     /* some worker is unreachable */
} rill_broker_t;

/* Binds the three endpoints. NULL with a reason in error. */
rill_broker_t *rill_broker_new(const rill_config_t *config, const rill_endpoints_t *endpoints,
                               char *error, size_t error_size);
void rill_broker_destroy(rill_broker_t **self_p);
/* Replaces the config in force (new jobs use it; running ones keep theirs). */
void rill_broker_set_config(rill_broker_t *self, const rill_config_t *config);

/* Timers: heartbeats, dead workers, deadlines, barriers, retention. */
void rill_broker_tick(rill_broker_t *self, uint64_t now_ms);
/* Hands ready jobs to workers while credit allows: due debounced jobs go to
 * their groups, groups whose window closed send one batch each, then the
 * ready queue. */
void rill_broker_dispatch(rill_broker_t *self);
/* Monotonic ms when a pipeline may next have something to dispatch
 * (debounce or buffer window), UINT64_MAX if nothing waits on time. */
uint64_t rill_broker_next_due(rill_broker_t *self);
/* Declares unreachable workers gone (their jobs retried). */
void rill_broker_reap(rill_broker_t *self);

/* Job life. All publish the matching event and log with the job's who. */
/* Ends a job that has not ended: state is DONE, FAILED or CANCELLED; code and
 * message are for the error event (ignored for DONE). If a worker runs it and
 * tell_worker, the worker gets CANCEL and the credit comes back. */
void rill_broker_end_job(rill_broker_t *self, rill_job_t *job, rill_job_state_t state,
                         const char *code, const char *message, int tell_worker);
/* Its worker is gone (reason "worker_lost") or handed it back ("worker_left"):
 * re-queue it with attempt + 1 and a retry event, or (counting retries only
 * for worker_lost) fail it with code worker_lost when none remain. */
void rill_broker_retry_job(rill_broker_t *self, rill_job_t *job, const char *reason);
/* A worker is gone: its jobs are retried, it is forgotten. */
void rill_broker_worker_gone(rill_broker_t *self, rill_worker_t *worker, const char *why);
/* Detaches a job from its worker (credit back if give_credit). */
void rill_broker_unassign(rill_broker_t *self, rill_job_t *job, int give_credit);
/* Is some available worker serving this kind (else the job is "waiting")? */
int rill_broker_kind_served(rill_broker_t *self, const char *kind);
/* Status JSON of a job (caller frees), NULL on ENOMEM. */
char *rill_broker_job_status(rill_broker_t *self, const rill_job_t *job);

/* Counts and (rate-limited) logs a malformed message. frames start at the
 * version frame; routing may be NULL (XPUB). */
void rill_broker_malformed(rill_broker_t *self, const char *channel, const rill_frame_t *routing,
                           const rill_frame_t *frames, size_t count, const char *reason);

/* events_channel.c: the responses subject. */
/* Publishes one event of a job and retains it. data is consumed (closed). */
int rill_events_publish(rill_broker_t *self, rill_job_t *job, rill_event_type_t type, zmq_msg_t *data);
/* Same with a JSON value, which is consumed (decref'd). */
int rill_events_publish_json(rill_broker_t *self, rill_job_t *job, rill_event_type_t type, json_t *value);
/* Publishes one topic message as a part event with the topic's next seq
 * and retains it (topic_retain_*). data is consumed. Returns the seq (a
 * send the XPUB refused is logged: receivers see the gap and FETCH it). */
uint64_t rill_events_publish_topic(rill_broker_t *self, rill_topic_t *topic, zmq_msg_t *data);
/* On every heartbeat: a sync event for each recently active subject someone
 * listens to, so a drop of its last events is noticed (events_channel.c). */
void rill_events_publish_syncs(rill_broker_t *self, uint64_t now_ms);
/* Reads subscribe/unsubscribe messages from the XPUB. */
void rill_events_receive(rill_broker_t *self);

/* worker_channel.c */
void rill_worker_channel_receive(rill_broker_t *self);
/* Sends a command to a worker; a failure marks it unreachable. 0 or -1. */
int rill_worker_channel_send(rill_broker_t *self, rill_worker_t *worker, rill_command_t command,
                             const rill_frame_t *arguments, size_t count);

/* control_channel.c */
void rill_control_channel_receive(rill_broker_t *self);
/* Barrier release callback for held SUBMIT / FETCH work. */
void rill_control_barrier_release(void *item, int timed_out, void *argument);
void rill_control_barrier_item_free(void *item);

/* A routing id as printable hex (logs); buffer >= 2*255+1. */
void rill_routing_to_text(const rill_frame_t *routing, char *text, size_t size);

#endif
