/*
 * bench_cpu.c - per-process CPU over rill-bench's measured window (see
 * bench_cpu.h). Reads utime and stime, fields 14 and 15 of /proc/PID/stat,
 * in clock ticks (sysconf(_SC_CLK_TCK), 100 per second on Linux): at 10 ms
 * a tick, a 5 s window is exact to about 0.2 % of a core per process.
 */
#include "bench_cpu.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PROCESSES 16

typedef struct {
    char name[32];
    int pid;
    int self;
    long long start_ticks, end_ticks; /* -1: unreadable (the process is gone) */
    long long start_wakeups, end_wakeups; /* -1: unreadable */
} watched_t;

static watched_t watched[MAX_PROCESSES];
static int watched_count;

static long long cpu_ticks(int pid)
{
    char path[64], text[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return -1;
    size_t length = fread(text, 1, sizeof(text) - 1, file);
    fclose(file);
    text[length] = '\0';
    char *p = strrchr(text, ')'); /* the command name may hold spaces and parentheses */
    if (p == NULL)
        return -1;
    p++;
    /* after ")": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
    for (int field = 3; field < 14; field++) {
        p = strchr(p + 1, ' ');
        if (p == NULL)
            return -1;
    }
    char *end;
    long long utime = strtoll(p + 1, &end, 10);
    long long stime = strtoll(end, NULL, 10);
    return utime + stime;
}

/* The voluntary context switches of every thread of pid so far (a thread
 * that ended since is not counted: rill's threads live as long as their
 * process), or -1. */
static long long wakeups(int pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    DIR *tasks = opendir(path);
    if (tasks == NULL)
        return -1;
    long long total = 0;
    struct dirent *entry;
    while ((entry = readdir(tasks)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        char status_path[300], line[256];
        snprintf(status_path, sizeof(status_path), "/proc/%d/task/%s/status", pid, entry->d_name);
        FILE *file = fopen(status_path, "r");
        if (file == NULL)
            continue; /* the thread just ended */
        while (fgets(line, sizeof(line), file) != NULL) {
            if (strncmp(line, "voluntary_ctxt_switches:", 24) == 0)
                total += strtoll(line + 24, NULL, 10);
        }
        fclose(file);
    }
    closedir(tasks);
    return total;
}

int bench_cpu_add(const char *spec)
{
    const char *equals = strchr(spec, '=');
    if (equals == NULL || equals == spec || (size_t)(equals - spec) >= sizeof(watched[0].name) ||
        watched_count == MAX_PROCESSES)
        return -1;
    int pid = atoi(equals + 1);
    if (pid <= 0)
        return -1;
    watched_t *w = &watched[watched_count++];
    memcpy(w->name, spec, (size_t)(equals - spec));
    w->name[equals - spec] = '\0';
    w->pid = pid;
    return 0;
}

void bench_cpu_add_self(void)
{
    if (watched_count == MAX_PROCESSES)
        return;
    watched_t *w = &watched[watched_count++];
    snprintf(w->name, sizeof(w->name), "load_generator");
    w->pid = (int)getpid();
    w->self = 1;
}

void bench_cpu_sample_start(void)
{
    for (int i = 0; i < watched_count; i++) {
        watched[i].start_ticks = cpu_ticks(watched[i].pid);
        watched[i].start_wakeups = wakeups(watched[i].pid);
    }
}

void bench_cpu_sample_end(void)
{
    for (int i = 0; i < watched_count; i++) {
        watched[i].end_ticks = cpu_ticks(watched[i].pid);
        watched[i].end_wakeups = wakeups(watched[i].pid);
    }
}

void bench_cpu_print(FILE *out, double window_s, uint64_t delivered, const char *unit)
{
    if (watched_count == 0)
        return;
    double tick = 1.0 / (double)sysconf(_SC_CLK_TCK);
    double total = 0, broker = -1;
    int complete = 1;
    fprintf(out, ",\"cpu\":{\"window_s\":%.2f,\"processes\":[", window_s);
    for (int i = 0; i < watched_count; i++) {
        watched_t *w = &watched[i];
        fprintf(out, "%s{\"name\":\"%s\",\"pid\":%d", i ? "," : "", w->name, w->pid);
        if (w->start_ticks < 0 || w->end_ticks < 0) {
            fprintf(out, ",\"cpu_s\":null}");
            if (!w->self)
                complete = 0;
            continue;
        }
        double seconds = (double)(w->end_ticks - w->start_ticks) * tick;
        fprintf(out, ",\"cpu_s\":%.2f,\"percent\":%.1f", seconds, 100.0 * seconds / window_s);
        if (delivered > 0)
            fprintf(out, ",\"us_per_%s\":%.2f", unit, seconds * 1e6 / (double)delivered);
        if (w->start_wakeups >= 0 && w->end_wakeups >= w->start_wakeups)
            fprintf(out, ",\"wakeups_per_s\":%.0f", (double)(w->end_wakeups - w->start_wakeups) / window_s);
        fprintf(out, "}");
        if (!w->self)
            total += seconds;
        if (strcmp(w->name, "broker") == 0)
            broker = seconds;
    }
    fprintf(out, "],\"servers_total\":{\"cpu_s\":%.2f,\"percent\":%.1f", total, 100.0 * total / window_s);
    if (delivered > 0)
        fprintf(out, ",\"us_per_%s\":%.2f", unit, total * 1e6 / (double)delivered);
    fprintf(out, ",\"complete\":%s}}", complete ? "true" : "false");
    if (broker >= 0 && delivered > 0 && strcmp(unit, "part") == 0)
        fprintf(out, ",\"broker_us_per_part\":%.2f", broker * 1e6 / (double)delivered);
}

long bench_rss_kib(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return -1;
    long value = -1;
    while (fgets(line, sizeof(line), file) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            value = strtol(line + 6, NULL, 10);
    }
    fclose(file);
    return value;
}
