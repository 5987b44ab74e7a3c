/*
 * frontend.h - the rill-frontend process as one object.
 *
 * A frontend owns everything the process serves with: the config in force,
 * h2o's configuration, context and evloop, the listening socket, the link
 * to the broker (broker_link.h), every stream and what they share
 * (stream.h: the subject registry, the output queues' lists and timers),
 * and the counters of /metrics. It wires them together - the broker link's
 * events go to the streams, the HTTP handler (http_api.h) gets the rest -
 * so no module reaches another through a global. main.c makes one, runs
 * its loop, and on a signal drains and destroys it.
 */
#ifndef RILL_FRONTEND_FRONTEND_H
#define RILL_FRONTEND_FRONTEND_H

#include "rill_config.h"
#include "rill_endpoints.h"

#include <h2o.h>

/* At most this long for the bytes queued at shutdown to reach the clients. */
#define RILL_FRONTEND_DRAIN_MS 2000

typedef struct rill_frontend rill_frontend_t;

/* Listens on listen_address ("HOST:PORT", "[V6]:PORT" or ":PORT") and
 * connects to the broker at endpoints; config is copied. NULL, with the
 * reason logged, when the address cannot be listened on or the broker's
 * sockets cannot be made. */
rill_frontend_t *rill_frontend_new(const rill_config_t *config, const rill_endpoints_t *endpoints,
                                   const char *listen_address);
/* The loop main runs (h2o_evloop_run) until it is told to stop. */
h2o_loop_t *rill_frontend_loop(rill_frontend_t *self);
/* SIGHUP: a good config at path replaces the one in force for new requests
 * (limits, declared kinds, heartbeats); a bad one is refused with its
 * reason. Open streams and pending calls are untouched. */
void rill_frontend_reload(rill_frontend_t *self, const char *config_path);
/* Stops accepting, answers the calls still waiting for the broker with
 * 503, ends every open stream once its queued bytes are out, and runs the
 * loop until they are, for at most RILL_FRONTEND_DRAIN_MS. */
void rill_frontend_drain(rill_frontend_t *self);
/* Frees everything and clears *self. A client that never read its last
 * bytes keeps its connection's state: h2o 2.2 cannot close a connection
 * from outside, so that state (and the frontend) stays reachable at exit. */
void rill_frontend_destroy(rill_frontend_t **self);

#endif
