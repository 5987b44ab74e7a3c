/*
 * rill_cpus.h - the CPUs a rill process runs on: RILL_CPUS, RILL_PLACEMENT.
 *
 * A job part crosses three processes, and each of them hands it between
 * its own loop and libzmq's I/O thread. When every one of those threads
 * runs on the same CPU, a burst of parts (the ticks of many jobs that
 * started together) goes through the stages one after the other: the
 * worker, the broker and the frontend each handle the whole burst before
 * the next stage can start, and the last client of the burst waits for
 * the sum. Schedulers do that when the load is light: a woken thread is
 * placed on the CPU of the thread that woke it, and some virtual machines'
 * kernels pack runnable tasks onto as few vCPUs as they can. Measured on
 * such a 2-vCPU guest (docs/BENCHMARKS.md, 2026-12-01 05:10), all of
 * rill's threads ran on one vCPU at a paced load. With the frontend on one
 * CPU and the broker and the workers on the other, the frontend writes one
 * burst to its clients while the broker handles the next. The paced
 * workload's part p99 was lower in 14 of 17 alternated pairs (medians
 * 0.88 against 1.08 ms and 1.20 against 1.34 ms in two sets). Throughput
 * at capacity and the low-load topic p99 did not move; fan-out at 1,000
 * subscribers delivered 2-3 % less (the frontend shares its one CPU with
 * its libzmq thread).
 *
 * RILL_PLACEMENT=split asks for that. The frontend takes the last CPU of
 * the CPUs the process may use, and the broker and the workers take the
 * others; while quiet, they run on the frontend's CPU instead
 * (rill_quiet_cpu.h: at a low rate the split only adds cross-CPU wakeups).
 * With fewer than two CPUs nothing is split. RILL_PLACEMENT=none,
 * the default of a process started alone, leaves the scheduler free;
 * `./rill up` sets split unless told otherwise. RILL_CPUS=LIST ("0-2,5") names
 * the CPUs of one process outright and wins over RILL_PLACEMENT: the form
 * for compose files and systemd units that place each process themselves.
 *
 * It is applied first thing in main, before any thread exists, so
 * libzmq's and curl's threads inherit it. The broker's own pinning under
 * load (broker/colocate.h) stays within it. The exec kind's commands get
 * the CPUs their worker was started with back (rill_cpus_give_back): the
 * placement is rill's, not its commands'. Where the kernel refuses (a
 * cpuset without those CPUs), the process runs where it was started and
 * says so.
 */
#ifndef RILL_CPUS_H
#define RILL_CPUS_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum {
    RILL_PLACEMENT_FRONTEND = 0, /* split: the last CPU */
    RILL_PLACEMENT_BACKEND,      /* split: the broker and the workers, the other CPUs */
} rill_placement_role_t;

/* "0", "0-3", "0,2-3,7" into *cpus. Returns 0, or -1 with error filled:
 * empty, a CPU at or over CPU_SETSIZE, a range that runs backwards, or
 * anything but digits, '-' and ','. */
int rill_cpus_parse(const char *text, cpu_set_t *cpus, char *error, size_t error_size);

/* The same list form back ("0-2,5"), into text. Returns its length, or 0
 * when the set is empty or text is too small. */
size_t rill_cpus_format(const cpu_set_t *cpus, char *text, size_t text_size);

/* What a role takes of allowed under split: the frontend its last CPU,
 * the others the rest. Returns 0, or -1 when allowed has fewer than two
 * CPUs (nothing to split: *cpus is left alone). */
int rill_cpus_split(const cpu_set_t *allowed, rill_placement_role_t role, cpu_set_t *cpus);

/* RILL_CPUS, else RILL_PLACEMENT, applied to the calling thread as above;
 * both unset, empty or "none": nothing. A refusal by the kernel is logged
 * and the process runs as started. Returns 0, or -1 with error filled
 * when either variable holds something else: a start-up error (exit 2). */
int rill_cpus_apply_from_environment(rill_placement_role_t role, char *error, size_t error_size);

/* When RILL_PLACEMENT=split placed this process as a broker or a worker:
 * busy = the CPUs it was given (the others), quiet = the frontend's CPU
 * (rill_quiet_cpu.h moves it between the two). Returns 0, or -1 when split
 * did not place it so (RILL_CPUS, none, one CPU, a refusal, a frontend). */
int rill_cpus_split_sets(cpu_set_t *busy, cpu_set_t *quiet);

/* A threshold of the placement (RILL_COLOCATE_PARTS_PER_S,
 * RILL_PLACEMENT_BUSY_PER_S, the frontend's RILL_BUSY_PERCENT) from variable:
 * a whole number; unset or empty, fallback.
 * Returns 0, or -1 with error filled (the variable, what 0 means, the
 * value) when it is not a number: a start-up error (exit 2). */
int rill_cpus_rate_from_environment(const char *variable, uint64_t fallback, const char *zero_means,
                                    uint64_t *rate, char *error, size_t error_size);

/* Sets the CPUs of every thread of process pid (0: this one; each thread
 * has its own mask), its main thread first so that a thread it creates
 * meanwhile inherits them. Returns 0, or -1 with errno set when the kernel
 * refused one. */
int rill_cpus_set_every_thread(pid_t pid, const cpu_set_t *cpus);

/* When RILL_CPUS or RILL_PLACEMENT moved this process, gives every thread
 * of pid (a child) the CPUs this process was started with; otherwise does
 * nothing. Returns 0, or -1 with errno set. */
int rill_cpus_give_back(pid_t pid);

#endif
