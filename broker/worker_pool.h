/*
 * worker_pool.h - the workers the broker knows, their credit and liveness,
 * and which of them gets the next batch.
 *
 * A worker is known by its ROUTER routing id, and by the session id its
 * HELLO carries (one per worker process): a worker that reconnects comes
 * back on a new routing id with the same session, and its record moves to
 * the new id (rill_worker_pool_rekey). It serves a set of kinds and holds
 * at most the credit it granted (docs/PROTOCOL.md): free credit is that
 * capacity minus the jobs it holds, down by one per job sent and up by one
 * per job finished or cancelled. The
 * choice of worker for a batch is here and only here: the live,
 * non-draining worker serving the kind with the most free credit, ties going
 * to the one that got a batch least recently (round-robin among equals).
 */
#ifndef RILL_BROKER_WORKER_POOL_H
#define RILL_BROKER_WORKER_POOL_H

#include "list.h"
#include "rill_config.h"
#include "rill_id.h"
#include "rill_messages.h"
#include "rill_process_stats.h"

#include <stddef.h>
#include <stdint.h>

#define RILL_WORKER_CREDIT_MAX RILL_MESSAGE_CREDIT_MAX
#define RILL_ROUTING_ID_MAX 255

typedef struct rill_worker {
    uint8_t routing_id[RILL_ROUTING_ID_MAX];
    size_t routing_id_size;
    char key[2 * RILL_ROUTING_ID_MAX + 1]; /* routing id in hex: logs and lookups */
    char session[RILL_ID_TEXT_SIZE];       /* its HELLO's session; "" = none */
    char *name;
    char *host;
    int64_t pid;
    size_t kind_count;
    char kinds[RILL_CONFIG_MAX_KINDS][RILL_CONFIG_KIND_NAME_MAX];
    uint64_t capacity;   /* the credit it granted in all (HELLO, then CREDIT) */
    uint64_t credit;     /* free slots: capacity - held, at most */
    uint64_t held;       /* jobs it runs for us */
    int draining;        /* sent BYE: no more batches */
    int unreachable;     /* a send failed: to be reaped */
    uint64_t last_seen_ms;  /* monotonic */
    uint64_t heartbeat_ms;  /* the interval its WELCOME announced (a reload
                               must not make a worker look dead) */
    uint64_t last_batch;    /* dispatch serial of its last batch: round-robin */
    uint64_t serial;        /* from 1, in the order workers joined (listing.h) */
    uint64_t joined_wall_ms; /* Unix epoch ms it joined (a re-join keeps it) */
    uint64_t parts;          /* parts accepted from it (worker_metrics.h) */
    uint64_t batches;        /* batches sent to it */
    rill_process_stats_t process; /* from its last PING (rill/5); all 0 before */
    int has_process;
    rill_link_t jobs;       /* rill_job_t.worker_link */
    rill_link_t pool_link;
} rill_worker_t;

typedef struct {
    const char *name;
    const char *host;
    int64_t pid;
    size_t kind_count;
    const char *kinds[RILL_CONFIG_MAX_KINDS];
    uint64_t credit;
    const char *session; /* NULL: none */
} rill_worker_spec_t;

typedef struct rill_worker_pool rill_worker_pool_t;

rill_worker_pool_t *rill_worker_pool_new(void);
/* Workers must hold no jobs any more (or the jobs be freed already). */
void rill_worker_pool_destroy(rill_worker_pool_t **self_p);
/* NULL if the id is empty, too long or known already, or a kind too long. */
rill_worker_t *rill_worker_pool_add(rill_worker_pool_t *self, const uint8_t *routing_id,
                                    size_t routing_id_size, const rill_worker_spec_t *spec,
                                    uint64_t now_ms);
rill_worker_t *rill_worker_pool_find(rill_worker_pool_t *self, const uint8_t *routing_id,
                                     size_t routing_id_size);
/* The worker whose HELLO carried session, or NULL. */
rill_worker_t *rill_worker_pool_find_session(rill_worker_pool_t *self, const char *session);
/* The worker reconnected: it is known by this routing id from now on. -1
 * (nothing changed) when the id is empty, too long, or another worker's. */
int rill_worker_pool_rekey(rill_worker_pool_t *self, rill_worker_t *worker, const uint8_t *routing_id,
                           size_t routing_id_size);
/* A HELLO of a known session: name, host, pid, kinds and capacity are
 * spec's now; its free credit is the capacity less the jobs it holds (so no
 * credit leaks across a re-join). -1 (nothing changed) for a kind too long. */
int rill_worker_pool_update(rill_worker_t *worker, const rill_worker_spec_t *spec);
/* Frees the worker. Its jobs list must be empty. */
void rill_worker_pool_remove(rill_worker_pool_t *self, rill_worker_t **worker_p);
size_t rill_worker_pool_size(rill_worker_pool_t *self);
int rill_worker_serves(const rill_worker_t *worker, const char *kind);
/* Live = not draining and reachable. */
int rill_worker_is_available(const rill_worker_t *worker);
/* Available workers serving kind. */
size_t rill_worker_pool_serving(rill_worker_pool_t *self, const char *kind);
/* Sum of free credit over available workers. */
uint64_t rill_worker_pool_free_credit(rill_worker_pool_t *self);
/* Who gets the next batch of this kind, or NULL (none with free credit). */
rill_worker_t *rill_worker_pool_choose(rill_worker_pool_t *self, const char *kind);
/* The same, except that `preferred` (the worker the caller gave its last
 * job, NULL for none) is chosen again while it serves kind, has credit,
 * and has no less free credit than the best less 1/16 of its capacity:
 * the ready queue's jobs of one dispatch pass then leave in one BATCH
 * message (dispatch.c), and the load stays even to within 1/16 of a
 * worker's capacity (4 jobs of max_worker_credit's default 64). */
rill_worker_t *rill_worker_pool_choose_near(rill_worker_pool_t *self, const char *kind, rill_worker_t *preferred);
/* Records that worker received a batch of jobs: takes credit, rotates ties. */
void rill_worker_pool_note_batch(rill_worker_pool_t *self, rill_worker_t *worker, size_t jobs);
/* Undoes a note_batch of jobs whose BATCH could not be sent (dispatch.c). */
void rill_worker_pool_forget_batch(rill_worker_pool_t *self, rill_worker_t *worker, size_t jobs);
/* Gives back credit (job finished, returned or cancelled), bounded. */
void rill_worker_add_credit(rill_worker_t *worker, uint64_t credit);
/* Free credit = capacity - jobs held (none when it holds more). */
void rill_worker_recount_credit(rill_worker_t *worker);
/* CREDIT: the worker grants credit more slots (its capacity grows). */
void rill_worker_grant_credit(rill_worker_t *worker, uint64_t credit);
/* Iteration: the current worker may be removed if next was fetched first. */
rill_worker_t *rill_worker_pool_first(rill_worker_pool_t *self);
rill_worker_t *rill_worker_pool_next(rill_worker_pool_t *self, rill_worker_t *worker);

#endif
