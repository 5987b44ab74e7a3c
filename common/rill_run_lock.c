/*
 * rill_run_lock.c - the broker's lock on its run directory (rill_run_lock.h).
 */
#include "rill_run_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int rill_run_lock_acquire(const char *run_dir, char *error, size_t error_size)
{
    char path[4096];
    int length = snprintf(path, sizeof(path), "%s/%s", run_dir, RILL_RUN_LOCK_NAME);
    if (length < 0 || (size_t)length >= sizeof(path)) {
        snprintf(error, error_size, "run directory path too long: %s", run_dir);
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(error, error_size, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int saved = errno;
        char holder[32] = "";
        ssize_t got = pread(fd, holder, sizeof(holder) - 1, 0);
        holder[got > 0 ? got : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        close(fd);
        if (saved == EWOULDBLOCK)
            snprintf(error, error_size, "run directory %s is in use by rill-broker pid %s", run_dir,
                     holder[0] != '\0' ? holder : "(unknown)");
        else
            snprintf(error, error_size, "cannot lock %s: %s", path, strerror(saved));
        return -1;
    }
    char pid[32];
    int pid_length = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)pid_length, 0) != pid_length) {
        snprintf(error, error_size, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

void rill_run_lock_release(int *fd)
{
    if (*fd < 0)
        return;
    /* The pid is left out of the file so `rill status` never shows a stale one. */
    if (ftruncate(*fd, 0) != 0) {
        /* Nothing to do: the lock itself goes with the close. */
    }
    flock(*fd, LOCK_UN);
    close(*fd);
    *fd = -1;
}
