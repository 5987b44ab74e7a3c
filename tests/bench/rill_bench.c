/*
 * rill_bench.c - the load generator of SPEC §9: latency percentiles and
 * delivered events/s against rill (or Nchan, for comparison in the same run).
 *
 * One thread, one epoll, raw HTTP/1.1 over loopback, so the tool itself costs
 * little next to the server it measures. Every message published carries
 * "mono_ns":<CLOCK_MONOTONIC at send>; every subscriber scans the bytes it
 * receives for that key, whatever the framing (rill NDJSON, Nchan chunks), and
 * records now - mono_ns. Demo job parts carry the same key, set by the worker
 * at emission. Modes:
 *
 *   fanout  M subscribers on one topic, a publisher at --rate messages/s
 *   topics  M subscribers spread over --topics topics, publishing round-robin
 *   jobs    --concurrency clients, each POSTing --jobs-per-request demo jobs of
 *           --parts parts (--interval-ms apart) in one request and the next
 *           request as soon as the streamed answer ends. Every answer is
 *           checked (bench_stream.c): each job's parts once, then its done.
 *           --api seed drives the reference stack (Flask + gevent + RxPY),
 *           whose answers number parts from 0 and carry no notice.
 *   idle    M idle streams held open; reports the server's RSS growth per
 *           stream (--pid)
 *
 * --cpu NAME=PID (repeatable) adds each process's CPU over the measured
 * window to the summary (bench_cpu.c), with µs per delivered part or event.
 *
 * Prints one JSON summary per run on stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_cpu.h"
#include "bench_http.h"
#include "bench_latency.h"
#include "bench_stream.h"

#define READ_BUFFER 65536
#define MARK "\"mono_ns\":"
#define MARK_LENGTH (sizeof(MARK) - 1)

typedef enum { ROLE_SUBSCRIBER, ROLE_PUBLISHER, ROLE_JOB } role_t;

typedef struct {
    int fd;
    role_t role;
    int topic;
    int got_status;
    int status;
    char carry[64]; /* tail of the previous read, so a mark split across reads is found */
    size_t carry_length;
    /* publisher / job: response framing */
    int busy;
    int watching_out; /* EPOLLOUT asked: only while request bytes wait */
    char *pending; /* request bytes not yet written */
    size_t pending_length, pending_offset;
    char response[8192]; /* publisher: the response being read */
    size_t response_length;
    bench_stream_t stream; /* job: the answer being read */
} connection_t;

typedef struct {
    const char *mode;
    const char *host;
    int port;
    const char *publish_path;   /* printf pattern with %s = topic */
    const char *subscribe_path; /* printf pattern with %s = topic */
    const char *target;
    int subscribers;
    int topics;
    double rate;
    double duration;
    double warmup;
    int size;
    int concurrency;
    int parts;
    int interval_ms;
    int jobs_per_request;
    int api_seed; /* --api seed: the reference stack's dialect */
    double drain;
    int pid;
    int subscribe_first_wait_ms;
    int websocket; /* subscribers are WebSockets (bench_http.h) */
} options_t;

static options_t options = {
    .mode = "fanout", .host = "127.0.0.1", .port = 8080,
    .publish_path = "/v1/topics/%s", .subscribe_path = "/v1/topics/%s",
    .target = "rill", .subscribers = 100, .topics = 1, .rate = 1000, .duration = 5,
    .warmup = 1, .size = 0, .concurrency = 50, .parts = 10, .interval_ms = 10,
    .jobs_per_request = 1, .drain = 10, .subscribe_first_wait_ms = 1000,
};

static uint64_t measure_from_ns, measure_until_ns;
static uint64_t delivered_in_window, published, publish_errors, subscriber_errors;
static uint64_t jobs_submitted, jobs_complete_in_window, job_connects;
static int epoll_fd, cpu_started, submitting = 1;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void record_latency(uint64_t sent_ns, uint64_t received_ns)
{
    if (received_ns < measure_from_ns || received_ns > measure_until_ns)
        return;
    delivered_in_window++;
    bench_latency_add(received_ns > sent_ns ? received_ns - sent_ns : 0);
}

/* Finds every mono_ns mark in data (with the carried tail of the last read). */
static void scan(connection_t *connection, const char *data, size_t length, uint64_t received_ns)
{
    char joined[sizeof(connection->carry) + READ_BUFFER];
    memcpy(joined, connection->carry, connection->carry_length);
    memcpy(joined + connection->carry_length, data, length);
    size_t total = connection->carry_length + length;
    size_t position = 0, consumed = 0;
    while (position + MARK_LENGTH <= total) {
        char *found = memmem(joined + position, total - position, MARK, MARK_LENGTH);
        if (found == NULL)
            break;
        char *digits = found + MARK_LENGTH, *end = joined + total, *p = digits;
        uint64_t value = 0;
        while (p < end && *p >= '0' && *p <= '9')
            value = value * 10 + (uint64_t)(*p++ - '0');
        if (p == end) { /* number may continue in the next read */
            consumed = (size_t)(found - joined);
            goto carry;
        }
        record_latency(value, received_ns);
        position = (size_t)(p - joined);
    }
    consumed = total > MARK_LENGTH ? total - MARK_LENGTH : 0;
    if (consumed < position)
        consumed = position;
carry:
    connection->carry_length = total - consumed;
    if (connection->carry_length > sizeof(connection->carry))
        connection->carry_length = 0;
    memcpy(connection->carry, joined + consumed, connection->carry_length);
}

static int open_connection(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)options.port)};
    if (inet_pton(AF_INET, options.host, &address.sin_addr) != 1) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&address, sizeof(address)) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

static int queue_request(connection_t *connection, const char *request, size_t length)
{
    free(connection->pending);
    connection->pending = malloc(length);
    if (connection->pending == NULL)
        return -1;
    memcpy(connection->pending, request, length);
    connection->pending_length = length;
    connection->pending_offset = 0;
    return 0;
}

/* Asks for EPOLLOUT only while bytes wait to be written: a socket that is
 * always writable would wake the loop at once, forever, and the load
 * generator would burn a core of the two the servers share with it. */
static void watch_out(connection_t *connection, int out)
{
    if (connection->fd < 0 || connection->watching_out == out)
        return;
    struct epoll_event event = {.events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0), .data.ptr = connection};
    if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, connection->fd, &event) == 0)
        connection->watching_out = out;
}

static void flush_pending(connection_t *connection)
{
    while (connection->pending != NULL && connection->pending_offset < connection->pending_length) {
        ssize_t n = write(connection->fd, connection->pending + connection->pending_offset,
                          connection->pending_length - connection->pending_offset);
        if (n < 0) {
            watch_out(connection, 1); /* EAGAIN (or connecting): EPOLLOUT brings us back */
            return;
        }
        connection->pending_offset += (size_t)n;
    }
    free(connection->pending);
    connection->pending = NULL;
    watch_out(connection, 0);
}

static connection_t *connection_new(role_t role, int topic)
{
    connection_t *connection = calloc(1, sizeof(*connection));
    if (connection == NULL)
        return NULL;
    connection->fd = open_connection();
    if (connection->fd < 0) {
        free(connection);
        return NULL;
    }
    connection->role = role;
    connection->topic = topic;
    connection->watching_out = 1;
    struct epoll_event event = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.ptr = connection};
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, connection->fd, &event) != 0) {
        close(connection->fd);
        free(connection);
        return NULL;
    }
    return connection;
}

static void topic_name(int topic, char *name, size_t size)
{
    snprintf(name, size, "bench-%d", topic);
}

/* A path option with its one "%s" replaced by name. The option is the
 * user's text, so it is never used as a printf format. */
static void expand_path(const char *template, const char *name, char *path, size_t size)
{
    const char *mark = strstr(template, "%s");
    if (mark == NULL) {
        snprintf(path, size, "%s", template);
        return;
    }
    snprintf(path, size, "%.*s%s%s", (int)(mark - template), template, name, mark + 2);
}

static int subscribe(connection_t *connection)
{
    char name[64], path[256], request[512];
    topic_name(connection->topic, name, sizeof(name));
    expand_path(options.subscribe_path, name, path, sizeof(path));
    int length = bench_http_subscribe_request(request, sizeof(request), path, options.host, options.websocket);
    return length < 0 ? -1 : queue_request(connection, request, (size_t)length);
}

static char *padding;

static int publish(connection_t *connection, int topic)
{
    char name[64], path[256], body[160];
    topic_name(topic, name, sizeof(name));
    expand_path(options.publish_path, name, path, sizeof(path));
    int body_length = snprintf(body, sizeof(body), "{\"mono_ns\":%llu,\"pad\":\"",
                               (unsigned long long)now_ns());
    size_t total_body = (size_t)body_length + (size_t)options.size + 2;
    size_t capacity = 512 + total_body;
    char *request = malloc(capacity);
    if (request == NULL)
        return -1;
    int header = snprintf(request, capacity, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\n\r\n%s", path, options.host, total_body, body);
    size_t length = (size_t)header;
    memcpy(request + length, padding, (size_t)options.size);
    length += (size_t)options.size;
    memcpy(request + length, "\"}", 2);
    length += 2;
    int result = queue_request(connection, request, length);
    free(request);
    connection->busy = 1;
    published++;
    flush_pending(connection);
    return result;
}

static void on_part(void *context, uint64_t mono_ns, uint64_t received_ns)
{
    (void)context;
    record_latency(mono_ns, received_ns);
}

static void on_job_end(void *context, int complete, uint64_t received_ns)
{
    (void)context;
    if (received_ns < measure_from_ns || received_ns > measure_until_ns)
        return;
    if (complete)
        jobs_complete_in_window++;
}

static const bench_stream_callbacks_t job_callbacks = {on_part, on_job_end, NULL};

/* A job or publisher connection the server closed (or broke): a fresh one in its place. */
static void reconnect(connection_t *connection)
{
    if (connection->fd >= 0) {
        epoll_ctl(epoll_fd, EPOLL_CTL_DEL, connection->fd, NULL);
        close(connection->fd);
    }
    free(connection->pending);
    connection->pending = NULL;
    connection->busy = 0;
    connection->response_length = 0;
    connection->fd = open_connection();
    if (connection->fd < 0)
        return;
    connection->watching_out = 1;
    struct epoll_event event = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.ptr = connection};
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, connection->fd, &event) != 0) {
        close(connection->fd);
        connection->fd = -1;
        return;
    }
    job_connects++;
}

/* One request of --jobs-per-request demo jobs (bench_stream_request). */
static int submit_job(connection_t *connection)
{
    size_t length;
    char *request = bench_stream_request(options.host, options.jobs_per_request, options.parts,
                                         options.interval_ms, options.size, &length);
    if (request == NULL)
        return -1;
    connection->busy = 1;
    int result = queue_request(connection, request, length);
    free(request);
    if (result != 0 || bench_stream_begin(&connection->stream, options.jobs_per_request, options.parts,
                                          options.api_seed ? 0 : 1) != 0)
        return -1;
    jobs_submitted += (uint64_t)options.jobs_per_request;
    flush_pending(connection);
    return 0;
}

/* Bytes of a job connection's answer. */
static void read_job(connection_t *connection, const char *data, size_t length, uint64_t received_ns)
{
    int ended = bench_stream_feed(&connection->stream, data, length, received_ns, &job_callbacks);
    if (ended == 1) {
        connection->busy = 0;
    } else if (ended < 0) {
        if (!bench_stream_active(&connection->stream))
            connection->stream.stream_errors++; /* bytes after the answer (abort counts the others) */
        bench_stream_abort(&connection->stream, received_ns, &job_callbacks);
        reconnect(connection);
    }
}

/* A publisher's answer (bench_http.h). */
static void read_publisher(connection_t *connection, const char *data, size_t length)
{
    int status = 0;
    int taken = bench_http_take_answer(connection->response, sizeof(connection->response),
                                       &connection->response_length, data, length, &status);
    if (taken == 0)
        return;
    if (taken < 0 || status < 200 || status >= 300)
        publish_errors++;
    connection->busy = 0;
}

static void handle_readable(connection_t *connection, uint64_t received_ns)
{
    char data[READ_BUFFER];
    for (;;) {
        ssize_t n = read(connection->fd, data, sizeof(data));
        if (connection->role == ROLE_JOB && n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                /* closed: mid-answer it is an error; between answers the server just ended keep-alive */
                bench_stream_abort(&connection->stream, received_ns, &job_callbacks);
                reconnect(connection);
            }
            return;
        }
        if (connection->role == ROLE_JOB) {
            read_job(connection, data, (size_t)n, received_ns);
            if (connection->fd < 0 || !connection->busy)
                return;
            continue;
        }
        if (n == 0 && connection->role == ROLE_PUBLISHER) {
            publish_errors += (uint64_t)connection->busy; /* closed while its answer was due */
            reconnect(connection); /* the server ended keep-alive (nginx: keepalive_requests) */
            return;
        }
        if (n == 0) {
            if (connection->role == ROLE_SUBSCRIBER)
                subscriber_errors++;
            epoll_ctl(epoll_fd, EPOLL_CTL_DEL, connection->fd, NULL);
            close(connection->fd);
            connection->fd = -1;
            return;
        }
        if (n < 0)
            return;
        if (!connection->got_status && n >= 12) {
            connection->got_status = 1;
            connection->status = atoi(data + 9);
            if (connection->status != bench_http_subscribe_status(options.websocket) &&
                connection->role != ROLE_PUBLISHER)
                subscriber_errors++;
        }
        if (connection->role == ROLE_PUBLISHER) {
            read_publisher(connection, data, (size_t)n);
            continue;
        }
        scan(connection, data, (size_t)n, received_ns);
    }
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rill-bench [options]\n"
            "  --mode fanout|topics|jobs|idle   (default fanout)\n"
            "  --host ADDR --port N             server (default 127.0.0.1:8080)\n"
            "  --target NAME                    label in the summary (rill, nchan)\n"
            "  --publish-path P --subscribe-path P  printf patterns, %%s = topic\n"
            "                                   (default /v1/topics/%%s for both; Nchan: /pub/%%s /sub/%%s)\n"
            "  --subscribers M  --topics K  --rate MSG_PER_S  --size PAD_BYTES\n"
            "  --websocket                      subscribers are WebSockets (fanout, topics, idle)\n"
            "  --duration S  --warmup S\n"
            "  --concurrency C --parts P --interval-ms I   (jobs mode)\n"
            "  --jobs-per-request J              demo jobs POSTed in one request (jobs mode, default 1)\n"
            "  --api rill|seed                   answer dialect: rill, or the reference stack\n"
            "  --drain S                         seconds to let job answers end after the window (10)\n"
            "  --cpu NAME=PID                    (repeatable) CPU of that process over the window\n"
            "  --pid PID  server pid whose RSS idle mode measures;  --self-test  check the answer parser\n");
}

static void wait_loop(connection_t **connections, int count, uint64_t until_ns, int publishing,
                      connection_t **publishers, int publisher_count)
{
    struct epoll_event events[512];
    double interval_ns = options.rate > 0 ? 1e9 / options.rate : 0;
    uint64_t next_publish = now_ns(), next_pong = now_ns() + BENCH_HTTP_PONG_INTERVAL_NS;
    int next_topic = 0;
    while (now_ns() < until_ns) {
        int timeout = 1;
        int ready = epoll_wait(epoll_fd, events, 512, timeout);
        uint64_t received = now_ns();
        if (!cpu_started && received >= measure_from_ns) {
            bench_cpu_sample_start();
            cpu_started = 1;
        }
        for (int i = 0; i < ready; i++) {
            connection_t *connection = events[i].data.ptr;
            if (connection->fd < 0)
                continue;
            if (events[i].events & EPOLLOUT)
                flush_pending(connection);
            if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                handle_readable(connection, received);
        }
        if (options.websocket && received >= next_pong) { /* alive (bench_http.h) */
            for (int c = 0; c < count; c++)
                if (connections[c]->role == ROLE_SUBSCRIBER && connections[c]->fd >= 0 && connections[c]->got_status)
                    (void)!write(connections[c]->fd, BENCH_HTTP_PONG, BENCH_HTTP_PONG_LENGTH);
            next_pong = received + BENCH_HTTP_PONG_INTERVAL_NS;
        }
        if (publishing) {
            /* Publish on schedule on whichever publisher is free; late ticks are sent at once. */
            uint64_t now = now_ns();
            for (int p = 0; p < publisher_count && now >= next_publish; p++) {
                if (publishers[p]->busy || publishers[p]->fd < 0)
                    continue;
                publish(publishers[p], next_topic);
                next_topic = (next_topic + 1) % options.topics;
                next_publish += (uint64_t)interval_ns;
            }
        }
        if (strcmp(options.mode, "jobs") == 0) {
            int active = 0;
            for (int c = 0; c < count; c++) {
                if (connections[c]->fd < 0)
                    reconnect(connections[c]);
                if (submitting && !connections[c]->busy && connections[c]->fd >= 0)
                    submit_job(connections[c]);
                active += connections[c]->busy;
            }
            if (!submitting && active == 0)
                return; /* drained: every answer read to its end */
        }
    }
}

int main(int argc, char **argv)
{
    static const struct option flags[] = {
        {"mode", required_argument, NULL, 'm'}, {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'}, {"target", required_argument, NULL, 'T'},
        {"publish-path", required_argument, NULL, 'P'}, {"subscribe-path", required_argument, NULL, 'S'},
        {"subscribers", required_argument, NULL, 's'}, {"topics", required_argument, NULL, 't'},
        {"rate", required_argument, NULL, 'r'}, {"size", required_argument, NULL, 'z'},
        {"duration", required_argument, NULL, 'd'}, {"warmup", required_argument, NULL, 'w'},
        {"concurrency", required_argument, NULL, 'c'}, {"parts", required_argument, NULL, 'n'},
        {"interval-ms", required_argument, NULL, 'i'}, {"pid", required_argument, NULL, 'x'},
        {"jobs-per-request", required_argument, NULL, 'J'}, {"api", required_argument, NULL, 'A'},
        {"cpu", required_argument, NULL, 'C'}, {"drain", required_argument, NULL, 'D'}, {"self-test", 0, NULL, 'Y'},
        {"websocket", no_argument, NULL, 'W'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    int flag;
    while ((flag = getopt_long(argc, argv, "", flags, NULL)) != -1) {
        switch (flag) {
        case 'm': options.mode = optarg; break;
        case 'H': options.host = optarg; break;
        case 'p': options.port = atoi(optarg); break;
        case 'T': options.target = optarg; break;
        case 'P': options.publish_path = optarg; break;
        case 'S': options.subscribe_path = optarg; break;
        case 's': options.subscribers = atoi(optarg); break;
        case 't': options.topics = atoi(optarg); break;
        case 'r': options.rate = atof(optarg); break;
        case 'z': options.size = atoi(optarg); break;
        case 'd': options.duration = atof(optarg); break;
        case 'w': options.warmup = atof(optarg); break;
        case 'c': options.concurrency = atoi(optarg); break;
        case 'n': options.parts = atoi(optarg); break;
        case 'i': options.interval_ms = atoi(optarg); break;
        case 'x': options.pid = atoi(optarg); break;
        case 'J': options.jobs_per_request = atoi(optarg); break;
        case 'A':
            if (strcmp(optarg, "rill") != 0 && strcmp(optarg, "seed") != 0) {
                usage(stderr);
                return 2;
            }
            options.api_seed = strcmp(optarg, "seed") == 0;
            break;
        case 'C':
            if (bench_cpu_add(optarg) != 0) {
                fprintf(stderr, "rill-bench: --cpu wants NAME=PID, not %s\n", optarg);
                return 2;
            }
            break;
        case 'D': options.drain = atof(optarg); break;
        case 'W': options.websocket = 1; break;
        case 'Y': return bench_stream_self_test() == 0 && bench_http_self_test() == 0 ? 0 : 1;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    int fanout = strcmp(options.mode, "fanout") == 0, topics = strcmp(options.mode, "topics") == 0;
    int jobs = strcmp(options.mode, "jobs") == 0, idle = strcmp(options.mode, "idle") == 0;
    if (!(fanout || topics || jobs || idle) || options.subscribers < 0 || options.topics < 1 ||
        options.size < 0 || options.duration <= 0 || options.concurrency < 1 || options.parts < 1 ||
        options.parts > 1000000 || options.jobs_per_request < 1 || options.jobs_per_request > 1000 ||
        (jobs && options.websocket)) {
        usage(stderr);
        return 2;
    }
    if (fanout)
        options.topics = 1;
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    padding = malloc((size_t)options.size + 1);
    memset(padding, 'x', (size_t)options.size);
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    measure_from_ns = UINT64_MAX;
    measure_until_ns = 0;

    int count = jobs ? options.concurrency : options.subscribers;
    connection_t **connections = calloc((size_t)count + 1, sizeof(*connections));
    long rss_before = options.pid > 0 ? bench_rss_kib(options.pid) : -1;
    int opened = 0;
    for (int i = 0; i < count; i++) {
        connections[i] = connection_new(jobs ? ROLE_JOB : ROLE_SUBSCRIBER, i % options.topics);
        if (connections[i] == NULL) {
            fprintf(stderr, "rill-bench: connection %d: %s\n", i, strerror(errno));
            count = i;
            break;
        }
        opened++;
        if (!jobs)
            subscribe(connections[i]);
    }
    /* Let every subscription reach the server before measuring (jobs: nothing to wait for). */
    wait_loop(connections, count, now_ns() + (jobs ? 0u : options.subscribe_first_wait_ms * 1000000ull), 0, NULL, 0);
    bench_cpu_add_self();

    int publisher_count = (fanout || topics) ? 4 : 0;
    connection_t *publishers[4] = {0};
    for (int p = 0; p < publisher_count; p++) {
        publishers[p] = connection_new(ROLE_PUBLISHER, 0);
        if (publishers[p] == NULL) {
            fprintf(stderr, "rill-bench: publisher: %s\n", strerror(errno));
            return 1;
        }
    }
    uint64_t start = now_ns();
    measure_from_ns = start + (uint64_t)(options.warmup * 1e9);
    measure_until_ns = measure_from_ns + (uint64_t)(options.duration * 1e9);
    if (!idle)
        wait_loop(connections, count, measure_until_ns, fanout || topics, publishers, publisher_count);
    else
        wait_loop(connections, count, measure_from_ns, 0, NULL, 0);
    if (!cpu_started)
        bench_cpu_sample_start();
    bench_cpu_sample_end();
    long rss_after = options.pid > 0 ? bench_rss_kib(options.pid) : -1;
    /* Drain what was published inside the window; job answers to their end. */
    submitting = 0;
    if (jobs)
        wait_loop(connections, count, now_ns() + (uint64_t)(options.drain * 1e9), 0, publishers, 0);
    else if (!idle)
        wait_loop(connections, count, now_ns() + 500000000u, 0, publishers, 0);
    uint64_t http_errors = 0, stream_errors = 0, jobs_complete = 0, jobs_incomplete = 0, unfinished = 0;
    for (int i = 0; jobs && i < count; i++) {
        bench_stream_t *stream = &connections[i]->stream;
        if (bench_stream_active(stream)) {
            unfinished++; /* still streaming --drain seconds after the window */
            bench_stream_abort(stream, now_ns(), &job_callbacks);
        }
        http_errors += stream->http_errors;
        stream_errors += stream->stream_errors;
        jobs_complete += stream->jobs_complete;
        jobs_incomplete += stream->jobs_incomplete;
    }
    uint64_t job_errors = http_errors + stream_errors + jobs_incomplete;

    bench_latency_sort();
    double seconds = options.duration;
    printf("{\"tool\":\"rill-bench\",\"mode\":\"%s\",\"target\":\"%s\",\"websocket\":%s,\"subscribers\":%d,"
           "\"topics\":%d,"
           "\"connections\":%d,\"rate\":%.0f,\"size\":%d,\"duration_s\":%.1f,"
           "\"published\":%llu,\"publish_errors\":%llu,\"subscriber_errors\":%llu,"
           "\"delivered\":%llu,\"delivered_per_s\":%.0f,"
           "\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
           options.mode, options.target, options.websocket ? "true" : "false", jobs ? 0 : opened,
           options.topics, opened, options.rate,
           options.size, seconds, (unsigned long long)published, (unsigned long long)publish_errors,
           (unsigned long long)subscriber_errors, (unsigned long long)delivered_in_window,
           (double)delivered_in_window / seconds, bench_latency_percentile_ms(0.50),
           bench_latency_percentile_ms(0.90), bench_latency_percentile_ms(0.99), bench_latency_max_ms());
    if (jobs)
        printf(",\"api\":\"%s\",\"clients\":%d,\"jobs_per_request\":%d,\"parts\":%d,\"interval_ms\":%d,"
               "\"jobs_per_s\":%.0f,\"parts_per_s\":%.0f,\"jobs_submitted\":%llu,\"jobs_complete\":%llu,"
               "\"jobs_incomplete\":%llu,\"jobs_unfinished_after_drain\":%llu,\"http_errors\":%llu,"
               "\"stream_errors\":%llu,\"reconnects\":%llu,\"errors\":%llu,\"every_part_delivered\":%s",
               options.api_seed ? "seed" : "rill", opened, options.jobs_per_request, options.parts,
               options.interval_ms, (double)jobs_complete_in_window / seconds,
               (double)delivered_in_window / seconds, (unsigned long long)jobs_submitted,
               (unsigned long long)jobs_complete, (unsigned long long)jobs_incomplete,
               (unsigned long long)unfinished, (unsigned long long)http_errors,
               (unsigned long long)stream_errors, (unsigned long long)job_connects,
               (unsigned long long)job_errors,
               job_errors == 0 && jobs_complete == jobs_submitted && jobs_complete > 0 ? "true" : "false");
    if (!idle)
        bench_cpu_print(stdout, seconds, delivered_in_window, jobs ? "part" : "event");
    if (options.pid > 0)
        printf(",\"server_rss_kib\":{\"before\":%ld,\"after\":%ld,\"per_stream\":%.2f}", rss_before,
               rss_after, opened > 0 ? (double)(rss_after - rss_before) / opened : 0.0);
    printf("}\n");
    for (int i = 0; i < count + publisher_count; i++) {
        connection_t *connection = i < count ? connections[i] : publishers[i - count];
        if (connection->fd >= 0)
            close(connection->fd);
        free(connection->pending);
        bench_stream_free(&connection->stream);
        free(connection);
    }
    free(connections);
    bench_latency_free();
    free(padding);
    close(epoll_fd);
    return subscriber_errors == 0 && publish_errors == 0 && job_errors == 0 ? 0 : 1;
}
