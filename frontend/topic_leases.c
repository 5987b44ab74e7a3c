/*
 * topic_leases.c - publishing to topics, numbered here under a lease
 * (rill/8). See topic_leases.h.
 */
#include "topic_leases.h"

#include "rill_alloc.h"
#include "rill_clock.h"
#include "rill_id.h"
#include "rill_log.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

/* One topic this frontend publishes to now, or holds the lease of. */
typedef struct {
    char name[RILL_TOPIC_NAME_MAX + 1];
    int held;              /* the broker's lease stands */
    uint64_t next_seq;     /* under the lease: the seq the next message takes */
    uint32_t unnumbered;   /* PUBLISHes without a seq, unanswered: the lease waits for them */
    uint32_t numbered;     /* PUBLISHes with a seq, unanswered */
} topic_lease_t;

struct rill_topic_leases {
    rill_broker_link_t *broker;
    rill_topic_leases_sink_t sink;
    zhashx_t *topics; /* name -> topic_lease_t (owned) */
    size_t held;
    h2o_linklist_t publishes; /* every rill_topic_publish_t in flight */
};

struct rill_topic_publish {
    h2o_linklist_t link; /* in publishes */
    rill_topic_leases_t *leases;
    topic_lease_t *lease;
    int numbered;
    rill_broker_reply_fn reply; /* NULL once cancelled */
    void *owner;
};

static void lease_free(void **item)
{
    free(*item);
    *item = NULL;
}

rill_topic_leases_t *rill_topic_leases_new(rill_broker_link_t *broker, const rill_topic_leases_sink_t *sink)
{
    rill_topic_leases_t *self = rill_xcalloc(1, sizeof(*self));
    self->broker = broker;
    self->sink = *sink;
    self->topics = zhashx_new(); /* czmq aborts on ENOMEM (rill_alloc.h) */
    zhashx_set_destructor(self->topics, lease_free);
    h2o_linklist_init_anchor(&self->publishes);
    return self;
}

void rill_topic_leases_destroy(rill_topic_leases_t **self_p)
{
    rill_topic_leases_t *self = *self_p;
    if (self == NULL)
        return;
    /* The link is gone first (frontend.c): it calls none of these back. */
    while (!h2o_linklist_is_empty(&self->publishes)) {
        rill_topic_publish_t *publish = H2O_STRUCT_FROM_MEMBER(rill_topic_publish_t, link, self->publishes.next);
        h2o_linklist_unlink(&publish->link);
        free(publish);
    }
    zhashx_destroy(&self->topics);
    free(self);
    *self_p = NULL;
}

static void set_held(rill_topic_leases_t *self, topic_lease_t *lease, int held)
{
    if (lease->held == held)
        return;
    lease->held = held;
    if (held)
        self->held++;
    else
        self->held--;
    rill_log_debug(NULL, "topic %s: %s at seq %llu", lease->name, held ? "numbered here (lease)" : "lease given up",
                   (unsigned long long)lease->next_seq);
}

/* A topic neither leased nor published to any more is forgotten. */
static void forget_if_idle(rill_topic_leases_t *self, topic_lease_t *lease)
{
    if (!lease->held && lease->unnumbered == 0 && lease->numbered == 0)
        zhashx_delete(self->topics, lease->name);
}

/* The seq in a PUBLISHED answer {"topic":…,"seq":N[,…]}; 0 if none. */
static uint64_t answered_seq(rill_frame_t answer)
{
    static const char key[] = "\"seq\":";
    const uint8_t *at = memmem(answer.data, answer.size, key, sizeof(key) - 1);
    if (at == NULL)
        return 0;
    at += sizeof(key) - 1;
    const uint8_t *end = at;
    while (end < answer.data + answer.size && *end >= '0' && *end <= '9')
        end++;
    uint64_t seq = 0;
    if (rill_frame_to_u64((rill_frame_t){at, (size_t)(end - at)}, &seq) != 0)
        return 0;
    return seq;
}

/* rill/10: an answer to a message whose key the topic knew: its seq is
 * that of the first sending, long past maybe, and it says nothing of the
 * lease. */
static int answer_is_repeated(rill_frame_t answer)
{
    static const char key[] = "\"repeated\":true";
    return memmem(answer.data, answer.size, key, sizeof(key) - 1) != NULL;
}

static void on_published(void *owner, rill_call_outcome_t outcome, const rill_message_t *message,
                         const rill_replay_header_t *replay)
{
    rill_topic_publish_t *publish = owner;
    rill_topic_leases_t *self = publish->leases;
    topic_lease_t *lease = publish->lease;
    int replied = outcome == RILL_CALL_REPLIED;
    if (publish->numbered) {
        lease->numbered--;
        if (replied && message->command == RILL_COMMAND_ERROR && rill_frame_equals(message->arguments[1], "lease_lost")) {
            rill_log_warn(NULL, "topic %s: the broker refused a message numbered here (its lease ended); "
                          "this frontend's streams had it", lease->name);
            set_held(self, lease, 0);
        }
    } else {
        lease->unnumbered--;
        if (replied && message->command == RILL_COMMAND_PUBLISHED && !answer_is_repeated(message->arguments[1])) {
            /* Every answer says where the numbering stands and whether
             * the lease is this frontend's now. */
            uint64_t seq = answered_seq(message->arguments[1]);
            if (seq + 1 > lease->next_seq)
                lease->next_seq = seq + 1;
            set_held(self, lease, message->argument_count >= 3 && rill_frame_equals(message->arguments[2], "1"));
        }
    }
    rill_broker_reply_fn reply = publish->reply;
    void *reply_owner = publish->owner;
    h2o_linklist_unlink(&publish->link);
    free(publish);
    forget_if_idle(self, lease);
    if (reply != NULL)
        reply(reply_owner, outcome, message, replay);
}

/* A numbered message goes to this frontend's own streams now, before the
 * broker hears of it: the send wakes this process's libzmq thread, which
 * would run first. Called from an HTTP handler or a WebSocket's read, both
 * of which the streams' sinks allow (ws_conn.c pumps once). */
static void deliver_here(rill_topic_leases_t *self, const char *name, size_t length, uint64_t seq,
                         const void *data, size_t size)
{
    char subject[RILL_TOPIC_NAME_MAX + 3];
    subject[0] = RILL_SUBJECT_TOPIC;
    memcpy(subject + 1, name, length);
    subject[length + 1] = '/';
    rill_event_t event = {
        .topic = {(const uint8_t *)subject, length + 2},
        .subject_kind = RILL_SUBJECT_TOPIC,
        .subject = {(const uint8_t *)subject + 1, length},
        .type = RILL_EVENT_PART,
        .seq = seq,
        .data = {data, size},
        .accepted_ns = rill_clock_monotonic_ns(),
    };
    self->sink.deliver(self->sink.context, &event);
    self->sink.flush(self->sink.context);
}

rill_topic_publish_t *rill_topic_leases_publish(rill_topic_leases_t *self, const char *topic, size_t length,
                                                const void *data, size_t size, const char *key, size_t key_length,
                                                rill_broker_reply_fn reply, void *owner)
{
    /* During a switch a message with a key is held for the broker that
     * answers next (broker_link.h); none is numbered then (no lease). */
    int connected = rill_broker_link_is_connected(self->broker);
    if (length == 0 || length > RILL_TOPIC_NAME_MAX || key_length > RILL_PUBLISH_KEY_MAX ||
        !rill_broker_link_takes_calls(self->broker))
        return NULL;
    char name[RILL_TOPIC_NAME_MAX + 1];
    memcpy(name, topic, length);
    name[length] = '\0';
    topic_lease_t *lease = zhashx_lookup(self->topics, name);
    if (lease == NULL) {
        lease = rill_xcalloc(1, sizeof(*lease));
        memcpy(lease->name, name, length + 1);
        zhashx_insert(self->topics, lease->name, lease);
    }
    rill_topic_publish_t *publish = rill_xcalloc(1, sizeof(*publish));
    publish->leases = self;
    publish->lease = lease;
    publish->reply = reply;
    publish->owner = owner;
    /* Numbered here only once every unnumbered PUBLISH is answered: until
     * then the broker may still be giving them seqs. */
    publish->numbered = connected && lease->held && lease->unnumbered == 0 && key == NULL;
    char seq_text[24];
    char drawn[1 + RILL_ID_TEXT_SIZE];
    rill_frame_t arguments[4] = {{(const uint8_t *)topic, length}, {data, size}, {NULL, 0}, {NULL, 0}};
    size_t count = 2;
    if (publish->numbered) {
        uint64_t seq = lease->next_seq++;
        int written = snprintf(seq_text, sizeof(seq_text), "%llu", (unsigned long long)seq);
        arguments[2] = (rill_frame_t){(const uint8_t *)seq_text, (size_t)written};
        count = 3;
        deliver_here(self, name, length, seq, data, size);
    } else if (key != NULL) {
        arguments[3] = (rill_frame_t){(const uint8_t *)key, key_length};
        count = 4;
    } else if (rill_id_generate(drawn + 1) == 0) {
        drawn[0] = RILL_PUBLISH_KEY_DRAWN;
        arguments[3] = rill_frame_from_string(drawn);
        count = 4;
    }
    /* A numbered message the broker never gets keeps its seq: the lease
     * stands, and the broker's other receivers see the jump as a gap. */
    if (rill_broker_link_call(self->broker, RILL_COMMAND_PUBLISH, arguments, count, on_published, publish) == NULL) {
        free(publish);
        forget_if_idle(self, lease);
        return NULL;
    }
    h2o_linklist_insert(&self->publishes, &publish->link);
    if (publish->numbered)
        lease->numbered++;
    else
        lease->unnumbered++;
    return publish;
}

void rill_topic_leases_cancel(rill_topic_publish_t **publish)
{
    if (*publish != NULL)
        (*publish)->reply = NULL;
    *publish = NULL;
}

void rill_topic_leases_revoke(rill_topic_leases_t *self, const uint8_t *name, size_t length)
{
    if (length == 0 || length > RILL_TOPIC_NAME_MAX)
        return;
    char text[RILL_TOPIC_NAME_MAX + 1];
    memcpy(text, name, length);
    text[length] = '\0';
    topic_lease_t *lease = zhashx_lookup(self->topics, text);
    if (lease != NULL) {
        set_held(self, lease, 0);
        forget_if_idle(self, lease);
    }
    rill_frame_t argument = {name, length};
    (void)rill_broker_link_tell(self->broker, RILL_COMMAND_REVOKED, &argument, 1); /* unsent: the broker's tick */
}

void rill_topic_leases_drop_all(rill_topic_leases_t *self)
{
    if (self->held == 0)
        return;
    rill_log_info(NULL, "%zu topic lease(s) dropped: the broker is silent, restarted or switched", self->held);
    zlistx_t *names = zhashx_keys(self->topics);
    for (const char *name = zlistx_first(names); name != NULL; name = zlistx_next(names)) {
        topic_lease_t *lease = zhashx_lookup(self->topics, name);
        if (lease != NULL) {
            set_held(self, lease, 0);
            forget_if_idle(self, lease);
        }
    }
    zlistx_destroy(&names);
}
