/*
 * smoke_broker.c - end-to-end check of a real rill-broker process.
 *
 * Starts the broker given as argv[1] in a fresh run directory, then plays a
 * fake worker (DEALER) and a fake frontend (DEALER + SUB) over the real ipc
 * sockets: HELLO/WELCOME, SUBMIT behind a barrier, parts and done with seqs
 * 1..N on the SUB, STATUS, FETCH replay, cancel when the last subscriber
 * leaves, retry when a worker goes silent, REJOIN for an unknown worker,
 * malformed and wrong-version input. Ends with SIGTERM: exit status 0.
 */
#include "rill_protocol.h"
#include "rill_test.h"

#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t broker_pid;

static void finish(int status)
{
    if (broker_pid > 0)
        rill_test_stop_process(broker_pid, "broker", status == 0);
    if (rill_test_failed == 0 && status == 0) {
        printf("broker smoke: all checks passed\n");
        exit(0);
    }
    fprintf(stderr, "broker smoke: %d rill_test_failed\n", rill_test_failed);
    exit(1);
}

static void *context;
static void *pinger; /* a worker kept alive while waiting */

static void send_command(void *socket, rill_command_t command, int count, ...)
{
    rill_frame_t arguments[8];
    va_list list;
    va_start(list, count);
    for (int i = 0; i < count; i++)
        arguments[i] = rill_frame_from_string(va_arg(list, const char *));
    va_end(list);
    REQUIRE(rill_protocol_send_command(socket, NULL, command, arguments, (size_t)count, 0) == 0,
            "send %s", rill_command_name(command));
}

/* Waits for one message on socket; 1 if received within timeout. */
static int wait_message(void *socket, rill_received_t *received, long timeout)
{
    long deadline = rill_test_now_ms() + timeout;
    long next_ping = 0;
    for (;;) {
        int got = rill_protocol_receive(socket, received);
        if (got == 1)
            return 1;
        long now = rill_test_now_ms();
        if (now >= deadline)
            return 0;
        if (pinger != NULL && now >= next_ping) {
            send_command(pinger, RILL_COMMAND_PING, 0);
            next_ping = now + 50;
        }
        zmq_pollitem_t item = {socket, 0, ZMQ_POLLIN, 0};
        zmq_poll(&item, 1, 20);
    }
}

/* Receives a message of the given channel and command (others are skipped:
 * PINGs from the broker). Fills message; caller closes received. */
static void expect(void *socket, rill_channel_t channel, rill_command_t command, rill_received_t *received,
                   rill_message_t *message, const char *what)
{
    long deadline = rill_test_now_ms() + 3000;
    while (rill_test_now_ms() < deadline) {
        if (!wait_message(socket, received, deadline - rill_test_now_ms()))
            break;
        const char *error = NULL;
        REQUIRE(rill_message_parse(channel, received->frames, received->count, message, &error) == 0,
                "%s: parse: %s", what, error);
        if (message->command == command)
            return;
        rill_received_close(received);
    }
    REQUIRE(0, "%s: no %s within 3 s", what, rill_command_name(command));
}

static json_t *frame_json(rill_frame_t frame)
{
    json_t *value = json_loadb((const char *)frame.data, frame.size, 0, NULL);
    REQUIRE(value != NULL, "bad JSON %.*s", (int)frame.size, frame.data);
    return value;
}

/* Receives one event on sub; checks type and seq. Returns data JSON text (static). */
static const char *expect_event(void *sub, const char *topic, const char *event, uint64_t seq)
{
    static char data[4096];
    rill_received_t received;
    rill_event_t parsed;
    const char *error = NULL;
    for (;;) {
        REQUIRE(wait_message(sub, &received, 3000), "no %s event %llu", event, (unsigned long long)seq);
        REQUIRE(rill_event_parse(received.frames, received.count, &parsed, &error) == 0, "event: %s", error);
        if (parsed.type != RILL_EVENT_SYNC)
            break;
        /* A heartbeat's sync (of any subject this SUB follows) is no event. */
        rill_received_close(&received);
    }
    CHECKF(rill_frame_equals(parsed.topic, topic), "topic %.*s", (int)parsed.topic.size, parsed.topic.data);
    CHECKF(strcmp(rill_event_type_name(parsed.type), event) == 0, "event %s, expected %s",
          rill_event_type_name(parsed.type), event);
    CHECKF(parsed.seq == seq, "seq %llu, expected %llu", (unsigned long long)parsed.seq,
          (unsigned long long)seq);
    snprintf(data, sizeof(data), "%.*s", (int)parsed.data.size, parsed.data.data);
    rill_received_close(&received);
    return data;
}

static void *connect_socket(int type, const char *endpoint)
{
    void *socket = zmq_socket(context, type);
    int linger = 0;
    zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof(linger));
    REQUIRE(zmq_connect(socket, endpoint) == 0, "connect %s", endpoint);
    return socket;
}

static void hello(void *worker, const char *name, int credit)
{
    char text[256];
    snprintf(text, sizeof(text),
             "{\"name\":\"%s\",\"host\":\"smoke\",\"pid\":%d,\"kinds\":[\"demo\"],\"credit\":%d,"
             "\"session\":\"%032x\"}",
             name, (int)getpid(), credit, (unsigned)credit);
    send_command(worker, RILL_COMMAND_HELLO, 1, text);
    rill_received_t received;
    rill_message_t message;
    expect(worker, RILL_CHANNEL_TO_WORKER, RILL_COMMAND_WELCOME, &received, &message, "WELCOME");
    json_t *welcome = frame_json(message.arguments[0]);
    CHECKF(json_integer_value(json_object_get(welcome, "heartbeat_ms")) == 100, "heartbeat_ms");
    CHECKF(json_string_length(json_object_get(welcome, "broker")) == 32, "broker id");
    json_decref(welcome);
    rill_received_close(&received);
}

static long last_batch_seq; /* the seq of the last BATCH's job */

/* Expects a BATCH holding job id; returns its attempt. */
static long expect_batch(void *worker, const char *id)
{
    rill_received_t received;
    rill_message_t message;
    expect(worker, RILL_CHANNEL_TO_WORKER, RILL_COMMAND_BATCH, &received, &message, "BATCH");
    json_t *batch = frame_json(message.arguments[0]);
    json_t *jobs = json_object_get(batch, "jobs");
    REQUIRE(json_array_size(jobs) == 1, "batch of one");
    json_t *job = json_array_get(jobs, 0);
    CHECKF(strcmp(json_string_value(json_object_get(job, "id")), id) == 0, "batch job id");
    CHECKF(strcmp(json_string_value(json_object_get(job, "kind")), "demo") == 0, "batch kind");
    CHECKF(json_string_length(json_object_get(batch, "batch")) == 32, "batch id");
    long attempt = (long)json_integer_value(json_object_get(job, "attempt"));
    last_batch_seq = (long)json_integer_value(json_object_get(job, "seq"));
    json_decref(batch);
    rill_received_close(&received);
    return attempt;
}

static json_t *request_status(void *frontend, const char *id)
{
    send_command(frontend, RILL_COMMAND_STATUS, 2, "st", id);
    rill_received_t received;
    rill_message_t message;
    expect(frontend, RILL_CHANNEL_TO_FRONTEND, RILL_COMMAND_STATUS, &received, &message, "STATUS");
    json_t *status = frame_json(message.arguments[1]);
    rill_received_close(&received);
    return status;
}

static const char *state_of(json_t *status)
{
    const char *state = json_string_value(json_object_get(status, "state"));
    return state != NULL ? state : "(none)";
}

static void submit(void *frontend, const char *token, const char *jobs)
{
    send_command(frontend, RILL_COMMAND_SUBMIT, 3, "r1", token, jobs);
    rill_received_t received;
    rill_message_t message;
    expect(frontend, RILL_CHANNEL_TO_FRONTEND, RILL_COMMAND_SUBMITTED, &received, &message, "SUBMITTED");
    CHECKF(rill_frame_equals(message.arguments[0], "r1"), "req echoed");
    rill_received_close(&received);
}

/* Follows demo job id ("j" + id) and its barrier token "token" + n, submits
 * it, and waits for its BATCH on worker. */
static void submit_followed(void *frontend, void *sub, void *worker, const char *id, int n)
{
    char topic[64], token[16], subscription[20], jobs[96];
    snprintf(topic, sizeof(topic), "j%s", id);
    snprintf(token, sizeof(token), "token%d", n);
    snprintf(subscription, sizeof(subscription), "s%s", token);
    snprintf(jobs, sizeof(jobs), "[{\"id\":\"%s\",\"kind\":\"demo\"}]", id);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, topic, strlen(topic));
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, subscription, strlen(subscription));
    submit(frontend, token, jobs);
    expect_batch(worker, id);
}

static void expect_error(void *frontend, const char *code, const char *what)
{
    rill_received_t received;
    rill_message_t message;
    expect(frontend, RILL_CHANNEL_TO_FRONTEND, RILL_COMMAND_ERROR, &received, &message, what);
    CHECKF(rill_frame_equals(message.arguments[1], code), "%s: code %.*s, expected %s", what,
          (int)message.arguments[1].size, message.arguments[1].data, code);
    rill_received_close(&received);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: smoke_broker PATH-TO-rill-broker\n");
        return 2;
    }
    char run_dir[] = "/tmp/rill-broker-smoke-XXXXXX";
    REQUIRE(mkdtemp(run_dir) != NULL, "mkdtemp");
    char config_path[512], endpoint[600];
    REQUIRE(rill_test_write_config(run_dir,
                                   "{\"kinds\":[\"demo\"],\"heartbeat_ms\":100,\"retries\":1,"
                                   "\"retain_parts\":10,\"timeout_ms\":1500}\n",
                                   config_path, sizeof(config_path)) == 0,
            "config file");
    broker_pid = fork();
    if (broker_pid == 0) {
        execl(argv[1], argv[1], "--run-dir", run_dir, "--config", config_path, "--log",
              getenv("SMOKE_LOG") != NULL ? getenv("SMOKE_LOG") : "info", (char *)NULL);
        _exit(127);
    }
    context = zmq_ctx_new();
    snprintf(endpoint, sizeof(endpoint), "ipc://%s/control.sock", run_dir);
    void *frontend = connect_socket(ZMQ_DEALER, endpoint);
    snprintf(endpoint, sizeof(endpoint), "ipc://%s/events.sock", run_dir);
    void *sub = connect_socket(ZMQ_SUB, endpoint);
    snprintf(endpoint, sizeof(endpoint), "ipc://%s/workers.sock", run_dir);
    void *worker = connect_socket(ZMQ_DEALER, endpoint);
    void *worker2 = connect_socket(ZMQ_DEALER, endpoint);
    void *stranger = connect_socket(ZMQ_DEALER, endpoint);

    /* Liveness: PING until PONG (the broker may still be starting). */
    rill_received_t received;
    rill_message_t message;
    int ponged = 0;
    for (int i = 0; i < 50 && !ponged; i++) {
        send_command(frontend, RILL_COMMAND_PING, 0);
        if (wait_message(frontend, &received, 100)) {
            const char *error;
            ponged = rill_message_parse(RILL_CHANNEL_TO_FRONTEND, received.frames, received.count,
                                        &message, &error) == 0 &&
                     message.command == RILL_COMMAND_PONG;
            rill_received_close(&received);
        }
    }
    REQUIRE(ponged, "no PONG from the broker");
    /* The first broker of a run directory has nothing to recover: the PONG
     * says when it started and that it is not recovering; an unknown job is
     * not_found at once. */
    send_command(frontend, RILL_COMMAND_PING, 0);
    expect(frontend, RILL_CHANNEL_TO_FRONTEND, RILL_COMMAND_PONG, &received, &message, "PONG");
    json_t *first_pong = frame_json(message.arguments[0]);
    CHECKF(json_integer_value(json_object_get(first_pong, "started_ms")) > 1600000000000LL, "started_ms");
    CHECKF(json_is_false(json_object_get(first_pong, "recovering")), "not recovering");
    json_decref(first_pong);
    rill_received_close(&received);
    send_command(frontend, RILL_COMMAND_STATUS, 2, "s0", "ffffffffffffffffffffffffffffffff");
    expect_error(frontend, "not_found", "status of an unknown job at start");
    /* Drain extra PONGs. */
    while (wait_message(frontend, &received, 200))
        rill_received_close(&received);

    /* Malformed input and a wrong version: dropped, broker stays up. */
    const char *wrong[] = {"rill/1", "HELLO", "{}"};
    rill_frame_t frames[3] = {rill_frame_from_string(wrong[0]), rill_frame_from_string(wrong[1]),
                              rill_frame_from_string(wrong[2])};
    rill_protocol_send(stranger, NULL, frames, 3, 0);
    rill_protocol_send(frontend, NULL, frames, 1, 0);
    send_command(frontend, RILL_COMMAND_SUBMIT, 3, "bad", "", "[{\"id\":1}]");
    expect_error(frontend, "bad_request", "malformed SUBMIT");
    send_command(frontend, RILL_COMMAND_SUBMIT, 3, "bad", "", "[{\"id\":\"0123456789abcdef0123456789abcdef\",\"kind\":\"nope\"}]");
    expect_error(frontend, "unknown_kind", "unknown kind");

    /* A stranger that speaks to the workers socket without HELLO: REJOIN. */
    send_command(stranger, RILL_COMMAND_DONE, 1, "0123456789abcdef0123456789abcdef");
    expect(stranger, RILL_CHANNEL_TO_WORKER, RILL_COMMAND_REJOIN, &received, &message, "REJOIN");
    rill_received_close(&received);

    hello(worker, "w1", 2);
    pinger = worker;

    /* PONG counts the worker. */
    send_command(frontend, RILL_COMMAND_PING, 0);
    expect(frontend, RILL_CHANNEL_TO_FRONTEND, RILL_COMMAND_PONG, &received, &message, "PONG");
    json_t *pong = frame_json(message.arguments[0]);
    CHECKF(json_integer_value(json_object_get(pong, "workers")) == 1, "PONG workers");
    CHECKF(json_integer_value(json_object_get(json_object_get(pong, "kinds"), "demo")) == 1, "PONG kinds");
    json_decref(pong);
    rill_received_close(&received);

    /* Job 1: subscribe, barrier, submit; parts 1..3 and done 4. */
    const char *id1 = "00000000000000000000000000000001";
    const char *topic1 = "j00000000000000000000000000000001";
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, topic1, strlen(topic1));
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "stoken1", 7);
    submit(frontend, "token1",
           "[{\"id\":\"00000000000000000000000000000001\",\"kind\":\"demo\",\"who\":\"smoke\",\"args\":{\"parts\":3}}]");
    send_command(frontend, RILL_COMMAND_SUBMIT, 3, "dup", "", "[{\"id\":\"00000000000000000000000000000001\",\"kind\":\"demo\"}]");
    expect_error(frontend, "conflict", "duplicate id");
    CHECKF(expect_batch(worker, id1) == 1, "attempt 1");
    zmq_setsockopt(sub, ZMQ_UNSUBSCRIBE, "stoken1", 7);
    json_t *status = request_status(frontend, id1);
    CHECKF(strcmp(state_of(status), "running") == 0, "running, got %s", state_of(status));
    CHECKF(strcmp(json_string_value(json_object_get(json_object_get(status, "worker"), "name")), "w1") == 0,
          "worker name");
    CHECKF(json_integer_value(json_object_get(status, "subscribers")) == 1, "1 subscriber");
    json_decref(status);
    send_command(worker, RILL_COMMAND_PART, 3, id1, "1", "{\"i\":1}");
    send_command(worker, RILL_COMMAND_PART, 3, id1, "2", "{\"i\":2}");
    send_command(worker, RILL_COMMAND_PART, 3, id1, "2", "{\"i\":2}"); /* re-sent: dropped */
    /* Pretty-printed JSON from a foreign worker: line breaks become spaces. */
    send_command(worker, RILL_COMMAND_PART, 3, id1, "3", "{\r\n  \"i\": 3\n}");
    send_command(worker, RILL_COMMAND_DONE, 1, id1);
    CHECKF(strcmp(expect_event(sub, topic1, "part", 1), "{\"i\":1}") == 0, "part 1 data");
    expect_event(sub, topic1, "part", 2);
    CHECKF(strcmp(expect_event(sub, topic1, "part", 3), "{    \"i\": 3 }") == 0, "part 3 flattened");
    CHECKF(strcmp(expect_event(sub, topic1, "done", 4), "{\"parts\":3}") == 0, "done data");
    status = request_status(frontend, id1);
    CHECKF(strcmp(state_of(status), "done") == 0, "done, got %s", state_of(status));
    CHECKF(json_integer_value(json_object_get(status, "parts")) == 3, "3 parts");
    CHECKF(json_is_integer(json_object_get(json_object_get(status, "timings"), "ended_ms")), "ended_ms");
    json_decref(status);
    send_command(frontend, RILL_COMMAND_CANCEL, 2, "c", id1);
    expect_error(frontend, "conflict", "cancel of an ended job");

    /* FETCH replays what is retained after a seq. */
    send_command(frontend, RILL_COMMAND_FETCH, 4, "f", "", topic1, "2");
    expect(frontend, RILL_CHANNEL_TO_FRONTEND, RILL_COMMAND_REPLAY, &received, &message, "REPLAY");
    json_t *header = frame_json(message.arguments[2]);
    CHECKF(json_integer_value(json_object_get(header, "first")) == 1, "first");
    CHECKF(json_integer_value(json_object_get(header, "last")) == 4, "last");
    CHECKF(json_is_true(json_object_get(header, "ended")) && json_is_true(json_object_get(header, "final")),
          "ended, final");
    CHECKF(message.argument_count == 3 + 6, "two events replayed, got %zu frames", message.argument_count);
    if (message.argument_count == 9) {
        CHECKF(rill_frame_equals(message.arguments[3], "part") && rill_frame_equals(message.arguments[4], "3"),
              "replayed part 3");
        CHECKF(rill_frame_equals(message.arguments[6], "done") && rill_frame_equals(message.arguments[7], "4"),
              "replayed done 4");
    }
    json_decref(header);
    rill_received_close(&received);
    /* FETCH behind a barrier: answered once the token's subscription is in. */
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "sfetch1", 7);
    long asked = rill_test_now_ms();
    send_command(frontend, RILL_COMMAND_FETCH, 4, "f2", "fetch1", topic1, "0");
    expect(frontend, RILL_CHANNEL_TO_FRONTEND, RILL_COMMAND_REPLAY, &received, &message, "REPLAY after barrier");
    CHECKF(rill_test_now_ms() - asked < 1000, "barrier released by the subscription, not the 2 s timeout");
    CHECKF(message.argument_count == 3 + 12, "four events replayed, got %zu frames", message.argument_count);
    rill_received_close(&received);
    zmq_setsockopt(sub, ZMQ_UNSUBSCRIBE, "sfetch1", 7);
    send_command(frontend, RILL_COMMAND_FETCH, 4, "f", "", "j0000000000000000000000000000000f", "0");
    expect_error(frontend, "not_found", "fetch of an unknown job");

    /* Topics: PUBLISH -> PUBLISHED with the next seq, a part event, retained
     * for FETCH; a topic nobody published to is empty, never not_found. */
    send_command(frontend, RILL_COMMAND_FETCH, 4, "t0", "", "tnews/", "0");
    expect(frontend, RILL_CHANNEL_TO_FRONTEND, RILL_COMMAND_REPLAY, &received, &message, "REPLAY of a new topic");
    header = frame_json(message.arguments[2]);
    CHECKF(json_integer_value(json_object_get(header, "first")) == 1 &&
              json_integer_value(json_object_get(header, "last")) == 0 && message.argument_count == 3,
          "an unknown topic has nothing");
    json_decref(header);
    rill_received_close(&received);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "tnews/", 6);
    usleep(100 * 1000); /* the subscription reaches the XPUB */
    for (int n = 1; n <= 3; n++) {
        char data[32];
        snprintf(data, sizeof(data), "{\"n\":%d}", n);
        send_command(frontend, RILL_COMMAND_PUBLISH, 3, "p", "news", data);
        expect(frontend, RILL_CHANNEL_TO_FRONTEND, RILL_COMMAND_PUBLISHED, &received, &message, "PUBLISHED");
        json_t *published = frame_json(message.arguments[1]);
        CHECKF(json_integer_value(json_object_get(published, "seq")) == n, "publish seq %d", n);
        CHECKF(strcmp(json_string_value(json_object_get(published, "topic")), "news") == 0, "topic name");
        json_decref(published);
        rill_received_close(&received);
        CHECKF(strcmp(expect_event(sub, "tnews/", "part", (uint64_t)n), data) == 0, "topic data %d", n);
    }
    zmq_setsockopt(sub, ZMQ_UNSUBSCRIBE, "tnews/", 6);
    send_command(frontend, RILL_COMMAND_FETCH, 4, "t1", "", "tnews/", "1");
    expect(frontend, RILL_CHANNEL_TO_FRONTEND, RILL_COMMAND_REPLAY, &received, &message, "REPLAY of a topic");
    header = frame_json(message.arguments[2]);
    CHECKF(json_integer_value(json_object_get(header, "first")) == 1 &&
              json_integer_value(json_object_get(header, "last")) == 3 &&
              json_is_false(json_object_get(header, "ended")),
          "topic retains 1..3");
    CHECKF(message.argument_count == 3 + 6 && rill_frame_equals(message.arguments[4], "2") &&
              rill_frame_equals(message.arguments[5], "{\"n\":2}"),
          "topic replay after 1");
    json_decref(header);
    rill_received_close(&received);
    /* "After the latest": nothing replayed, last tells where live starts. */
    send_command(frontend, RILL_COMMAND_FETCH, 4, "t2", "", "tnews/", "9999999999999999999");
    expect(frontend, RILL_CHANNEL_TO_FRONTEND, RILL_COMMAND_REPLAY, &received, &message, "REPLAY latest");
    header = frame_json(message.arguments[2]);
    CHECKF(json_integer_value(json_object_get(header, "last")) == 3 && message.argument_count == 3,
          "latest of a topic");
    json_decref(header);
    rill_received_close(&received);
    /* TOPIC_MATCH behind a barrier (rill/11): no list until the token's
     * subscription is in, then at once; with no token, at once. */
    send_command(frontend, RILL_COMMAND_PUBLISH, 3, "p", "news.cpu", "{}");
    expect(frontend, RILL_CHANNEL_TO_FRONTEND, RILL_COMMAND_PUBLISHED, &received, &message, "PUBLISHED news.cpu");
    rill_received_close(&received);
    send_command(frontend, RILL_COMMAND_TOPIC_MATCH, 3, "m1", "news.", "match1");
    zmq_pollitem_t waiting = {frontend, 0, ZMQ_POLLIN, 0};
    CHECKF(zmq_poll(&waiting, 1, 300) == 0, "TOPIC_MATCH answered before its token's subscription");
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "smatch1", 7);
    asked = rill_test_now_ms();
    expect(frontend, RILL_CHANNEL_TO_FRONTEND, RILL_COMMAND_TOPIC_MATCHED, &received, &message, "TOPIC_MATCHED");
    CHECKF(rill_test_now_ms() - asked < 1000, "barrier released by the subscription, not the 2 s timeout");
    CHECKF(rill_frame_equals(message.arguments[0], "m1") && memmem(message.arguments[1].data,
                                                                    message.arguments[1].size, "news.cpu", 8),
           "the held list names news.cpu");
    rill_received_close(&received);
    zmq_setsockopt(sub, ZMQ_UNSUBSCRIBE, "smatch1", 7);
    send_command(frontend, RILL_COMMAND_TOPIC_MATCH, 3, "m2", "news.", "");
    expect(frontend, RILL_CHANNEL_TO_FRONTEND, RILL_COMMAND_TOPIC_MATCHED, &received, &message, "TOPIC_MATCHED now");
    rill_received_close(&received);
    send_command(frontend, RILL_COMMAND_TOPIC_MATCH, 3, "m3", "news.", "bad token");
    expect_error(frontend, "bad_request", "TOPIC_MATCH with a bad token");
    send_command(frontend, RILL_COMMAND_PUBLISH, 3, "p", "bad name", "{}");
    expect_error(frontend, "bad_request", "publish to a bad topic name");
    send_command(frontend, RILL_COMMAND_PUBLISH, 3, "p", "news", "{\"a\":\n1}");
    expect_error(frontend, "bad_request", "publish of a message with a line break");
    send_command(frontend, RILL_COMMAND_PUBLISH, 3, "p", "news", "{\"a\":");
    expect_error(frontend, "bad_request", "publish of invalid JSON");

    /* Job 2: its only subscriber leaves a live frontend (RELEASE, then the
     * unsubscribe) -> cancelled on its worker at once. */
    const char *id2 = "00000000000000000000000000000002";
    const char *topic2 = "j00000000000000000000000000000002";
    submit_followed(frontend, sub, worker, id2, 2);
    send_command(worker, RILL_COMMAND_PART, 3, id2, "1", "{\"i\":1}");
    expect_event(sub, topic2, "part", 1);
    send_command(frontend, RILL_COMMAND_RELEASE, 1, id2);
    zmq_setsockopt(sub, ZMQ_UNSUBSCRIBE, topic2, strlen(topic2));
    expect(worker, RILL_CHANNEL_TO_WORKER, RILL_COMMAND_CANCEL, &received, &message, "CANCEL on unsubscribe");
    CHECKF(rill_frame_equals(message.arguments[0], id2), "cancelled job id");
    rill_received_close(&received);
    status = request_status(frontend, id2);
    CHECKF(strcmp(state_of(status), "cancelled") == 0, "cancelled, got %s", state_of(status));
    json_decref(status);
    /* A part that crossed the CANCEL is ignored. */
    send_command(worker, RILL_COMMAND_PART, 3, id2, "2", "{\"late\":1}");

    /* Job 3 (detached): worker2 (more credit) takes it and goes silent;
     * it is retried on worker 1 with attempt 2 and a retry event. */
    hello(worker2, "w2", 5);
    const char *id3 = "00000000000000000000000000000003";
    const char *topic3 = "j00000000000000000000000000000003";
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, topic3, strlen(topic3));
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "stoken3", 7);
    submit(frontend, "token3",
           "[{\"id\":\"00000000000000000000000000000003\",\"kind\":\"demo\",\"detach\":true}]");
    CHECKF(expect_batch(worker2, id3) == 1, "attempt 1 on w2");
    send_command(worker2, RILL_COMMAND_PART, 3, id3, "1", "{\"w\":2}");
    expect_event(sub, topic3, "part", 1);
    /* worker2 falls silent; worker 1 keeps pinging (wait_message). */
    CHECKF(expect_batch(worker, id3) == 2, "attempt 2 on w1");
    CHECKF(last_batch_seq == 2, "attempt 2 goes on after its retry event, seq 2: %ld", last_batch_seq);
    CHECKF(strcmp(expect_event(sub, topic3, "retry", 2), "{\"attempt\":2,\"reason\":\"worker_lost\"}") == 0,
          "retry data");
    send_command(worker, RILL_COMMAND_PART, 3, id3, "3", "{\"w\":1}");
    expect_event(sub, topic3, "part", 3);
    send_command(worker, RILL_COMMAND_FAIL, 3, id3, "boom", "it \"broke\"");
    CHECKF(strcmp(expect_event(sub, topic3, "error", 4), "{\"code\":\"boom\",\"message\":\"it \\\"broke\\\"\"}") == 0,
          "error data escaped");
    status = request_status(frontend, id3);
    CHECKF(strcmp(state_of(status), "failed") == 0, "failed, got %s", state_of(status));
    CHECKF(json_integer_value(json_object_get(status, "attempt")) == 2, "attempt 2");
    json_decref(status);

    /* Job 4: CANCEL by request. */
    const char *id4 = "00000000000000000000000000000004";
    submit(frontend, "", "[{\"id\":\"00000000000000000000000000000004\",\"kind\":\"demo\",\"detach\":true}]");
    expect_batch(worker, id4);
    send_command(frontend, RILL_COMMAND_CANCEL, 2, "c4", id4);
    expect(frontend, RILL_CHANNEL_TO_FRONTEND, RILL_COMMAND_STATUS, &received, &message, "CANCEL reply");
    status = frame_json(message.arguments[1]);
    CHECKF(strcmp(state_of(status), "cancelled") == 0, "cancelled by request, got %s", state_of(status));
    json_decref(status);
    rill_received_close(&received);
    expect(worker, RILL_CHANNEL_TO_WORKER, RILL_COMMAND_CANCEL, &received, &message, "CANCEL by request");
    rill_received_close(&received);

    /* Job 5 never ends on its worker: timeout -> error event + CANCEL. */
    const char *id5 = "00000000000000000000000000000005";
    const char *topic5 = "j00000000000000000000000000000005";
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, topic5, strlen(topic5));
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "stoken5", 7);
    submit(frontend, "token5", "[{\"id\":\"00000000000000000000000000000005\",\"kind\":\"demo\"}]");
    expect_batch(worker, id5);
    expect(worker, RILL_CHANNEL_TO_WORKER, RILL_COMMAND_CANCEL, &received, &message, "CANCEL on timeout");
    rill_received_close(&received);
    CHECKF(strstr(expect_event(sub, topic5, "error", 1), "\"code\":\"timeout\"") != NULL, "timeout code");

    /* Job 7: a PART over max_part_bytes (1 MiB) from a foreign worker is
     * dropped and fails its job part_too_large; the worker gets CANCEL. */
    const char *id7 = "00000000000000000000000000000007";
    const char *topic7 = "j00000000000000000000000000000007";
    submit_followed(frontend, sub, worker, id7, 7);
    size_t huge_size = 1024 * 1024 + 1;
    char *huge = malloc(huge_size + 1);
    REQUIRE(huge != NULL, "malloc");
    memset(huge, ' ', huge_size);
    huge[0] = '1';
    huge[huge_size] = '\0';
    send_command(worker, RILL_COMMAND_PART, 3, id7, "1", huge);
    free(huge);
    expect(worker, RILL_CHANNEL_TO_WORKER, RILL_COMMAND_CANCEL, &received, &message, "CANCEL of a too large part");
    rill_received_close(&received);
    CHECKF(strstr(expect_event(sub, topic7, "error", 1), "\"code\":\"part_too_large\"") != NULL,
           "part_too_large");

    /* SIGHUP: a bad config is refused (old one stays), a good one is used. */
    REQUIRE(rill_test_write_config(run_dir, "{\"kinds\":[\"demo\"],\"heartbeat_ms\":\"fast\"}\n", config_path,
                                   sizeof(config_path)) == 0,
            "bad config file");
    kill(broker_pid, SIGHUP);
    send_command(frontend, RILL_COMMAND_SUBMIT, 3, "t", "", "[{\"id\":\"00000000000000000000000000000006\",\"kind\":\"tail\"}]");
    expect_error(frontend, "unknown_kind", "tail before reload");
    REQUIRE(rill_test_write_config(run_dir, "{\"kinds\":[\"demo\",\"tail\"],\"heartbeat_ms\":100}\n",
                                   config_path, sizeof(config_path)) == 0,
            "new config file");
    kill(broker_pid, SIGHUP);
    usleep(200000);
    submit(frontend, "", "[{\"id\":\"00000000000000000000000000000006\",\"kind\":\"tail\",\"detach\":true}]");
    status = request_status(frontend, "00000000000000000000000000000006");
    CHECKF(strcmp(state_of(status), "waiting") == 0, "waiting (no tail worker), got %s", state_of(status));
    json_decref(status);

    /* The broker is still answering after all of that. */
    send_command(frontend, RILL_COMMAND_STATUS, 2, "s", "ffffffffffffffffffffffffffffffff");
    expect_error(frontend, "not_found", "status of an unknown job");

    zmq_close(frontend);
    zmq_close(sub);
    zmq_close(worker);
    zmq_close(worker2);
    zmq_close(stranger);
    zmq_ctx_term(context);
    finish(0);
    return 0;
}
