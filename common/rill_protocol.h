/*
 * rill_protocol.h - the wire codec shared by broker, frontend and workers.
 *
 * docs/PROTOCOL.md is the contract; this file is its only implementation.
 * Messages are ZeroMQ multipart messages of raw frames. The codec never
 * allocates on the parse path: a parsed message points into the frames it
 * was given, so the caller keeps the frames alive while it uses the result.
 */
#ifndef RILL_PROTOCOL_H
#define RILL_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "rill_names.h"

#define RILL_PROTOCOL_VERSION "rill/12"
#define RILL_MESSAGE_MAX_FRAMES 64 /* REPLAY carries up to 16 events per message */
/* (rill/7) The most batch frames one BATCH message carries. */
#define RILL_BATCHES_PER_MESSAGE 32
#define RILL_SOCKET_HWM 100000
#define RILL_SOCKET_LINGER_MS 1000

typedef struct {
    const uint8_t *data;
    size_t size;
} rill_frame_t;

typedef enum {
    RILL_COMMAND_INVALID = 0,
    /* worker -> broker */
    RILL_COMMAND_HELLO,
    RILL_COMMAND_CREDIT,
    RILL_COMMAND_PART,
    RILL_COMMAND_DONE,
    RILL_COMMAND_FAIL,
    RILL_COMMAND_RETURN,
    RILL_COMMAND_BYE,
    /* broker -> worker */
    RILL_COMMAND_WELCOME,
    RILL_COMMAND_BATCH,
    RILL_COMMAND_CANCEL, /* also frontend -> broker, with a req frame */
    RILL_COMMAND_REJOIN,
    /* both ways, both channels */
    RILL_COMMAND_PING,
    RILL_COMMAND_PONG,
    /* frontend -> broker */
    RILL_COMMAND_SUBMIT,
    RILL_COMMAND_STATUS, /* also the broker's reply */
    RILL_COMMAND_FETCH,
    RILL_COMMAND_PUBLISH,
    RILL_COMMAND_METRICS, /* also the broker's reply */
    /* broker -> frontend */
    RILL_COMMAND_SUBMITTED,
    RILL_COMMAND_ERROR,
    RILL_COMMAND_REPLAY,
    RILL_COMMAND_PUBLISHED,
    /* frontend -> broker, no reply */
    RILL_COMMAND_RELEASE,
    RILL_COMMAND_FLOW, /* job id, 0|1: this frontend's clients of the job are behind (1) or not */
    /* broker -> worker */
    RILL_COMMAND_PAUSE, /* job id, 0|1: stop (1) or go on (0) reading the job's source */
    /* frontend -> broker (rill/3): the HTTP lists; also the broker's reply */
    RILL_COMMAND_LIST,     /* req, what (jobs|workers|topics|topic), query json -> LIST req json */
    RILL_COMMAND_PRESENCE, /* json: this frontend's subjects followed by 2+ local streams (no reply) */
    /* worker -> broker (rill/3): several parts in one frame (rill_parts_next) */
    RILL_COMMAND_PARTS,
    /* frontend -> broker, rill/3: topics (broker/topic_admin.c) */
    RILL_COMMAND_TOPIC_DELETE,  /* req, name -> TOPIC_DELETED req json | ERROR */
    RILL_COMMAND_TOPIC_DELETED,
    RILL_COMMAND_TOPIC_MATCH,   /* req, prefix -> TOPIC_MATCHED req json | ERROR */
    RILL_COMMAND_TOPIC_MATCHED,
    RILL_COMMAND_UNFOLLOW,      /* rill/4: job id, follow subject, 0|1 release (no reply) */
    RILL_COMMAND_TOPIC,         /* rill/5, worker -> broker: job id, topic name, data (no reply) */
    RILL_COMMAND_REVOKE,        /* rill/8, broker -> frontend: topic name: give its lease back (no req) */
    RILL_COMMAND_REVOKED,       /* rill/8, frontend -> broker: topic name: the lease is given back */
    RILL_COMMAND_COUNT
} rill_command_t;

/* Which socket a message travelled on: the same command name may take
 * different frames on different channels (CANCEL, STATUS). */
typedef enum {
    RILL_CHANNEL_TO_BROKER_FROM_WORKER,
    RILL_CHANNEL_TO_WORKER,
    RILL_CHANNEL_TO_BROKER_FROM_FRONTEND,
    RILL_CHANNEL_TO_FRONTEND,
} rill_channel_t;

typedef struct {
    rill_command_t command;
    size_t argument_count;
    rill_frame_t arguments[RILL_MESSAGE_MAX_FRAMES];
} rill_message_t;

typedef enum {
    RILL_EVENT_PART = 0,
    RILL_EVENT_DONE,
    RILL_EVENT_ERROR,
    RILL_EVENT_RETRY,
    RILL_EVENT_GAP,
    RILL_EVENT_SYNC, /* broker -> frontends only: "the subject's last seq is N" (never delivered) */
    RILL_EVENT_DELETED, /* rill/3, topics only: the topic was deleted (a topic_deleted notice) */
    RILL_EVENT_COUNT
} rill_event_type_t;

typedef enum {
    RILL_SUBJECT_JOB = 'j',
    RILL_SUBJECT_TOPIC = 't',
    RILL_SUBJECT_BARRIER = 's',
    RILL_SUBJECT_FOLLOW = 'd', /* rill/4: "d" + a frontend's token + "/": its direct delivery */
} rill_subject_kind_t;

/* A follow subject (rill/4, docs/PROTOCOL.md "Direct delivery"): "d", a
 * token of 8 to 64 bytes of [0-9A-Za-z_-], "/". */
#define RILL_FOLLOW_TOKEN_MIN 8
#define RILL_FOLLOW_TOKEN_MAX 64
#define RILL_FOLLOW_SUBJECT_MAX (RILL_FOLLOW_TOKEN_MAX + 2)
int rill_follow_subject_is_valid(const uint8_t *subject, size_t size);

/* One event on the responses subject. */
typedef struct {
    rill_frame_t topic;          /* the subject's topic ("j<id>", "t<name>/"), prefix included; for a
                                    followed job's event (rill/4) without the "d<token>/" before it */
    rill_frame_t follow;         /* rill/4: that "d<token>/" (size 0 when the event came by subject) */
    rill_subject_kind_t subject_kind;
    rill_frame_t subject;        /* job id or topic name, without prefix/suffix */
    rill_event_type_t type;
    uint64_t seq;
    rill_frame_t data;
    uint64_t accepted_ns; /* broker's CLOCK_MONOTONIC when it accepted the event; 0 if absent */
} rill_event_t;

/* Received multipart message: owns its zmq_msg_t frames. */
typedef struct {
    size_t count;
    int truncated; /* more than RILL_MESSAGE_MAX_FRAMES frames: rest dropped */
    zmq_msg_t parts[RILL_MESSAGE_MAX_FRAMES];
    rill_frame_t frames[RILL_MESSAGE_MAX_FRAMES];
} rill_received_t;

/* Parse frames (version frame first) as a message of the given channel.
 * Returns 0, or -1 with *error set to a static human-readable reason. */
int rill_message_parse(rill_channel_t channel, const rill_frame_t *frames, size_t count,
                       rill_message_t *message, const char **error);

/* Parse an event (docs/PROTOCOL.md, "Responses subject"): ONE frame
 * "<topic> rill/4 <event> <seq> <accepted_ns>\n<data>" (rill/3, what the
 * broker sends), or the frames [topic, version, event, seq, data,
 * (accepted_ns)]. The event's frames point into the given frames. */
int rill_event_parse(const rill_frame_t *frames, size_t count, rill_event_t *event,
                     const char **error);

/* The longest header of a one-frame event: topic, version, event name, seq
 * and accepted_ns with their separators. */
#define RILL_EVENT_HEADER_MAX (RILL_TOPIC_NAME_MAX + 2 + 1 + 6 + 1 + 16 + 1 + 20 + 1 + 20 + 2)

/* Writes the one-frame event's header (everything before its data) into
 * header; returns its length, or 0 when topic is too long or type unknown.
 * For a caller that copies the event straight into a buffer of its own
 * (the broker's follower batches) instead of building a message. */
size_t rill_event_header_encode(char header[RILL_EVENT_HEADER_MAX], const char *topic, size_t topic_length,
                                rill_event_type_t type, uint64_t seq, uint64_t accepted_ns);
/* The same with accepted_ns already written in decimal (accepted, its
 * length, at most 20): a caller with many events of one acceptance time
 * (a PARTS message's) writes the number once. */
size_t rill_event_header_encode_text(char header[RILL_EVENT_HEADER_MAX], const char *topic, size_t topic_length,
                                     rill_event_type_t type, uint64_t seq, const char *accepted,
                                     size_t accepted_length);
/* Builds the one-frame event into message (initialised here; the caller
 * sends or closes it): one allocation, the data copied once. topic is the
 * whole topic ("j<id>", "t<name>/"). *data_offset: where data starts in the
 * message. Returns 0, or -1 when libzmq cannot allocate it. */
int rill_event_encode(zmq_msg_t *message, const char *topic, size_t topic_length, rill_event_type_t type,
                      uint64_t seq, uint64_t accepted_ns, const void *data, size_t size,
                      size_t *data_offset);

const char *rill_command_name(rill_command_t command);
const char *rill_event_type_name(rill_event_type_t type);
int rill_event_type_from_name(const char *name, size_t length, rill_event_type_t *type);

/* Strict unsigned decimal: digits only, 1..19 of them. */
int rill_frame_to_u64(rill_frame_t frame, uint64_t *value);
/* "<digits><stop>" within [at, end), at most 19 digits: the number in
 * *value, and where what follows stop starts; NULL if malformed. */
const uint8_t *rill_number_before(const uint8_t *at, const uint8_t *end, uint8_t stop, uint64_t *value);
/* Writes the decimal form into buffer (>= 21 bytes); returns its length. */
size_t rill_u64_to_text(uint64_t value, char *buffer);
int rill_frame_equals(rill_frame_t frame, const char *text);
rill_frame_t rill_frame_from_string(const char *text);
/* Copies a frame into a fresh NUL-terminated string; caller frees. NULL on ENOMEM. */
char *rill_frame_strdup(rill_frame_t frame);

/* Sends frames as one multipart message (non-blocking unless flags say so).
 * When routing_id is non-NULL it goes first (ROUTER sockets). The version
 * frame is added by rill_protocol_send_command; rill_protocol_send sends
 * exactly the frames given. Return 0 or -1 (errno from zmq). */
int rill_protocol_send(void *socket, const rill_frame_t *routing_id, const rill_frame_t *frames,
                       size_t count, int flags);
int rill_protocol_send_command(void *socket, const rill_frame_t *routing_id, rill_command_t command,
                               const rill_frame_t *arguments, size_t argument_count, int flags);

/* Receives one whole multipart message without blocking.
 * Returns 1 when a message was read, 0 when none is waiting, -1 on error.
 * Release with rill_received_close. */
int rill_protocol_receive(void *socket, rill_received_t *received);
void rill_received_close(rill_received_t *received);

/* Applies rill's deliberate socket options (HWMs, linger, and
 * ZMQ_MAXMSGSIZE = max_message_bytes: a peer that sends a larger frame is
 * disconnected by libzmq) to a raw socket. Every socket of the three
 * processes goes through here. The environment variable RILL_SOCKET_HWM
 * overrides RILL_SOCKET_HWM. */
int rill_socket_configure(void *socket, uint64_t max_message_bytes);

/* Messages the worker <-> broker pipe holds on each side (the worker's
 * DEALER send side, the broker's ROUTER receive side). Small on purpose:
 * what a worker made and the broker has not taken waits in the worker's
 * outbox, whose high-water mark pauses the kinds, so little is in flight
 * when a job is paused for its slow clients (docs/PROTOCOL.md, "Flow").
 * ZeroMQ counts messages, not bytes, so the count is what bounds the bytes
 * in flight: 32 parts of max_part_bytes each way. With 1,000, two streams
 * of 1 MB parts left up to ~100 MB in the broker's receive pipe; 32 costs
 * the smallest parts ~20 % of throughput (docs/BENCHMARKS.md). */
#define RILL_WORKER_PIPE_HWM 32

/* Lowers the high-water mark option (ZMQ_SNDHWM or ZMQ_RCVHWM) of a
 * configured socket to at most cap (RILL_SOCKET_HWM may have made it
 * smaller still). Returns 0, or -1 with errno set. */
int rill_socket_cap_hwm(void *socket, int option, int cap);

#endif
