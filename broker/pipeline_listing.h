/*
 * pipeline_listing.h - the answer of LIST pipelines (rill/5), behind
 * GET /v1/pipelines (docs/API.md "Pipelines"): every declared pipeline with
 * its operators, its counters and the groups it has now, with their queued
 * jobs and batches in flight. What an operator looks at to see batching
 * and ordering work (the dashboard's pipelines view).
 */
#ifndef RILL_BROKER_PIPELINE_LISTING_H
#define RILL_BROKER_PIPELINE_LISTING_H

#include "broker.h"
#include "job_life.h"

/* {"pipelines":[…]} (caller frees), or NULL when it would exceed
 * max_message_bytes (error set). */
char *rill_pipeline_listing_answer(rill_broker_t *broker, rill_broker_error_t *error);

#endif
