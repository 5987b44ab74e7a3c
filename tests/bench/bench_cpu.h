/*
 * bench_cpu.h - CPU time of the measured processes over rill-bench's window:
 * utime + stime of /proc/PID/stat (all threads of the process) read when the
 * window opens and when it closes, reported per process as seconds, percent
 * of one core, and microseconds per delivered part (or event); the
 * wakeups a second of all its threads (voluntary_ctxt_switches of each
 * /proc/PID/task/TID/status: a thread that slept and was woken), which is
 * most of what a part costs on a virtual machine (docs/BENCHMARKS.md); and
 * the resident memory that idle mode reads.
 */
#ifndef BENCH_CPU_H
#define BENCH_CPU_H

#include <stdint.h>
#include <stdio.h>

/* Adds a process to watch, "name=pid" (e.g. broker=1234). 0, or -1 if malformed. */
int bench_cpu_add(const char *spec);

/* Adds rill-bench itself, as "load_generator" (not counted in the servers' total). */
void bench_cpu_add_self(void);

void bench_cpu_sample_start(void);
void bench_cpu_sample_end(void);

/* Prints ,"cpu":{…} (and ,"broker_us_per_part":X when a process is named
 * broker and unit is "part") for a window of window_s seconds that delivered
 * `delivered` parts or events; unit names the per-item field ("part", "event"). */
void bench_cpu_print(FILE *out, double window_s, uint64_t delivered, const char *unit);

/* The resident set of a process in KiB (VmRSS of /proc/PID/status), or -1. */
long bench_rss_kib(int pid);

#endif
