/*
 * mirror_job.h - one job's record in a standby's mirror (rill/6, the 'J'
 * record of mirror_codec.h): what the active broker knows of a job besides
 * its events, written as JSON by the active and applied by the passive.
 *
 * The record: {"kind","source","args","key","who","detached","pipeline",
 * "submitted_ms","started_ms","ended_ms","timeout_left_ms","state",
 * "attempt","dispatched_attempt","losses","loss_counted","retry_reason",
 * "worker":{"name","host","pid"}|null,"follow":[subjects],"last_seq",
 * "parts","retain_ms","retries","flush_ms","batch"}. A passive never
 * dispatches, times out or cancels a mirrored job: it keeps what the
 * active said until it takes over (takeover.c).
 */
#ifndef RILL_BROKER_MIRROR_JOB_H
#define RILL_BROKER_MIRROR_JOB_H

#include "broker.h"

/* The job's record (caller frees), or NULL if jansson refused it. */
char *rill_mirror_job_encode(const rill_job_t *job, uint64_t now_ms);
/* Creates the job id (32 hex digits) or updates it from a record. 0, or
 * -1 for a record that does not parse (nothing changed). */
int rill_mirror_job_apply(rill_broker_t *self, const char *id, const uint8_t *record, size_t size,
                          uint64_t now_ms);

#endif
