/*
 * kind_exec.c - the `exec` job kind (docs/API.md): each stdout line of an
 * allowlisted command is a part {"line":"…"}.
 *
 * Only commands of the config's `exec` allowlist run, by their absolute argv
 * from the config followed by the job's validated `args`: posix_spawn, no
 * shell, no PATH lookup, a clean environment (PATH and LANG only), stdin and
 * stderr on /dev/null, its own process group. The end of the job waits for
 * both the end of stdout and the exit: exit status 0 publishes a last part
 * {"exit_status":0} and ends with done; any other status publishes
 * {"exit_status":N} (or {"signal":N}) and ends with error code `exit_status`
 * (or `killed`). Cancel terminates the process group (SIGTERM, then SIGKILL
 * after one second) through the core, which reaps it.
 *
 * Two halves, like every kind (rill_worker_kind.h): the arguments, which
 * librill compiles too (the frontend checks them at submit), and, with
 * RILL_WORKER, how a job runs.
 */
#include "rill_kind_args.h"

#include <string.h>

/* ---- arguments ---- */

#define EXEC_ARG_MAX 4096 /* bytes of one client argument */

/* The allowlisted command (points into the config) and the client's extra
 * arguments (borrowed array of strings, may be NULL). */
typedef struct {
    const rill_config_exec_t *command;
    json_t *args;
    size_t arg_count;
} exec_args_t;

static int exec_args_parse(const rill_config_t *config, json_t *args, exec_args_t *exec, rill_job_error_t *error)
{
    static const char *const allowed[] = {"name", "args", NULL};
    exec->command = NULL;
    exec->args = NULL;
    exec->arg_count = 0;
    json_t *name;
    if (rill_kind_args_only(args, "exec", allowed, error) != 0 ||
        (name = rill_kind_args_required_string(args, "exec", "name", error)) == NULL)
        return -1;
    exec->command = rill_config_find_exec(config, json_string_value(name));
    if (exec->command == NULL || strlen(json_string_value(name)) != json_string_length(name))
        return rill_job_error(error, 403, "forbidden", "command \"%.64s\" is not in the exec allowlist",
                    json_string_value(name));
    json_t *list = json_object_get(args, "args");
    if (list == NULL)
        return 0;
    if (!json_is_array(list))
        return rill_job_error(error, 422, "invalid_args", "\"args\" must be an array of strings");
    if (json_array_size(list) > exec->command->max_args)
        return rill_job_error(error, 422, "invalid_args", "command \"%s\" takes at most %llu arguments",
                    exec->command->name, (unsigned long long)exec->command->max_args);
    size_t index;
    json_t *argument;
    json_array_foreach(list, index, argument)
    {
        if (!json_is_string(argument) || json_string_length(argument) > EXEC_ARG_MAX ||
            strlen(json_string_value(argument)) != json_string_length(argument))
            return rill_job_error(error, 422, "invalid_args", "\"args\"[%zu] must be a string of at most %d bytes without NUL",
                        index, EXEC_ARG_MAX);
    }
    exec->args = list;
    exec->arg_count = json_array_size(list);
    return 0;
}

#ifndef RILL_WORKER
RILL_KIND_ARGUMENTS(exec, exec_args_t, exec_args_parse)
#else /* ---- running (rill-worker) ---- */

#include "kinds.h"
#include "lines.h"
#include "rill_alloc.h"
#include "rill_cpus.h"
#include "rill_log.h"
#include "rill_json_text.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    rill_worker_context_t *context;
    rill_worker_job_t *job;
    pid_t pid;       /* 0 once reaped */
    int stdout_fd;   /* -1 once at its end */
    int wait_status;
    int failed;      /* a part could not be queued */
    rill_lines_t lines;
    rill_buffer_t part;
} exec_state_t;

static void exec_state_free(exec_state_t *state)
{
    if (state->stdout_fd >= 0) {
        rill_worker_fd_unwatch(state->context, state->stdout_fd);
        close(state->stdout_fd);
    }
    if (state->pid > 0)
        rill_worker_child_terminate(state->context, state->pid);
    rill_lines_release(&state->lines);
    rill_buffer_release(&state->part);
    free(state);
}

static int publish_line(void *argument, const char *line, size_t length)
{
    exec_state_t *state = argument;
    if (rill_json_part(&state->part, "line", line, length) != 0 ||
        rill_worker_publish_part(state->context, state->job, state->part.data, state->part.length) != 0) {
        state->failed = 1;
        return -1;
    }
    return 0;
}

/* Ends the job once stdout is at its end and the child was reaped. */
static void exec_maybe_finish(exec_state_t *state)
{
    if (state->stdout_fd >= 0 && !state->failed)
        return;
    if (state->pid > 0 && !state->failed)
        return;
    rill_worker_context_t *context = state->context;
    rill_worker_job_t *job = state->job;
    if (state->failed) {
        exec_state_free(state);
        rill_worker_job_fail(context, job, "publish_failed", "the worker could not queue a part");
        return;
    }
    int status = state->wait_status;
    char part[64], message[96];
    const char *code = NULL;
    if (WIFEXITED(status)) {
        snprintf(part, sizeof(part), "{\"exit_status\":%d}", WEXITSTATUS(status));
        if (WEXITSTATUS(status) != 0) {
            code = "exit_status";
            snprintf(message, sizeof(message), "the command exited with status %d", WEXITSTATUS(status));
        }
    } else {
        int number = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        snprintf(part, sizeof(part), "{\"signal\":%d}", number);
        code = "killed";
        snprintf(message, sizeof(message), "the command was killed by signal %d", number);
    }
    int published = rill_worker_publish_part(context, job, part, strlen(part));
    exec_state_free(state);
    if (published != 0)
        rill_worker_job_fail(context, job, "publish_failed", "the worker could not queue a part");
    else if (code != NULL)
        rill_worker_job_fail(context, job, code, message);
    else
        rill_worker_job_done(context, job);
}

static void exec_readable(void *argument, int fd, short revents)
{
    (void)revents;
    exec_state_t *state = argument;
    char bytes[16384];
    /* A bounded amount per loop turn: other jobs get their turn too. */
    for (int round = 0; round < 16; round++) {
        ssize_t got = read(fd, bytes, sizeof(bytes));
        if (got > 0) {
            if (rill_lines_feed(&state->lines, bytes, (size_t)got, publish_line, state) != 0)
                break;
            continue;
        }
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        /* End of stdout (or a read error): the rest is the last line. */
        rill_lines_flush(&state->lines, publish_line, state);
        rill_worker_fd_unwatch(state->context, state->stdout_fd);
        close(state->stdout_fd);
        state->stdout_fd = -1;
        break;
    }
    exec_maybe_finish(state);
}

static void exec_exited(void *argument, pid_t pid, int wait_status)
{
    (void)pid;
    exec_state_t *state = argument;
    state->pid = 0;
    state->wait_status = wait_status;
    exec_maybe_finish(state);
}

/* Spawns argv with stdout on a pipe. Returns the pid, or -1 with errno. */
static pid_t spawn_command(char *const argv[], int *stdout_fd)
{
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0)
        return -1;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int error = posix_spawn_file_actions_init(&actions);
    if (error != 0) {
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        errno = error;
        return -1;
    }
    error = posix_spawnattr_init(&attributes);
    if (error != 0) {
        posix_spawn_file_actions_destroy(&actions);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        errno = error;
        return -1;
    }
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    if ((error = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)) == 0 &&
        (error = posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1)) == 0 &&
        (error = posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)) == 0 &&
        (error = posix_spawnattr_setsigmask(&attributes, &empty)) == 0 &&
        (error = posix_spawnattr_setsigdefault(&attributes, &all)) == 0 &&
        (error = posix_spawnattr_setpgroup(&attributes, 0)) == 0 &&
        /* Linux's default policy again: the worker's SCHED_BATCH is rill's
         * choice (rill_scheduler.h), not its commands'. */
        (error = posix_spawnattr_setschedpolicy(&attributes, SCHED_OTHER)) == 0 &&
        (error = posix_spawnattr_setschedparam(&attributes, &(struct sched_param){.sched_priority = 0})) == 0 &&
        (error = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSCHEDULER)) == 0) {
        static char *const environment[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", NULL};
        pid_t pid = 0;
        error = posix_spawn(&pid, argv[0], &actions, &attributes, argv, environment);
        if (error == 0) {
            /* And the CPUs the worker was started with, if RILL_PLACEMENT
             * or RILL_CPUS moved it (rill_cpus.h): posix_spawn cannot, so
             * as soon as it returns. Best effort: a command that already
             * ended has no threads to move. */
            if (rill_cpus_give_back(pid) != 0)
                rill_log_debug(NULL, "exec: pid %d keeps the worker's CPUs: %s", (int)pid, strerror(errno));
            posix_spawn_file_actions_destroy(&actions);
            posix_spawnattr_destroy(&attributes);
            close(pipe_fds[1]);
            if (fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK) != 0) {
                /* Cannot happen on a pipe we own; still an error path. */
                error = errno;
                close(pipe_fds[0]);
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                errno = error;
                return -1;
            }
            *stdout_fd = pipe_fds[0];
            return pid;
        }
    }
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    errno = error;
    return -1;
}

static void exec_start(rill_worker_context_t *context, rill_worker_job_t *job)
{
    exec_args_t args;
    rill_job_error_t error;
    if (exec_args_parse(rill_worker_config(context), rill_worker_job_args(job), &args, &error) != 0) {
        rill_worker_job_fail(context, job, error.code, error.message);
        return;
    }
    /* argv: the allowlisted command's fixed entries, then the client's args. */
    size_t argc = args.command->argc + args.arg_count;
    char **argv = rill_xcalloc(argc + 1, sizeof(*argv));
    for (size_t i = 0; i < args.command->argc; i++)
        argv[i] = (char *)args.command->argv[i];
    for (size_t i = 0; i < args.arg_count; i++)
        argv[args.command->argc + i] = (char *)json_string_value(json_array_get(args.args, i));
    exec_state_t *state = rill_xcalloc(1, sizeof(*state));
    state->context = context;
    state->job = job;
    state->stdout_fd = -1;
    rill_lines_init(&state->lines);
    rill_buffer_init(&state->part);
    state->pid = spawn_command(argv, &state->stdout_fd);
    int spawn_errno = errno;
    free(argv);
    if (state->pid < 0) {
        char message[256];
        snprintf(message, sizeof(message), "cannot run \"%s\": %s", args.command->name, strerror(spawn_errno));
        state->pid = 0;
        exec_state_free(state);
        rill_worker_job_fail(context, job, "spawn_failed", message);
        return;
    }
    rill_worker_job_set_state(job, state);
    rill_worker_child_watch(context, state->pid, exec_exited, state);
    rill_worker_fd_watch(context, state->stdout_fd, RILL_WORKER_FD_IN, exec_readable, state);
}

static void exec_cancel(rill_worker_context_t *context, rill_worker_job_t *job)
{
    (void)context;
    exec_state_t *state = rill_worker_job_state(job);
    if (state == NULL)
        return;
    exec_state_free(state);
    rill_worker_job_set_state(job, NULL);
}

/* Every client is behind: stop reading stdout, so the child blocks on its
 * full pipe; it exits only after we read again (the job ends then). */
static void exec_pause(rill_worker_context_t *context, rill_worker_job_t *job, int paused)
{
    exec_state_t *state = rill_worker_job_state(job);
    if (state == NULL || state->stdout_fd < 0)
        return;
    if (paused)
        rill_worker_fd_unwatch(context, state->stdout_fd);
    else
        rill_worker_fd_watch(context, state->stdout_fd, RILL_WORKER_FD_IN, exec_readable, state);
}

const rill_worker_kind_t rill_worker_kind_exec = {
    .name = "exec",
    .start_job = exec_start,
    .cancel = exec_cancel,
    .pause = exec_pause,
};

#endif
