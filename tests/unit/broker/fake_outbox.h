/*
 * fake_outbox.h - the broker's outbox (broker/outbox.h) for tests without
 * sockets: it records every event published, command sent to a worker and
 * reply to a frontend, so a test reads what would have gone out. A
 * follower's batch (rill/4) is recorded as its events, in order, each with
 * the message it came in.
 */
#ifndef RILL_TEST_FAKE_OUTBOX_H
#define RILL_TEST_FAKE_OUTBOX_H

#include "broker.h"
#include "outbox.h"

#include <stddef.h>
#include <stdint.h>

#define RECORDED_MAX 256
#define FRAMES_MAX 8
#define FRAME_TEXT_MAX 1024

typedef struct {
    char follow[80];   /* rill/4: the follow subject it went to ("d<token>/"), "" = its subject */
    char subject[160];
    char event[16];
    uint64_t seq;
    char data[FRAME_TEXT_MAX];
    size_t message; /* index of the XPUB message it went in (a batch holds several: rill/4) */
    size_t batch;   /* events in that message's batch; 0 = it went alone */
} published_t;

typedef struct {
    char routing[64];
    rill_command_t command;
    size_t count;
    char frames[FRAMES_MAX][FRAME_TEXT_MAX]; /* the first FRAMES_MAX arguments, as text */
} sent_t;

typedef struct {
    published_t published[RECORDED_MAX];
    size_t published_count;
    size_t message_count; /* XPUB messages (a follower's batch is one) */
    sent_t commands[RECORDED_MAX];
    size_t command_count;
    sent_t replies[RECORDED_MAX];
    size_t reply_count;
    int workers_unreachable; /* sends to workers fail (EHOSTUNREACH) */
} fake_t;

extern fake_t fake;

/* An outbox whose three senders record into fake. */
rill_outbox_t fake_outbox(void);
/* A broker of config on that outbox, past its recovery window (an unknown
 * job is not_found; test_worker_sessions.c has the window). A broker that
 * cannot be made ends the test program with the reason. */
rill_broker_t *fake_outbox_broker(const rill_config_t *config);
void forget_recorded(void);
const published_t *last_published(void);
/* A pipeline added to config for kind: one job a batch, concurrency 1,
 * retention and a deadline set; the caller sets the rest. */
rill_pipeline_config_t *fake_add_pipeline(rill_config_t *config, const char *name, const char *kind);
/* A frontend's (routing's) PUBLISH req name data "" key (rill/10), handled
 * as the control channel hands it on (topic_lease.h). */
void fake_publish_keyed(rill_broker_t *broker, const char *routing, const char *req, const char *name,
                        const char *data, const char *key);
/* The last command sent to routing, of that command; NULL if none. */
const sent_t *last_command(const char *routing, rill_command_t command);

#endif
