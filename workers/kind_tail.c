/*
 * kind_tail.c - the `tail` job kind (docs/API.md): each new line of a file that
 * is being appended to is a part {"line":"…"}, until the job is cancelled.
 *
 * The path is relative to the configured tail root (a relative tail_root is
 * relative to the run directory). Submit refuses absolute paths and ".."
 * (the arguments half); the running half checks where the path really leads: it is
 * resolved with realpath(), opened with O_NOFOLLOW, and the opened file's
 * own path (/proc/self/fd) must still be under the root's real path, so a
 * symlink leading out (even one swapped in between) ends the job with error
 * `forbidden`.
 *
 * Following: inotify watches the file's directory (and the directory of the
 * path as given, when a symlink inside the root leads elsewhere). One inotify
 * instance serves every tail job of the worker (created with the first job,
 * closed at shutdown), so the per-user limit on instances
 * (fs.inotify.max_user_instances, 128 by default) does not cap the jobs: a
 * directory is watched once, and each event goes to the jobs whose file it
 * names (tail_watches below). On every event for its file — and every
 * second, in case an event was missed or the file renamed away was written
 * to — the worker reads what was appended; a file shorter than what was
 * read was truncated and is read again from its start; a path that now names another file (rotation:
 * rename + new file) makes the worker finish the old file and follow the new
 * one from its start. A path that names nothing for a while (between rename
 * and create) is waited for. A line not ended by "\n" is held until it is,
 * or until the file is left for another.
 *
 * A file missing at start is waited for, as `tail -F` does (arg "wait",
 * default true; false fails at once with not_found): inotify watches the
 * nearest directory of the path that exists (the root at least) for the
 * next component's name, again after each event (a directory of the path
 * may appear first), and the file, once there, is followed from its start.
 * A directory on the way that leads out of the root ends the job with
 * `forbidden`, and so does the file, when it appears, by the same checks.
 *
 * Two halves, like every kind (rill_worker_kind.h): the arguments, which
 * librill compiles too (the frontend checks them at submit), and, with
 * RILL_WORKER, how a job runs.
 */
#include "rill_kind_args.h"

#include <string.h>

/* ---- arguments ---- */

#define TAIL_PATH_MAX 1024

/* Where to read: a path relative to the tail root (borrowed from args) and
 * where to begin. */
typedef struct {
    const char *path;
    int from_start; /* "from": "start" (1) or "end" (0, the default) */
    int wait;       /* "wait": a missing file is waited for (1, the default) */
} tail_args_t;

/* A path as a client sent it, checked lexically (the running half still
 * checks where it really leads): 0 fine, -1 absolute or with a ".."
 * component (forbidden), -2 empty, too long or with a NUL byte (invalid). */
static int tail_path_check(const char *path, size_t length)
{
    if (path == NULL || length == 0 || length > TAIL_PATH_MAX || memchr(path, '\0', length) != NULL)
        return -2;
    if (path[0] == '/')
        return -1;
    /* ".." as any component: "..", "../x", "x/..", "x/../y". */
    for (size_t start = 0; start < length;) {
        const char *slash = memchr(path + start, '/', length - start);
        size_t end = slash != NULL ? (size_t)(slash - path) : length;
        if (end - start == 2 && path[start] == '.' && path[start + 1] == '.')
            return -1;
        start = end + 1;
    }
    return 0;
}

static int tail_args_parse(const rill_config_t *config, json_t *args, tail_args_t *tail, rill_job_error_t *error)
{
    (void)config;
    static const char *const allowed[] = {"path", "from", "wait", NULL};
    tail->path = NULL;
    tail->from_start = 0;
    tail->wait = 1;
    json_t *path;
    if (rill_kind_args_only(args, "tail", allowed, error) != 0 ||
        (path = rill_kind_args_required_string(args, "tail", "path", error)) == NULL)
        return -1;
    int checked = tail_path_check(json_string_value(path), json_string_length(path));
    if (checked == -1)
        return rill_job_error(error, 403, "forbidden", "\"path\" must be relative to the tail root, without \"..\"");
    if (checked != 0)
        return rill_job_error(error, 422, "invalid_args", "\"path\" must be 1 to %d bytes without NUL", TAIL_PATH_MAX);
    tail->path = json_string_value(path);
    json_t *from = json_object_get(args, "from");
    if (from != NULL) {
        const char *text = json_string_value(from);
        if (text == NULL || (strcmp(text, "start") != 0 && strcmp(text, "end") != 0))
            return rill_job_error(error, 422, "invalid_args", "\"from\" must be \"start\" or \"end\"");
        tail->from_start = strcmp(text, "start") == 0;
    }
    json_t *wait = json_object_get(args, "wait");
    if (wait != NULL) {
        if (!json_is_boolean(wait))
            return rill_job_error(error, 422, "invalid_args", "\"wait\" must be true or false");
        tail->wait = json_is_true(wait);
    }
    return 0;
}

#ifndef RILL_WORKER
RILL_KIND_ARGUMENTS(tail, tail_args_t, tail_args_parse)
#else /* ---- running (rill-worker) ---- */

#include "kinds.h"
#include "lines.h"
#include "rill_alloc.h"
#include "rill_json_text.h"
#include "rill_log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define TAIL_READ_PER_TURN (1024 * 1024) /* bytes read per loop turn; more on the next */
#define TAIL_RECHECK_MS 1000

typedef struct {
    rill_worker_context_t *context;
    rill_worker_job_t *job;
    char root[PATH_MAX];    /* real path of the tail root */
    char path[PATH_MAX];    /* root + "/" + the job's path, as given */
    int fd;                 /* the file followed, -1 while it is waited for */
    dev_t device;
    ino_t inode;
    off_t offset;           /* bytes of fd read so far */
    int failed;             /* a part could not be queued */
    int paused;             /* every client is behind: read nothing (kind pause) */
    rill_worker_timer_t timer;
    rill_lines_t lines;
    rill_buffer_t part;
} tail_state_t;

typedef enum { OPEN_OK, OPEN_MISSING, OPEN_FORBIDDEN, OPEN_ERROR } open_result_t;

static void tail_check(void *argument);
static void tail_rearm(tail_state_t *state, uint64_t delay_ms);
static void tail_wait(tail_state_t *state);

/* ---- the worker's one inotify instance, shared by its tail jobs ----
 * A small table of (watch descriptor, file name, job): a job watches up to
 * two directories, for one name in each. inotify gives one descriptor per
 * directory and instance, so jobs in one directory share it; the watch is
 * removed when its last job leaves. An event wakes the jobs whose name it
 * carries (all of them for an event without a name, or an overflow) by
 * arming their timer at 0: the check runs from the loop, never while the
 * table is being walked. Linear scans: a worker runs hundreds of tail jobs,
 * not millions, and an event costs one strcmp per registration. */
typedef struct {
    int wd;
    tail_state_t *state;
    char name[NAME_MAX + 1];
} tail_watch_t;

static struct {
    int fd; /* -1 until the first tail job; closed by tail_shutdown */
    tail_watch_t *watches;
    size_t count, capacity;
} tail_watches = {.fd = -1};

static void tail_watches_notified(void *argument, int fd, short revents)
{
    (void)argument;
    (void)revents;
    char events[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t got;
    while ((got = read(fd, events, sizeof(events))) > 0) {
        for (ssize_t at = 0; at < got;) {
            const struct inotify_event *event = (const struct inotify_event *)(events + at);
            at += (ssize_t)(sizeof(*event) + event->len);
            int everyone = (event->mask & IN_Q_OVERFLOW) != 0;
            for (size_t i = 0; i < tail_watches.count; i++) {
                tail_watch_t *watch = &tail_watches.watches[i];
                int named = watch->wd == event->wd && (event->len == 0 || strcmp(watch->name, event->name) == 0);
                if (everyone || named)
                    tail_rearm(watch->state, 0);
            }
        }
    }
}

/* Watches the directory that holds path (as given or resolved) for state. */
static int tail_watches_add(tail_state_t *state, const char *path)
{
    if (tail_watches.fd < 0) {
        tail_watches.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (tail_watches.fd < 0)
            return -1;
        rill_worker_fd_watch(state->context, tail_watches.fd, RILL_WORKER_FD_IN, tail_watches_notified, NULL);
    }
    char directory[PATH_MAX];
    snprintf(directory, sizeof(directory), "%s", path);
    char *slash = strrchr(directory, '/');
    if (slash == NULL || strlen(slash + 1) > NAME_MAX)
        return -1;
    tail_watch_t watch = {.state = state};
    snprintf(watch.name, sizeof(watch.name), "%s", slash + 1);
    if (slash == directory)
        slash[1] = '\0';
    else
        *slash = '\0';
    uint32_t mask = IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB | IN_CLOSE_WRITE;
    watch.wd = inotify_add_watch(tail_watches.fd, directory, mask);
    if (watch.wd < 0)
        return -1;
    if (tail_watches.count == tail_watches.capacity) {
        tail_watches.capacity = tail_watches.capacity == 0 ? 64 : tail_watches.capacity * 2;
        tail_watches.watches = rill_xrealloc(tail_watches.watches, tail_watches.capacity * sizeof(tail_watch_t));
    }
    tail_watches.watches[tail_watches.count++] = watch;
    return 0;
}

/* Forgets state's watches; a directory no other job watches is unwatched. */
static void tail_watches_remove(tail_state_t *state)
{
    for (size_t i = 0; i < tail_watches.count;) {
        if (tail_watches.watches[i].state != state) {
            i++;
            continue;
        }
        int wd = tail_watches.watches[i].wd;
        tail_watches.watches[i] = tail_watches.watches[--tail_watches.count];
        int shared = 0;
        for (size_t j = 0; j < tail_watches.count && !shared; j++)
            shared = tail_watches.watches[j].wd == wd;
        if (!shared)
            (void)inotify_rm_watch(tail_watches.fd, wd); /* EINVAL: the directory went, and its watch */
    }
}

/* ---- a job ---- */

static void tail_state_free(tail_state_t *state)
{
    rill_worker_timer_stop(state->context, &state->timer);
    tail_watches_remove(state);
    if (state->fd >= 0)
        close(state->fd);
    rill_lines_release(&state->lines);
    rill_buffer_release(&state->part);
    free(state);
}

/* 1 if path is root itself or below it. */
static int is_under(const char *root, const char *path)
{
    size_t length = strlen(root);
    if (strcmp(root, "/") == 0)
        return path[0] == '/';
    return strncmp(path, root, length) == 0 && (path[length] == '/' || path[length] == '\0');
}

/* Opens what state->path leads to, if it stays under the root. */
static open_result_t tail_open(tail_state_t *state, int *fd_out, char *message, size_t message_size)
{
    char resolved[PATH_MAX];
    if (realpath(state->path, resolved) == NULL) {
        if (errno == ENOENT || errno == ENOTDIR)
            return OPEN_MISSING;
        snprintf(message, message_size, "cannot resolve the path: %s", strerror(errno));
        return OPEN_ERROR;
    }
    if (!is_under(state->root, resolved) || strcmp(resolved, state->root) == 0) {
        snprintf(message, message_size, "the path leads out of the tail root");
        return OPEN_FORBIDDEN;
    }
    int fd = open(resolved, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return OPEN_MISSING;
        snprintf(message, message_size, "cannot open the file: %s", strerror(errno));
        return errno == ELOOP ? OPEN_FORBIDDEN : OPEN_ERROR;
    }
    /* What was opened, really: a component swapped for a symlink between
     * realpath() and open() shows here. */
    char link[64], opened[PATH_MAX];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t length = readlink(link, opened, sizeof(opened) - 1);
    struct stat info;
    if (length <= 0 || fstat(fd, &info) != 0) {
        snprintf(message, message_size, "cannot check the opened file: %s", strerror(errno));
        close(fd);
        return OPEN_ERROR;
    }
    opened[length] = '\0';
    if (!is_under(state->root, opened)) {
        close(fd);
        snprintf(message, message_size, "the path leads out of the tail root");
        return OPEN_FORBIDDEN;
    }
    if (!S_ISREG(info.st_mode)) {
        close(fd);
        snprintf(message, message_size, "the path does not name a regular file");
        return OPEN_ERROR;
    }
    *fd_out = fd;
    return OPEN_OK;
}

/* Starts following fd (opened by tail_open) from its start or its end. */
static int tail_follow(tail_state_t *state, int fd, int from_start, char *message, size_t message_size)
{
    struct stat info;
    char resolved[PATH_MAX];
    if (fstat(fd, &info) != 0) {
        close(fd);
        snprintf(message, message_size, "cannot stat the file: %s", strerror(errno));
        return -1;
    }
    state->fd = fd;
    state->device = info.st_dev;
    state->inode = info.st_ino;
    state->offset = from_start ? 0 : info.st_size;
    tail_watches_remove(state); /* those of the wait, if any */
    if (tail_watches_add(state, state->path) != 0 || realpath(state->path, resolved) == NULL ||
        tail_watches_add(state, resolved) != 0) {
        snprintf(message, message_size, "cannot watch the file: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* The file is missing: (re)watches the nearest existing directory of its
 * path under the root for the next component's name. */
static open_result_t tail_watch_missing(tail_state_t *state, char *message, size_t message_size)
{
    char directory[PATH_MAX], name[NAME_MAX + 1] = "", resolved[PATH_MAX], watched[PATH_MAX + NAME_MAX + 2];
    snprintf(directory, sizeof(directory), "%s", state->root);
    const char *rest = state->path + strlen(state->root) + 1;
    while (*rest != '\0') {
        size_t length = strcspn(rest, "/");
        const char *next = rest + length + (rest[length] == '/');
        if (length == 0 || (length == 1 && rest[0] == '.')) {
            rest = next;
            continue;
        }
        if (length > NAME_MAX) {
            snprintf(message, message_size, "a component of the path is too long");
            return OPEN_ERROR;
        }
        snprintf(name, sizeof(name), "%.*s", (int)length, rest);
        char candidate[PATH_MAX];
        struct stat info;
        if (*next == '\0' || (size_t)snprintf(candidate, sizeof(candidate), "%s/%s", directory, name) >=
                                  sizeof(candidate) || stat(candidate, &info) != 0 || !S_ISDIR(info.st_mode))
            break;
        memcpy(directory, candidate, sizeof(directory));
        rest = next;
    }
    if (realpath(directory, resolved) == NULL) {
        snprintf(message, message_size, "cannot resolve %s: %s", directory, strerror(errno));
        return OPEN_ERROR;
    }
    if (!is_under(state->root, resolved)) {
        snprintf(message, message_size, "the path leads out of the tail root");
        return OPEN_FORBIDDEN;
    }
    tail_watches_remove(state);
    snprintf(watched, sizeof(watched), "%s/%s", strcmp(resolved, "/") == 0 ? "" : resolved, name);
    if (tail_watches_add(state, watched) != 0) {
        snprintf(message, message_size, "cannot watch %s: %s", resolved, strerror(errno));
        return OPEN_ERROR;
    }
    return OPEN_OK;
}

static int publish_line(void *argument, const char *line, size_t length)
{
    tail_state_t *state = argument;
    if (rill_json_part(&state->part, "line", line, length) != 0 ||
        rill_worker_publish_part(state->context, state->job, state->part.data, state->part.length) != 0) {
        state->failed = 1;
        return -1;
    }
    return 0;
}

/* Reads what was appended, up to budget bytes. Returns 1 if it stopped at
 * the budget (more to read), 0 at the end of the file, -1 on failure. */
static int tail_read(tail_state_t *state, size_t budget)
{
    struct stat info;
    if (fstat(state->fd, &info) == 0 && info.st_size < state->offset) {
        /* Truncated: what was held of a line is given, then the file again from its start. */
        if (rill_lines_flush(&state->lines, publish_line, state) != 0)
            return -1;
        state->offset = 0;
    }
    char bytes[65536];
    size_t total = 0;
    while (total < budget) {
        ssize_t got = pread(state->fd, bytes, sizeof(bytes), state->offset);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return 0;
        state->offset += got;
        total += (size_t)got;
        if (rill_lines_feed(&state->lines, bytes, (size_t)got, publish_line, state) != 0)
            return -1;
    }
    return 1;
}

static void tail_fail(tail_state_t *state, const char *code, const char *message)
{
    rill_worker_context_t *context = state->context;
    rill_worker_job_t *job = state->job;
    rill_worker_job_set_state(job, NULL);
    tail_state_free(state);
    rill_worker_job_fail(context, job, code, message);
}

/* A path that cannot be followed: forbidden (out of the root) or not. */
static void tail_fail_open(tail_state_t *state, open_result_t result, const char *message)
{
    tail_fail(state, result == OPEN_FORBIDDEN ? "forbidden" : "tail_failed", message);
}

static void tail_rearm(tail_state_t *state, uint64_t delay_ms)
{
    rill_worker_timer_start(state->context, &state->timer, delay_ms, tail_check, state);
}

/* Reads the file, then checks the path still names it (rotation). */
static void tail_check(void *argument)
{
    tail_state_t *state = argument;
    if (state->paused)
        return; /* resuming checks again */
    if (state->fd < 0) {
        tail_wait(state);
        return;
    }
    int more = tail_read(state, TAIL_READ_PER_TURN);
    if (more < 0 || state->failed) {
        tail_fail(state, "publish_failed", "the worker could not queue a part");
        return;
    }
    if (more > 0) {
        tail_rearm(state, 0);
        return;
    }
    char message[256];
    int fd = -1;
    open_result_t result = tail_open(state, &fd, message, sizeof(message));
    switch (result) {
    case OPEN_MISSING:
        break; /* renamed away, not yet recreated: keep the old file meanwhile */
    case OPEN_FORBIDDEN:
    case OPEN_ERROR:
        tail_fail_open(state, result, message);
        return;
    case OPEN_OK: {
        struct stat info;
        if (fstat(fd, &info) == 0 && (info.st_dev != state->device || info.st_ino != state->inode)) {
            /* Rotated: finish the old file, then follow the new one from its start. */
            while ((more = tail_read(state, TAIL_READ_PER_TURN)) > 0)
                ;
            if (more < 0 || rill_lines_flush(&state->lines, publish_line, state) != 0 || state->failed) {
                close(fd);
                tail_fail(state, "publish_failed", "the worker could not queue a part");
                return;
            }
            close(state->fd);
            state->fd = fd;
            state->device = info.st_dev;
            state->inode = info.st_ino;
            state->offset = 0;
            tail_check(state);
            return;
        }
        close(fd);
        break;
    }
    }
    tail_rearm(state, TAIL_RECHECK_MS);
}

/* Waiting for the file: watch first, then look, so a file created in
 * between is not missed; the timer looks again every second meanwhile. */
static void tail_wait(tail_state_t *state)
{
    char message[PATH_MAX + 128];
    int fd = -1;
    open_result_t result = tail_watch_missing(state, message, sizeof(message));
    if (result == OPEN_OK)
        result = tail_open(state, &fd, message, sizeof(message));
    switch (result) {
    case OPEN_MISSING:
        tail_rearm(state, TAIL_RECHECK_MS);
        return;
    case OPEN_FORBIDDEN:
    case OPEN_ERROR:
        tail_fail_open(state, result, message);
        return;
    case OPEN_OK:
        break;
    }
    rill_log_info(rill_worker_job_who(state->job), "job %s: %s appeared, following it from its start",
                  rill_worker_job_id(state->job), state->path + strlen(state->root) + 1);
    if (tail_follow(state, fd, 1, message, sizeof(message)) != 0) {
        tail_fail(state, "tail_failed", message);
        return;
    }
    tail_rearm(state, 0);
}

static void tail_start(rill_worker_context_t *context, rill_worker_job_t *job)
{
    tail_args_t args;
    rill_job_error_t error;
    const rill_config_t *config = rill_worker_config(context);
    if (tail_args_parse(config, rill_worker_job_args(job), &args, &error) != 0) {
        rill_worker_job_fail(context, job, error.code, error.message);
        return;
    }
    tail_state_t *state = rill_xcalloc(1, sizeof(*state));
    state->context = context;
    state->job = job;
    state->fd = -1;
    rill_lines_init(&state->lines);
    rill_buffer_init(&state->part);
    char root[PATH_MAX], message[PATH_MAX + 128];
    if (config->tail_root[0] == '/')
        snprintf(root, sizeof(root), "%s", config->tail_root);
    else
        snprintf(root, sizeof(root), "%s/%s", rill_worker_run_dir(context), config->tail_root);
    if (realpath(root, state->root) == NULL) {
        snprintf(message, sizeof(message), "the tail root %s cannot be used: %s", root, strerror(errno));
        tail_fail(state, "not_found", message);
        return;
    }
    if ((size_t)snprintf(state->path, sizeof(state->path), "%s/%s", state->root, args.path) >= sizeof(state->path)) {
        tail_fail(state, "invalid_args", "the path is too long");
        return;
    }
    int fd = -1;
    open_result_t result = tail_open(state, &fd, message, sizeof(message));
    switch (result) {
    case OPEN_OK:
        break;
    case OPEN_MISSING:
        if (!args.wait) {
            tail_fail(state, "not_found", "no such file under the tail root");
            return;
        }
        rill_worker_job_set_state(job, state);
        tail_wait(state); /* state->fd stays -1 until the file is there */
        return;
    case OPEN_FORBIDDEN:
    case OPEN_ERROR:
        tail_fail_open(state, result, message);
        return;
    }
    if (tail_follow(state, fd, args.from_start, message, sizeof(message)) != 0) {
        tail_fail(state, "tail_failed", message);
        return;
    }
    rill_worker_job_set_state(job, state);
    tail_rearm(state, 0); /* from start: the lines already there, at once */
}

static void tail_cancel(rill_worker_context_t *context, rill_worker_job_t *job)
{
    (void)context;
    tail_state_t *state = rill_worker_job_state(job);
    if (state == NULL)
        return;
    tail_state_free(state);
    rill_worker_job_set_state(job, NULL);
}

/* Every client is behind: read nothing (the file keeps what is appended);
 * resumed, read on from the offset reached. */
static void tail_pause(rill_worker_context_t *context, rill_worker_job_t *job, int paused)
{
    tail_state_t *state = rill_worker_job_state(job);
    if (state == NULL)
        return;
    state->paused = paused;
    if (paused)
        rill_worker_timer_stop(context, &state->timer);
    else
        tail_rearm(state, 0);
}

/* Every job was cancelled: the shared inotify instance goes. */
static void tail_shutdown(rill_worker_context_t *context)
{
    if (tail_watches.fd >= 0) {
        rill_worker_fd_unwatch(context, tail_watches.fd);
        close(tail_watches.fd);
        tail_watches.fd = -1;
    }
    free(tail_watches.watches);
    tail_watches.watches = NULL;
    tail_watches.count = tail_watches.capacity = 0;
}

const rill_worker_kind_t rill_worker_kind_tail = {
    .name = "tail",
    .start_job = tail_start,
    .cancel = tail_cancel,
    .shutdown = tail_shutdown,
    .pause = tail_pause,
};

#endif
