/*
 * rill_protocol.c - parsing and sending of rill's messages (docs/PROTOCOL.md).
 *
 * Each channel's table names its commands and their arguments' shape; parsing
 * checks version, command, frame count and argument types, so the processes
 * above see only frames the protocol allows; they count and drop the rest.
 */
#include "rill_protocol.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    ARGUMENT_ANY = 0,  /* any bytes, may be empty */
    ARGUMENT_TEXT,     /* non-empty */
    ARGUMENT_JOB_ID,
    ARGUMENT_NUMBER,
    ARGUMENT_FLAG, /* "0" or "1" */
    ARGUMENT_JSON,     /* non-empty; starts like a JSON text (full check is the user's) */
    ARGUMENT_NUMBER_OR_EMPTY,
    ARGUMENT_PUBLISH_KEY_OR_EMPTY, /* rill/10 */
} argument_type_t;

typedef struct {
    rill_command_t command;
    size_t minimum;
    size_t maximum;
    argument_type_t types[5];
} command_shape_t;

static const char *command_names[RILL_COMMAND_COUNT] = {
    [RILL_COMMAND_INVALID] = "",
    [RILL_COMMAND_HELLO] = "HELLO",
    [RILL_COMMAND_CREDIT] = "CREDIT",
    [RILL_COMMAND_PART] = "PART",
    [RILL_COMMAND_DONE] = "DONE",
    [RILL_COMMAND_FAIL] = "FAIL",
    [RILL_COMMAND_RETURN] = "RETURN",
    [RILL_COMMAND_BYE] = "BYE",
    [RILL_COMMAND_WELCOME] = "WELCOME",
    [RILL_COMMAND_BATCH] = "BATCH",
    [RILL_COMMAND_CANCEL] = "CANCEL",
    [RILL_COMMAND_REJOIN] = "REJOIN",
    [RILL_COMMAND_PING] = "PING",
    [RILL_COMMAND_PONG] = "PONG",
    [RILL_COMMAND_SUBMIT] = "SUBMIT",
    [RILL_COMMAND_STATUS] = "STATUS",
    [RILL_COMMAND_FETCH] = "FETCH",
    [RILL_COMMAND_SUBMITTED] = "SUBMITTED",
    [RILL_COMMAND_ERROR] = "ERROR",
    [RILL_COMMAND_REPLAY] = "REPLAY",
    [RILL_COMMAND_PUBLISH] = "PUBLISH",
    [RILL_COMMAND_METRICS] = "METRICS",
    [RILL_COMMAND_PUBLISHED] = "PUBLISHED",
    [RILL_COMMAND_RELEASE] = "RELEASE",
    [RILL_COMMAND_FLOW] = "FLOW",
    [RILL_COMMAND_PAUSE] = "PAUSE",
    [RILL_COMMAND_LIST] = "LIST",
    [RILL_COMMAND_PRESENCE] = "PRESENCE",
    [RILL_COMMAND_PARTS] = "PARTS",
    [RILL_COMMAND_TOPIC_DELETE] = "TOPIC_DELETE",
    [RILL_COMMAND_TOPIC_DELETED] = "TOPIC_DELETED",
    [RILL_COMMAND_TOPIC_MATCH] = "TOPIC_MATCH",
    [RILL_COMMAND_TOPIC_MATCHED] = "TOPIC_MATCHED",
    [RILL_COMMAND_UNFOLLOW] = "UNFOLLOW",
    [RILL_COMMAND_TOPIC] = "TOPIC",
    [RILL_COMMAND_REVOKE] = "REVOKE",
    [RILL_COMMAND_REVOKED] = "REVOKED",
};

static const command_shape_t to_broker_from_worker[] = {
    {RILL_COMMAND_HELLO, 1, 1, {ARGUMENT_JSON}},
    {RILL_COMMAND_CREDIT, 1, 1, {ARGUMENT_NUMBER}},
    /* data: any bytes here; the broker checks it whole (rill_json_check) and
     * fails the job of a bad one, rather than drop it unseen. */
    {RILL_COMMAND_PART, 3, 3, {ARGUMENT_JOB_ID, ARGUMENT_NUMBER, ARGUMENT_ANY}}, /* id, seq, data */
    /* entries id seq size + data (rill_parts_next), checked entry by entry;
     * (rill/7) the ids of jobs done after them (rill_parts_next_done) */
    {RILL_COMMAND_PARTS, 1, 2, {ARGUMENT_TEXT, ARGUMENT_ANY}},
    {RILL_COMMAND_DONE, 1, 1, {ARGUMENT_JOB_ID}},
    {RILL_COMMAND_FAIL, 3, 3, {ARGUMENT_JOB_ID, ARGUMENT_TEXT, ARGUMENT_ANY}},
    {RILL_COMMAND_RETURN, 1, 1, {ARGUMENT_JOB_ID}},
    /* (rill/5) the worker's process stats, rill_process_stats.h: optional */
    {RILL_COMMAND_PING, 0, 1, {ARGUMENT_JSON}},
    {RILL_COMMAND_BYE, 0, 0, {0}},
    /* (rill/5) job id, topic name, data: a message of the job on a topic;
     * data is checked whole, as a part's */
    {RILL_COMMAND_TOPIC, 3, 3, {ARGUMENT_JOB_ID, ARGUMENT_TEXT, ARGUMENT_ANY}},
};

static const command_shape_t to_worker[] = {
    {RILL_COMMAND_WELCOME, 1, 1, {ARGUMENT_JSON}},
    /* (rill/7) one batch per frame, up to RILL_BATCHES_PER_MESSAGE */
    {RILL_COMMAND_BATCH, 1, RILL_BATCHES_PER_MESSAGE, {ARGUMENT_JSON, ARGUMENT_JSON, ARGUMENT_JSON, ARGUMENT_JSON}},
    {RILL_COMMAND_CANCEL, 1, 1, {ARGUMENT_JOB_ID}},
    {RILL_COMMAND_PING, 0, 0, {0}},
    {RILL_COMMAND_REJOIN, 0, 0, {0}},
    {RILL_COMMAND_PAUSE, 2, 2, {ARGUMENT_JOB_ID, ARGUMENT_FLAG}}, /* id, 0|1 */
};

static const command_shape_t to_broker_from_frontend[] = {
    {RILL_COMMAND_PING, 0, 0, {0}},
    /* req, barrier token, jobs, (rill/4) follow subject: may be empty or left out */
    {RILL_COMMAND_SUBMIT, 3, 4, {ARGUMENT_TEXT, ARGUMENT_ANY, ARGUMENT_JSON, ARGUMENT_ANY}},
    {RILL_COMMAND_CANCEL, 2, 2, {ARGUMENT_TEXT, ARGUMENT_JOB_ID}},
    {RILL_COMMAND_STATUS, 2, 2, {ARGUMENT_TEXT, ARGUMENT_JOB_ID}},
    {RILL_COMMAND_FETCH, 4, 4, {ARGUMENT_TEXT, ARGUMENT_ANY, ARGUMENT_TEXT, ARGUMENT_NUMBER}},
    /* req, name, data, (rill/8) the seq this frontend gave it under its lease */
    /* req, name, data, [seq: empty when not leased], [key: rill/10] */
    {RILL_COMMAND_PUBLISH, 3, 5,
     {ARGUMENT_TEXT, ARGUMENT_TEXT, ARGUMENT_JSON, ARGUMENT_NUMBER_OR_EMPTY, ARGUMENT_PUBLISH_KEY_OR_EMPTY}},
    {RILL_COMMAND_METRICS, 1, 1, {ARGUMENT_TEXT}},
    {RILL_COMMAND_RELEASE, 1, 1, {ARGUMENT_JOB_ID}},
    {RILL_COMMAND_FLOW, 2, 2, {ARGUMENT_JOB_ID, ARGUMENT_FLAG}}, /* id, 0|1 */
    {RILL_COMMAND_LIST, 3, 3, {ARGUMENT_TEXT, ARGUMENT_TEXT, ARGUMENT_JSON}}, /* req, what, query */
    {RILL_COMMAND_PRESENCE, 1, 1, {ARGUMENT_JSON}},
    {RILL_COMMAND_TOPIC_DELETE, 2, 2, {ARGUMENT_TEXT, ARGUMENT_TEXT}},  /* req, name */
    /* req, prefix, (rill/11) barrier token: may be empty or left out */
    {RILL_COMMAND_TOPIC_MATCH, 2, 3, {ARGUMENT_TEXT, ARGUMENT_TEXT, ARGUMENT_ANY}},
    {RILL_COMMAND_UNFOLLOW, 3, 3, {ARGUMENT_JOB_ID, ARGUMENT_TEXT, ARGUMENT_FLAG}}, /* rill/4 */
    {RILL_COMMAND_REVOKED, 1, 1, {ARGUMENT_TEXT}}, /* rill/8: topic name */
};

/* REPLAY takes 3 frames plus triples; its tail is checked in parse. */
static const command_shape_t to_frontend[] = {
    {RILL_COMMAND_PONG, 1, 1, {ARGUMENT_JSON}},
    {RILL_COMMAND_SUBMITTED, 2, 2, {ARGUMENT_TEXT, ARGUMENT_JSON}},
    {RILL_COMMAND_STATUS, 2, 2, {ARGUMENT_TEXT, ARGUMENT_JSON}},
    {RILL_COMMAND_ERROR, 3, 3, {ARGUMENT_TEXT, ARGUMENT_TEXT, ARGUMENT_ANY}},
    {RILL_COMMAND_REPLAY, 3, 3 + 3 * 16, {ARGUMENT_TEXT, ARGUMENT_TEXT, ARGUMENT_JSON}},
    /* req, answer, (rill/8) "1": the topic is this frontend's to number (its lease) */
    {RILL_COMMAND_PUBLISHED, 2, 3, {ARGUMENT_TEXT, ARGUMENT_JSON, ARGUMENT_FLAG}},
    /* req, text, (rill/5) the processes' stats: optional */
    {RILL_COMMAND_METRICS, 2, 3, {ARGUMENT_TEXT, ARGUMENT_ANY, ARGUMENT_JSON}},
    {RILL_COMMAND_LIST, 2, 2, {ARGUMENT_TEXT, ARGUMENT_JSON}},
    {RILL_COMMAND_TOPIC_DELETED, 2, 2, {ARGUMENT_TEXT, ARGUMENT_JSON}},
    {RILL_COMMAND_TOPIC_MATCHED, 2, 2, {ARGUMENT_TEXT, ARGUMENT_JSON}},
    {RILL_COMMAND_REVOKE, 1, 1, {ARGUMENT_TEXT}}, /* rill/8: topic name */
};

static const char *event_names[RILL_EVENT_COUNT] = {
    [RILL_EVENT_PART] = "part",
    [RILL_EVENT_DONE] = "done",
    [RILL_EVENT_ERROR] = "error",
    [RILL_EVENT_RETRY] = "retry",
    [RILL_EVENT_GAP] = "gap",
    [RILL_EVENT_SYNC] = "sync",
    [RILL_EVENT_DELETED] = "deleted",
};

int rill_follow_subject_is_valid(const uint8_t *subject, size_t size)
{
    if (size < RILL_FOLLOW_TOKEN_MIN + 2 || size > RILL_FOLLOW_SUBJECT_MAX || subject[0] != RILL_SUBJECT_FOLLOW ||
        subject[size - 1] != '/')
        return 0;
    for (size_t i = 1; i + 1 < size; i++) {
        uint8_t c = subject[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

const char *rill_command_name(rill_command_t command)
{
    if (command <= RILL_COMMAND_INVALID || command >= RILL_COMMAND_COUNT)
        return "INVALID";
    return command_names[command];
}

const char *rill_event_type_name(rill_event_type_t type)
{
    if (type >= RILL_EVENT_COUNT)
        return "invalid";
    return event_names[type];
}

int rill_event_type_from_name(const char *name, size_t length, rill_event_type_t *type)
{
    for (int i = 0; i < RILL_EVENT_COUNT; i++) {
        if (strlen(event_names[i]) == length && memcmp(event_names[i], name, length) == 0) {
            *type = (rill_event_type_t)i;
            return 0;
        }
    }
    return -1;
}

int rill_frame_equals(rill_frame_t frame, const char *text)
{
    size_t length = strlen(text);
    return frame.size == length && memcmp(frame.data, text, length) == 0;
}

rill_frame_t rill_frame_from_string(const char *text)
{
    rill_frame_t frame = {(const uint8_t *)text, strlen(text)};
    return frame;
}

char *rill_frame_strdup(rill_frame_t frame)
{
    char *copy = malloc(frame.size + 1);
    if (copy == NULL)
        return NULL;
    if (frame.size > 0)
        memcpy(copy, frame.data, frame.size);
    copy[frame.size] = '\0';
    return copy;
}

int rill_frame_to_u64(rill_frame_t frame, uint64_t *value)
{
    if (frame.size == 0 || frame.size > 19)
        return -1;
    uint64_t result = 0;
    for (size_t i = 0; i < frame.size; i++) {
        uint8_t c = frame.data[i];
        if (c < '0' || c > '9')
            return -1;
        result = result * 10 + (uint64_t)(c - '0');
    }
    *value = result;
    return 0;
}

size_t rill_u64_to_text(uint64_t value, char *buffer)
{
    /* Two digits a step, written from the end: on every event's header. */
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
    char reversed[24];
    char *end = reversed + sizeof(reversed);
    char *at = end;
    while (value >= 100) {
        unsigned pair = (unsigned)(value % 100) * 2;
        value /= 100;
        *--at = pairs[pair + 1];
        *--at = pairs[pair];
    }
    if (value >= 10) {
        *--at = pairs[value * 2 + 1];
        *--at = pairs[value * 2];
    } else {
        *--at = (char)('0' + value);
    }
    size_t length = (size_t)(end - at);
    memcpy(buffer, at, length);
    buffer[length] = '\0';
    return length;
}

static int argument_is_valid(argument_type_t type, rill_frame_t frame)
{
    uint64_t ignored;
    switch (type) {
    case ARGUMENT_ANY:
        return 1;
    case ARGUMENT_TEXT:
        return frame.size > 0;
    case ARGUMENT_JOB_ID:
        return rill_job_id_is_valid(frame.data, frame.size);
    case ARGUMENT_NUMBER:
        return rill_frame_to_u64(frame, &ignored) == 0;
    case ARGUMENT_NUMBER_OR_EMPTY:
        return frame.size == 0 || rill_frame_to_u64(frame, &ignored) == 0;
    case ARGUMENT_PUBLISH_KEY_OR_EMPTY:
        return frame.size == 0 || rill_publish_key_is_valid((const char *)frame.data, frame.size, 1);
    case ARGUMENT_FLAG:
        return frame.size == 1 && (frame.data[0] == '0' || frame.data[0] == '1');
    case ARGUMENT_JSON:
        if (frame.size == 0)
            return 0;
        /* Cheap shape check; the full parse is done by whoever reads it. */
        switch (frame.data[0]) {
        case '{': case '[': case '"': case '-': case 't': case 'f': case 'n':
        case '0': case '1': case '2': case '3': case '4':
        case '5': case '6': case '7': case '8': case '9':
            return 1;
        default:
            return 0;
        }
    }
    return 0;
}

static const command_shape_t *channel_table(rill_channel_t channel, size_t *count)
{
    switch (channel) {
    case RILL_CHANNEL_TO_BROKER_FROM_WORKER:
        *count = sizeof(to_broker_from_worker) / sizeof(to_broker_from_worker[0]);
        return to_broker_from_worker;
    case RILL_CHANNEL_TO_WORKER:
        *count = sizeof(to_worker) / sizeof(to_worker[0]);
        return to_worker;
    case RILL_CHANNEL_TO_BROKER_FROM_FRONTEND:
        *count = sizeof(to_broker_from_frontend) / sizeof(to_broker_from_frontend[0]);
        return to_broker_from_frontend;
    case RILL_CHANNEL_TO_FRONTEND:
        *count = sizeof(to_frontend) / sizeof(to_frontend[0]);
        return to_frontend;
    }
    *count = 0;
    return NULL;
}

int rill_message_parse(rill_channel_t channel, const rill_frame_t *frames, size_t count,
                       rill_message_t *message, const char **error)
{
    memset(message, 0, sizeof(*message));
    if (count < 2) {
        *error = "too few frames";
        return -1;
    }
    if (!rill_frame_equals(frames[0], RILL_PROTOCOL_VERSION)) {
        *error = "wrong protocol version";
        return -1;
    }
    size_t table_size;
    const command_shape_t *table = channel_table(channel, &table_size);
    const command_shape_t *shape = NULL;
    for (size_t i = 0; i < table_size; i++) {
        if (rill_frame_equals(frames[1], command_names[table[i].command])) {
            shape = &table[i];
            break;
        }
    }
    if (shape == NULL) {
        *error = "unknown command";
        return -1;
    }
    size_t argument_count = count - 2;
    if (argument_count < shape->minimum || argument_count > shape->maximum) {
        *error = "wrong number of frames";
        return -1;
    }
    if (shape->command == RILL_COMMAND_REPLAY && (argument_count - 3) % 3 != 0) {
        *error = "replay events must come in triples";
        return -1;
    }
    for (size_t i = 0; i < argument_count; i++) {
        argument_type_t type = i < 5 ? shape->types[i] : ARGUMENT_ANY;
        if (shape->command == RILL_COMMAND_REPLAY && i >= 3) {
            size_t position = (i - 3) % 3;
            type = position == 0 ? ARGUMENT_TEXT : position == 1 ? ARGUMENT_NUMBER : ARGUMENT_JSON;
        }
        if (!argument_is_valid(type, frames[2 + i])) {
            *error = "malformed argument";
            return -1;
        }
        message->arguments[i] = frames[2 + i];
    }
    message->command = shape->command;
    message->argument_count = argument_count;
    return 0;
}

/* Splits a one-frame event into the frames of the multi-frame form:
 * "<topic> <version> <event> <seq> <accepted_ns>\n<data>". */
static int split_event_frame(rill_frame_t frame, rill_frame_t fields[6])
{
    const uint8_t *end = frame.data + frame.size;
    const uint8_t *newline = frame.size > 0 ? memchr(frame.data, '\n', frame.size) : NULL;
    if (newline == NULL)
        return -1;
    const uint8_t *at = frame.data;
    for (int i = 0; i < 5; i++) {
        const uint8_t *stop = i < 4 ? memchr(at, ' ', (size_t)(newline - at)) : newline;
        if (stop == NULL)
            return -1;
        fields[i].data = at;
        fields[i].size = (size_t)(stop - at);
        at = stop + 1;
    }
    /* The multi-frame form has data before accepted_ns. */
    fields[5] = fields[4];
    fields[4].data = newline + 1;
    fields[4].size = (size_t)(end - (newline + 1));
    return 0;
}

int rill_event_parse(const rill_frame_t *frames, size_t count, rill_event_t *event,
                     const char **error)
{
    memset(event, 0, sizeof(*event));
    rill_frame_t split[6];
    if (count == 1) {
        if (split_event_frame(frames[0], split) != 0) {
            *error = "malformed event frame";
            return -1;
        }
        frames = split;
        count = 6;
    }
    if (count != 5 && count != 6) {
        *error = "an event has 1, 5 or 6 frames";
        return -1;
    }
    rill_frame_t topic = frames[0];
    if (topic.size > 0 && topic.data[0] == RILL_SUBJECT_FOLLOW) {
        /* rill/4: a followed job's event, "d<token>/j<id>" (docs/PROTOCOL.md,
         * "Direct delivery"): the subject is what follows the '/'. */
        const uint8_t *slash = memchr(topic.data, '/', topic.size < RILL_FOLLOW_SUBJECT_MAX ? topic.size
                                                                                     : RILL_FOLLOW_SUBJECT_MAX);
        size_t follow_size = slash != NULL ? (size_t)(slash - topic.data) + 1 : 0;
        /* Its shape only: the SUB socket passed it because it is this
         * receiver's own follow subject (rill_follow_subject_is_valid would
         * cost ~450 instructions an event). */
        if (follow_size < RILL_FOLLOW_TOKEN_MIN + 2 || topic.size <= follow_size ||
            topic.data[follow_size] != RILL_SUBJECT_JOB) {
            *error = "malformed follow topic";
            return -1;
        }
        event->follow.data = topic.data;
        event->follow.size = follow_size;
        topic.data += follow_size;
        topic.size -= follow_size;
    }
    if (topic.size < 2) {
        *error = "topic too short";
        return -1;
    }
    event->topic = topic;
    switch (topic.data[0]) {
    case RILL_SUBJECT_JOB:
        if (!rill_job_id_is_valid(topic.data + 1, topic.size - 1)) {
            *error = "malformed job topic";
            return -1;
        }
        event->subject_kind = RILL_SUBJECT_JOB;
        event->subject.data = topic.data + 1;
        event->subject.size = topic.size - 1;
        break;
    case RILL_SUBJECT_TOPIC:
        if (topic.size < 3 || topic.data[topic.size - 1] != '/' ||
            !rill_topic_name_is_valid((const char *)topic.data + 1, topic.size - 2)) {
            *error = "malformed topic name";
            return -1;
        }
        event->subject_kind = RILL_SUBJECT_TOPIC;
        event->subject.data = topic.data + 1;
        event->subject.size = topic.size - 2;
        break;
    default:
        *error = "unknown subject kind";
        return -1;
    }
    if (!rill_frame_equals(frames[1], RILL_PROTOCOL_VERSION)) {
        *error = "wrong protocol version";
        return -1;
    }
    if (rill_event_type_from_name((const char *)frames[2].data, frames[2].size, &event->type) != 0) {
        *error = "unknown event type";
        return -1;
    }
    if (rill_frame_to_u64(frames[3], &event->seq) != 0 || event->seq == 0) {
        *error = "malformed seq";
        return -1;
    }
    if (!argument_is_valid(ARGUMENT_JSON, frames[4])) {
        *error = "malformed event data";
        return -1;
    }
    event->data = frames[4];
    if (count == 6 && rill_frame_to_u64(frames[5], &event->accepted_ns) != 0) {
        *error = "malformed accepted_ns";
        return -1;
    }
    return 0;
}

size_t rill_event_header_encode(char header[RILL_EVENT_HEADER_MAX], const char *topic, size_t topic_length,
                                rill_event_type_t type, uint64_t seq, uint64_t accepted_ns)
{
    char accepted[24];
    size_t accepted_length = rill_u64_to_text(accepted_ns, accepted);
    return rill_event_header_encode_text(header, topic, topic_length, type, seq, accepted, accepted_length);
}

size_t rill_event_header_encode_text(char header[RILL_EVENT_HEADER_MAX], const char *topic, size_t topic_length,
                                     rill_event_type_t type, uint64_t seq, const char *accepted,
                                     size_t accepted_length)
{
    size_t name_length = type < RILL_EVENT_COUNT ? strlen(event_names[type]) : 0;
    /* RILL_EVENT_HEADER_MAX has room for such a topic and a name of 16. */
    if (topic_length > RILL_TOPIC_NAME_MAX + 2 || name_length == 0 || name_length > 16 || accepted_length > 20)
        return 0;
    memcpy(header, topic, topic_length);
    size_t length = topic_length;
    header[length++] = ' ';
    memcpy(header + length, RILL_PROTOCOL_VERSION " ", sizeof(RILL_PROTOCOL_VERSION)); /* with its space */
    length += sizeof(RILL_PROTOCOL_VERSION);
    memcpy(header + length, event_names[type], name_length);
    length += name_length;
    header[length++] = ' ';
    length += rill_u64_to_text(seq, header + length);
    header[length++] = ' ';
    memcpy(header + length, accepted, accepted_length);
    length += accepted_length;
    header[length++] = '\n';
    return length;
}

int rill_event_encode(zmq_msg_t *message, const char *topic, size_t topic_length, rill_event_type_t type,
                      uint64_t seq, uint64_t accepted_ns, const void *data, size_t size,
                      size_t *data_offset)
{
    char header[RILL_EVENT_HEADER_MAX];
    size_t length = rill_event_header_encode(header, topic, topic_length, type, seq, accepted_ns);
    if (length == 0) {
        errno = EINVAL;
        return -1;
    }
    if (zmq_msg_init_size(message, length + size) != 0)
        return -1;
    uint8_t *bytes = zmq_msg_data(message);
    memcpy(bytes, header, length);
    if (size > 0)
        memcpy(bytes + length, data, size);
    *data_offset = length;
    return 0;
}

const uint8_t *rill_number_before(const uint8_t *at, const uint8_t *end, uint8_t stop, uint64_t *value)
{
    /* One pass, no memchr first: 1 to 19 digits, then stop. */
    uint64_t result = 0;
    for (size_t digits = 0; at < end && digits < 20; digits++, at++) {
        uint8_t c = *at;
        if (c == stop) {
            if (digits == 0)
                return NULL;
            *value = result;
            return at + 1;
        }
        if (c < '0' || c > '9' || digits == 19)
            return NULL;
        result = result * 10 + (uint64_t)(c - '0');
    }
    return NULL;
}

int rill_protocol_send(void *socket, const rill_frame_t *routing_id, const rill_frame_t *frames,
                       size_t count, int flags)
{
    if (routing_id != NULL) {
        if (zmq_send(socket, routing_id->data, routing_id->size, flags | ZMQ_SNDMORE) < 0)
            return -1;
    }
    for (size_t i = 0; i < count; i++) {
        int more = i + 1 < count ? ZMQ_SNDMORE : 0;
        if (zmq_send(socket, frames[i].data, frames[i].size, flags | more) < 0)
            return -1;
    }
    return 0;
}

int rill_protocol_send_command(void *socket, const rill_frame_t *routing_id, rill_command_t command,
                               const rill_frame_t *arguments, size_t argument_count, int flags)
{
    rill_frame_t frames[RILL_MESSAGE_MAX_FRAMES];
    if (argument_count + 2 > RILL_MESSAGE_MAX_FRAMES || command <= RILL_COMMAND_INVALID ||
        command >= RILL_COMMAND_COUNT) {
        errno = EINVAL;
        return -1;
    }
    frames[0] = rill_frame_from_string(RILL_PROTOCOL_VERSION);
    frames[1] = rill_frame_from_string(command_names[command]);
    for (size_t i = 0; i < argument_count; i++)
        frames[2 + i] = arguments[i];
    return rill_protocol_send(socket, routing_id, frames, argument_count + 2, flags);
}

int rill_protocol_receive(void *socket, rill_received_t *received)
{
    received->count = 0;
    received->truncated = 0;
    zmq_msg_t overflow;
    for (;;) {
        /* Frames past the maximum are read (to keep the socket in step) and dropped. */
        zmq_msg_t *part = received->count < RILL_MESSAGE_MAX_FRAMES ? &received->parts[received->count]
                                                                    : &overflow;
        zmq_msg_init(part);
        int first = received->count == 0 && !received->truncated;
        if (zmq_msg_recv(part, socket, first ? ZMQ_DONTWAIT : 0) < 0) {
            int saved = errno;
            zmq_msg_close(part);
            if (first && saved == EAGAIN)
                return 0;
            rill_received_close(received);
            errno = saved;
            return -1;
        }
        int more = zmq_msg_more(part);
        if (part == &overflow) {
            received->truncated = 1;
            zmq_msg_close(part);
        } else {
            received->frames[received->count].data = zmq_msg_data(part);
            received->frames[received->count].size = zmq_msg_size(part);
            received->count++;
        }
        if (!more)
            return 1;
    }
}

void rill_received_close(rill_received_t *received)
{
    for (size_t i = 0; i < received->count; i++)
        zmq_msg_close(&received->parts[i]);
    received->count = 0;
}

int rill_socket_configure(void *socket, uint64_t max_message_bytes)
{
    int hwm = RILL_SOCKET_HWM;
    /* RILL_SOCKET_HWM in the environment overrides it (1..10,000,000): the
     * tests shrink it to make the XPUB drop, and see the drop repaired. */
    const char *override = getenv("RILL_SOCKET_HWM");
    if (override != NULL && override[0] != '\0') {
        char *end = NULL;
        long value = strtol(override, &end, 10);
        if (end != NULL && *end == '\0' && value >= 1 && value <= 10000000)
            hwm = (int)value;
    }
    int linger = RILL_SOCKET_LINGER_MS;
    if (zmq_setsockopt(socket, ZMQ_SNDHWM, &hwm, sizeof(hwm)) != 0)
        return -1;
    if (zmq_setsockopt(socket, ZMQ_RCVHWM, &hwm, sizeof(hwm)) != 0)
        return -1;
    if (zmq_setsockopt(socket, ZMQ_LINGER, &linger, sizeof(linger)) != 0)
        return -1;
    int64_t max_size = max_message_bytes > 0 && max_message_bytes <= INT64_MAX ? (int64_t)max_message_bytes : -1;
    if (zmq_setsockopt(socket, ZMQ_MAXMSGSIZE, &max_size, sizeof(max_size)) != 0)
        return -1;
    return 0;
}

int rill_socket_cap_hwm(void *socket, int option, int cap)
{
    int hwm = 0;
    size_t size = sizeof(hwm);
    if (zmq_getsockopt(socket, option, &hwm, &size) != 0)
        return -1;
    if (hwm > 0 && hwm <= cap)
        return 0;
    return zmq_setsockopt(socket, option, &cap, sizeof(cap));
}
