/*
 * fake_broker.h - the broker's end of workers.sock, for tests that drive a
 * real rill-worker process: a fresh run directory with a config file, a
 * ROUTER bound there, the worker started on it, and its messages received
 * parsed with the routing id to answer. It checks nothing itself: the
 * tests check what it returns (rill_test.h's counts are per file).
 */
#ifndef RILL_TEST_FAKE_BROKER_H
#define RILL_TEST_FAKE_BROKER_H

#include "rill_parts_batch.h"
#include "rill_protocol.h"

#include <stdint.h>
#include <sys/types.h>

typedef struct {
    char run_dir[64];
    char config_path[128];
    void *context;
    void *router;
    uint8_t routing_data[256];
    rill_frame_t routing; /* the worker's, from its last message; size 0 before any */
    pid_t worker_pid;
    /* A PARTS batch being handed out as PARTs, then its done frame's ids
     * as DONEs (fake_broker_receive). */
    uint8_t *batch;
    size_t batch_size, batch_offset;
    uint8_t *done;
    size_t done_size, done_offset;
    size_t batched_dones; /* DONEs that came in a PARTS's done frame (rill/7) */
    char seq_text[24];
    size_t parts_messages; /* PARTS messages received (each handed out as its PARTs) */
    long next_ping_ms;     /* fake_broker_pump: PINGs every 50 ms, across calls */
} fake_broker_t;

long fake_broker_now_ms(void);
/* A run directory named after prefix ("/tmp/rill-worker-X-XXXXXX"), its
 * config.json holding config_text, the ROUTER bound to its workers.sock.
 * 0, or -1 (printed). */
int fake_broker_open(fake_broker_t *self, const char *run_dir_template, const char *config_text);
/* Starts worker_path on the run directory with that config, more flags
 * after (NULL-terminated). */
void fake_broker_start_worker(fake_broker_t *self, const char *worker_path, ...);
/* The next message from the worker, parsed: 1 (close received after use),
 * 0 when none is waiting, -1 for one that does not parse (*error says why;
 * nothing to close). */
int fake_broker_receive(fake_broker_t *self, rill_received_t *received, rill_message_t *message,
                        const char **error);
/* What fake_broker_pump hands over: a message that parsed, or NULL and
 * why it did not. */
typedef void (*fake_broker_message_fn)(void *context, const rill_message_t *message, const char *error);
/* Reads what the worker sends for up to ms milliseconds, each message to
 * on_message, PINGing the worker every 50 ms as a broker does (it would
 * fall silent otherwise); returns early once stop(context) says 1 (stop
 * may be NULL). */
void fake_broker_pump(fake_broker_t *self, long ms, int (*stop)(void *context), fake_broker_message_fn on_message,
                      void *context);
/* command [argument] to the worker (argument NULL: none). 0 or -1. */
int fake_broker_send(fake_broker_t *self, rill_command_t command, const char *argument);
/* The WELCOME of a fresh broker (no job adopted or cancelled) that judges
 * the worker by heartbeat_ms. 0 or -1. */
int fake_broker_welcome(fake_broker_t *self, unsigned heartbeat_ms);
/* SIGTERM to the worker, then the socket, the config file and the run
 * directory go. Returns the worker's wait status. */
int fake_broker_close(fake_broker_t *self);

#endif
