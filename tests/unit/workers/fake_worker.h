/*
 * fake_worker.h - a worker context with no broker and no loop, to test a
 * kind's running half alone (rill_worker_kind.h is all a kind sees).
 *
 * It records what each job publishes and how it ends, and fires the kind's
 * timers when the test says so. Jobs stay readable after they ended (the
 * real core frees them); publishing after the end or ending twice is counted
 * as a misuse, which a test checks is zero.
 */
#ifndef RILL_FAKE_WORKER_H
#define RILL_FAKE_WORKER_H

#include "rill_worker_kind.h"

#include <stddef.h>
#include <stdint.h>

#define FAKE_WORKER_PARTS_MAX 16
#define FAKE_WORKER_PART_MAX 256

struct rill_worker_job {
    char id[33];
    json_t *args;
    char *args_text;    /* what rill_worker_job_args_text gives (NULL: none; a test may drop it) */
    size_t args_asked;  /* calls of rill_worker_job_args: the JSON document was asked for */
    void *state;
    size_t part_count;
    char parts[FAKE_WORKER_PARTS_MAX][FAKE_WORKER_PART_MAX];
    int done;
    char fail_code[64];
    char fail_message[256];
};

rill_worker_context_t *fake_worker_new(void);
void fake_worker_destroy(rill_worker_context_t **self);
/* A job with args given as JSON text (NULL: none), owned by the fake; the
 * kind sees that text too (rill_worker_job_args_text). */
rill_worker_job_t *fake_worker_job(rill_worker_context_t *self, const char *id, const char *args);
/* Fires every armed timer, and the ones they arm, until none is left or
 * limit fired. Returns how many fired. */
size_t fake_worker_run_timers(rill_worker_context_t *self, size_t limit);
size_t fake_worker_armed_timers(const rill_worker_context_t *self);
/* The instant (CLOCK_MONOTONIC ns) of the last timer armed with
 * rill_worker_timer_start_at. */
uint64_t fake_worker_last_due_ns(const rill_worker_context_t *self);
/* Breaches of the kind API's rules seen (each also printed): a part after
 * the end, a second end, a watch the fake cannot serve. */
size_t fake_worker_misuses(const rill_worker_context_t *self);

#endif
