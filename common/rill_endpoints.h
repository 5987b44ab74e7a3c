/*
 * rill_endpoints.h - where the three processes find each other.
 *
 * Every process takes the same run directory and the same three endpoint
 * overrides, from flags or from the environment, so `./rill up`, Docker
 * Compose and a hand-started process all agree by construction:
 *
 *   --run-dir DIR      RILL_RUN_DIR            default ./run
 *   --control EP       RILL_CONTROL_ENDPOINT   default ipc://DIR/control.sock
 *   --events EP        RILL_EVENTS_ENDPOINT    default ipc://DIR/events.sock
 *   --workers EP       RILL_WORKERS_ENDPOINT   default ipc://DIR/workers.sock
 *
 * A frontend or a worker may be given a LIST of two endpoints, comma-
 * separated ("tcp://a:7000,tcp://b:7000"): a primary broker and its
 * standby (docs/CONFIG.md "Standby broker"; rill_failover.h switches
 * between them). A broker binds exactly one endpoint each: a list is an
 * error unless the process allowed lists (rill_endpoints_allow_lists).
 */
#ifndef RILL_ENDPOINTS_H
#define RILL_ENDPOINTS_H

#include <stddef.h>

#define RILL_ENDPOINT_MAX 512
/* Endpoints in one list: a primary and its standby. */
#define RILL_ENDPOINT_LIST_MAX 2

typedef struct {
    char run_dir[RILL_ENDPOINT_MAX];
    char control[RILL_ENDPOINT_MAX];
    char events[RILL_ENDPOINT_MAX];
    char workers[RILL_ENDPOINT_MAX];
    int lists; /* 1: control, events and workers may be lists (a client) */
} rill_endpoints_t;

/* Fills from the environment; flags then override single fields with
 * rill_endpoints_set, and rill_endpoints_finish derives what is still empty. */
void rill_endpoints_from_environment(rill_endpoints_t *endpoints);
/* name is "run-dir", "control", "events" or "workers". Returns 0, or -1 for an
 * unknown name or a value too long. */
int rill_endpoints_set(rill_endpoints_t *endpoints, const char *name, const char *value);
/* Lets control, events and workers be lists of up to RILL_ENDPOINT_LIST_MAX
 * (frontends and workers call it after rill_endpoints_from_environment). */
void rill_endpoints_allow_lists(rill_endpoints_t *endpoints);
/* Derives what is still empty, then checks each endpoint: without
 * rill_endpoints_allow_lists a list is refused (a broker binds one); with
 * it, each list must be well formed (rill_endpoints_split). 0, or -1 with
 * error. */
int rill_endpoints_finish(rill_endpoints_t *endpoints, char *error, size_t error_size);
/* Splits a comma-separated list into out[0..count-1]. Each entry must be
 * non-empty (a run dir's path may have spaces), and differ from the other; at most
 * RILL_ENDPOINT_LIST_MAX entries. Returns the count (>= 1), or -1 with
 * error (name names the list in it: "control", "events", "workers"). */
int rill_endpoints_split(const char *list, const char *name, char out[][RILL_ENDPOINT_MAX],
                         char *error, size_t error_size);
/* The number of entries in list (its commas + 1). */
size_t rill_endpoints_count(const char *list);
/* Creates the run directory with mode 0700 (and tightens an existing one).
 * Only needed where ipc:// endpoints are bound or connected. */
int rill_endpoints_prepare_run_dir(const rill_endpoints_t *endpoints, char *error, size_t error_size);

#endif
