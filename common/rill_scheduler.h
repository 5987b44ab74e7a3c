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
 * wakeup preemption: a woken thread waits for the running one to sleep or
 * to use up its slice, or runs at once on an idle core. At ~55 k parts/s
 * that took ~20 % off the broker's CPU per part (docs/BENCHMARKS.md,
 * 2026-11-30 10:05).
 *
 * Its price is that a wakeup may wait a slice when the cores are busy, and
 * one process must not pay it: the frontend, which has to keep up with the
 * events and tell a job's source to pause when its clients fall behind
 * (docs/PROTOCOL.md "Flow"). With the frontend under SCHED_BATCH too, a
 * job that fills 8 MiB in ~100 ms had overrun its slow client's hard limit
 * before the pause reached it, in a third of the runs of
 * tests/integration/test_backpressure.py's million lines; with the frontend
 * under Linux's default, none of 18.
 *
 * So each process has its own default: SCHED_BATCH for the broker and the
 * workers, Linux's default (SCHED_OTHER) for the frontend. RILL_SCHEDULER
 * overrides it for a process: "batch" or "normal". Unset, a process that was
 * started under another policy than Linux's default keeps it (an operator's
 * chrt, systemd's CPUSchedulingPolicy=). None needs a privilege; where the
 * kernel refuses one (a seccomp filter), the process runs as started. The
 * commands a worker starts (the exec kind) are spawned under SCHED_OTHER
 * always: the policy is rill's, not its commands'.
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

/* RILL_SCHEDULER applied as above; unset or empty, fallback (the process's
 * own default) when the process runs under Linux's default, else nothing.
 * A policy the kernel refuses is logged (a warning when asked for by name).
 * Returns 0, or -1 with error filled when the variable holds neither name:
 * a start-up error (exit 2). */
int rill_scheduler_apply_from_environment(rill_scheduler_policy_t fallback, char *error, size_t error_size);

#endif
