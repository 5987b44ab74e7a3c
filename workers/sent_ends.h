/*
 * sent_ends.h - the ends (DONE/FAIL) a worker sent while joined, kept until
 * they can no longer have been lost with a dying connection.
 *
 * An end written into a connection that then dies (a link cut a moment
 * later) is lost with it; a job that ended that way is gone from the
 * registry, so the HELLO after the re-join would not list it, and the
 * broker, which still has it running on this worker, would run it again
 * (docs/PROTOCOL.md, "Worker sessions"). So each end sent while joined is
 * kept here, with the job's held parts, for RILL_SENT_END_KEEP_HEARTBEATS
 * heartbeats: longer than a dead link takes to be noticed (3 heartbeats
 * of silence, checked each heartbeat). When the link stops being joined
 * meanwhile, the HELLO lists those jobs as it lists the jobs that ended
 * while not joined, and the WELCOME decides: adopted (the end never
 * arrived: the held parts after the broker's last seq, then the end, are
 * sent again) or cancelled (it arrived: the job ended there, forgotten
 * here). No message changes: the broker sees what it sees of any job
 * that ended while its worker was cut off.
 */
#ifndef RILL_SENT_ENDS_H
#define RILL_SENT_ENDS_H

#include "hold_ring.h"
#include "rill_messages.h"
#include "worker_link.h"

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#define RILL_SENT_END_KEEP_HEARTBEATS 5

typedef struct {
    zhashx_t *ends; /* job id -> struct rill_sent_end *, owned */
} rill_sent_ends_t;

void rill_sent_ends_init(rill_sent_ends_t *self);
void rill_sent_ends_release(rill_sent_ends_t *self);

/* Keeps the end of a job sent in the link's join epoch epoch (code NULL:
 * DONE); held is moved in (left empty). */
void rill_sent_ends_add(rill_sent_ends_t *self, const char *id, const char *kind, const char *source,
                        const char *who, uint64_t attempt, uint64_t seq, rill_hold_ring_t *held,
                        const char *code, const char *message, uint64_t epoch, uint64_t now_ns);
/* Forgets a job's kept end (a BATCH gave the job to this worker again). */
void rill_sent_ends_forget(rill_sent_ends_t *self, const char *id);
/* While joined: forgets the ends sent before older_than_ns (they arrived,
 * or the link would have been found dead and they reported; a WELCOME
 * answered those). */
void rill_sent_ends_prune(rill_sent_ends_t *self, uint64_t older_than_ns);

/* How many ends were sent in an epoch before epoch (the HELLO lists them). */
size_t rill_sent_ends_count(const rill_sent_ends_t *self, uint64_t epoch);
/* Fills jobs with them, at most max; returns how many. */
size_t rill_sent_ends_report(const rill_sent_ends_t *self, uint64_t epoch, rill_hello_job_t *jobs, size_t max);

/* A WELCOME named id: cancelled, the end is forgotten; adopted, the held
 * parts after last_seq and the end go to the link again, then it is
 * forgotten. Returns 1 when id was one of them. */
int rill_sent_ends_welcomed(rill_sent_ends_t *self, rill_worker_link_t *link, const char *id, int adopted,
                            uint64_t last_seq);

#endif
