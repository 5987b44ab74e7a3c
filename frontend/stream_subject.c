/*
 * stream_subject.c - see stream_subject.h. A FETCH's answer is one of: its
 * REPLAYs (fed to the sequencer, the last one ends the FETCH), an ERROR
 * (not_found, unavailable, anything else), no answer in time, or the
 * frontend stopping. What each means depends on why the FETCH was sent
 * (rill_fetch_purpose_t) and on whether it asks a restarted broker
 * (recovering): the table is on_fetch_reply.
 */
#include "stream_subject.h"

#include "rill_log.h"

#include <stdio.h>
#include <string.h>

static void on_retry(h2o_timeout_entry_t *entry);

void rill_fetches_init(rill_fetches_t *self, h2o_loop_t *loop, rill_broker_link_t *broker,
                       const rill_fetch_events_t *events, void *context)
{
    memset(self, 0, sizeof(*self));
    self->loop = loop;
    self->broker = broker;
    self->events = events;
    self->context = context;
    h2o_timeout_init(loop, &self->retry_timeout, RILL_FETCH_RETRY_MS);
}

void rill_fetches_dispose(rill_fetches_t *self)
{
    h2o_timeout_dispose(self->loop, &self->retry_timeout);
}

void rill_stream_subject_init(rill_stream_subject_t *self, rill_fetches_t *fetches, void *owner)
{
    self->fetches = fetches;
    self->owner = owner;
    self->retry.cb = on_retry;
}

static void cancel_call(rill_stream_subject_t *self)
{
    if (self->call != NULL && self->fetches->broker != NULL)
        rill_broker_link_cancel(self->fetches->broker, &self->call);
    self->call = NULL;
    if (h2o_timeout_is_linked(&self->retry))
        h2o_timeout_unlink(&self->retry);
}

void rill_stream_subject_left(rill_stream_subject_t *self, rill_broker_link_t *broker, int followed,
                              int release)
{
    const rill_sequencer_t *sequencer = &self->sequencer;
    if (broker == NULL || sequencer->ended || rill_sequencer_is_topic(sequencer) ||
        sequencer->topic_length != 1 + RILL_JOB_ID_LENGTH || (!followed && !release))
        return;
    rill_frame_t arguments[3] = {
        {(const uint8_t *)sequencer->topic + 1, RILL_JOB_ID_LENGTH},
        rill_frame_from_string(rill_broker_link_follow_subject(broker)),
        rill_frame_from_string(release ? "1" : "0"),
    };
    if (followed)
        (void)rill_broker_link_tell(broker, RILL_COMMAND_UNFOLLOW, arguments, 3);
    else
        (void)rill_broker_link_tell(broker, RILL_COMMAND_RELEASE, arguments, 1);
}

void rill_stream_subject_release(rill_stream_subject_t *self)
{
    cancel_call(self);
    rill_sequencer_release(&self->sequencer);
}

static void on_fetch_reply(void *owner, rill_call_outcome_t outcome, const rill_message_t *message,
                           const rill_replay_header_t *replay);

int rill_stream_subject_fetch(rill_stream_subject_t *self, const char *token)
{
    rill_sequencer_t *sequencer = &self->sequencer;
    if (self->fetches->broker == NULL || sequencer->fetch == NULL)
        return -1;
    char after[24];
    rill_frame_t arguments[3] = {
        rill_frame_from_string(token),
        {(const uint8_t *)sequencer->topic, sequencer->topic_length},
        {(const uint8_t *)after, rill_u64_to_text(sequencer->fetch->after, after)},
    };
    self->call = rill_broker_link_call(self->fetches->broker, RILL_COMMAND_FETCH, arguments, 3,
                                       on_fetch_reply, self);
    return self->call != NULL ? 0 : -1;
}

int rill_stream_subject_repair(rill_stream_subject_t *self)
{
    if (self->fetches->stopping)
        return -1; /* no new call may outlive the broker link */
    return rill_stream_subject_fetch(self, "");
}

/* Sends the FETCH again in RILL_FETCH_RETRY_MS; 0 when the tries are used up. */
static int retry_later(rill_stream_subject_t *self)
{
    rill_fetch_t *fetch = self->sequencer.fetch;
    if (fetch == NULL || fetch->tries >= RILL_FETCH_RETRIES_MAX || self->fetches->stopping)
        return 0;
    fetch->tries++;
    if (!h2o_timeout_is_linked(&self->retry))
        h2o_timeout_link(self->fetches->loop, &self->fetches->retry_timeout, &self->retry);
    return 1;
}

/* The FETCH failed. An opening one: the request fails with status. A
 * recovering one: the new broker lost the job. Else the held events go
 * on, a jump reported as a gap. */
static void fetch_failed(rill_stream_subject_t *self, int status, const char *code,
                         const char *message)
{
    const rill_fetch_events_t *events = self->fetches->events;
    rill_fetch_t *fetch = self->sequencer.fetch;
    if (fetch->purpose == RILL_FETCH_OPENING)
        events->refused(self, status, code, message);
    if (fetch->recovering && fetch->purpose != RILL_FETCH_OPENING) {
        rill_log_warn(self->sequencer.who, "%s: %s after a broker restart", self->sequencer.topic,
                      message);
        events->done(self, rill_sequencer_job_lost(&self->sequencer));
        return;
    }
    events->done(self, rill_sequencer_fetch_failed(&self->sequencer, message));
}

static void on_retry(h2o_timeout_entry_t *entry)
{
    rill_stream_subject_t *self = H2O_STRUCT_FROM_MEMBER(rill_stream_subject_t, retry, entry);
    rill_fetches_t *fetches = self->fetches;
    if (self->sequencer.fetch == NULL || self->call != NULL)
        return;
    if (!self->sequencer.sink->is_open(&self->sequencer))
        /* The stream ends anyway: nothing to wait for. */
        fetches->events->done(self, rill_sequencer_fetch_drop(&self->sequencer));
    else if (rill_stream_subject_fetch(self, "") != 0 && !retry_later(self))
        fetch_failed(self, 503, "unavailable", "the broker cannot be reached");
    fetches->events->replied(fetches->context); /* self may be gone */
}

void rill_stream_subject_broker_restarted(rill_stream_subject_t *self)
{
    rill_fetch_t *fetch = self->sequencer.fetch;
    if (fetch != NULL && fetch->purpose == RILL_FETCH_OPENING)
        return; /* answered, or timed out, by itself */
    cancel_call(self); /* asked of the old broker: no answer will come */
    if (rill_sequencer_broker_restarted(&self->sequencer) == NULL)
        return;
    if (rill_stream_subject_fetch(self, "") != 0 && !retry_later(self))
        fetch_failed(self, 503, "unavailable", "the broker cannot be reached");
}

void rill_stream_subject_broker_switched(rill_stream_subject_t *self)
{
    rill_sequencer_t *sequencer = &self->sequencer;
    if (sequencer->ended || !sequencer->sink->is_open(sequencer) || self->fetches->stopping)
        return;
    if (sequencer->fetch == NULL) {
        if (rill_sequencer_fetch_begin(sequencer, RILL_FETCH_REPAIR, sequencer->next_seq - 1) == NULL)
            return;
    } else if (self->call == NULL) {
        return; /* a retry is due: it goes to the new broker */
    }
    cancel_call(self); /* asked of the old broker: no answer will come */
    if (!rill_sequencer_is_topic(sequencer) && sequencer->fetch->purpose != RILL_FETCH_OPENING)
        sequencer->fetch->recovering = 1; /* not_found: the job did not reach the standby */
    sequencer->fetch->tries = 0;
    if (rill_stream_subject_fetch(self, "") != 0 && !retry_later(self))
        fetch_failed(self, 503, "unavailable", "the broker cannot be reached");
}

/* An ERROR answer: not_found, unavailable (the broker recovers from a
 * restart), or anything else (a bad gateway). */
static void on_fetch_error(rill_stream_subject_t *self, rill_frame_t code)
{
    char text[96];
    rill_fetch_t *fetch = self->sequencer.fetch;
    if (rill_frame_equals(code, "not_found")) {
        size_t length;
        const char *name = rill_sequencer_name(&self->sequencer, &length);
        snprintf(text, sizeof(text), "no such job: %.*s", (int)length, name);
        fetch_failed(self, 404, "not_found", text);
    } else if (rill_frame_equals(code, "unavailable")) {
        if (fetch->purpose != RILL_FETCH_OPENING && retry_later(self))
            return;
        fetch_failed(self, 503, "unavailable", "the broker is recovering from a restart; try again");
    } else {
        snprintf(text, sizeof(text), "the broker refused the replay: %.*s",
                 (int)(code.size < 40 ? code.size : 40), (const char *)code.data);
        fetch_failed(self, 502, "bad_gateway", text);
    }
}

static void on_fetch_reply(void *owner, rill_call_outcome_t outcome, const rill_message_t *message,
                           const rill_replay_header_t *replay)
{
    rill_stream_subject_t *self = owner;
    rill_fetches_t *fetches = self->fetches;
    const rill_fetch_events_t *events = fetches->events;
    rill_sequencer_t *sequencer = &self->sequencer;
    if (outcome != RILL_CALL_MORE)
        self->call = NULL;
    if (outcome == RILL_CALL_SHUTDOWN) {
        /* The frontend stops: an opening request gets 503; any other FETCH
         * goes with what it held, so the closing cursor stays where the
         * client is. */
        if (sequencer->fetch->purpose == RILL_FETCH_OPENING)
            fetch_failed(self, 503, "unavailable", "the frontend is shutting down");
        else
            events->done(self, rill_sequencer_fetch_drop(sequencer));
    } else if (outcome == RILL_CALL_TIMEOUT) {
        if (!sequencer->fetch->recovering || !retry_later(self))
            fetch_failed(self, 504, "timeout", "the broker did not answer in time");
    } else if (message->command == RILL_COMMAND_ERROR) {
        on_fetch_error(self, message->arguments[1]);
    } else if (replay == NULL) { /* not a REPLAY, or its header unreadable */
        if (outcome == RILL_CALL_MORE && fetches->broker != NULL)
            rill_broker_link_cancel(fetches->broker, &self->call);
        fetch_failed(self, 502, "bad_gateway", "unexpected reply from the broker");
    } else {
        if (!rill_sequencer_is_topic(sequencer))
            events->flush_ms(self, replay->flush_ms);
        rill_sequencer_on_epoch(sequencer, replay->epoch); /* rill/6, before its events */
        rill_sequencer_on_replay_header(sequencer, replay->first, replay->last); /* ?last=N */
        for (size_t i = 3; i + 2 < message->argument_count; i += 3)
            rill_sequencer_on_replay(sequencer, message->arguments[i], message->arguments[i + 1],
                                     message->arguments[i + 2]);
        if (outcome == RILL_CALL_REPLIED)
            events->done(self, rill_sequencer_fetch_finish(sequencer, replay->last, replay->ended));
    }
    /* Last: a final send may release every subject and FETCH (self too). */
    events->replied(fetches->context);
}
