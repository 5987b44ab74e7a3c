/* test_broker_calls.c - the frontend's calls in flight (frontend/broker_calls.h)
 * against a fake send: a call answered once and a late answer dropped, a
 * REPLAY of several, a cancel, and what a switch sends again (the same req
 * and frames; never a FETCH nor a PUBLISH without a key; a send that fails leaves the
 * call to its deadline). */
#include "rill_test.h"
#include "broker_calls.h"

#include <stdio.h>
#include <stdlib.h>

#define SENT_MAX 16

typedef struct {
    rill_command_t command;
    size_t count;
    char frames[8][128];
} sent_t;

static sent_t sent[SENT_MAX];
static size_t sent_count;
static int refuse_sends;

static int fake_send(void *context, rill_command_t command, const rill_frame_t *frames, size_t count)
{
    (void)context;
    if (refuse_sends || sent_count == SENT_MAX || count > 8)
        return -1;
    sent_t *record = &sent[sent_count++];
    record->command = command;
    record->count = count;
    for (size_t i = 0; i < count; i++)
        snprintf(record->frames[i], sizeof(record->frames[i]), "%.*s", (int)frames[i].size,
                 (const char *)frames[i].data);
    return 0;
}

typedef struct {
    int calls;
    rill_call_outcome_t outcome;
    int final;
} owner_t;

static void on_reply(void *context, rill_call_outcome_t outcome, const rill_message_t *message,
                     const rill_replay_header_t *replay)
{
    owner_t *owner = context;
    owner->calls++;
    owner->outcome = outcome;
    owner->final = replay != NULL && replay->final;
    CHECK((message != NULL) == (outcome == RILL_CALL_REPLIED || outcome == RILL_CALL_MORE));
}

static rill_message_t reply(rill_command_t command, const char *req, const char *header)
{
    rill_message_t message;
    memset(&message, 0, sizeof(message));
    message.command = command;
    message.arguments[0] = rill_frame_from_string(req);
    message.argument_count = 1;
    if (header != NULL) { /* a REPLAY: req, subject, header */
        message.arguments[1] = rill_frame_from_string("jx");
        message.arguments[2] = rill_frame_from_string(header);
        message.argument_count = 3;
    }
    return message;
}

int main(void)
{
    h2o_evloop_t *loop = h2o_evloop_create();
    rill_broker_calls_t *calls = rill_broker_calls_new(loop, fake_send, NULL);
    owner_t submit = {0}, status = {0}, fetch = {0}, publish = {0}, refused = {0};

    rill_frame_t submit_arguments[3] = {rill_frame_from_string(""), rill_frame_from_string("[{\"id\":\"a\"}]"),
                                        rill_frame_from_string("dfollow/")};
    rill_frame_t id = rill_frame_from_string("0123");
    rill_frame_t fetch_arguments[3] = {rill_frame_from_string("s1"), rill_frame_from_string("j0123"),
                                       rill_frame_from_string("0")};
    rill_frame_t publish_arguments[2] = {rill_frame_from_string("news"), rill_frame_from_string("{}")};
    rill_broker_call_t *submit_call =
        rill_broker_calls_start(calls, RILL_COMMAND_SUBMIT, submit_arguments, 3, on_reply, &submit, 0);
    rill_broker_call_t *status_call = rill_broker_calls_start(calls, RILL_COMMAND_STATUS, &id, 1, on_reply, &status, 0);
    rill_broker_call_t *fetch_call =
        rill_broker_calls_start(calls, RILL_COMMAND_FETCH, fetch_arguments, 3, on_reply, &fetch, 0);
    rill_broker_call_t *publish_call =
        rill_broker_calls_start(calls, RILL_COMMAND_PUBLISH, publish_arguments, 2, on_reply, &publish, 0);
    CHECK(submit_call != NULL && status_call != NULL && fetch_call != NULL && publish_call != NULL);
    CHECK(sent_count == 4);
    CHECK(sent[0].command == RILL_COMMAND_SUBMIT && sent[0].count == 4 && strcmp(sent[0].frames[0], "1") == 0 &&
          strcmp(sent[0].frames[2], "[{\"id\":\"a\"}]") == 0 && strcmp(sent[0].frames[3], "dfollow/") == 0);
    CHECK(strcmp(sent[1].frames[0], "2") == 0 && strcmp(sent[3].frames[0], "4") == 0);

    /* A send that fails: no call, nothing pending for it. */
    refuse_sends = 1;
    CHECK(rill_broker_calls_start(calls, RILL_COMMAND_STATUS, &id, 1, on_reply, &refused, 0) == NULL);
    /* During a switch (hold_unsent) a call that may be asked again is kept
     * for the next broker; a PUBLISH is not. */
    owner_t held = {0};
    rill_broker_call_t *held_call = rill_broker_calls_start(calls, RILL_COMMAND_LIST, &id, 1, on_reply, &held, 1);
    CHECK(held_call != NULL);
    CHECK(rill_broker_calls_start(calls, RILL_COMMAND_PUBLISH, publish_arguments, 2, on_reply, &refused, 1) == NULL);
    /* rill/10: a PUBLISH with a key is published once per key: kept too. */
    owner_t keyed = {0};
    rill_frame_t keyed_arguments[4] = {rill_frame_from_string("news"), rill_frame_from_string("{}"),
                                       rill_frame_from_string(""), rill_frame_from_string("~k1")};
    CHECK(rill_broker_calls_start(calls, RILL_COMMAND_PUBLISH, keyed_arguments, 4, on_reply, &keyed, 1) != NULL);
    refuse_sends = 0;
    CHECK(sent_count == 4);

    /* The broker went away, another answers: the SUBMIT and the STATUS go
     * again, the same req and frames; the FETCH and the PUBLISH do not. */
    rill_broker_calls_hold(calls);
    CHECK(rill_broker_calls_resend(calls) == 4 && rill_broker_calls_resent(calls) == 4);
    CHECK(sent_count == 8);
    int submit_again = 0, status_again = 0, held_sent = 0, keyed_sent = 0;
    char keyed_req[24] = "";
    for (size_t i = 4; i < sent_count; i++) {
        if (sent[i].command == RILL_COMMAND_PUBLISH)
            keyed_sent = sent[i].count == 5 && strcmp(sent[i].frames[1], "news") == 0 &&
                         sent[i].frames[3][0] == '\0' && strcmp(sent[i].frames[4], "~k1") == 0;
        if (sent[i].command == RILL_COMMAND_PUBLISH)
            snprintf(keyed_req, sizeof(keyed_req), "%s", sent[i].frames[0]);
        if (sent[i].command == RILL_COMMAND_LIST)
            held_sent = strcmp(sent[i].frames[0], "6") == 0; /* 5 went with the refused STATUS */
        if (sent[i].command == RILL_COMMAND_SUBMIT)
            submit_again = sent[i].count == 4 && memcmp(&sent[i].frames, &sent[0].frames, sizeof(sent[0].frames)) == 0;
        if (sent[i].command == RILL_COMMAND_STATUS)
            status_again = sent[i].count == 2 && strcmp(sent[i].frames[0], "2") == 0 &&
                           strcmp(sent[i].frames[1], "0123") == 0;
    }
    CHECK(submit_again && status_again && held_sent && keyed_sent);
    rill_message_t keyed_answer = reply(RILL_COMMAND_PUBLISHED, keyed_req, NULL);
    CHECK(rill_broker_calls_answer(calls, &keyed_answer) == 0 && keyed.calls == 1);
    rill_message_t listed = reply(RILL_COMMAND_LIST, "6", NULL);
    CHECK(rill_broker_calls_answer(calls, &listed) == 0 && held.calls == 1 && held.outcome == RILL_CALL_REPLIED);

    /* Answered once; the second answer (the other broker's) is late. */
    rill_message_t answer = reply(RILL_COMMAND_STATUS, "2", NULL);
    CHECK(rill_broker_calls_answer(calls, &answer) == 0);
    CHECK(status.calls == 1 && status.outcome == RILL_CALL_REPLIED);
    CHECK(rill_broker_calls_answer(calls, &answer) == 0 && status.calls == 1);
    rill_message_t bad = reply(RILL_COMMAND_STATUS, "123456789012345678901234567890", NULL);
    CHECK(rill_broker_calls_answer(calls, &bad) == -1);

    /* A REPLAY of several: the call stays until the final one. */
    rill_message_t more = reply(RILL_COMMAND_REPLAY, "3",
                                "{\"first\":1,\"last\":2,\"ended\":false,\"final\":false,\"flush_ms\":0}");
    rill_message_t last = reply(RILL_COMMAND_REPLAY, "3",
                                "{\"first\":1,\"last\":2,\"ended\":false,\"final\":true,\"flush_ms\":0}");
    CHECK(rill_broker_calls_answer(calls, &more) == 0 && fetch.calls == 1 && fetch.outcome == RILL_CALL_MORE);
    CHECK(rill_broker_calls_answer(calls, &last) == 0 && fetch.calls == 2 && fetch.outcome == RILL_CALL_REPLIED &&
          fetch.final);

    /* A send that fails when asked again: the call waits for its deadline. */
    refuse_sends = 1;
    CHECK(rill_broker_calls_resend(calls) == 0 && rill_broker_calls_resent(calls) == 4);
    refuse_sends = 0;

    /* Cancelled: forgotten, never called, never sent again. */
    rill_broker_calls_cancel(calls, &submit_call);
    CHECK(submit_call == NULL);
    size_t before = sent_count;
    CHECK(rill_broker_calls_resend(calls) == 0 && sent_count == before);
    rill_message_t submitted = reply(RILL_COMMAND_SUBMITTED, "1", NULL);
    CHECK(rill_broker_calls_answer(calls, &submitted) == 0 && submit.calls == 0);

    /* Held though no switch is under way (the broker's connection went
     * before its silence was noticed): sent at the next PONG, once, with
     * its req; not counted as asked again (it never went). */
    refuse_sends = 1;
    owner_t early = {0};
    CHECK(rill_broker_calls_start(calls, RILL_COMMAND_STATUS, &id, 1, on_reply, &early, 1) != NULL);
    refuse_sends = 0;
    size_t sent_before = sent_count;
    uint64_t resent_before = rill_broker_calls_resent(calls);
    CHECK(rill_broker_calls_send_unsent(calls) == 1 && sent_count == sent_before + 1);
    CHECK(sent[sent_count - 1].command == RILL_COMMAND_STATUS && strcmp(sent[sent_count - 1].frames[1], "0123") == 0);
    CHECK(rill_broker_calls_send_unsent(calls) == 0 && sent_count == sent_before + 1);
    CHECK(rill_broker_calls_resent(calls) == resent_before);
    rill_message_t early_answer = reply(RILL_COMMAND_STATUS, sent[sent_count - 1].frames[0], NULL);
    CHECK(rill_broker_calls_answer(calls, &early_answer) == 0 && early.calls == 1);

    /* Shutdown: what is pending hears it once. */
    rill_broker_calls_fail_all(calls);
    CHECK(publish.calls == 1 && publish.outcome == RILL_CALL_SHUTDOWN);
    CHECK(refused.calls == 0 && submit.calls == 0 && status.calls == 1 && fetch.calls == 2);
    rill_broker_calls_destroy(&calls);
    CHECK(calls == NULL);
    rill_broker_calls_destroy(&calls); /* NULL: nothing */
    h2o_evloop_destroy(loop);
    RILL_TEST_END();
}
