/*
 * job_registry.h - the jobs one worker holds, from BATCH to their end.
 *
 * This is the only code that creates, starts, ends or frees a
 * rill_worker_job_t: a BATCH's valid new jobs become held jobs and are handed
 * to their kind (one by one, or as a whole for a kind with start_batch:
 * rill_worker_kind.h); a kind ends each with done or fail, the broker may
 * cancel one, and a draining or restarted worker cancels them all. Every
 * end tells the broker (DONE, FAIL, RETURN) over the link, which gives the
 * job's credit back, except when the broker itself is gone.
 *
 * Parts carry the seqs the worker gives them, from the BATCH's seq on
 * (docs/PROTOCOL.md, "Parts carry their seq"), and each job keeps its last
 * ones in a hold ring (hold_ring.h). While the link is not joined (no
 * broker welcomed this worker since a REJOIN or a silence), parts go only
 * to the ring and a job's end waits: the kinds keep running, memory stays
 * bounded. The jobs are reported in the next HELLO; its WELCOME says which
 * go on (their held parts after the broker's last seq are sent again, then
 * the ends that waited) and which stop, without a word to the broker. An
 * end sent while joined is kept a few heartbeats (sent_ends.h): the next
 * HELLO lists its job too when the link stopped being joined meanwhile.
 */
#ifndef RILL_WORKER_JOB_REGISTRY_H
#define RILL_WORKER_JOB_REGISTRY_H

#include "hold_ring.h"
#include "rill_batch_fast.h"
#include "rill_messages.h"
#include "rill_worker_kind.h"
#include "sent_ends.h"
#include "timer_heap.h"
#include "worker_link.h"

#include <czmq.h>
#include <stddef.h>

#define RILL_WORKER_MAX_KINDS 16

typedef struct {
    zhashx_t *jobs; /* id -> rill_worker_job_t *, owned */
    const rill_worker_kind_t *served[RILL_WORKER_MAX_KINDS];
    size_t served_count;
    rill_worker_link_t *link;
    rill_worker_context_t *context; /* what the kinds are handed */
    rill_hold_budget_t hold_budget; /* worker_hold_bytes over every job's hold ring */
    size_t hold_parts;              /* worker_hold_parts: each new job's ring */
    int stopping;                   /* jobs are being cancelled together: no ordered turn starts */
    rill_timer_heap_t *timers;      /* the kinds' timers (set by the core): next turns start from there */
    rill_worker_timer_t turn_timer; /* armed when a job of an ordered batch ended */
    rill_sent_ends_t sent;          /* ends sent while joined, for a few heartbeats (sent_ends.h) */
} rill_job_registry_t;

/* timers: the heap the kinds' timers run in (an ordered batch's next job
 * starts from it, never inside the callback that ended the one before). */
void rill_job_registry_init(rill_job_registry_t *self, rill_worker_link_t *link, rill_worker_context_t *context,
                            rill_timer_heap_t *timers);
/* Cancels every job (the broker is not told), then lets each served kind
 * release what it shares (its shutdown). */
void rill_job_registry_release(rill_job_registry_t *self);
/* Serves the built-in kinds named in list (comma-separated; NULL: all).
 * Returns 0, or -1 when it names none (logged). */
int rill_job_registry_serve(rill_job_registry_t *self, const char *list);

/* While joined: forgets the kept ends sent before older_than_ns
 * (sent_ends.h); the core calls it every heartbeat. */
void rill_job_registry_prune_ends(rill_job_registry_t *self, uint64_t older_than_ns);

/* The config's worker_hold_parts (for jobs started from now on) and
 * worker_hold_bytes (over all held parts, from now on). */
void rill_job_registry_set_hold(rill_job_registry_t *self, uint64_t parts, uint64_t bytes);

size_t rill_job_registry_count(const rill_job_registry_t *self);
rill_worker_job_t *rill_job_registry_find(const rill_job_registry_t *self, const char *id);

/* The jobs of one BATCH. A malformed entry is dropped (counted on the
 * link), a job already held is ignored, one of a kind not served is refused
 * (FAIL unknown_kind); while draining every job goes back at once (RETURN).
 * The others are held and started; in an ordered batch (rill/3) a per-job
 * kind's jobs start one after another, each when the one before ended (its
 * end sent to the broker), so their parts never interleave; a batch kind
 * gets them all and ends them in order (rill_worker_kind.h). */
void rill_job_registry_start(rill_job_registry_t *self, const rill_batch_entry_t *entries, size_t count, int ordered,
                             int draining);

/* Ends of a job; after each, the job is freed. */
void rill_job_registry_done(rill_job_registry_t *self, rill_worker_job_t *job);
void rill_job_registry_fail(rill_job_registry_t *self, rill_worker_job_t *job, const char *code, const char *message);
void rill_job_registry_cancel(rill_job_registry_t *self, rill_worker_job_t *job);
/* PAUSE from the broker: on a change, the kind's pause() is called (an
 * ended job, or a kind without pause(), only remembers it). */
void rill_job_registry_pause(rill_job_registry_t *self, rill_worker_job_t *job, int paused);
/* Cancels every held job, first telling the broker tell_broker for each
 * (RETURN when draining) unless it is RILL_COMMAND_INVALID; a job whose end
 * waited for a WELCOME tells its end instead. */
void rill_job_registry_cancel_all(rill_job_registry_t *self, rill_command_t tell_broker);

/* A part of job: given the job's next seq and held; sent when the link is
 * joined. Returns 0, or -1 when the link refused it. */
int rill_job_registry_publish(rill_job_registry_t *self, rill_worker_job_t *job, const char *data, size_t length);
/* A part of length bytes was over max_part_bytes and not published
 * (kind_api.c): when the kind fails the job, as it must, it ends with code
 * part_too_large whatever code the kind gives (docs/CONFIG.md). */
void rill_job_registry_refuse_part(rill_job_registry_t *self, rill_worker_job_t *job, size_t length,
                                   uint64_t max_part_bytes);

/* The jobs for a HELLO, in an array the caller frees (*jobs NULL when
 * none); the strings are the jobs' own. Returns how many. */
size_t rill_job_registry_report(const rill_job_registry_t *self, rill_hello_job_t **jobs);
/* After a WELCOME (the link joined again): the cancelled jobs stop, the
 * adopted ones re-send their held parts after the broker's last seq; every
 * job sends what it held and never sent, and the ends that waited go out. */
void rill_job_registry_rejoined(rill_job_registry_t *self, const rill_welcome_t *welcome);

#endif
