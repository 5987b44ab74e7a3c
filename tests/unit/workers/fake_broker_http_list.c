/*
 * fake_broker_http_list.c - the http kind's list API, checked at the worker.
 *
 * Plays the broker (a ROUTER on ipc:// in a fresh run directory) for a real
 * rill-worker (argv[1]) and plays the upstream (a listening socket on
 * 127.0.0.1, served from the same poll loop). It sends ONE BATCH of three
 * `item` jobs of one upstream and checks that the upstream got exactly ONE
 * request naming the three items, and that each job got its own item as a
 * part and then DONE, or FAIL not_found for an item the answer lacks. The
 * same BATCH carries a job of a kind this worker does not serve (FAIL
 * unknown_kind) and two malformed entries, which are dropped without a word
 * while the rest runs. Ends with SIGTERM: the worker must exit 0.
 */
#include "fake_broker.h"
#include "rill_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


#define JOBS 4
#define ITEM_JOBS 3 /* the first three; the last is a demo job, a kind this worker does not serve */
static const char *const job_ids[JOBS] = {"00000000000000000000000000000001", "00000000000000000000000000000002",
                                          "00000000000000000000000000000003", "00000000000000000000000000000004"};
static const char *const job_items[ITEM_JOBS] = {"apple", "pear", "missing"};

typedef struct {
    char part[256];
    int parts;
    int done;
    char fail_code[64];
} job_result_t;

/* The upstream: answers a GET /items?ids=a,b,c with {"a":{"id":"a","n":1},...}
 * for every id but "missing". Records each request line. */
static int upstream_requests;
static char upstream_path[512];

static void serve_upstream(int client)
{
    char request[4096];
    size_t length = 0;
    long deadline = fake_broker_now_ms() + 3000;
    while (length < sizeof(request) - 1 && fake_broker_now_ms() < deadline) {
        struct pollfd item = {client, POLLIN, 0};
        if (poll(&item, 1, 100) <= 0)
            continue;
        ssize_t got = read(client, request + length, sizeof(request) - 1 - length);
        if (got <= 0)
            break;
        length += (size_t)got;
        request[length] = '\0';
        if (strstr(request, "\r\n\r\n") != NULL)
            break;
    }
    request[length] = '\0';
    upstream_requests++;
    char method[8] = "", path[512] = "";
    sscanf(request, "%7s %511s", method, path);
    snprintf(upstream_path, sizeof(upstream_path), "%s", path);
    json_t *answer = json_object();
    const char *ids = strstr(path, "ids=");
    if (ids != NULL) {
        char list[512];
        snprintf(list, sizeof(list), "%s", ids + 4);
        for (char *save = NULL, *id = strtok_r(list, ",", &save); id != NULL; id = strtok_r(NULL, ",", &save)) {
            if (strcmp(id, "missing") != 0)
                json_object_set_new(answer, id, json_pack("{s:s, s:i}", "id", id, "n", (int)strlen(id)));
        }
    }
    char *body = json_dumps(answer, JSON_COMPACT);
    char head[256];
    int head_length = snprintf(head, sizeof(head),
                               "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                               "Connection: close\r\n\r\n", strlen(body));
    CHECKF(write(client, head, (size_t)head_length) == head_length, "write head");
    CHECKF(write(client, body, strlen(body)) == (ssize_t)strlen(body), "write body");
    free(body);
    json_decref(answer);
    close(client);
}

static void send_to_worker(fake_broker_t *broker, rill_command_t command, const char *argument)
{
    CHECKF(fake_broker_send(broker, command, argument) == 0, "send %s", rill_command_name(command));
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fake_broker_http_list PATH-TO-rill-worker\n");
        return 2;
    }
    /* The upstream's socket. */
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t address_length = sizeof(address);
    if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof(address)) != 0 ||
        listen(listener, 16) != 0 || getsockname(listener, (struct sockaddr *)&address, &address_length) != 0) {
        perror("upstream socket");
        return 1;
    }
    int port = ntohs(address.sin_port);
    char config[512];
    snprintf(config, sizeof(config),
             "{\"heartbeat_ms\":200,\"upstreams\":{\"shop\":{\"url\":\"http://127.0.0.1:%d\","
             "\"list_url\":\"http://127.0.0.1:%d/items?ids={ids}\"}}}", port, port);
    fake_broker_t broker;
    if (fake_broker_open(&broker, "/tmp/rill-worker-list-XXXXXX", config) != 0)
        return 1;
    void *router = broker.router;
    fake_broker_start_worker(&broker, argv[1], "--kinds", "http", "--name", "list-test", NULL);

    job_result_t results[JOBS];
    memset(results, 0, sizeof(results));
    int batch_sent = 0;
    long deadline = fake_broker_now_ms() + 10000;
    for (;;) {
        int ended = 0;
        for (int i = 0; i < JOBS; i++)
            ended += results[i].done || results[i].fail_code[0] != '\0';
        if (ended == JOBS || fake_broker_now_ms() > deadline)
            break;
        zmq_pollitem_t items[2] = {{router, 0, ZMQ_POLLIN, 0}, {NULL, listener, ZMQ_POLLIN, 0}};
        zmq_poll(items, 2, 100);
        if (items[1].revents & ZMQ_POLLIN) {
            int client = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
            if (client >= 0)
                serve_upstream(client);
        }
        rill_received_t received;
        rill_message_t message;
        const char *error = NULL;
        int got;
        while ((got = fake_broker_receive(&broker, &received, &message, &error)) != 0) {
            CHECKF(got == 1, "bad message from the worker: %s", error);
            if (got != 1)
                continue;
            int index = -1;
            if (message.argument_count > 0) {
                for (int i = 0; i < JOBS; i++) {
                    if (rill_frame_equals(message.arguments[0], job_ids[i]))
                        index = i;
                }
            }
            switch (message.command) {
            case RILL_COMMAND_HELLO:
                send_to_worker(&broker, RILL_COMMAND_WELCOME,
                               "{\"broker\":\"fakefakefakefakefakefakefakefake\",\"heartbeat_ms\":200}");
                if (!batch_sent) {
                    json_t *jobs = json_array();
                    for (int i = 0; i < ITEM_JOBS; i++)
                        json_array_append_new(jobs, json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:i, s:s, s:i}", "id",
                                                              job_ids[i], "kind", "http", "source", "shop", "args",
                                                              "upstream", "shop", "item", job_items[i], "attempt", 1,
                                                              "who", "test", "seq", 10 * i));
                    json_array_append_new(jobs, json_pack("{s:s, s:s, s:i}", "id", job_ids[3], "kind", "demo",
                                                          "attempt", 1));
                    /* Malformed: an id that is no job id, an entry without a kind. */
                    json_array_insert_new(jobs, 1, json_pack("{s:s, s:s}", "id", "not-a-job-id", "kind", "http"));
                    json_array_append_new(jobs, json_pack("{s:s}", "id", "00000000000000000000000000000005"));
                    json_t *batch = json_pack("{s:s, s:o}", "batch", "b0000000000000000000000000000001", "jobs", jobs);
                    char *text = json_dumps(batch, JSON_COMPACT);
                    send_to_worker(&broker, RILL_COMMAND_BATCH, text);
                    free(text);
                    json_decref(batch);
                    batch_sent = 1;
                }
                break;
            case RILL_COMMAND_PART:
                CHECKF(index >= 0, "PART of an unknown job");
                if (index >= 0) {
                    results[index].parts++;
                    /* rill/4: the worker numbers the parts on from the BATCH's seq. */
                    char seq[24];
                    snprintf(seq, sizeof(seq), "%d", 10 * index + results[index].parts);
                    CHECKF(rill_frame_equals(message.arguments[1], seq), "part seq %.*s, expected %s",
                           (int)message.arguments[1].size, message.arguments[1].data, seq);
                    snprintf(results[index].part, sizeof(results[index].part), "%.*s",
                             (int)message.arguments[2].size, message.arguments[2].data);
                }
                break;
            case RILL_COMMAND_DONE:
                CHECKF(index >= 0, "DONE of an unknown job");
                if (index >= 0)
                    results[index].done = 1;
                break;
            case RILL_COMMAND_FAIL:
                CHECKF(index >= 0, "FAIL of an unknown job");
                if (index >= 0)
                    snprintf(results[index].fail_code, sizeof(results[index].fail_code), "%.*s",
                             (int)message.arguments[1].size, message.arguments[1].data);
                break;
            default:
                break;
            }
            rill_received_close(&received);
        }
    }

    CHECKF(batch_sent, "the worker never said HELLO");
    CHECKF(upstream_requests == 1, "%d upstream requests for one batch, expected 1", upstream_requests);
    CHECKF(strcmp(upstream_path, "/items?ids=apple,pear,missing") == 0, "upstream path %s", upstream_path);
    CHECKF(results[0].done && results[0].parts == 1 && strcmp(results[0].part, "{\"id\":\"apple\",\"n\":5}") == 0,
          "apple: done %d parts %d part %s fail %s", results[0].done, results[0].parts, results[0].part,
          results[0].fail_code);
    CHECKF(results[1].done && results[1].parts == 1 && strcmp(results[1].part, "{\"id\":\"pear\",\"n\":4}") == 0,
          "pear: done %d parts %d part %s fail %s", results[1].done, results[1].parts, results[1].part,
          results[1].fail_code);
    CHECKF(!results[2].done && results[2].parts == 0 && strcmp(results[2].fail_code, "not_found") == 0,
          "missing: done %d parts %d fail %s", results[2].done, results[2].parts, results[2].fail_code);
    CHECKF(!results[3].done && results[3].parts == 0 && strcmp(results[3].fail_code, "unknown_kind") == 0,
          "demo job: done %d parts %d fail %s", results[3].done, results[3].parts, results[3].fail_code);

    int status = fake_broker_close(&broker);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker exit status %d", status);
    close(listener);
    if (rill_test_failed == 0) {
        printf("http list batch: one upstream request for %d item jobs, all checks passed\n", ITEM_JOBS);
        return 0;
    }
    fprintf(stderr, "http list batch: %d rill_test_failed\n", rill_test_failed);
    return 1;
}
