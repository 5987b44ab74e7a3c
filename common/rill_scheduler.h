/*
 * rill_scheduler.h - the CPU scheduling policy rill's processes run under.
 *
 * Each rill process is two threads that wake each other for every message:
 * its own loop and libzmq's I/O thread (an eventfd write each way). Under
 * Linux's default policy (SCHED_OTHER) a woken thread may preempt the one
 * that woke it: the loop sends, the I/O thread preempts it to write the
 * socket, the loop is switched back in to finish its pass. Measured on a
 * 2-core machine at ~55 k parts/s, the broker's loop was preempted about
 * as often as it slept (~1,900 times a second each), and 62 % of its CPU
 * was kernel time, most of it in task switches.
 *
 * SCHED_BATCH is the same fair share (nice values still count) without
 * wakeup preemption: a woken rill thread waits for the running one to
 * sleep or to use up its slice, or runs at once on an idle core. On a
 * machine with room that cut the broker's CPU per part by 15-25 % with the
 * same latency percentiles (docs/BENCHMARKS.md, 2026-11-30 07:35). Its
 * price shows when the cores are contended: every wakeup may wait a slice,
 * control messages too, and a flow-control pause (docs/PROTOCOL.md "Flow")
 * then reached a job that fills 8 MiB in ~100 ms too late, half the time
 * on a loaded machine (tests/integration/test_backpressure.py's million
 * lines). So it is not the default.
 *
 * RILL_SCHEDULER chooses: "normal" (SCHED_OTHER, Linux's default) or
 * "batch" (SCHED_BATCH, for a host where rill has cores to itself and
 * throughput counts); unset, the process keeps the policy it was started
 * with (Linux's default unless an operator chose another). It needs no privilege. The commands a
 * worker starts (the exec kind) are spawned under SCHED_OTHER always: the
 * policy is rill's, not its commands'.
 */
#ifndef RILL_SCHEDULER_H
#define RILL_SCHEDULER_H

#include <stddef.h>

typedef enum {
    RILL_SCHEDULER_NORMAL = 0, /* SCHED_OTHER: Linux's default */
    RILL_SCHEDULER_BATCH,      /* SCHED_BATCH */
} rill_scheduler_policy_t;

/* "batch" or "normal" into *policy. Returns 0, or -1 for anything else. */
int rill_scheduler_parse(const char *text, rill_scheduler_policy_t *policy);

/* The policy's name: "batch" or "normal". */
const char *rill_scheduler_name(rill_scheduler_policy_t policy);

/* Puts the calling thread under policy. Call it first thing in main, before
 * any thread exists: threads created afterwards (libzmq's) inherit it.
 * Returns 0, or -1 with errno set (the process then runs as it was). */
int rill_scheduler_apply(rill_scheduler_policy_t policy);

/* RILL_SCHEDULER applied as above, with one log line when it fails to
 * apply; unset or empty changes nothing, so a policy given from outside
 * (chrt, systemd's CPUSchedulingPolicy=) stands. Returns 0, or -1 with error filled when the
 * variable holds neither name: a start-up error (exit 2). */
int rill_scheduler_apply_from_environment(char *error, size_t error_size);

#endif
