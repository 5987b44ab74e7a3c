/*
 * rill_process_stats.c - see rill_process_stats.h. Read at scrape or
 * heartbeat time only (a few small /proc reads), never on the delivery path.
 */
#include "rill_process_stats.h"

#include "rill_metrics.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "rill_build_commit.h" /* generated: meson.build */

#ifndef RILL_BUILD_VERSION /* meson.build passes the project's version */
#define RILL_BUILD_VERSION "unknown"
#endif

const char rill_build_version[] = RILL_BUILD_VERSION;
const char rill_build_commit[] = RILL_BUILD_COMMIT;

/* Reads a small /proc file whole into buffer (NUL-terminated). */
static int read_small_file(const char *path, char *buffer, size_t size)
{
    FILE *file = fopen(path, "re");
    if (file == NULL)
        return -1;
    size_t got = fread(buffer, 1, size - 1, file);
    fclose(file);
    buffer[got] = '\0';
    return got > 0 ? 0 : -1;
}

/* The boot time (seconds since the epoch): /proc/stat's btime line. */
static long long boot_time_seconds(void)
{
    char text[16384];
    if (read_small_file("/proc/stat", text, sizeof(text)) != 0)
        return 0;
    const char *line = strstr(text, "\nbtime ");
    return line != NULL ? strtoll(line + 7, NULL, 10) : 0;
}

/* /proc/self/stat after the command's closing parenthesis (which may
 * itself hold spaces and parentheses): state is field 3, utime 14, stime
 * 15, starttime 22, vsize 23, rss 24. */
static int read_stat(rill_process_stats_t *stats)
{
    char text[1024];
    if (read_small_file("/proc/self/stat", text, sizeof(text)) != 0)
        return -1;
    const char *after = strrchr(text, ')');
    if (after == NULL)
        return -1;
    unsigned long long fields[25] = {0};
    int field = 3;
    char *cursor = (char *)after + 2;
    while (field <= 24 && *cursor != '\0') {
        while (*cursor == ' ')
            cursor++;
        char *end = cursor;
        fields[field] = strtoull(cursor, &end, 10);
        if (end == cursor) { /* the state letter */
            while (*end != ' ' && *end != '\0')
                end++;
        }
        cursor = end;
        field++;
    }
    if (field <= 24)
        return -1;
    long ticks = sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);
    if (ticks <= 0 || page <= 0)
        return -1;
    stats->cpu_seconds = (double)(fields[14] + fields[15]) / (double)ticks;
    stats->start_time_seconds = (double)boot_time_seconds() + (double)fields[22] / (double)ticks;
    stats->virtual_bytes = fields[23];
    stats->resident_bytes = fields[24] * (unsigned long long)page;
    return 0;
}

static uint64_t count_open_fds(void)
{
    DIR *directory = opendir("/proc/self/fd");
    if (directory == NULL)
        return 0;
    uint64_t count = 0;
    struct dirent *entry;
    while ((entry = readdir(directory)) != NULL)
        if (entry->d_name[0] != '.')
            count++;
    closedir(directory);
    return count > 0 ? count - 1 : 0; /* not the directory's own fd */
}

int rill_process_stats_read(rill_process_stats_t *stats)
{
    memset(stats, 0, sizeof(*stats));
    snprintf(stats->version, sizeof(stats->version), "%s", rill_build_version);
    snprintf(stats->commit, sizeof(stats->commit), "%s", rill_build_commit);
    int status = read_stat(stats);
    stats->open_fds = count_open_fds();
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0)
        stats->max_fds = limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)limit.rlim_cur;
    return status;
}

int rill_process_stats_to_json(const rill_process_stats_t *stats, char *buffer, size_t size)
{
    int length = snprintf(buffer, size,
                          "{\"cpu_seconds\":%.3f,\"resident_bytes\":%llu,\"virtual_bytes\":%llu,"
                          "\"open_fds\":%llu,\"max_fds\":%llu,\"start_time_seconds\":%.3f,"
                          "\"version\":\"%s\",\"commit\":\"%s\"}",
                          stats->cpu_seconds, (unsigned long long)stats->resident_bytes,
                          (unsigned long long)stats->virtual_bytes, (unsigned long long)stats->open_fds,
                          (unsigned long long)stats->max_fds, stats->start_time_seconds, stats->version,
                          stats->commit);
    return length > 0 && (size_t)length < size ? 0 : -1;
}

static double number_of(json_t *object, const char *key)
{
    json_t *value = json_object_get(object, key);
    double number = json_is_number(value) ? json_number_value(value) : 0;
    return number >= 0 && number < 1.8e19 ? number : 0;
}

/* Keeps [A-Za-z0-9._+-] only: nothing a label value would need escaped. */
static void copy_label_text(json_t *object, const char *key, char *out, size_t size)
{
    const char *text = json_string_value(json_object_get(object, key));
    size_t used = 0;
    for (; text != NULL && *text != '\0' && used + 1 < size; text++) {
        char c = *text;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
            c == '_' || c == '+' || c == '-')
            out[used++] = c;
    }
    out[used] = '\0';
}

int rill_process_stats_from_json(const char *text, size_t length, rill_process_stats_t *stats)
{
    memset(stats, 0, sizeof(*stats));
    json_t *object = json_loadb(text, length, 0, NULL);
    if (!json_is_object(object)) {
        json_decref(object);
        return -1;
    }
    stats->cpu_seconds = number_of(object, "cpu_seconds");
    stats->resident_bytes = (uint64_t)number_of(object, "resident_bytes");
    stats->virtual_bytes = (uint64_t)number_of(object, "virtual_bytes");
    stats->open_fds = (uint64_t)number_of(object, "open_fds");
    stats->max_fds = (uint64_t)number_of(object, "max_fds");
    stats->start_time_seconds = number_of(object, "start_time_seconds");
    copy_label_text(object, "version", stats->version, sizeof(stats->version));
    copy_label_text(object, "commit", stats->commit, sizeof(stats->commit));
    json_decref(object);
    return 0;
}

typedef enum { FIELD_CPU, FIELD_RESIDENT, FIELD_VIRTUAL, FIELD_FDS, FIELD_MAX_FDS, FIELD_START } field_t;

static const struct {
    const char *name, *type, *help;
    field_t field;
} families[] = {
    {"process_cpu_seconds_total", "counter", "User and system CPU time the process spent, in seconds.", FIELD_CPU},
    {"process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", FIELD_RESIDENT},
    {"process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", FIELD_VIRTUAL},
    {"process_open_fds", "gauge", "Open file descriptors.", FIELD_FDS},
    {"process_max_fds", "gauge", "The most file descriptors the process may open (soft limit).", FIELD_MAX_FDS},
    {"process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds.",
     FIELD_START},
};

void rill_process_stats_render(rill_buffer_t *out, const rill_process_sample_t *samples, size_t count)
{
    for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
        rill_metrics_family(out, families[f].name, families[f].type, families[f].help);
        for (size_t i = 0; i < count; i++) {
            const rill_process_stats_t *stats = samples[i].stats;
            switch (families[f].field) {
            case FIELD_CPU:
                rill_buffer_printf(out, "%s{%s} %.3f\n", families[f].name, samples[i].labels, stats->cpu_seconds);
                break;
            case FIELD_START:
                rill_buffer_printf(out, "%s{%s} %.3f\n", families[f].name, samples[i].labels,
                                   stats->start_time_seconds);
                break;
            default: {
                uint64_t value = families[f].field == FIELD_RESIDENT  ? stats->resident_bytes
                                 : families[f].field == FIELD_VIRTUAL ? stats->virtual_bytes
                                 : families[f].field == FIELD_FDS     ? stats->open_fds
                                                                      : stats->max_fds;
                rill_metrics_sample(out, families[f].name, samples[i].labels, NULL, NULL, value);
                break;
            }
            }
        }
    }
    rill_metrics_family(out, "rill_build_info", "gauge",
                        "Always 1: the version and git commit each process was built from.");
    for (size_t i = 0; i < count; i++)
        rill_buffer_printf(out, "rill_build_info{%s,version=\"%s\",commit=\"%s\"} 1\n", samples[i].labels,
                           samples[i].stats->version[0] ? samples[i].stats->version : "unknown",
                           samples[i].stats->commit[0] ? samples[i].stats->commit : "unknown");
}
