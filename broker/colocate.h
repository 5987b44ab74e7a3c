/*
 * colocate.h - under load, the broker's loop and its ZeroMQ I/O thread
 * share one CPU.
 *
 * Every message the broker reads or writes crosses between its loop thread
 * and libzmq's I/O thread, and each crossing wakes the other thread. On a
 * virtual machine a wakeup on another CPU is an inter-processor interrupt
 * and a VM exit: measured at ~50 k parts/s on a 2-vCPU KVM guest, the
 * broker spent 14-25 % less CPU per part with both threads on one CPU (3.1-3.8
 * -> 2.4-3.2 us; docs/BENCHMARKS.md, 2026-11-30 15:40), the loop and the
 * I/O thread then taking turns (SCHED_BATCH: no wakeup preemption) instead
 * of waking each other across CPUs. At a low rate the same pinning costs
 * latency instead (a paced run's p99 1.7-2.4 -> 3.8 ms: a thread that must
 * wait for its one CPU cannot move to an idle one), and CPU is cheap.
 *
 * So the broker pins all its threads to the CPU its loop is on while its
 * job parts come at RILL_COLOCATE_PARTS_PER_S or more (over the last
 * second; default 30000, 0 = never), and gives them back the CPUs they had
 * once the rate falls under half that. Pinning is best effort: where the
 * kernel refuses (a cpuset, a seccomp profile), the broker runs as before
 * and says so once.
 */
#ifndef RILL_BROKER_COLOCATE_H
#define RILL_BROKER_COLOCATE_H

#include <stddef.h>
#include <stdint.h>

#define RILL_COLOCATE_DEFAULT_PARTS_PER_S 30000

typedef struct rill_colocate rill_colocate_t;

/* above: the parts a second from which the threads share a CPU (0: never).
 * NULL when this process's CPUs cannot be read (then nothing is pinned). */
rill_colocate_t *rill_colocate_new(uint64_t above);
/* Gives the threads their CPUs back when pinned. */
void rill_colocate_destroy(rill_colocate_t **self_p);
/* The threshold from RILL_COLOCATE_PARTS_PER_S (unset or empty: the
 * default). -1 for a value that is not a number (error says why). */
int rill_colocate_threshold_from_environment(uint64_t *above, char *error, size_t error_size);
/* On the broker's tick: parts is the broker's count of parts so far. Pins
 * or unpins when a second has passed since the last decision. */
void rill_colocate_tick(rill_colocate_t *self, uint64_t parts, uint64_t now_ms);
/* 1 while the threads share one CPU. */
int rill_colocate_pinned(const rill_colocate_t *self);
/* The CPU they share (-1 when not pinned). */
int rill_colocate_cpu(const rill_colocate_t *self);

#endif
