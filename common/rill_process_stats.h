/*
 * rill_process_stats.h - what a process costs the machine, as Prometheus
 * users expect to see it for every process they run (the process_* series
 * of the official client libraries), and which build it is.
 *
 * Each rill process reads its own numbers from /proc/self (Linux only, as
 * rill is). The frontend serves them for itself, the broker and every
 * worker in one exposition (docs/METRICS.md "Processes"): workers send
 * theirs to the broker with each PING, the broker sends its own and its
 * workers' with its METRICS reply (docs/PROTOCOL.md), both as the small
 * JSON object written and read here. The frontend then writes each
 * process_* family once, with a sample per process: Prometheus refuses a
 * family that appears twice in one scrape.
 */
#ifndef RILL_PROCESS_STATS_H
#define RILL_PROCESS_STATS_H

#include "rill_buffer.h"

#include <stddef.h>
#include <stdint.h>

/* The build: the meson project's version and the git commit it was built
 * from ("unknown" outside a git checkout, as in some image builds). */
extern const char rill_build_version[];
extern const char rill_build_commit[];

#define RILL_PROCESS_TEXT_MAX 48

typedef struct {
    double cpu_seconds;        /* user + system, all threads */
    uint64_t resident_bytes;
    uint64_t virtual_bytes;
    uint64_t open_fds;
    uint64_t max_fds;          /* the soft RLIMIT_NOFILE */
    double start_time_seconds; /* since the Unix epoch */
    char version[RILL_PROCESS_TEXT_MAX];
    char commit[RILL_PROCESS_TEXT_MAX];
} rill_process_stats_t;

/* This process now, with this build's version and commit. 0, or -1 when
 * /proc could not be read (the fields it could not read are 0). */
int rill_process_stats_read(rill_process_stats_t *stats);

/* {"cpu_seconds":…,"resident_bytes":…,…,"version":"…","commit":"…"} into
 * buffer (NUL-terminated). 0, or -1 when it does not fit. */
int rill_process_stats_to_json(const rill_process_stats_t *stats, char *buffer, size_t size);

/* The same object back (from a peer: any field may be missing or wrong,
 * which leaves it 0 or empty; version and commit keep only the characters
 * a label may hold unescaped). 0, or -1 when text is not a JSON object. */
int rill_process_stats_from_json(const char *text, size_t length, rill_process_stats_t *stats);

typedef struct {
    const char *labels; /* pre-escaped and not empty, e.g. process="worker",worker="w1" */
    const rill_process_stats_t *stats;
} rill_process_sample_t;

/* process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds,
 * process_start_time_seconds and rill_build_info{version,commit}: each
 * family once, one sample per entry of samples. */
void rill_process_stats_render(rill_buffer_t *out, const rill_process_sample_t *samples, size_t count);

#endif
