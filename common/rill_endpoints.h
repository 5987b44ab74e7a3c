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
 */
#ifndef RILL_ENDPOINTS_H
#define RILL_ENDPOINTS_H

#include <stddef.h>

#define RILL_ENDPOINT_MAX 512

typedef struct {
    char run_dir[RILL_ENDPOINT_MAX];
    char control[RILL_ENDPOINT_MAX];
    char events[RILL_ENDPOINT_MAX];
    char workers[RILL_ENDPOINT_MAX];
} rill_endpoints_t;

/* Fills from the environment; flags then override single fields with
 * rill_endpoints_set, and rill_endpoints_finish derives what is still empty. */
void rill_endpoints_from_environment(rill_endpoints_t *endpoints);
/* name is "run-dir", "control", "events" or "workers". Returns 0, or -1 for an
 * unknown name or a value too long. */
int rill_endpoints_set(rill_endpoints_t *endpoints, const char *name, const char *value);
int rill_endpoints_finish(rill_endpoints_t *endpoints, char *error, size_t error_size);
/* Creates the run directory with mode 0700 (and tightens an existing one).
 * Only needed where ipc:// endpoints are bound or connected. */
int rill_endpoints_prepare_run_dir(const rill_endpoints_t *endpoints, char *error, size_t error_size);

#endif
