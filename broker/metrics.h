/*
 * metrics.h - the broker's part of /metrics: its counters as Prometheus text.
 *
 * A frontend sends METRICS; the broker answers with this text, every sample
 * labelled process="broker", and the frontend appends it to its own
 * (docs/METRICS.md). Reads rill_counters_t and nothing else, so it is pure
 * and unit-tested.
 */
#ifndef RILL_BROKER_METRICS_H
#define RILL_BROKER_METRICS_H

#include "counters.h"
#include "rill_config.h"
#include "rill_metrics.h"

/* Appends the broker's families to out. Every kind the config declares has
 * its samples (0 before its first job), then any other kind that had jobs
 * (e.g. one a reload removed). Check out->failed afterwards. */
void rill_broker_metrics_render(const rill_counters_t *counters, const rill_config_t *config,
                                rill_buffer_t *out);

#endif
