/*
 * transport_hops.c - what a message's two process hops cost over libzmq
 * and over a plain stream socket: the measurement behind the "fewer hops"
 * lever of docs/DESIGN.md ("What limits the job path now").
 *
 *   rill-transport-hops [--transport zmq|unix] [--messages N] [--interval-us U] [--size B]
 *
 * Three processes in a chain, as a part goes worker -> broker -> frontend:
 * the first sends one message of B bytes (128) every U microseconds
 * (1000), carrying its CLOCK_MONOTONIC send time; the second forwards each;
 * the third prints the one-way latency percentiles and the CPU of all
 * three per message (their rusage), and the voluntary context switches.
 *
 * zmq: PUSH/PULL over ipc:// in a private temporary folder, each process
 * waiting in zmq_poll - libzmq's cheapest path, one frame a message, yet
 * every hop crosses the sender's and the receiver's I/O threads. unix: a
 * socketpair per hop, each process waiting in poll() on it and reading and
 * writing from its own loop: no thread between two processes.
 *
 * Not a test (it asserts nothing) and not run by ./rill test: run it by
 * hand, alternating the two transports, on an otherwise idle machine.
 */
#include <zmq.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 10
#define SIZE_MAX_BYTES 65536
/* A process whose neighbour died stops after this, not never. */
#define SILENCE_MS 5000

typedef struct {
    int use_zmq;
    int messages;
    int interval_us;
    int size;
    char folder[64];
} options_t;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void report(const options_t *options, uint64_t *latency, int count)
{
    if (count == 0) {
        printf("%s: no message arrived\n", options->use_zmq ? "zmq" : "unix");
        return;
    }
    qsort(latency, (size_t)count, sizeof(*latency), compare_u64);
    printf("%s, 2 hops, %d messages of %d bytes every %d us: p50 %.1f us, p90 %.1f, p99 %.1f, max %.1f\n",
           options->use_zmq ? "zmq (PUSH/PULL over ipc)" : "unix (socketpair, read by the loop)", count,
           options->size, options->interval_us, latency[count / 2] / 1e3, latency[count * 9 / 10] / 1e3,
           latency[count * 99 / 100] / 1e3, latency[count - 1] / 1e3);
    fflush(stdout);
}

/* ---- one message in and out, over either transport ---- */

typedef struct {
    void *zmq_socket; /* or NULL: fd */
    int fd;
} end_t;

/* 0, or -1 when the chain is broken (or silent for SILENCE_MS). */
static int end_receive(end_t *end, char *buffer, int size)
{
    if (end->zmq_socket != NULL) {
        for (;;) {
            zmq_pollitem_t item = {end->zmq_socket, 0, ZMQ_POLLIN, 0};
            int ready = zmq_poll(&item, 1, SILENCE_MS);
            if (ready == 0 || (ready < 0 && errno != EINTR))
                return -1;
            int got = zmq_recv(end->zmq_socket, buffer, (size_t)size, ZMQ_DONTWAIT);
            if (got >= 0)
                return got == size ? 0 : -1;
            if (errno != EAGAIN && errno != EINTR)
                return -1;
        }
    }
    struct pollfd item = {end->fd, POLLIN, 0};
    int ready = poll(&item, 1, SILENCE_MS);
    if (ready == 0 || (ready < 0 && errno != EINTR))
        return -1;
    for (int got = 0; got < size;) {
        ssize_t read_now = read(end->fd, buffer + got, (size_t)(size - got));
        if (read_now < 0 && errno == EINTR)
            continue;
        if (read_now <= 0)
            return -1;
        got += (int)read_now;
    }
    return 0;
}

static int end_send(end_t *end, const char *buffer, int size)
{
    if (end->zmq_socket != NULL)
        return zmq_send(end->zmq_socket, buffer, (size_t)size, 0) == size ? 0 : -1;
    for (int sent = 0; sent < size;) {
        ssize_t written = write(end->fd, buffer + sent, (size_t)(size - sent));
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            return -1;
        sent += (int)written;
    }
    return 0;
}

/* A zmq end: bind or connect ipc://FOLDER/NAME. NULL on failure. */
static void *zmq_end(void *context, int type, const options_t *options, const char *name, int bind)
{
    char endpoint[128];
    snprintf(endpoint, sizeof(endpoint), "ipc://%s/%s", options->folder, name);
    void *socket = zmq_socket(context, type);
    if (socket == NULL)
        return NULL;
    int hwm = 0; /* no message dropped or held back by a high-water mark */
    int linger = 1000;
    if (zmq_setsockopt(socket, ZMQ_SNDHWM, &hwm, sizeof(hwm)) != 0 ||
        zmq_setsockopt(socket, ZMQ_RCVHWM, &hwm, sizeof(hwm)) != 0 ||
        zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
        (bind ? zmq_bind(socket, endpoint) : zmq_connect(socket, endpoint)) != 0) {
        fprintf(stderr, "transport_hops: %s: %s\n", endpoint, zmq_strerror(errno));
        zmq_close(socket);
        return NULL;
    }
    return socket;
}

/* ---- the three processes ---- */

static int forwarder(const options_t *options, end_t *in, end_t *out)
{
    char buffer[SIZE_MAX_BYTES];
    for (int i = 0; i < options->messages + WARMUP; i++)
        if (end_receive(in, buffer, options->size) != 0 || end_send(out, buffer, options->size) != 0)
            return 1;
    return 0;
}

static int receiver(const options_t *options, end_t *in)
{
    uint64_t *latency = calloc((size_t)options->messages, sizeof(*latency));
    if (latency == NULL)
        return 1;
    char buffer[SIZE_MAX_BYTES];
    int count = 0;
    for (int i = 0; i < options->messages + WARMUP; i++) {
        if (end_receive(in, buffer, options->size) != 0)
            break;
        uint64_t sent;
        memcpy(&sent, buffer, sizeof(sent));
        if (i >= WARMUP)
            latency[count++] = now_ns() - sent;
    }
    report(options, latency, count);
    free(latency);
    return count == options->messages ? 0 : 1;
}

static int sender(const options_t *options, end_t *out)
{
    char buffer[SIZE_MAX_BYTES];
    memset(buffer, 'x', (size_t)options->size);
    usleep(300000); /* the chain's connections settle */
    for (int i = 0; i < options->messages + WARMUP; i++) {
        uint64_t sent = now_ns();
        memcpy(buffer, &sent, sizeof(sent));
        if (end_send(out, buffer, options->size) != 0)
            return 1;
        usleep((useconds_t)options->interval_us);
    }
    return 0;
}

/* Runs ROLE (0 sender, 1 forwarder, 2 receiver) in this process. */
static int run_role(const options_t *options, int role, int pairs[2][2])
{
    if (!options->use_zmq) {
        /* The sender writes pairs[0][0], the forwarder reads pairs[0][1]
         * and writes pairs[1][0], the receiver reads pairs[1][1]. */
        end_t first = {NULL, role == 0 ? pairs[0][0] : role == 1 ? pairs[0][1] : -1};
        end_t second = {NULL, role == 1 ? pairs[1][0] : role == 2 ? pairs[1][1] : -1};
        /* Only its own ends stay open here, so a neighbour that dies is an
         * end of file or a broken pipe, not a wait. */
        for (int pair = 0; pair < 2; pair++)
            for (int side = 0; side < 2; side++)
                if (pairs[pair][side] != first.fd && pairs[pair][side] != second.fd)
                    close(pairs[pair][side]);
        return role == 0 ? sender(options, &first) : role == 1 ? forwarder(options, &first, &second)
                                                               : receiver(options, &second);
    }
    void *context = zmq_ctx_new();
    if (context == NULL)
        return 1;
    int failed = 1;
    end_t in = {NULL, -1}, out = {NULL, -1};
    if (role == 0) {
        out.zmq_socket = zmq_end(context, ZMQ_PUSH, options, "first", 0);
        failed = out.zmq_socket == NULL || sender(options, &out) != 0;
    } else if (role == 1) {
        in.zmq_socket = zmq_end(context, ZMQ_PULL, options, "first", 1);
        out.zmq_socket = zmq_end(context, ZMQ_PUSH, options, "second", 0);
        failed = in.zmq_socket == NULL || out.zmq_socket == NULL || forwarder(options, &in, &out) != 0;
    } else {
        in.zmq_socket = zmq_end(context, ZMQ_PULL, options, "second", 1);
        failed = in.zmq_socket == NULL || receiver(options, &in) != 0;
    }
    if (in.zmq_socket != NULL)
        zmq_close(in.zmq_socket);
    if (out.zmq_socket != NULL)
        zmq_close(out.zmq_socket);
    zmq_ctx_term(context);
    return failed;
}

static int parse_options(int argc, char **argv, options_t *options)
{
    *options = (options_t){.use_zmq = 1, .messages = 5000, .interval_us = 1000, .size = 128};
    for (int i = 1; i < argc; i += 2) { /* each option takes a value */
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: rill-transport-hops [--transport zmq|unix] [--messages N] [--interval-us U] "
                   "[--size B]\n(docs/BENCHMARKS.md, 2026-12-02 14:50)\n");
            return 1;
        }
        if (value == NULL) {
            fprintf(stderr, "transport_hops: %s needs a value\n", argv[i]);
            return -1;
        }
        char *end = NULL;
        long number = strtol(value, &end, 10);
        int numeric = end != value && *end == '\0';
        if (strcmp(argv[i], "--transport") == 0 && (strcmp(value, "zmq") == 0 || strcmp(value, "unix") == 0))
            options->use_zmq = strcmp(value, "zmq") == 0;
        else if (strcmp(argv[i], "--messages") == 0 && numeric && number >= 1 && number <= 10000000)
            options->messages = (int)number;
        else if (strcmp(argv[i], "--interval-us") == 0 && numeric && number >= 0 && number <= 1000000)
            options->interval_us = (int)number;
        else if (strcmp(argv[i], "--size") == 0 && numeric && number >= 8 && number <= SIZE_MAX_BYTES)
            options->size = (int)number;
        else {
            fprintf(stderr, "transport_hops: bad option %s %s\n", argv[i], value);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    options_t options;
    int parsed = parse_options(argc, argv, &options);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;
    snprintf(options.folder, sizeof(options.folder), "/tmp/rill-hops-XXXXXX");
    if (mkdtemp(options.folder) == NULL) {
        perror("transport_hops: mkdtemp");
        return 1;
    }
    /* A dead neighbour is a failed write (EPIPE), reported, not a signal. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        perror("transport_hops: signal");
        return 1;
    }
    int pairs[2][2] = {{-1, -1}, {-1, -1}};
    if (!options.use_zmq && (socketpair(AF_UNIX, SOCK_STREAM, 0, pairs[0]) != 0 ||
                             socketpair(AF_UNIX, SOCK_STREAM, 0, pairs[1]) != 0)) {
        perror("transport_hops: socketpair");
        return 1;
    }
    pid_t children[2];
    for (int role = 1; role <= 2; role++) {
        children[role - 1] = fork();
        if (children[role - 1] < 0) {
            perror("transport_hops: fork");
            return 1;
        }
        if (children[role - 1] == 0)
            _exit(run_role(&options, role, pairs));
    }
    int failed = run_role(&options, 0, pairs);
    for (int i = 0; i < 2; i++) {
        int status = 0;
        if (waitpid(children[i], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed = 1;
    }
    struct rusage self, others;
    if (!failed && getrusage(RUSAGE_SELF, &self) == 0 && getrusage(RUSAGE_CHILDREN, &others) == 0) {
        double seconds = (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec + others.ru_utime.tv_sec +
                                  others.ru_stime.tv_sec) +
                         (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec + others.ru_utime.tv_usec +
                                  others.ru_stime.tv_usec) / 1e6;
        int total = options.messages + WARMUP;
        printf("  CPU of the three processes: %.1f us a message; %.1f voluntary context switches a message\n",
               seconds * 1e6 / total, (double)(self.ru_nvcsw + others.ru_nvcsw) / total);
    }
    char path[128];
    snprintf(path, sizeof(path), "%s/first", options.folder);
    unlink(path);
    snprintf(path, sizeof(path), "%s/second", options.folder);
    unlink(path);
    rmdir(options.folder);
    if (failed)
        fprintf(stderr, "transport_hops: the chain broke: a process failed, or heard nothing for %d ms\n",
                SILENCE_MS);
    return failed;
}
