/*
 * worker_link.h - the worker's link to the broker: one DEALER socket, what
 * goes over it, and whether the broker is still there.
 *
 * The worker says HELLO with its kinds, its credit (the job slots it
 * grants in all: each job of a BATCH takes one, each DONE/FAIL/RETURN gives
 * one back), its session (drawn once per process) and the jobs it runs. It
 * sends PING every heartbeat_ms. It is "joined" from a WELCOME until the
 * broker answers with REJOIN (it does not know this worker: restarted, or
 * declared it dead) or falls silent for three heartbeats; then it says
 * HELLO again - one at a time, never a second while one is unanswered for
 * less than a heartbeat - and, until the next WELCOME, parts are only held
 * (job_registry.h). Everything from the broker is parsed here; a malformed
 * message is counted and dropped, never acted on.
 *
 * Given two endpoints (a broker and its standby), the DEALER switches to
 * the other when the one it is on closes the connection or is silent for
 * 2 x heartbeat_ms (rill_failover.h); the worker is then not joined, and
 * says HELLO there with its jobs and held parts (the re-join above).
 *
 * Everything to the broker goes through one outbox (rill_send_queue.h):
 * nothing the worker says is dropped because the socket was full, and a
 * full outbox tells the core to stop making parts (rill_worker_link_congested).
 * The DEALER itself holds only RILL_WORKER_PIPE_HWM messages
 * (rill_protocol.h), so a full path is seen at once, and the bytes in
 * flight stay bounded.
 */
#ifndef RILL_WORKER_LINK_H
#define RILL_WORKER_LINK_H

#include "rill_failover.h"
#include "rill_id.h"
#include "rill_messages.h"
#include "rill_parts_batch.h"
#include "rill_protocol.h"
#include "rill_send_queue.h"
#include "rill_worker_kind.h"

#include <stddef.h>
#include <stdint.h>

/* The outbox's marks: full above either high mark, served again at or
 * under both low marks. Most parts are a few hundred bytes, so the count
 * usually decides; the bytes bound big parts. A message is a PARTS batch
 * of up to RILL_PARTS_MAX_ENTRIES parts, so 32 messages hold up to 1,024
 * parts: what a paused job still delivers after its PAUSE (docs/PROTOCOL.md,
 * "Flow") must stay well under a stream's hard limit (1,000 messages of 32
 * small parts let a paused `seq` job overrun 8 MiB). */
#define RILL_WORKER_OUTBOX_HIGH_MESSAGES 32
#define RILL_WORKER_OUTBOX_HIGH_BYTES (4u * 1024 * 1024)
#define RILL_WORKER_OUTBOX_LOW_MESSAGES 8
#define RILL_WORKER_OUTBOX_LOW_BYTES (1u * 1024 * 1024)

typedef struct {
    void *zmq_context;
    void *dealer;
    uint64_t heartbeat_ms; /* the config's until a WELCOME names the broker's */
    char broker_instance[64];
    uint64_t last_heard_ns;
    int broker_silent;
    int welcomed;          /* some broker welcomed this worker once (its heartbeat_ms is in force) */
    int joined;            /* welcomed, and not since told REJOIN nor met silence: parts are sent */
    uint64_t join_epoch;   /* + 1 each time it stops being joined */
    int hello_pending;     /* a HELLO is unanswered... */
    uint64_t hello_sent_ns; /* ... since then */
    char session[RILL_ID_TEXT_SIZE]; /* drawn once per process */
    uint64_t malformed; /* messages (or BATCH entries) from the broker dropped as malformed */
    uint64_t parts_sent; /* PARTs handed to the link, ever: the worker's rate (rill_quiet_cpu.h) */
    rill_send_queue_t outbox;    /* what the DEALER has not taken yet */
    char *batch;                 /* PARTS entries of this loop turn, not yet in the outbox */
    size_t batch_length, batch_capacity, batch_entries;
    struct rill_worker_link_end *ends; /* DONE/FAIL that go right after that batch (send_end) */
    size_t end_count, end_capacity;
    int socket_failed;           /* a send failed for another reason than a full socket (logged once) */
    rill_failover_t failover;    /* one endpoint, or a broker and its standby */
    int hello_unheard;           /* switched: the HELLO pending went to a passive standby */
} rill_worker_link_t;

/* Draws the session and connects to endpoints' first (one endpoint, or a
 * broker and its standby). Returns 0, or -1 (logged); close it either way. */
int rill_worker_link_open(rill_worker_link_t *self, const char *endpoints, uint64_t heartbeat_ms,
                          uint64_t max_message_bytes);
/* With two endpoints: the monitor socket to poll (else NULL). */
void *rill_worker_link_monitor(const rill_worker_link_t *self);
/* With two endpoints: switches to the other broker when the one it is on
 * closed the connection (disconnected: rill_failover_disconnected said so)
 * or was silent for 2 x heartbeat_ms, at most once per 2 x heartbeat_ms.
 * Returns 1 when it switched: not joined, no HELLO pending; the caller
 * says HELLO at once. */
int rill_worker_link_failover(rill_worker_link_t *self, int disconnected);
/* With two endpoints: ms from now until the broker's silence reaches 2 x
 * heartbeat_ms (0: it has); UINT64_MAX with one endpoint. */
uint64_t rill_worker_link_silence_due_ms(const rill_worker_link_t *self);
void rill_worker_link_close(rill_worker_link_t *self);

/* Sends without blocking, through the outbox: a message the socket does not
 * take at once waits there, in order. Returns 0; -1 for a PART while the
 * outbox is full and no broker listens (no WELCOME yet, or the broker
 * silent): a part is not kept without bound for a broker that may never
 * take it (the job then fails; that FAIL is queued like any message); -1
 * too for more arguments than a message has frames (a bug, not a peer). */
int rill_worker_link_send(rill_worker_link_t *self, rill_command_t command, const rill_frame_t *arguments,
                          size_t count);
int rill_worker_link_send_job(rill_worker_link_t *self, rill_command_t command, const char *job_id);
/* PART job_id seq data, gathered with the other parts of this loop turn
 * into ONE PARTS message (rill/3, docs/PROTOCOL.md "Parts in batches"):
 * the batch goes into the outbox before any other message, at the next
 * rill_worker_link_flush (the loop's turn), or when it is full. A part over
 * RILL_PARTS_ENTRY_MAX_DATA goes alone as PART. Returns 0. */
int rill_worker_link_send_part(rill_worker_link_t *self, const char *job_id, uint64_t seq, const char *data,
                               size_t length);
/* The end of a job: DONE job_id (code NULL), or FAIL job_id code message.
 * While parts of this turn wait to be batched (send_part), it waits too
 * and goes right after their PARTS, with the ends of the turn's other jobs:
 * never before its job's parts, and without cutting the turn's batch in
 * two (an end sent at once seals the batch: one more message for both
 * sides, per job). A DONE that waited goes IN the PARTS message, as an id
 * of its done frame (rill/7): no message of its own. The caller sends an end that must precede parts of
 * this turn (an ordered batch's job) with rill_worker_link_send instead.
 * Returns 0. */
int rill_worker_link_send_end(rill_worker_link_t *self, const char *job_id, const char *code, const char *message);
/* HELLO with the link's session, unless one is unanswered for less than a
 * heartbeat. credit: the slots it grants in all; jobs: those it runs.
 * Returns 1 when it was sent. */
int rill_worker_link_hello(rill_worker_link_t *self, const char *name, const rill_worker_kind_t *const *kinds,
                           size_t kind_count, uint64_t credit, const rill_hello_job_t *jobs, size_t job_count);
/* REJOIN or silence: not joined any more (why is logged). */
void rill_worker_link_unjoin(rill_worker_link_t *self, const char *why);
/* REJOIN: unjoined. The first one after a switch comes from a standby that
 * just became active: it answered nothing while passive, so the HELLO sent
 * to it then is not pending any more (the caller's HELLO goes at once). */
void rill_worker_link_rejoin(rill_worker_link_t *self);

/* Puts the parts gathered (send_part) into the outbox as one PARTS, then
 * sends what the outbox holds while the socket takes it (the loop calls it
 * every turn, and when poll says the socket takes messages again). */
void rill_worker_link_flush(rill_worker_link_t *self);
/* 1 while the outbox holds messages: the loop polls the socket for POLLOUT. */
int rill_worker_link_pending(const rill_worker_link_t *self);
/* 1 while the outbox is full and a broker listens: the core stops serving
 * the kinds until it drains (back-pressure, outbox.h). While no broker
 * listens the kinds go on: their parts are refused instead. */
int rill_worker_link_congested(const rill_worker_link_t *self);

/* Reads the next well-formed message. Returns 1 with message set (its frames
 * live in received: close it after use), or 0 when none is waiting. */
int rill_worker_link_receive(rill_worker_link_t *self, rill_received_t *received, rill_message_t *message);

/* A decoded WELCOME: joined, with the broker instance and heartbeat
 * interval it names. Returns 1 when it names another broker than the one
 * before (a restart: the jobs the HELLO listed were registered with it). */
int rill_worker_link_welcome(rill_worker_link_t *self, const rill_welcome_t *welcome);

/* The heartbeat: a PING; after three intervals of silence from the broker,
 * a warning and the link is not joined any more (the caller says HELLO). */
void rill_worker_link_ping(rill_worker_link_t *self);

#endif
