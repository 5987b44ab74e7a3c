/* rill_endpoints.c - see rill_endpoints.h. */
#include "rill_endpoints.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int copy_value(char *field, const char *value)
{
    if (strlen(value) >= RILL_ENDPOINT_MAX)
        return -1;
    snprintf(field, RILL_ENDPOINT_MAX, "%s", value);
    return 0;
}

static void copy_environment(char *field, const char *variable)
{
    const char *value = getenv(variable);
    if (value != NULL && value[0] != '\0')
        (void)copy_value(field, value);
}

void rill_endpoints_from_environment(rill_endpoints_t *endpoints)
{
    memset(endpoints, 0, sizeof(*endpoints));
    copy_environment(endpoints->run_dir, "RILL_RUN_DIR");
    copy_environment(endpoints->control, "RILL_CONTROL_ENDPOINT");
    copy_environment(endpoints->events, "RILL_EVENTS_ENDPOINT");
    copy_environment(endpoints->workers, "RILL_WORKERS_ENDPOINT");
}

int rill_endpoints_set(rill_endpoints_t *endpoints, const char *name, const char *value)
{
    if (strcmp(name, "run-dir") == 0)
        return copy_value(endpoints->run_dir, value);
    if (strcmp(name, "control") == 0)
        return copy_value(endpoints->control, value);
    if (strcmp(name, "events") == 0)
        return copy_value(endpoints->events, value);
    if (strcmp(name, "workers") == 0)
        return copy_value(endpoints->workers, value);
    return -1;
}

static int derive(char *field, const char *run_dir, const char *file, char *error, size_t error_size)
{
    if (field[0] != '\0')
        return 0;
    int length = snprintf(field, RILL_ENDPOINT_MAX, "ipc://%s/%s", run_dir, file);
    if (length < 0 || length >= RILL_ENDPOINT_MAX) {
        snprintf(error, error_size, "run directory path too long");
        return -1;
    }
    return 0;
}

void rill_endpoints_allow_lists(rill_endpoints_t *endpoints)
{
    endpoints->lists = 1;
}

size_t rill_endpoints_count(const char *list)
{
    size_t count = 1;
    for (const char *at = list; *at != '\0'; at++)
        count += *at == ',';
    return count;
}

int rill_endpoints_split(const char *list, const char *name, char out[][RILL_ENDPOINT_MAX],
                         char *error, size_t error_size)
{
    size_t count = rill_endpoints_count(list);
    if (count > RILL_ENDPOINT_LIST_MAX) {
        snprintf(error, error_size, "%s endpoints \"%s\": at most %d (a broker and its standby)",
                 name, list, RILL_ENDPOINT_LIST_MAX);
        return -1;
    }
    const char *start = list;
    for (size_t i = 0; i < count; i++) {
        const char *comma = strchr(start, ',');
        size_t length = comma != NULL ? (size_t)(comma - start) : strlen(start);
        if (length == 0 || length >= RILL_ENDPOINT_MAX) {
            snprintf(error, error_size, "%s endpoints \"%s\": entry %zu is empty",
                     name, list, i + 1);
            return -1;
        }
        memcpy(out[i], start, length);
        out[i][length] = '\0';
        start += length + 1;
    }
    if (count == 2 && strcmp(out[0], out[1]) == 0) {
        snprintf(error, error_size, "%s endpoints \"%s\": the same endpoint twice", name, list);
        return -1;
    }
    return (int)count;
}

static int check(const rill_endpoints_t *endpoints, const char *value, const char *name,
                 char *error, size_t error_size)
{
    if (!endpoints->lists) {
        if (strchr(value, ',') == NULL)
            return 0; /* as it always was: the bind or connect judges it */
        snprintf(error, error_size,
                 "%s endpoint \"%s\" is a list: a broker binds exactly one (lists of a broker and "
                 "its standby are for frontends and workers; a standby broker takes --standby-of)",
                 name, value);
        return -1;
    }
    char entries[RILL_ENDPOINT_LIST_MAX][RILL_ENDPOINT_MAX];
    return rill_endpoints_split(value, name, entries, error, error_size) < 0 ? -1 : 0;
}

int rill_endpoints_finish(rill_endpoints_t *endpoints, char *error, size_t error_size)
{
    if (endpoints->run_dir[0] == '\0')
        snprintf(endpoints->run_dir, RILL_ENDPOINT_MAX, "%s", "run");
    if (derive(endpoints->control, endpoints->run_dir, "control.sock", error, error_size) != 0 ||
        derive(endpoints->events, endpoints->run_dir, "events.sock", error, error_size) != 0 ||
        derive(endpoints->workers, endpoints->run_dir, "workers.sock", error, error_size) != 0)
        return -1;
    if (check(endpoints, endpoints->control, "control", error, error_size) != 0 ||
        check(endpoints, endpoints->events, "events", error, error_size) != 0 ||
        check(endpoints, endpoints->workers, "workers", error, error_size) != 0)
        return -1;
    return 0;
}

int rill_endpoints_prepare_run_dir(const rill_endpoints_t *endpoints, char *error, size_t error_size)
{
    if (mkdir(endpoints->run_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(error, error_size, "cannot create run directory %s: %s", endpoints->run_dir,
                 strerror(errno));
        return -1;
    }
    if (chmod(endpoints->run_dir, 0700) != 0) {
        snprintf(error, error_size, "cannot set mode 0700 on %s: %s", endpoints->run_dir,
                 strerror(errno));
        return -1;
    }
    return 0;
}
