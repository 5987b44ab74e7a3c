/*
 * frontend.h - the rill-frontend process as one object.
 *
 * A frontend owns everything the process serves with: the config in force,
 * h2o's configuration, context and evloop, the listening socket, the link
 * to the broker (broker_link.h), every stream and what they share
 * (stream.h: the subject registry, the output queues' lists and timers),
 * and the counters of /metrics. It wires them together - the broker link's
 * events, and its silence, return and restart, go to the streams
 * (streams.h: notices), the HTTP handler (http_api.h) gets the rest - so
 * no module reaches another through a global. main.c makes one, runs its
 * loop, and on a signal drains and destroys it.
 */
#ifndef RILL_FRONTEND_FRONTEND_H
#define RILL_FRONTEND_FRONTEND_H

#include "rill_config.h"
#include "rill_endpoints.h"
#include "tls.h"

#include <h2o.h>

/* At most this long for the bytes queued at shutdown to reach the clients. */
#define RILL_FRONTEND_DRAIN_MS 2000

typedef struct rill_frontend rill_frontend_t;

/* Listens on listen_address ("HOST:PORT", "[V6]:PORT" or ":PORT") and
 * connects to the broker at endpoints; config is copied. Serves HTTPS when
 * tls_options or config name a certificate (tls.h). NULL, with the reason
 * logged, when the certificate or key is refused, the address cannot be
 * listened on or the broker's sockets cannot be made. */
rill_frontend_t *rill_frontend_new(const rill_config_t *config, const rill_endpoints_t *endpoints,
                                   const char *listen_address, const rill_tls_options_t *tls_options);
/* A sample of the loop at or over this share of a CPU makes the frontend
 * busy (RILL_BUSY_PERCENT: write_pacing.h). */
void rill_frontend_set_busy_percent(rill_frontend_t *self, uint64_t busy_percent);
/* Events a second from the broker from which a read yields once and reads
 * again (RILL_READ_YIELD_PER_S: read_yield.h). */
void rill_frontend_set_read_yield(rill_frontend_t *self, uint64_t busy_per_s);
/* The loop main runs (h2o_evloop_run) until it is told to stop. */
h2o_loop_t *rill_frontend_loop(rill_frontend_t *self);
/* SIGHUP: a good config at path replaces the one in force for new requests
 * (limits, declared kinds, heartbeats); a bad one is refused with its
 * reason. The TLS certificate is re-read for new connections (tls.h).
 * Open streams and pending calls are untouched. */
void rill_frontend_reload(rill_frontend_t *self, const char *config_path);
/* Stops accepting, answers the calls still waiting for the broker with
 * 503, gives every open stream its closing notice (with its cursor) and
 * ends it once its queued bytes are out, and runs the loop until they are,
 * for at most RILL_FRONTEND_DRAIN_MS. It sends no RELEASE: the jobs of its
 * streams get their orphan grace, for their clients to resume elsewhere. */
void rill_frontend_drain(rill_frontend_t *self);
/* Frees everything and clears *self. A client that never read its last
 * bytes keeps its connection's state: h2o 2.2 cannot close a connection
 * from outside, so that state (and the frontend) stays reachable at exit. */
void rill_frontend_destroy(rill_frontend_t **self);

#endif
