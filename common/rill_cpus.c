/* rill_cpus.c - the CPUs a rill process runs on. See rill_cpus.h for why
 * the frontend and the rest may be placed apart. */
#include "rill_cpus.h"
#include "rill_log.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The CPUs the process was started with, once the environment moved it. */
static cpu_set_t started_with;
static int moved;
/* The CPUs split divided, when it placed this process as a backend. */
static cpu_set_t split_allowed;
static int split_backend;

static int read_cpu(const char **cursor, long *cpu)
{
    const char *start = *cursor;
    long value = 0;
    while (**cursor >= '0' && **cursor <= '9') {
        value = value * 10 + (**cursor - '0');
        if (value >= CPU_SETSIZE)
            return -1;
        (*cursor)++;
    }
    if (*cursor == start)
        return -1;
    *cpu = value;
    return 0;
}

int rill_cpus_parse(const char *text, cpu_set_t *cpus, char *error, size_t error_size)
{
    cpu_set_t parsed;
    CPU_ZERO(&parsed);
    const char *cursor = text;
    if (text == NULL || text[0] == '\0') {
        snprintf(error, error_size, "an empty CPU list");
        return -1;
    }
    for (;;) {
        long first, last;
        if (read_cpu(&cursor, &first) != 0)
            goto bad;
        last = first;
        if (*cursor == '-') {
            cursor++;
            if (read_cpu(&cursor, &last) != 0 || last < first)
                goto bad;
        }
        for (long cpu = first; cpu <= last; cpu++)
            CPU_SET((int)cpu, &parsed);
        if (*cursor == '\0')
            break;
        if (*cursor != ',')
            goto bad;
        cursor++;
    }
    *cpus = parsed;
    return 0;
bad:
    snprintf(error, error_size, "\"%s\" is not a CPU list such as 0-2,5 (CPUs under %d)", text, CPU_SETSIZE);
    return -1;
}

size_t rill_cpus_format(const cpu_set_t *cpus, char *text, size_t text_size)
{
    size_t length = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, cpus))
            continue;
        int last = cpu;
        while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, cpus))
            last++;
        int written = last > cpu ? snprintf(text + length, text_size - length, "%s%d-%d", length ? "," : "", cpu, last)
                                 : snprintf(text + length, text_size - length, "%s%d", length ? "," : "", cpu);
        if (written < 0 || (size_t)written >= text_size - length)
            return 0;
        length += (size_t)written;
        cpu = last;
    }
    return length;
}

int rill_cpus_split(const cpu_set_t *allowed, rill_placement_role_t role, cpu_set_t *cpus)
{
    if (CPU_COUNT(allowed) < 2)
        return -1;
    int last = CPU_SETSIZE - 1;
    while (!CPU_ISSET(last, allowed))
        last--;
    if (role == RILL_PLACEMENT_FRONTEND) {
        CPU_ZERO(cpus);
        CPU_SET(last, cpus);
    } else {
        *cpus = *allowed;
        CPU_CLR(last, cpus);
    }
    return 0;
}

static int apply(const cpu_set_t *cpus, const char *why)
{
    char text[256];
    if (rill_cpus_format(cpus, text, sizeof(text)) == 0)
        snprintf(text, sizeof(text), "(%d CPUs)", CPU_COUNT(cpus));
    cpu_set_t before;
    if (sched_getaffinity(0, sizeof(before), &before) != 0 || sched_setaffinity(0, sizeof(*cpus), cpus) != 0) {
        rill_log_warn(NULL, "%s: cannot run on CPUs %s: %s (running where started)", why, text, strerror(errno));
        return -1;
    }
    if (!moved) {
        started_with = before;
        moved = 1;
    }
    rill_log_info(NULL, "%s: running on CPUs %s", why, text);
    return 0;
}

int rill_cpus_set_every_thread(pid_t pid, const cpu_set_t *cpus)
{
    char path[64];
    if (pid == 0)
        snprintf(path, sizeof(path), "/proc/self/task");
    else
        snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    int failed = pid != 0 && sched_setaffinity(pid, sizeof(*cpus), cpus) != 0;
    int saved_errno = errno;
    DIR *tasks = opendir(path);
    if (tasks == NULL)
        return -1;
    struct dirent *entry;
    while ((entry = readdir(tasks)) != NULL) {
        char *end = NULL;
        long tid = strtol(entry->d_name, &end, 10);
        if (end == entry->d_name || *end != '\0' || tid <= 0 || tid == pid)
            continue;
        if (sched_setaffinity((pid_t)tid, sizeof(*cpus), cpus) != 0 && !failed) {
            failed = 1;
            saved_errno = errno;
        }
    }
    closedir(tasks);
    errno = saved_errno;
    return failed ? -1 : 0;
}

int rill_cpus_give_back(pid_t pid)
{
    return moved ? rill_cpus_set_every_thread(pid, &started_with) : 0;
}

int rill_cpus_apply_from_environment(rill_placement_role_t role, char *error, size_t error_size)
{
    cpu_set_t cpus;
    const char *list = getenv("RILL_CPUS");
    if (list != NULL && list[0] != '\0') {
        char reason[192];
        if (rill_cpus_parse(list, &cpus, reason, sizeof(reason)) != 0) {
            snprintf(error, error_size, "RILL_CPUS: %s", reason);
            return -1;
        }
        (void)apply(&cpus, "RILL_CPUS");
        return 0;
    }
    const char *placement = getenv("RILL_PLACEMENT");
    if (placement == NULL || placement[0] == '\0' || strcmp(placement, "none") == 0)
        return 0;
    if (strcmp(placement, "split") != 0) {
        snprintf(error, error_size, "RILL_PLACEMENT must be \"split\" or \"none\", not \"%s\"", placement);
        return -1;
    }
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
        rill_log_warn(NULL, "RILL_PLACEMENT=split: cannot read this process's CPUs: %s (running where started)",
                      strerror(errno));
        return 0;
    }
    if (rill_cpus_split(&allowed, role, &cpus) != 0) {
        rill_log_info(NULL, "RILL_PLACEMENT=split: one CPU, nothing to split");
        return 0;
    }
    if (apply(&cpus, "RILL_PLACEMENT=split") == 0 && role == RILL_PLACEMENT_BACKEND) {
        split_allowed = allowed;
        split_backend = 1;
    }
    return 0;
}

int rill_cpus_split_sets(cpu_set_t *busy, cpu_set_t *quiet)
{
    if (!split_backend)
        return -1;
    if (rill_cpus_split(&split_allowed, RILL_PLACEMENT_BACKEND, busy) != 0 ||
        rill_cpus_split(&split_allowed, RILL_PLACEMENT_FRONTEND, quiet) != 0)
        return -1;
    return 0;
}

int rill_cpus_rate_from_environment(const char *variable, uint64_t fallback, const char *zero_means,
                                    uint64_t *rate, char *error, size_t error_size)
{
    const char *text = getenv(variable);
    *rate = fallback;
    if (text == NULL || text[0] == '\0')
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0) {
        snprintf(error, error_size, "%s must be a whole number (0: %s), not \"%.40s\"", variable, zero_means,
                 text);
        return -1;
    }
    *rate = value;
    return 0;
}
