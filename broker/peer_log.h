/*
 * peer_log.h - "logged once per peer per minute" for malformed input.
 *
 * A broken or hostile peer can send garbage at full speed; every message is
 * counted, but only the first per peer per minute becomes a log line, so the
 * log stays readable and cheap. Entries older than the window are pruned.
 *
 * The same "at most once per key per interval" serves what the broker says
 * to workers it does not expect to hear from: a REJOIN to an unknown
 * routing id at most once per heartbeat, a CANCEL for a stale part at most
 * once per job and worker per heartbeat (worker_life.c, job_life.c).
 */
#ifndef RILL_BROKER_PEER_LOG_H
#define RILL_BROKER_PEER_LOG_H

#include <stdint.h>
#include <stddef.h>

#define RILL_PEER_LOG_WINDOW_MS 60000

typedef struct rill_peer_log rill_peer_log_t;

rill_peer_log_t *rill_peer_log_new(void);
void rill_peer_log_destroy(rill_peer_log_t **self_p);
/* 1 if a line about peer may be logged now (and records it), else 0. */
int rill_peer_log_allow(rill_peer_log_t *self, const char *peer, uint64_t now_ms);
/* The same with another interval than the window (at most the window:
 * pruning forgets keys older than that). */
int rill_peer_log_allow_every(rill_peer_log_t *self, const char *peer, uint64_t now_ms, uint64_t interval_ms);
void rill_peer_log_prune(rill_peer_log_t *self, uint64_t now_ms);
size_t rill_peer_log_size(rill_peer_log_t *self);

#endif
