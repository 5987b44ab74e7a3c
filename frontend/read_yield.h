/*
 * read_yield.h - while the broker keeps it busy, the frontend's loop lets
 * libzmq's I/O thread finish handing over a burst, then reads the rest of
 * it in one more pass.
 *
 * Every message from the broker crosses two threads of the frontend:
 * libzmq's I/O thread reads the socket, decodes the messages one by one
 * and signals the loop as the first one lands. Both threads run on the
 * frontend's CPU, and under Linux's default policy the loop, woken,
 * preempts the I/O thread at once: it reads that one message, writes its
 * events to the clients, goes back to sleep, and the I/O thread goes on
 * to the next message only to wake it again. A burst of ten messages then
 * costs twenty context switches, ten passes of the loop and ten writes a
 * client where two would do; and the loop's sends (a submit, a flow
 * pause) each wake the I/O thread again. Measured (`perf sched timehist`,
 * a 2-vCPU guest): the two threads took turns every 10-30 us through a
 * burst.
 *
 * So while the frontend reads events from the broker at or over
 * RILL_READ_YIELD_PER_S a second (default 30,000, over a 250 ms window:
 * the rate at which the broker keeps its threads on one CPU,
 * RILL_COLOCATE_PARTS_PER_S), each wakeup by the broker's
 * sockets reads what is there at once, then calls sched_yield() and reads
 * again: the I/O thread, still runnable on that CPU, finishes the burst
 * first, and the rest of it is read in that one more pass. The first
 * message waits for nothing. At ~60 k job parts a second the broker spent
 * ~10 % less CPU a part (fewer, larger messages each way), at the same
 * latency percentiles (docs/BENCHMARKS.md 2026-12-02). Yielding before the
 * first read saved as much but cost ~0.1 ms at the median. Under the rate
 * nothing yields: there a yield only adds a switch after a lone message
 * (one topic subscriber at 1,000 messages a second: p99 +20 % when
 * yielding always). Yielding stays on until a window falls under half the
 * rate. sched_yield() gives the CPU to whatever else is runnable there
 * too, and the rest of the burst waits for it: at 20 k parts a second,
 * with the load generator on the frontend's CPU, yielding (from the old
 * default, 4,000) cost the paced part p99 ~20 % (0.56-0.62 against
 * 0.41-0.51 ms, docs/BENCHMARKS.md 2026-12-02 06:50) for ~5 % of the
 * broker's CPU. So it waits for a rate where the CPU is worth that; where
 * the frontend shares its CPU with a busy process, 0 turns it off.
 */
#ifndef RILL_FRONTEND_READ_YIELD_H
#define RILL_FRONTEND_READ_YIELD_H

#include "rill_busy_rate.h"

#include <stddef.h>
#include <stdint.h>

#define RILL_READ_YIELD_DEFAULT_PER_S 30000
#define RILL_READ_YIELD_WINDOW_MS 250

typedef struct {
    rill_busy_rate_t rate; /* of the events read: yields while busy */
    uint64_t yields;       /* a metric: wakeups that yielded and read again */
} rill_read_yield_t;

void rill_read_yield_init(rill_read_yield_t *self, uint64_t busy_per_s);
/* busy_per_s from RILL_READ_YIELD_PER_S (unset or empty: the default).
 * Returns 0, or -1 with error filled when it is not a number. */
int rill_read_yield_from_environment(uint64_t *busy_per_s, char *error, size_t error_size);
/* A wakeup of the loop by the broker's sockets, at the loop's now_ms;
 * events is the running total read so far. Returns 1 when the loop should
 * yield before reading. */
int rill_read_yield_wakeup(rill_read_yield_t *self, uint64_t events, uint64_t now_ms);

#endif
