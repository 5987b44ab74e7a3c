/*
 * kind_demo.c - the `demo` job kind (docs/API.md).
 *
 * Emits `parts` parts, one every interval_ms ± jitter_ms, each
 * {"i":n,"mono_ns":<CLOCK_MONOTONIC at emission>,"pad":"…"}: a stand-in for
 * systems with varying response times, and the benchmarks' workload (mono_ns
 * lets a client on the same host measure emission-to-delivery latency).
 *
 * Two halves, like every kind (rill_worker_kind.h): the arguments, which
 * librill compiles too (the frontend checks them at submit), and, with
 * RILL_WORKER, how a job runs.
 */
#include "rill_kind_args.h"

#include <string.h>

/* ---- arguments ---- */

typedef struct {
    int64_t parts;       /* default 3 */
    int64_t interval_ms; /* default 100 */
    int64_t jitter_ms;   /* default 0, at most interval_ms */
    int64_t size;        /* bytes of "pad"; default 0 */
} demo_args_t;

/* The defaults, and where each integer argument goes with its range: one
 * table for the JSON parse (the frontend's check) and the worker's read of
 * the args text, so the two cannot drift apart. */
#define DEMO_ARGS_COUNT 4
static void demo_args_specs(demo_args_t *demo, rill_kind_args_integer_t specs[DEMO_ARGS_COUNT])
{
    demo->parts = 3;
    demo->interval_ms = 100;
    demo->jitter_ms = 0;
    demo->size = 0;
    specs[0] = (rill_kind_args_integer_t){"parts", 0, 1000000, &demo->parts};
    specs[1] = (rill_kind_args_integer_t){"interval_ms", 0, 3600000, &demo->interval_ms};
    specs[2] = (rill_kind_args_integer_t){"jitter_ms", 0, 3600000, &demo->jitter_ms};
    specs[3] = (rill_kind_args_integer_t){"size", 0, 1048576, &demo->size};
}

/* What the values must be together, once each is in its range. */
static int demo_args_check(const rill_config_t *config, const demo_args_t *demo, rill_job_error_t *error)
{
    if (demo->jitter_ms > demo->interval_ms)
        return rill_job_error(error, 422, "invalid_args", "\"jitter_ms\" must not exceed \"interval_ms\"");
    /* One job alone over the request budget is refused as a request would
     * be (docs/API.md "Errors"): 413, the same code. */
    uint64_t bytes = (uint64_t)demo->parts * (uint64_t)demo->size;
    if (config != NULL && bytes > config->max_request_bytes)
        return rill_job_error(error, 413, "request_too_large",
                              "parts x size = %llu bytes is over max_request_bytes (%llu)",
                              (unsigned long long)bytes, (unsigned long long)config->max_request_bytes);
    return 0;
}

/* args may be NULL (all defaults). */
static int demo_args_parse(const rill_config_t *config, json_t *args, demo_args_t *demo, rill_job_error_t *error)
{
    rill_kind_args_integer_t specs[DEMO_ARGS_COUNT];
    demo_args_specs(demo, specs);
    if (rill_kind_args_integers(args, "demo", specs, DEMO_ARGS_COUNT, error) != 0)
        return -1;
    return demo_args_check(config, demo, error);
}

#ifndef RILL_WORKER
/* The part bytes a demo job asks for: its pads (the rest of a part is a
 * few dozen bytes). */
static uint64_t demo_args_bytes(const demo_args_t *demo)
{
    return (uint64_t)demo->parts * (uint64_t)demo->size;
}

RILL_KIND_ARGUMENTS_BUDGETED(demo, demo_args_t, demo_args_parse, demo_args_bytes)
#else /* ---- running (rill-worker) ---- */

#include "kinds.h"
#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_protocol.h" /* rill_u64_to_text */

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

typedef struct {
    rill_worker_context_t *context;
    rill_worker_job_t *job;
    demo_args_t args;
    int64_t emitted;
    uint64_t due_ns; /* when the next part is due (CLOCK_MONOTONIC) */
    rill_worker_timer_t timer;
    char *line; /* in the state's allocation, reused for every part: {"i":…,"mono_ns":…,"pad":"xxx…"} (at most 66 + size bytes) */
    size_t line_capacity;
} demo_state_t;

/* Jitter needs no cryptographic randomness: xorshift64, seeded once, keeps
 * the per-part path free of syscalls. */
static uint64_t jitter_random(void)
{
    static uint64_t state;
    if (state == 0) {
        if (getrandom(&state, sizeof(state), GRND_NONBLOCK) != sizeof(state) || state == 0)
            state = rill_clock_monotonic_ns() | 1;
    }
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static uint64_t next_delay_ms(const demo_state_t *state)
{
    int64_t delay = state->args.interval_ms;
    if (state->args.jitter_ms > 0) {
        int64_t span = 2 * state->args.jitter_ms + 1;
        delay += (int64_t)(jitter_random() % (uint64_t)span) - state->args.jitter_ms;
    }
    return delay < 0 ? 0 : (uint64_t)delay;
}

static void demo_emit(void *argument);

/* The next part is due at due_ns (CLOCK_MONOTONIC). */
static void schedule(demo_state_t *state, uint64_t due_ns)
{
    state->due_ns = due_ns;
    rill_worker_timer_start_at(state->context, &state->timer, due_ns, demo_emit, state);
}

static void demo_state_free(demo_state_t *state)
{
    free(state); /* and its line */
}

static void demo_emit(void *argument)
{
    demo_state_t *state = argument;
    rill_worker_context_t *context = state->context;
    rill_worker_job_t *job = state->job;
    if (state->emitted >= state->args.parts) {
        demo_state_free(state);
        rill_worker_job_done(context, job);
        return;
    }
    state->emitted++;
    uint64_t now = rill_clock_monotonic_ns();
    /* Written by hand, not snprintf: half of what a part cost the worker. */
    char *line = state->line;
    size_t position = 0;
    memcpy(line, "{\"i\":", 5);
    position += 5;
    position += rill_u64_to_text((uint64_t)state->emitted, line + position);
    memcpy(line + position, ",\"mono_ns\":", 11);
    position += 11;
    position += rill_u64_to_text(now, line + position);
    memcpy(line + position, ",\"pad\":\"", 8);
    position += 8;
    memset(state->line + position, 'x', (size_t)state->args.size);
    position += (size_t)state->args.size;
    memcpy(state->line + position, "\"}", 2);
    position += 2;
    if (rill_worker_publish_part(context, job, state->line, position) != 0) {
        demo_state_free(state);
        rill_worker_job_fail(context, job, "publish_failed", "the worker could not queue a part");
        return;
    }
    /* The last part is followed at once by done, in the same turn (its
     * DONE goes right after the turn's PARTS): no idle interval, no timer. */
    if (state->emitted >= state->args.parts) {
        demo_state_free(state);
        rill_worker_job_done(context, job);
        return;
    }
    /* A fixed rate: the next part one interval after this one's due
     * instant, not after the instant the loop ran it (it runs late by up to
     * its poll's millisecond). Counting from the run, each part was late by
     * that much more, and every job that ran in one loop turn kept the same
     * instant from then on: a worker's jobs fell into step and emitted in
     * bursts of a whole tick (docs/BENCHMARKS.md, 2026-12-01 15:30, "The
     * demo kind at a fixed rate"). A job late by more than an interval does
     * not catch up in a burst either. */
    uint64_t due_ns = state->due_ns + next_delay_ms(state) * 1000000u;
    schedule(state, due_ns > now ? due_ns : now);
}

/* The job's args: from their text when they are plain integers (no JSON
 * parse: a demo job is the benchmarks' unit of work), else parsed, with the
 * frontend's verdict and message. */
static int demo_args_read(rill_worker_context_t *context, rill_worker_job_t *job, demo_args_t *demo,
                          rill_job_error_t *error)
{
    rill_kind_args_integer_t specs[DEMO_ARGS_COUNT];
    demo_args_specs(demo, specs);
    size_t length;
    const char *text = rill_worker_job_args_text(job, &length);
    if (text != NULL && rill_kind_args_integers_text(text, length, specs, DEMO_ARGS_COUNT))
        return demo_args_check(rill_worker_config(context), demo, error);
    return demo_args_parse(rill_worker_config(context), rill_worker_job_args(job), demo, error);
}

static void demo_start(rill_worker_context_t *context, rill_worker_job_t *job)
{
    demo_args_t args;
    rill_job_error_t error;
    if (demo_args_read(context, job, &args, &error) != 0) {
        rill_worker_job_fail(context, job, error.code, error.message);
        return;
    }
    size_t line_capacity = 96 + (size_t)args.size;
    demo_state_t *state = rill_xcalloc(1, sizeof(*state) + line_capacity); /* the line right after it */
    state->context = context;
    state->job = job;
    state->args = args;
    state->line_capacity = line_capacity;
    state->line = (char *)(state + 1);
    rill_worker_job_set_state(job, state);
    uint64_t delay = args.parts == 0 ? 0 : next_delay_ms(state);
    schedule(state, rill_clock_monotonic_ns() + delay * 1000000u);
}

static void demo_cancel(rill_worker_context_t *context, rill_worker_job_t *job)
{
    demo_state_t *state = rill_worker_job_state(job);
    if (state == NULL)
        return;
    rill_worker_timer_stop(context, &state->timer);
    demo_state_free(state);
    rill_worker_job_set_state(job, NULL);
}

/* Every client is behind: the timer waits; resumed, the next part comes
 * one interval later (at once when only done is left). */
static void demo_pause(rill_worker_context_t *context, rill_worker_job_t *job, int paused)
{
    demo_state_t *state = rill_worker_job_state(job);
    if (state == NULL)
        return;
    if (paused) {
        rill_worker_timer_stop(context, &state->timer);
        return;
    }
    uint64_t delay = state->emitted >= state->args.parts ? 0 : next_delay_ms(state);
    schedule(state, rill_clock_monotonic_ns() + delay * 1000000u);
}

const rill_worker_kind_t rill_worker_kind_demo = {
    .name = "demo",
    .start_job = demo_start,
    .cancel = demo_cancel,
    .pause = demo_pause,
};

#endif
