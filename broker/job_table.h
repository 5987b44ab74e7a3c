/*
 * job_table.h - every job the broker knows: its state, its seqs, its
 * retained events, and when it stops being known.
 *
 * The table owns the jobs. A job is found by id; it is also linked, in
 * deadline order, while it has not ended (timeout_ms), and in expiry order
 * once it has (retain_ms): both orders are kept sorted on insert, so the
 * tick only looks at the heads. State changes go through
 * rill_job_table_set_state, which keeps the counters right.
 */
#ifndef RILL_BROKER_JOB_TABLE_H
#define RILL_BROKER_JOB_TABLE_H

#include "counters.h"
#include "followers.h"
#include "list.h"
#include "retention.h"
#include "rill_id.h"

#include <jansson.h>
#include <stdint.h>

typedef enum {
    RILL_JOB_QUEUED = 0, /* also "waiting" when no live worker serves its kind */
    RILL_JOB_RUNNING,
    RILL_JOB_DONE,
    RILL_JOB_FAILED,
    RILL_JOB_CANCELLED,
} rill_job_state_t;

struct rill_worker;
struct rill_pipeline_group;
struct rill_pipeline_batch;

typedef struct rill_job {
    char id[RILL_ID_TEXT_SIZE];
    char topic[RILL_ID_TEXT_SIZE + 1]; /* "j" + id: its subject on the XPUB */
    uint64_t serial;   /* from 1, in insertion order: the lists' newest first (listing.h) */
    /* kind, source, key, who and args live in one block the job owns
     * (strings): one allocation a job instead of five. */
    char *kind;
    char *source;
    char *key;  /* may be NULL */
    char *who;  /* may be NULL */
    char *args; /* the args object as compact JSON text (rill_submit.h); NULL = none ({}) */
    char *strings;
    size_t args_length;
    int args_unknown;  /* made from a worker's report after a restart (job_life.c): its args never came */
    int detached;
    rill_job_state_t state;
    int held;          /* queued but waiting for its submit barrier */
    uint64_t attempt;  /* from 1 */
    uint64_t dispatched_attempt; /* the attempt of its last BATCH (or adoption); 0 = never on a worker */
    uint64_t losses;   /* attempts lost with their worker that counted against retries */
    int loss_counted;  /* queued again by a loss that counted (an adoption gives it back) */
    const char *retry_reason; /* queued again, its retry event not published yet: it is, when
                                 the next attempt is dispatched (static text; NULL = none) */
    uint64_t not_before_ms;   /* monotonic: no dispatch before (retry backoff); 0 = none */
    uint64_t rejoin_mark;     /* the HELLO (worker_life.c's serial) that last reported it */
    uint64_t worker_seq;      /* the last seq its worker reported for this attempt (HELLO); 0 = none */
    uint64_t last_seq; /* seq of the last event published */
    uint64_t last_event_ms; /* monotonic ms of that event; 0 = none yet (sync: events.c) */
    uint64_t parts;    /* part events published in its current attempt (reset by a retry) */
    rill_retention_t *retention;
    uint64_t submitted_ms; /* Unix epoch ms; 0 = not yet */
    uint64_t started_ms;
    uint64_t ended_ms;
    uint64_t deadline_ms;  /* monotonic; 0 = none */
    uint64_t expires_ms;   /* monotonic; once ended */
    char batch[RILL_ID_TEXT_SIZE]; /* last batch it went in; "" = none */
    struct rill_worker *worker;    /* while running */
    char *worker_name;             /* the worker that runs / ran it; NULL = none */
    char *worker_host;             /* in worker_name's block; NULL with it */
    int64_t worker_pid;
    /* Settings it was submitted with (its pipeline's, else the config's). */
    uint64_t retain_ms;
    uint64_t retries;
    uint64_t flush_ms;
    /* Pipelines (pipeline.h); all NULL / 0 for a job no pipeline matched. */
    char *pipeline;        /* the pipeline's name */
    char *identity;        /* debounce / dedup identity; NULL = not needed */
    int debouncing;        /* in the debounce list */
    int remembered;        /* in the dedup index */
    uint64_t due_ms;       /* debouncing: monotonic end of its quiet period */
    uint64_t buffered_ms;  /* buffered: monotonic time it entered the buffer */
    struct rill_pipeline_group *group;       /* while debouncing or buffered */
    struct rill_pipeline_batch *pipeline_batch; /* while its batch is in flight */
    rill_link_t queue_link;    /* ready queue, or a pipeline's debounce list or group buffer */
    rill_link_t deadline_link; /* table: not ended, by deadline */
    rill_link_t expiry_link;   /* table: ended, by expiry */
    rill_link_t worker_link;   /* jobs of its worker */
    /* Orphan grace (job_life.c; docs/PROTOCOL.md, "Interest"). */
    int released;              /* a frontend RELEASEd it since its last subscribe */
    uint64_t orphan_due_ms;    /* monotonic end of its grace, while in the broker's orphans */
    rill_link_t orphan_link;   /* broker's orphans, by due time */
    rill_link_t active_link;   /* broker's recently active jobs, by last event (events.c: syncs) */
    /* Flow (job_life.c; docs/PROTOCOL.md, "Flow"): the routing ids of the
     * frontends whose every client of the job is behind (FLOW 1), and
     * whether the job is paused at its worker because all its listeners are. */
    char **flow_pausers;       /* each a copy of a routing id (NUL added) */
    size_t *flow_pauser_sizes;
    size_t flow_pauser_count;
    int paused;
    /* rill/4: the frontends it is delivered to directly (followers.h), and
     * how many subscribe its subject on the XPUB (the interest table's
     * count, kept here so an event costs no look-up). */
    rill_followers_t followers;
    uint64_t subscribed;
    /* rill/6, a standby pair (mirror_marks.h): changed since last mirrored
     * (mirror_record: more than new events), and the last seq of its
     * events the passive was sent. */
    rill_link_t mirror_link;
    int mirror_record;
    uint64_t mirrored_seq;
} rill_job_t;

typedef struct {
    const char *id; /* 32 hex digits */
    const char *kind;
    const char *source; /* NULL = the kind */
    const char *key;
    const char *who;
    const char *args; /* compact JSON text, args_length bytes (copied); NULL = none */
    size_t args_length;
    int detached;
    uint64_t retain_parts;
    uint64_t retain_bytes; /* most data bytes retained; 0 = no byte limit */
} rill_job_spec_t;

/* NULL when spec has no kind or its id is not 32 characters. */
rill_job_t *rill_job_new(const rill_job_spec_t *spec);
void rill_job_destroy(rill_job_t **self_p);
int rill_job_is_ended(const rill_job_t *job);
/* Records (copies) which worker runs it; NULL name clears. */
void rill_job_set_worker_info(rill_job_t *job, const char *name, const char *host, int64_t pid);
/* Adds (paused 1) or removes (0) a frontend's routing id in the job's
 * pausers. Returns 1 when the set changed. */
int rill_job_flow_mark(rill_job_t *job, const uint8_t *routing, size_t size, int paused);
/* Forgets every pauser (a listener left: which one is not known). */
void rill_job_flow_clear(rill_job_t *job);
/* "queued", "waiting", "running", "done", "failed", "cancelled". */
const char *rill_job_state_name(const rill_job_t *job, int kind_served);
/* The status JSON of docs/PROTOCOL.md; caller frees. NULL only if jansson
 * refuses (a string that is not UTF-8: none of a job's are). */
char *rill_job_status_json(const rill_job_t *job, uint64_t subscribers, int kind_served);

typedef struct rill_job_table rill_job_table_t;

rill_job_table_t *rill_job_table_new(rill_counters_t *counters);
void rill_job_table_destroy(rill_job_table_t **self_p);
/* Called with each job just before rill_job_table_expire frees it. */
void rill_job_table_on_expire(rill_job_table_t *self, void (*callback)(void *argument, rill_job_t *job),
                              void *argument);
/* Takes ownership of job (state queued). deadline_ms is monotonic, 0 = none.
 * Returns 0, or -1 if the id exists (job not taken). */
int rill_job_table_insert(rill_job_table_t *self, rill_job_t *job, uint64_t deadline_ms);
/* A standby's mirror (mirror_job.c): job takes the serial the active gave
 * it, so lists page the same on both and a takeover knows the order jobs
 * were submitted in; jobs inserted later get serials past it. */
void rill_job_table_set_serial(rill_job_table_t *self, rill_job_t *job, uint64_t serial);
rill_job_t *rill_job_table_find(rill_job_table_t *self, const char *id);
/* id given as a frame: any length, not NUL-terminated. */
rill_job_t *rill_job_table_find_frame(rill_job_table_t *self, const uint8_t *id, size_t length);
/* A hint that id will be looked up soon (id_index.h): its slot is fetched
 * meanwhile. */
void rill_job_table_prefetch(rill_job_table_t *self, const uint8_t *id, size_t length);
size_t rill_job_table_size(rill_job_table_t *self);
/* Calls visit for every job; visit must not add or remove jobs, nor
 * retain a job's event (rill_job_table_evict walks the table too). */
/* Removes and frees one job now, whatever its state (rill/6: a passive
 * drops what its active forgot). */
void rill_job_table_forget(rill_job_table_t *self, rill_job_t *job);
void rill_job_table_foreach(rill_job_table_t *self, void (*visit)(void *argument, rill_job_t *job),
                            void *argument);
/* Moves a job to a new state, keeping the counters. Ending it (done, failed,
 * cancelled) stamps ended_ms and schedules its removal retain_ms after now. */
void rill_job_table_set_state(rill_job_table_t *self, rill_job_t *job, rill_job_state_t state,
                              uint64_t now_ms, uint64_t retain_ms);
/* The next job whose deadline is <= now (unlinked from the deadline order), or NULL. */
rill_job_t *rill_job_table_pop_overdue(rill_job_table_t *self, uint64_t now_ms);
/* Evicts retained events until every job's together hold at most
 * max_bytes (docs/CONFIG.md retain_total_bytes): the oldest events of
 * ended jobs first, in the order they expire, then the oldest of the jobs
 * still going (the one whose oldest event is oldest, each time). Returns
 * how many events went. */
size_t rill_job_table_evict(rill_job_table_t *self, uint64_t max_bytes);
/* At most max_ended ended jobs are kept (0: no bound; docs/CONFIG.md
 * max_retained_jobs): rill_job_table_expire removes the ones that would
 * expire first, early, past it. */
void rill_job_table_set_bound(rill_job_table_t *self, size_t max_ended);
/* Removes and frees ended jobs whose retention is over, then, past the
 * bound, the ended jobs that expire first. Returns how many. */
size_t rill_job_table_expire(rill_job_table_t *self, uint64_t now_ms);

#endif
