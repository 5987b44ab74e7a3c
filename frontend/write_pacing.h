/*
 * write_pacing.h - when the frontend is busy, its streams write less often.
 *
 * A write to a client costs the frontend about the same whatever it
 * carries: on loopback TCP most of a writev is the kernel's (the send, the
 * receiver's side, netfilter), ~10 us on a 2-vCPU guest. While the
 * frontend keeps up, each stream writes what it has at once, one event or
 * a few, and latency is at its lowest. Once its loop is busy all the time
 * (a topic followed by 1,000 clients at 2,000 messages a second asks for
 * 2 M deliveries a second), writes of a few events each are what it
 * spends its CPU on: it fell behind, its streams overflowed and
 * subscribers got gaps for ~80 % of the messages (measured: 0.43 M
 * deliveries a second, docs/BENCHMARKS.md 2026-12-01 16:00). Holding each
 * stream's bytes for a few milliseconds then sends the same events in a
 * fifth of the writes: every message delivered (2 M a second), at a p99
 * still under Nchan's.
 *
 * So this is the frontend's saturation signal, as a NIC moderates its
 * interrupts: every RILL_WRITE_PACING_SAMPLE_MS the loop thread's CPU
 * time over the wall time of the sample is its share of a CPU; at or over
 * RILL_BUSY_PERCENT (default 80) the frontend is busy, and stays busy until
 * a sample falls under 5/8 of that, 50 % (hysteresis: holding writes lowers
 * the share, which must not switch it straight back). RILL_BUSY_PERCENT=0
 * makes a frontend busy from its first sample on (the tests' way to see the
 * windows); over 100, never. While
 * busy, a stream's bytes wait up to busy_flush_ms (docs/CONFIG.md) and
 * leave in one write; a pipeline's longer flush_ms still wins. Not busy,
 * nothing waits: the low-load latency is untouched.
 */
#ifndef RILL_FRONTEND_WRITE_PACING_H
#define RILL_FRONTEND_WRITE_PACING_H

#include <stdint.h>

#include <stddef.h>

#define RILL_WRITE_PACING_SAMPLE_MS 100
#define RILL_WRITE_PACING_DEFAULT_BUSY_PERCENT 80

typedef struct {
    uint64_t window_ms;       /* busy_flush_ms; 0 = writes never wait */
    uint64_t sample_start_ms; /* loop ms the current sample began; 0 = none yet */
    uint64_t sample_cpu_ns;   /* the loop thread's CPU time then */
    uint64_t busy_percent;    /* a sample at or over this share of a CPU: busy; under 5/8 of it: no longer */
    uint64_t busy_episodes;   /* times it became busy (a metric) */
    unsigned busy : 1;
} rill_write_pacing_t;

/* Busy from RILL_WRITE_PACING_DEFAULT_BUSY_PERCENT on. */
void rill_write_pacing_init(rill_write_pacing_t *self, uint64_t window_ms);
void rill_write_pacing_set_busy_percent(rill_write_pacing_t *self, uint64_t busy_percent);
/* busy_percent from RILL_BUSY_PERCENT (unset or empty: the default).
 * Returns 0, or -1 with error filled when it is not a number. */
int rill_write_pacing_percent_from_environment(uint64_t *busy_percent, char *error, size_t error_size);
/* A reload changed busy_flush_ms; 0 also ends a busy spell. */
void rill_write_pacing_set_window_ms(rill_write_pacing_t *self, uint64_t window_ms);
/* How long a stream's bytes may wait now (0: at once). Called on the loop
 * thread at each flush; it reads the thread's CPU clock once a sample. */
uint64_t rill_write_pacing_window(rill_write_pacing_t *self, uint64_t now_ms);
/* The sample step alone, with the clocks given (unit tests): cpu_ns is the
 * loop thread's CPU time at now_ms. */
void rill_write_pacing_observe(rill_write_pacing_t *self, uint64_t now_ms, uint64_t cpu_ns);

#endif
