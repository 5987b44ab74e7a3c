/*
 * rill_quiet_cpu.h - while the system is quiet, a broker or a worker placed
 * by RILL_PLACEMENT=split runs on the frontend's CPU.
 *
 * split (rill_cpus.h) gives the frontend a CPU of its own so that, under
 * load, it writes one burst to its clients while the broker handles the
 * next. At a low rate the same split costs latency instead: nothing queues,
 * and each message crosses from one CPU to the other twice (frontend to
 * broker and back, each through both processes' ZeroMQ I/O threads). On a
 * virtual machine, waking a thread on the other, idle vCPU is an
 * inter-processor interrupt and a VM exit: measured on a 2-vCPU guest, a
 * thread ping-pong took 4.5 us a round trip on one vCPU and 31 us across
 * two. One subscriber of a topic at 1,000 messages a second had a p50 of
 * 0.16-0.20 ms with the broker apart and 0.14 ms with every rill thread on
 * the frontend's CPU; at capacity the same sharing cost a quarter of the
 * throughput (docs/BENCHMARKS.md, 2026-12-01 10:00).
 *
 * So each broker and worker that split placed watches its own rate (the
 * broker: events published; a worker: parts sent) and its own CPU time,
 * every 250 ms. It runs on the frontend's CPU while quiet, goes back to the
 * CPUs split gave it as soon as a window's rate reaches
 * RILL_PLACEMENT_BUSY_PER_S (default 4,000 a second) or it used a quarter
 * of a CPU (a few heavy parts a second can cost that: large bodies, a
 * chatty command), and returns to the frontend's CPU once both have stayed
 * under half that for two seconds. A process starts quiet: split
 * places it on its own CPUs first thing in main, and this moves it to the
 * frontend's as soon as its loop is set up. RILL_PLACEMENT_BUSY_PER_S=0
 * keeps the split fixed. Processes placed by RILL_CPUS, or not placed, are
 * never moved. A worker so placed wakes every 250 ms to look at its rate.
 *
 * Moves are best effort: where the kernel refuses one, the process stays
 * where it is, says so once and is not moved again.
 */
#ifndef RILL_QUIET_CPU_H
#define RILL_QUIET_CPU_H

#include <stddef.h>
#include <stdint.h>

#define RILL_QUIET_CPU_DEFAULT_BUSY_PER_S 4000
#define RILL_QUIET_CPU_WINDOW_MS 250
#define RILL_QUIET_CPU_QUIET_WINDOWS 8   /* 2 s under half the rate and share */
#define RILL_QUIET_CPU_BUSY_SHARE 250    /* thousandths of one CPU that make a process busy */

typedef struct rill_quiet_cpu rill_quiet_cpu_t;

/* The threshold from RILL_PLACEMENT_BUSY_PER_S (unset or empty: the
 * default). -1 for a value that is not a number (error says why): a
 * start-up error. */
int rill_quiet_cpu_threshold_from_environment(uint64_t *busy_per_s, char *error, size_t error_size);

/* Moves the process to the frontend's CPU. NULL when split did not place
 * this process as a backend (rill_cpus_split_sets), or busy_per_s is 0:
 * then nothing moves, and the functions below accept NULL. what names the rate in log lines ("events",
 * "parts"). */
rill_quiet_cpu_t *rill_quiet_cpu_new(uint64_t busy_per_s, const char *what);
void rill_quiet_cpu_destroy(rill_quiet_cpu_t **self_p);

/* On the process's loop, often (every 250 ms at least): count is the
 * running total of what it handled. held: something else pins the threads
 * now (the broker's colocation, broker/colocate.h): no move this time. */
void rill_quiet_cpu_tick(rill_quiet_cpu_t *self, uint64_t count, uint64_t now_ms, int held);

/* 1 while the process runs on the frontend's CPU. */
int rill_quiet_cpu_is_quiet(const rill_quiet_cpu_t *self);

#endif
