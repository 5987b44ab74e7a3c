/*
 * worker_context.h - what one rill-worker process holds: the context the
 * core hands every kind (rill_worker_kind.h keeps it opaque).
 *
 * It only composes the worker's parts, each the sole owner of its state:
 * the broker link (worker_link.h), the held jobs (job_registry.h), the
 * loop's timers (timer_heap.h), watched fds (fd_watches.h) and children
 * (children.h). worker_core.c runs the loop over them; kind_api.c maps
 * the kind API onto them. Neither calls the other.
 */
#ifndef RILL_WORKER_CONTEXT_H
#define RILL_WORKER_CONTEXT_H

#include "children.h"
#include "fd_watches.h"
#include "job_registry.h"
#include "rill_config.h"
#include "rill_endpoints.h"
#include "rill_quiet_cpu.h"
#include "timer_gap.h"
#include "timer_heap.h"
#include "topic_hold.h"
#include "worker_link.h"

#include <stdint.h>

/* What the command line (main.c) tells the worker. */
typedef struct {
    rill_config_t config;
    rill_endpoints_t endpoints;
    char name[128];
    uint64_t credit;         /* jobs held at most */
    uint64_t drain_ms;       /* on SIGTERM: time to finish held jobs before handing them back */
    const char *kinds;       /* comma-separated subset of built-in kinds, or NULL for all */
    const char *config_path; /* re-read on SIGHUP; NULL = built-in defaults */
    uint64_t busy_per_s;     /* RILL_PLACEMENT_BUSY_PER_S (rill_quiet_cpu.h) */
    uint64_t gap_busy_per_s; /* RILL_WORKER_BUSY_PARTS_PER_S (timer_gap.h) */
} rill_worker_options_t;

struct rill_worker_context {
    const rill_worker_options_t *options;
    rill_config_t config; /* options->config, then what SIGHUP loaded */
    rill_worker_link_t link;
    rill_job_registry_t jobs;
    rill_timer_heap_t timers;      /* the core's: heartbeat, drain, children's kill timers */
    rill_timer_heap_t kind_timers; /* the kinds': not run while the link is congested */
    rill_fd_watches_t fd_watches;
    rill_children_t children;
    int signal_fd;
    int wake_fd;            /* a timerfd: the loop's wakeup for the first timer due (worker_core.c) */
    uint64_t wake_armed_ns; /* when it is set to fire; 0 when not armed */
    uint64_t kinds_ran_ns;  /* the last run of the kinds' timers that fired one */
    rill_timer_gap_t kind_timer_gap; /* how long after it the next may wait for one (timer_gap.h) */
    int draining;
    int running;
    rill_worker_timer_t heartbeat_timer;
    rill_worker_timer_t drain_timer;
    rill_worker_timer_t failover_timer; /* with a standby: a broker's silence judged on time */
    rill_worker_timer_t quiet_timer;    /* every RILL_QUIET_CPU_WINDOW_MS with quiet set */
    rill_quiet_cpu_t *quiet;            /* split-placed: the frontend's CPU while quiet (rill_quiet_cpu.h) */
    rill_topic_hold_t *topic_hold; /* rill_worker_publish_topic while no broker is joined (topic_hold.h) */
};

#endif
