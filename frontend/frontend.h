/*
 * frontend.h - the state one rill-frontend process shares between modules.
 *
 * One instance lives for the whole process (main.c). It ties the h2o
 * context, the broker link, the subject registry and the set of open
 * streams together, so each module can reach the others without globals.
 */
#ifndef RILL_FRONTEND_FRONTEND_H
#define RILL_FRONTEND_FRONTEND_H

#include "broker_link.h"
#include "metrics.h"
#include "rill_config.h"
#include "subject_registry.h"

#include <h2o.h>

/* How often windows of flush_ms (pipelines, docs/CONFIG.md) are checked. */
#define RILL_FLUSH_TICK_MS 5

typedef struct rill_frontend {
    rill_config_t config;
    h2o_globalconf_t globalconf;
    h2o_context_t context;
    h2o_accept_ctx_t accept_context;
    rill_broker_link_t *broker;
    rill_subject_registry_t *subjects;
    h2o_linklist_t streams;        /* every rill_stream_t alive */
    h2o_linklist_t dirty_streams;  /* streams with queued bytes to flush */
    h2o_timeout_t heartbeat_timeout; /* config.stream_heartbeat_ms */
    h2o_linklist_t delayed_streams; /* streams holding bytes for their flush_ms window */
    h2o_timeout_t flush_timeout;    /* RILL_FLUSH_TICK_MS: checks the windows */
    h2o_timeout_entry_t flush_entry;
    int shutting_down;
    uint64_t streams_opened;
    uint64_t events_received;
    rill_frontend_metrics_t metrics; /* /metrics: frontend/metrics.h */
} rill_frontend_t;

#endif
