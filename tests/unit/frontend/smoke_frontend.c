/*
 * smoke_frontend.c - a real rill-frontend against a fake broker: what a
 * stream does when its broker goes silent, comes back, and turns out to be
 * a restarted one (docs/API.md, "Notices" and "Broker restarts").
 *
 * Starts the frontend given as argv[1] on a fresh run directory whose
 * control and events sockets this program binds (ROUTER, XPUB), answers its
 * PINGs as broker instance A, and follows two jobs on one HTTP/1.1 stream.
 * Then the broker says nothing for a while (the stream gets
 * broker_unavailable), answers as instance B (broker_available), and
 * plays a broker in its recovery window: the first job's FETCH is answered
 * "unavailable" twice and then replayed from seq 5 (the stream gets the gap
 * 3..4, then 5, 6 and the live done), the second job is not_found (error
 * broker_restarted). A restarted broker in a real run does the same through
 * its workers' re-registration; this test needs no worker.
 *
 * Then a topic lease (rill/8, docs/PROTOCOL.md "Topic leases"): a topic
 * stream, and a publisher whose PUBLISHED grants the lease; the next
 * publish carries its seq and reaches the stream before the broker has
 * answered; REVOKE is answered REVOKED and the next publish has no seq; a
 * lease_lost answer is 503 and drops the lease. Ends with SIGTERM: exit
 * status 0.
 */
#include "rill_protocol.h"
#include "rill_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define JOB1 "00000000000000000000000000000001"
#define JOB2 "00000000000000000000000000000002"
#define INSTANCE_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define INSTANCE_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static pid_t frontend_pid;
static void *control; /* ROUTER: the frontend's DEALER */
static void *events;  /* XPUB: the frontend's SUB */
static int client = -1;
static const char *instance = INSTANCE_A; /* NULL: PINGs go unanswered */
static char received_text[1 << 16];       /* what the HTTP client read */
static size_t received_length;
static int publisher = -1;                /* a second client: POSTs */
static char published_text[1 << 12];      /* what it read */
static size_t published_length;
static size_t scanned;                    /* expect_text goes on from here */

/* The FETCHes (and PUBLISHes, REVOKEDs) the frontend sent, for the script
 * to answer. */
typedef struct {
    rill_command_t command;
    uint8_t routing[256];
    size_t routing_size;
    char req[32];
    char subject[64]; /* FETCH: its subject; PUBLISH, REVOKED: the topic */
    uint64_t after;   /* FETCH */
    char data[256];   /* PUBLISH */
    char seq[24];     /* PUBLISH under a lease; "" none */
} fetch_t;
static fetch_t fetches[16];
static size_t fetch_count;

static void finish(int status)
{
    if (frontend_pid > 0)
        rill_test_stop_process(frontend_pid, "frontend", 1);
    if (rill_test_failed == 0 && status == 0) {
        printf("frontend smoke: %d passed, 0 failed\n", rill_test_passed);
        exit(0);
    }
    fprintf(stderr, "frontend smoke: %d failed; the client read:\n%.*s\n", rill_test_failed,
            (int)received_length, received_text);
    exit(1);
}

static void copy_frame(char *text, size_t size, rill_frame_t frame)
{
    snprintf(text, size, "%.*s", (int)frame.size, (const char *)frame.data);
}

static void on_control(rill_received_t *received)
{
    rill_message_t message;
    const char *error = NULL;
    rill_frame_t routing = received->frames[0];
    REQUIRE(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, received->frames + 1,
                               received->count - 1, &message, &error) == 0,
            "control message: %s", error);
    if (message.command == RILL_COMMAND_PING) {
        if (instance == NULL)
            return;
        char pong[128];
        snprintf(pong, sizeof(pong), "{\"broker\":\"%s\",\"workers\":1,\"kinds\":{\"demo\":1}}", instance);
        rill_frame_t frame = rill_frame_from_string(pong);
        rill_protocol_send_command(control, &routing, RILL_COMMAND_PONG, &frame, 1, 0);
        return;
    }
    if (message.command == RILL_COMMAND_PRESENCE)
        return;
    REQUIRE(message.command == RILL_COMMAND_FETCH || message.command == RILL_COMMAND_PUBLISH ||
                message.command == RILL_COMMAND_REVOKED,
            "unexpected %s", rill_command_name(message.command));
    REQUIRE(fetch_count < sizeof(fetches) / sizeof(fetches[0]) && routing.size <= 256, "too many FETCHes");
    fetch_t *fetch = &fetches[fetch_count++];
    memset(fetch, 0, sizeof(*fetch));
    fetch->command = message.command;
    memcpy(fetch->routing, routing.data, routing.size);
    fetch->routing_size = routing.size;
    if (message.command == RILL_COMMAND_REVOKED) {
        copy_frame(fetch->subject, sizeof(fetch->subject), message.arguments[0]);
        return;
    }
    copy_frame(fetch->req, sizeof(fetch->req), message.arguments[0]);
    if (message.command == RILL_COMMAND_PUBLISH) {
        copy_frame(fetch->subject, sizeof(fetch->subject), message.arguments[1]);
        copy_frame(fetch->data, sizeof(fetch->data), message.arguments[2]);
        if (message.argument_count == 4)
            copy_frame(fetch->seq, sizeof(fetch->seq), message.arguments[3]);
        return;
    }
    copy_frame(fetch->subject, sizeof(fetch->subject), message.arguments[2]);
    REQUIRE(rill_frame_to_u64(message.arguments[3], &fetch->after) == 0, "FETCH after");
}

/* What fd (a client; -1: none) has to read, appended to text. */
static void read_into(int fd, char *text, size_t size, size_t *length)
{
    if (fd < 0)
        return;
    ssize_t got = recv(fd, text + *length, size - 1 - *length, MSG_DONTWAIT);
    if (got > 0)
        *length += (size_t)got;
    text[*length] = '\0';
}

/* Serves the sockets (PINGs, FETCHes recorded, subscriptions drained) and
 * reads the client, for ms. */
static void serve(long ms)
{
    long deadline = rill_test_now_ms() + ms;
    do {
        zmq_pollitem_t items[3] = {
            {control, 0, ZMQ_POLLIN, 0}, {events, 0, ZMQ_POLLIN, 0}, {NULL, client, ZMQ_POLLIN, 0}};
        zmq_poll(items, client >= 0 ? 3 : 2, 10);
        rill_received_t received;
        while (rill_protocol_receive(control, &received) == 1) {
            on_control(&received);
            rill_received_close(&received);
        }
        zmq_msg_t subscription;
        zmq_msg_init(&subscription);
        while (zmq_msg_recv(&subscription, events, ZMQ_DONTWAIT) >= 0)
            ;
        zmq_msg_close(&subscription);
        read_into(client, received_text, sizeof(received_text), &received_length);
        read_into(publisher, published_text, sizeof(published_text), &published_length);
    } while (rill_test_now_ms() < deadline);
}

/* The client reads text after what was expected before, within 3 s. */
static void expect_text(const char *text, const char *what)
{
    long deadline = rill_test_now_ms() + 3000;
    while (rill_test_now_ms() < deadline) {
        const char *found = strstr(received_text + scanned, text);
        if (found != NULL) {
            scanned = (size_t)(found - received_text) + strlen(text);
            return;
        }
        serve(10);
    }
    REQUIRE(0, "%s: the client never read %s", what, text);
}

/* Waits for the next message of command (of subject, unless NULL) the
 * frontend sent; returns it, taken off the list. */
static fetch_t *expect_command(rill_command_t command, const char *subject, long within_ms, const char *what)
{
    long deadline = rill_test_now_ms() + within_ms;
    while (rill_test_now_ms() < deadline) {
        for (size_t i = 0; i < fetch_count; i++) {
            if (fetches[i].command == command && (subject == NULL || strcmp(fetches[i].subject, subject) == 0)) {
                static fetch_t taken;
                taken = fetches[i];
                memmove(&fetches[i], &fetches[i + 1], (fetch_count - i - 1) * sizeof(fetches[0]));
                fetch_count--;
                return &taken;
            }
        }
        serve(10);
    }
    REQUIRE(0, "%s: no %s of %s within %ld ms", what, rill_command_name(command), subject ? subject : "any",
            within_ms);
    return NULL;
}

/* Waits for the next FETCH of subject; returns it. */
static fetch_t *expect_fetch(const char *subject, uint64_t after, long within_ms, const char *what)
{
    fetch_t *fetch = expect_command(RILL_COMMAND_FETCH, subject, within_ms, what);
    CHECKF(fetch->after == after, "%s: after %llu, expected %llu", what, (unsigned long long)fetch->after,
           (unsigned long long)after);
    return fetch;
}

static void reply(const fetch_t *fetch, rill_command_t command, const char *const *texts, size_t count)
{
    rill_frame_t routing = {fetch->routing, fetch->routing_size};
    rill_frame_t frames[16];
    frames[0] = rill_frame_from_string(fetch->req);
    for (size_t i = 0; i < count; i++)
        frames[1 + i] = rill_frame_from_string(texts[i]);
    REQUIRE(rill_protocol_send_command(control, &routing, command, frames, count + 1, 0) == 0, "reply");
}

static void reply_error(const fetch_t *fetch, const char *code)
{
    const char *texts[] = {code, "recovering"};
    reply(fetch, RILL_COMMAND_ERROR, texts, 2);
}

static void *bind_socket(void *context, int type, const char *run_dir, const char *name)
{
    char endpoint[600];
    snprintf(endpoint, sizeof(endpoint), "ipc://%s/%s", run_dir, name);
    void *socket = zmq_socket(context, type);
    int on = 1, linger = 0;
    zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof(linger));
    if (type == ZMQ_XPUB)
        zmq_setsockopt(socket, ZMQ_XPUB_VERBOSER, &on, sizeof(on));
    REQUIRE(zmq_bind(socket, endpoint) == 0, "bind %s: %s", endpoint, zmq_strerror(errno));
    return socket;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof(address);
    REQUIRE(bind(fd, (struct sockaddr *)&address, sizeof(address)) == 0 &&
                getsockname(fd, (struct sockaddr *)&address, &length) == 0,
            "free port");
    close(fd);
    return ntohs(address.sin_port);
}

static void start_frontend(const char *binary, const char *run_dir, int port)
{
    char config_path[512], listen[64];
    REQUIRE(rill_test_write_config(run_dir, "{\"heartbeat_ms\":100,\"stream_heartbeat_ms\":100}\n",
                                   config_path, sizeof(config_path)) == 0,
            "config file");
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    frontend_pid = fork();
    REQUIRE(frontend_pid >= 0, "fork");
    if (frontend_pid == 0) {
        execl(binary, binary, "--run-dir", run_dir, "--config", config_path, "--listen", listen, "--log",
              "warn", (char *)NULL);
        _exit(127);
    }
}

/* A connection to the frontend, once it listens. */
static int connect_to(int port)
{
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    long deadline = rill_test_now_ms() + 10000;
    for (;;) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&address, sizeof(address)) == 0)
            return fd;
        close(fd);
        REQUIRE(rill_test_now_ms() < deadline, "the frontend does not listen");
        serve(50);
    }
}

/* Connects the client and sends the request once the frontend listens. */
static void open_stream(int port, const char *path)
{
    client = connect_to(port);
    serve(300); /* PING, PONG: the frontend knows its broker */
    char request[256];
    int length = snprintf(request, sizeof(request), "GET %s HTTP/1.1\r\nHost: smoke\r\n\r\n", path);
    REQUIRE(send(client, request, (size_t)length, 0) == length, "send the request");
}

/* The publisher POSTs body to path (one keep-alive connection); what it
 * reads starts afresh. */
static void post(int port, const char *path, const char *body)
{
    if (publisher < 0)
        publisher = connect_to(port);
    published_length = 0;
    published_text[0] = '\0';
    char request[512];
    int length = snprintf(request, sizeof(request),
                          "POST %s HTTP/1.1\r\nHost: smoke\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\n\r\n%s", path, strlen(body), body);
    REQUIRE(send(publisher, request, (size_t)length, 0) == length, "send the POST");
}

/* The publisher reads text within 3 s. */
static void expect_published(const char *text, const char *what)
{
    long deadline = rill_test_now_ms() + 3000;
    while (strstr(published_text, text) == NULL) {
        REQUIRE(rill_test_now_ms() < deadline, "%s: the publisher never read %s (read: %s)", what, text,
                published_text);
        serve(10);
    }
}

/* The broker publishes topic message seq (data) on the events socket. */
static void publish_event(const char *topic, const char *seq, const char *data)
{
    rill_frame_t frames[] = {rill_frame_from_string(topic), rill_frame_from_string(RILL_PROTOCOL_VERSION),
                             rill_frame_from_string("part"), rill_frame_from_string(seq),
                             rill_frame_from_string(data)};
    REQUIRE(rill_protocol_send(events, NULL, frames, 5, 0) == 0, "publish an event");
}

/* A topic lease from the frontend's side (rill/8). */
static void test_topic_lease(int port)
{
    open_stream(port, "/v1/topics/news");
    fetch_t *fetch = expect_fetch("tnews/", UINT64_C(9999999999999999999), 3000, "the topic stream's FETCH");
    const char *opened[] = {"tnews/", "{\"first\":1,\"last\":0,\"ended\":false,\"final\":true,\"flush_ms\":0,"
                                      "\"epoch\":\"0a0b0c0d\"}"};
    reply(fetch, RILL_COMMAND_REPLAY, opened, 2);
    expect_text("HTTP/1.1 200", "the topic stream opened");
    /* Without a lease: a PUBLISH without seq; the answer grants the lease. */
    post(port, "/v1/topics/news", "{\"n\":1}");
    fetch = expect_command(RILL_COMMAND_PUBLISH, "news", 3000, "the first publish");
    CHECK(strcmp(fetch->subject, "news") == 0 && strcmp(fetch->data, "{\"n\":1}") == 0 && fetch->seq[0] == '\0');
    publish_event("tnews/", "1", "{\"n\":1}");
    const char *granted[] = {"{\"topic\":\"news\",\"seq\":1}", "1"};
    reply(fetch, RILL_COMMAND_PUBLISHED, granted, 2);
    expect_published("HTTP/1.1 202", "the first publish answered");
    expect_text("{\"topic\":\"news\",\"seq\":1,\"event\":\"part\",\"data\":{\"n\":1}}", "the first message");
    /* Under the lease: the next seq, and the stream has it before the broker answers. */
    post(port, "/v1/topics/news", "{\"n\":2}");
    fetch = expect_command(RILL_COMMAND_PUBLISH, "news", 3000, "the leased publish");
    CHECKF(strcmp(fetch->seq, "2") == 0, "the leased publish's seq: \"%s\"", fetch->seq);
    expect_text("{\"topic\":\"news\",\"seq\":2,\"event\":\"part\",\"data\":{\"n\":2}}",
                "the leased message, before the broker answered");
    CHECK(strstr(published_text, "202") == NULL);
    publish_event("tnews/", "2", "{\"n\":2}"); /* the broker's copy: a duplicate here */
    const char *second[] = {"{\"topic\":\"news\",\"seq\":2}"};
    reply(fetch, RILL_COMMAND_PUBLISHED, second, 1);
    expect_published("\"seq\":2", "the leased publish answered");
    serve(200);
    CHECK(strstr(received_text + scanned, "\"seq\":2") == NULL);
    /* REVOKE: REVOKED at once, and the next publish has no seq. */
    rill_frame_t routing = {fetch->routing, fetch->routing_size};
    rill_frame_t topic = rill_frame_from_string("news");
    REQUIRE(rill_protocol_send_command(control, &routing, RILL_COMMAND_REVOKE, &topic, 1, 0) == 0, "REVOKE");
    fetch = expect_command(RILL_COMMAND_REVOKED, "news", 3000, "the answer to REVOKE");
    CHECK(strcmp(fetch->subject, "news") == 0);
    post(port, "/v1/topics/news", "{\"n\":3}");
    fetch = expect_command(RILL_COMMAND_PUBLISH, "news", 3000, "a publish after REVOKE");
    CHECK(fetch->seq[0] == '\0');
    const char *third[] = {"{\"topic\":\"news\",\"seq\":3}", "1"};
    reply(fetch, RILL_COMMAND_PUBLISHED, third, 2);
    expect_published("\"seq\":3", "the third publish answered");
    /* lease_lost: 503 to the publisher, and the lease is gone. */
    post(port, "/v1/topics/news", "{\"n\":4}");
    fetch = expect_command(RILL_COMMAND_PUBLISH, "news", 3000, "the second lease's publish");
    CHECK(strcmp(fetch->seq, "4") == 0);
    reply_error(fetch, "lease_lost");
    expect_published("HTTP/1.1 503", "a refused numbering");
    expect_published("lease_lost", "a refused numbering's code");
    post(port, "/v1/topics/news", "{\"n\":5}");
    fetch = expect_command(RILL_COMMAND_PUBLISH, "news", 3000, "a publish after lease_lost");
    CHECK(fetch->seq[0] == '\0');
    close(publisher);
    close(client);
}

int main(int argc, char **argv)
{
    REQUIRE(argc == 2, "usage: smoke_frontend PATH/rill-frontend");
    signal(SIGPIPE, SIG_IGN);
    char run_dir[] = "/tmp/rill-frontend-smoke-XXXXXX";
    REQUIRE(mkdtemp(run_dir) != NULL, "mkdtemp");
    void *context = zmq_ctx_new();
    control = bind_socket(context, ZMQ_ROUTER, run_dir, "control.sock");
    events = bind_socket(context, ZMQ_XPUB, run_dir, "events.sock");
    int port = free_port();
    start_frontend(argv[1], run_dir, port);

    /* Two jobs on one stream: 1..2 of the first, 1 of the second. */
    open_stream(port, "/v1/stream?job=" JOB1 "&job=" JOB2);
    fetch_t *fetch = expect_fetch("j" JOB1, 0, 3000, "opening FETCH of job 1");
    const char *replay1[] = {"j" JOB1, "{\"first\":1,\"last\":2,\"ended\":false,\"final\":true,\"flush_ms\":0}",
                             "part", "1", "{\"i\":1}", "part", "2", "{\"i\":2}"};
    reply(fetch, RILL_COMMAND_REPLAY, replay1, 8);
    fetch = expect_fetch("j" JOB2, 0, 3000, "opening FETCH of job 2");
    const char *replay2[] = {"j" JOB2, "{\"first\":1,\"last\":1,\"ended\":false,\"final\":true,\"flush_ms\":0}",
                             "part", "1", "{\"i\":1}"};
    reply(fetch, RILL_COMMAND_REPLAY, replay2, 5);
    expect_text("HTTP/1.1 200", "stream opened");
    expect_text("{\"job\":\"" JOB1 "\",\"seq\":2,\"event\":\"part\",\"data\":{\"i\":2}}", "replayed");
    expect_text("{\"job\":\"" JOB2 "\",\"seq\":1,\"event\":\"part\",\"data\":{\"i\":1}}", "replayed");

    /* The broker says nothing for 5 heartbeats: one broker_unavailable. */
    instance = NULL;
    long silent_since = rill_test_now_ms();
    expect_text("{\"event\":\"broker_unavailable\",\"data\":{}}\n", "silence");
    CHECKF(rill_test_now_ms() - silent_since <= 450, "broker_unavailable after %ld ms", rill_test_now_ms() - silent_since);
    serve(300);
    CHECK(strstr(received_text + scanned, "broker_unavailable") == NULL);

    /* It answers again, as another instance: a restarted broker. */
    instance = INSTANCE_B;
    expect_text("{\"event\":\"broker_available\",\"data\":{\"broker\":\"" INSTANCE_B "\"}}\n", "back");
    /* Job 1 is fetched from its next seq, again while the broker recovers. */
    fetch = expect_fetch("j" JOB1, 2, 3000, "recovery FETCH of job 1");
    reply_error(fetch, "unavailable");
    fetch = expect_fetch("j" JOB2, 1, 3000, "recovery FETCH of job 2");
    reply_error(fetch, "not_found");
    expect_text("{\"job\":\"" JOB2 "\",\"seq\":2,\"event\":\"error\",\"data\":{\"code\":\"broker_restarted\"",
                "job 2 lost with the old broker");
    long retried_after = rill_test_now_ms();
    fetch = expect_fetch("j" JOB1, 2, 3000, "second recovery FETCH of job 1");
    CHECKF(rill_test_now_ms() - retried_after >= 300, "retried after %ld ms", rill_test_now_ms() - retried_after);
    reply_error(fetch, "unavailable");
    fetch = expect_fetch("j" JOB1, 2, 3000, "third recovery FETCH of job 1");
    /* Its worker re-registered it and kept parts 5 and 6 (3..4 are gone). */
    const char *recovered[] = {"j" JOB1, "{\"first\":5,\"last\":6,\"ended\":false,\"final\":true,\"flush_ms\":0}",
                               "part", "5", "{\"i\":5}", "part", "6", "{\"i\":6}"};
    reply(fetch, RILL_COMMAND_REPLAY, recovered, 8);
    expect_text("{\"job\":\"" JOB1 "\",\"seq\":4,\"event\":\"gap\",\"data\":{\"from\":3,\"to\":4}}", "gap");
    expect_text("{\"job\":\"" JOB1 "\",\"seq\":6,\"event\":\"part\",\"data\":{\"i\":6}}", "recovered");
    /* Only the job the new broker does not know ended. */
    const char *lost = strstr(received_text, "broker_restarted");
    CHECK(lost != NULL && strstr(lost + 1, "broker_restarted") == NULL);
    CHECK(strstr(received_text, "{\"job\":\"" JOB1 "\",\"seq\":3,\"event\":\"error\"") == NULL);

    /* Live again: its done ends the stream (both jobs are over). */
    rill_frame_t done[] = {rill_frame_from_string("j" JOB1), rill_frame_from_string(RILL_PROTOCOL_VERSION),
                           rill_frame_from_string("done"), rill_frame_from_string("7"),
                           rill_frame_from_string("{\"parts\":6}")};
    REQUIRE(rill_protocol_send(events, NULL, done, 5, 0) == 0, "publish done");
    expect_text("{\"job\":\"" JOB1 "\",\"seq\":7,\"event\":\"done\",\"data\":{\"parts\":6}}", "live done");
    expect_text("\r\n0\r\n\r\n", "the end of the response");
    CHECK(fetch_count == 0);
    close(client);

    test_topic_lease(port);
    zmq_close(control);
    zmq_close(events);
    finish(0);
}
