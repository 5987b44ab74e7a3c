/*
 * health_file.c - see health_file.h.
 */
#include "health_file.h"

#include "rill_clock.h"
#include "rill_endpoints.h"
#include "rill_json_text.h"
#include "rill_log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEALTH_PATH_MAX (RILL_ENDPOINT_MAX + 256)
#define HEALTH_FILE_MAX 4096

static struct {
    char path[HEALTH_PATH_MAX];
    char temporary[HEALTH_PATH_MAX + 8];
    char name[128];
    int failing; /* the last write failed (logged) */
} health;

int rill_worker_health_default_path(const char *run_dir, const char *name, char *out, size_t out_size)
{
    int written = snprintf(out, out_size, "%s/health/%s.json", run_dir, name);
    if (written < 0 || (size_t)written >= out_size)
        return -1;
    for (char *c = out + strlen(run_dir) + strlen("/health/"); *c != '\0'; c++) {
        if (*c == '/')
            *c = '_';
    }
    return 0;
}

int rill_worker_health_open(const char *path, const char *name)
{
    if (strlen(path) >= sizeof(health.path)) {
        rill_log_error(NULL, "health file path too long: %s", path);
        return -1;
    }
    snprintf(health.path, sizeof(health.path), "%s", path);
    snprintf(health.temporary, sizeof(health.temporary), "%s.tmp", path);
    snprintf(health.name, sizeof(health.name), "%s", name);
    char parent[HEALTH_PATH_MAX], grandparent[HEALTH_PATH_MAX];
    snprintf(parent, sizeof(parent), "%s", path);
    const char *directory = dirname(parent);
    snprintf(grandparent, sizeof(grandparent), "%s", directory);
    /* RUN/health: the run directory too may not be there yet (a worker
     * that starts before its broker). */
    if (mkdir(directory, 0700) != 0 && errno == ENOENT && mkdir(dirname(grandparent), 0700) == 0)
        (void)mkdir(directory, 0700);
    if (access(directory, W_OK) != 0) {
        rill_log_error(NULL, "cannot create %s for the health file: %s", directory, strerror(errno));
        health.path[0] = '\0';
        return -1;
    }
    return 0;
}

static int write_all(int fd, const char *text, size_t length)
{
    while (length > 0) {
        ssize_t wrote = write(fd, text, length);
        if (wrote < 0 && errno == EINTR)
            continue;
        if (wrote <= 0)
            return -1;
        text += wrote;
        length -= (size_t)wrote;
    }
    return 0;
}

void rill_worker_health_write(int joined, const char *broker, uint64_t heartbeat_ms)
{
    if (health.path[0] == '\0')
        return;
    char name[6 * sizeof(health.name) + 3], instance[6 * 64 + 3];
    /* rill_json_escape adds no NUL; 6 bytes per byte + 2 always fit. */
    name[rill_json_escape(name, sizeof(name) - 1, health.name, strlen(health.name))] = '\0';
    instance[rill_json_escape(instance, sizeof(instance) - 1, broker, strnlen(broker, 64))] = '\0';
    char text[HEALTH_FILE_MAX];
    int length = snprintf(text, sizeof(text),
                          "{\"pid\":%ld,\"name\":%s,\"joined\":%s,\"broker\":%s,\"heartbeat_ms\":%llu,"
                          "\"monotonic_ms\":%llu}\n",
                          (long)getpid(), name, joined ? "true" : "false", instance,
                          (unsigned long long)heartbeat_ms, (unsigned long long)rill_clock_monotonic_ms());
    int fd = open(health.temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int failed = fd < 0 || length < 0 || (size_t)length >= sizeof(text) ||
                 write_all(fd, text, (size_t)length) != 0;
    int error = errno;
    if (fd >= 0 && close(fd) != 0 && !failed) {
        failed = 1;
        error = errno;
    }
    if (!failed && rename(health.temporary, health.path) != 0) {
        failed = 1;
        error = errno;
    }
    if (failed && !health.failing)
        rill_log_warn(NULL, "cannot write the health file %s: %s", health.path, strerror(error));
    else if (!failed && health.failing)
        rill_log_info(NULL, "the health file %s is written again", health.path);
    health.failing = failed;
}

void rill_worker_health_close(void)
{
    if (health.path[0] == '\0')
        return;
    (void)unlink(health.temporary);
    if (unlink(health.path) != 0 && errno != ENOENT)
        rill_log_warn(NULL, "cannot remove the health file %s: %s", health.path, strerror(errno));
    health.path[0] = '\0';
}

/* The file's text, NUL-terminated, in text. 0, or -1 with the reason. */
static int read_file(const char *path, char *text, size_t size, char *reason, size_t reason_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(reason, reason_size, "no health file %s (%s): the worker is not running, or not yet", path,
                 strerror(errno));
        return -1;
    }
    size_t used = 0;
    for (;;) {
        ssize_t got = read(fd, text + used, size - 1 - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        used += (size_t)got;
        if (used == size - 1)
            break;
    }
    close(fd);
    text[used] = '\0';
    return 0;
}

int rill_worker_health_check(const char *path, int need_joined, FILE *out, FILE *err)
{
    char text[HEALTH_FILE_MAX + 1];
    char reason[HEALTH_PATH_MAX + 256];
    if (read_file(path, text, sizeof(text), reason, sizeof(reason)) != 0) {
        fprintf(err, "rill-worker --check: %s\n", reason);
        return 1;
    }
    json_error_t error;
    json_t *health_json = json_loads(text, 0, &error);
    const char *name = json_string_value(json_object_get(health_json, "name"));
    const char *broker = json_string_value(json_object_get(health_json, "broker"));
    json_t *joined = json_object_get(health_json, "joined");
    json_t *heartbeat = json_object_get(health_json, "heartbeat_ms");
    json_t *at = json_object_get(health_json, "monotonic_ms");
    int status = 1;
    if (name == NULL || broker == NULL || !json_is_boolean(joined) || !json_is_integer(heartbeat) ||
        !json_is_integer(at) || json_integer_value(heartbeat) < 0 || json_integer_value(at) < 0) {
        fprintf(err, "rill-worker --check: %s is not a worker's health file\n", path);
        goto out;
    }
    uint64_t now = rill_clock_monotonic_ms(), written = (uint64_t)json_integer_value(at);
    uint64_t age = now > written ? now - written : 0;
    uint64_t limit = 3 * (uint64_t)json_integer_value(heartbeat) + 1000;
    if (age > limit) {
        fprintf(err, "rill-worker --check: worker %s: its health file is %llu ms old (limit %llu): the worker "
                "is stopped, stuck or gone\n", name, (unsigned long long)age, (unsigned long long)limit);
        goto out;
    }
    if (need_joined && !json_is_true(joined)) {
        fprintf(err, "rill-worker --check: worker %s is alive but not joined to a broker\n", name);
        goto out;
    }
    if (json_is_true(joined))
        fprintf(out, "worker %s alive, joined to broker %s\n", name, broker);
    else
        fprintf(out, "worker %s alive, not joined to a broker\n", name);
    status = 0;
out:
    json_decref(health_json);
    return status;
}
