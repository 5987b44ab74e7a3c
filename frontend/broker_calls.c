/*
 * broker_calls.c - see broker_calls.h. The call table the link used to
 * keep itself; what it adds is the copy each call keeps of its argument
 * frames (the ones it may send again) and the two moments of a switch.
 */
#include "broker_calls.h"

#include "rill_alloc.h"
#include "rill_log.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#define CALL_ARGUMENTS_MAX 7 /* a message of req + 7 frames: the most any call has */

struct rill_broker_call {
    rill_broker_calls_t *calls;
    h2o_timeout_entry_t deadline; /* container_of below */
    rill_broker_reply_fn reply;
    void *owner;
    int in_callback; /* inside a RILL_CALL_MORE callback: cancel defers the free */
    int cancelled;
    rill_command_t command;
    size_t argument_count;
    size_t sizes[CALL_ARGUMENTS_MAX];
    uint8_t *copy; /* the argument frames back to back, to send again; NULL: never sent again */
    int unsent;    /* held without having been sent (hold_unsent) */
    char req[24];
};

struct rill_broker_calls {
    h2o_loop_t *loop;
    h2o_timeout_t timeout;
    zhashx_t *pending; /* req -> rill_broker_call_t */
    rill_broker_calls_send_fn send;
    void *context;
    uint64_t next_req;
    uint64_t resent;
};

rill_broker_calls_t *rill_broker_calls_new(h2o_loop_t *loop, rill_broker_calls_send_fn send, void *context)
{
    rill_broker_calls_t *self = rill_xcalloc(1, sizeof(*self));
    self->loop = loop;
    self->send = send;
    self->context = context;
    h2o_timeout_init(loop, &self->timeout, RILL_BROKER_CALL_TIMEOUT_MS);
    self->pending = zhashx_new(); /* czmq aborts when memory runs out */
    zhashx_set_key_duplicator(self->pending, NULL);
    zhashx_set_key_destructor(self->pending, NULL);
    return self;
}

static void forget(rill_broker_calls_t *self, rill_broker_call_t *call)
{
    if (h2o_timeout_is_linked(&call->deadline))
        h2o_timeout_unlink(&call->deadline);
    zhashx_delete(self->pending, call->req);
    free(call->copy);
    free(call);
}

void rill_broker_calls_destroy(rill_broker_calls_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    rill_broker_calls_t *self = *self_p;
    *self_p = NULL;
    rill_broker_call_t *call;
    while ((call = zhashx_first(self->pending)) != NULL)
        forget(self, call);
    zhashx_destroy(&self->pending);
    h2o_timeout_dispose(self->loop, &self->timeout);
    free(self);
}

static void finish(rill_broker_calls_t *self, rill_broker_call_t *call, rill_call_outcome_t outcome,
                   const rill_message_t *message, const rill_replay_header_t *replay)
{
    rill_broker_reply_fn reply = call->reply;
    void *owner = call->owner;
    forget(self, call);
    reply(owner, outcome, message, replay);
}

/* The deadline starts again from now. */
static void arm(rill_broker_calls_t *self, rill_broker_call_t *call)
{
    if (h2o_timeout_is_linked(&call->deadline))
        h2o_timeout_unlink(&call->deadline);
    h2o_timeout_link(self->loop, &self->timeout, &call->deadline);
}

static void on_deadline(h2o_timeout_entry_t *entry)
{
    rill_broker_call_t *call = H2O_STRUCT_FROM_MEMBER(rill_broker_call_t, deadline, entry);
    rill_log_warn(NULL, "broker did not answer req %s within %d ms", call->req, RILL_BROKER_CALL_TIMEOUT_MS);
    finish(call->calls, call, RILL_CALL_TIMEOUT, NULL, NULL);
}

/* Sends the call's message: [req, its argument frames]. */
static int send_call(rill_broker_calls_t *self, rill_broker_call_t *call, const rill_frame_t *arguments)
{
    rill_frame_t frames[1 + CALL_ARGUMENTS_MAX];
    frames[0] = rill_frame_from_string(call->req);
    for (size_t i = 0; i < call->argument_count; i++)
        frames[1 + i] = arguments[i];
    return self->send(self->context, call->command, frames, 1 + call->argument_count);
}

/* A FETCH is asked again by its stream, a PUBLISH only with a key
 * (rill/10: its fourth frame; broker_calls.h). */
static int may_be_sent_again(rill_command_t command, const rill_frame_t *arguments, size_t argument_count)
{
    if (command == RILL_COMMAND_PUBLISH)
        return argument_count >= 4 && arguments[3].size > 0;
    return command != RILL_COMMAND_FETCH;
}

rill_broker_call_t *rill_broker_calls_start(rill_broker_calls_t *self, rill_command_t command,
                                            const rill_frame_t *arguments, size_t argument_count,
                                            rill_broker_reply_fn reply, void *owner, int hold_unsent)
{
    if (argument_count > CALL_ARGUMENTS_MAX)
        return NULL;
    rill_broker_call_t *call = rill_xcalloc(1, sizeof(*call));
    call->calls = self;
    call->reply = reply;
    call->owner = owner;
    call->command = command;
    call->argument_count = argument_count;
    call->deadline.cb = on_deadline;
    rill_u64_to_text(++self->next_req, call->req);
    if (may_be_sent_again(command, arguments, argument_count)) {
        size_t total = 0;
        for (size_t i = 0; i < argument_count; i++)
            total += call->sizes[i] = arguments[i].size;
        call->copy = rill_xmalloc(total > 0 ? total : 1);
        size_t at = 0;
        for (size_t i = 0; i < argument_count; i++) {
            if (arguments[i].size > 0)
                memcpy(call->copy + at, arguments[i].data, arguments[i].size);
            at += arguments[i].size;
        }
    }
    int sent = send_call(self, call, arguments) == 0;
    call->unsent = !sent;
    int held = !sent && hold_unsent && call->copy != NULL;
    if (!sent && held)
        rill_log_debug(NULL, "%s req %s held for the next broker: %s", rill_command_name(command), call->req,
                       zmq_strerror(errno));
    else if (!sent)
        rill_log_warn(NULL, "%s not sent to broker: %s", rill_command_name(command), zmq_strerror(errno));
    if ((!sent && !held) || zhashx_insert(self->pending, call->req, call) != 0) {
        free(call->copy);
        free(call);
        return NULL;
    }
    arm(self, call);
    return call;
}

int rill_broker_calls_answer(rill_broker_calls_t *self, const rill_message_t *message)
{
    char req[24];
    rill_frame_t frame = message->arguments[0];
    if (frame.size >= sizeof(req))
        return -1;
    memcpy(req, frame.data, frame.size);
    req[frame.size] = '\0';
    rill_broker_call_t *call = zhashx_lookup(self->pending, req);
    if (call == NULL) {
        /* The client went away or the call timed out: a late answer (or
         * the second of a call asked again that both brokers answered). */
        rill_log_debug(NULL, "late %s for req %s dropped", rill_command_name(message->command), req);
        return 0;
    }
    /* A REPLAY's header says whether more follow; one that cannot be read
     * ends the call (its owner reports the malformed reply). */
    rill_replay_header_t header;
    const rill_replay_header_t *replay = NULL;
    if (message->command == RILL_COMMAND_REPLAY &&
        rill_replay_header_decode(message->arguments[2].data, message->arguments[2].size, &header) == 0)
        replay = &header;
    if (replay != NULL && !replay->final) {
        /* One of several: the call stays, with a fresh deadline. */
        arm(self, call);
        call->in_callback = 1;
        call->reply(call->owner, RILL_CALL_MORE, message, replay);
        call->in_callback = 0;
        if (call->cancelled)
            forget(self, call);
        return 0;
    }
    finish(self, call, RILL_CALL_REPLIED, message, replay);
    return 0;
}

void rill_broker_calls_cancel(rill_broker_calls_t *self, rill_broker_call_t **call)
{
    if (call == NULL || *call == NULL)
        return;
    if ((*call)->in_callback)
        (*call)->cancelled = 1; /* freed when its callback returns */
    else
        forget(self, *call);
    *call = NULL;
}

void rill_broker_calls_fail_all(rill_broker_calls_t *self)
{
    rill_broker_call_t *call;
    while ((call = zhashx_first(self->pending)) != NULL)
        finish(self, call, RILL_CALL_SHUTDOWN, NULL, NULL);
}

void rill_broker_calls_hold(rill_broker_calls_t *self)
{
    for (rill_broker_call_t *call = zhashx_first(self->pending); call != NULL; call = zhashx_next(self->pending))
        if (call->copy != NULL)
            arm(self, call);
}

/* Sends the pending calls kept to be sent again (only the unsent ones
 * when only_unsent), each from its copy; a fresh deadline for each that
 * went. Not sent: its deadline answers it, as before. */
static size_t send_copies(rill_broker_calls_t *self, int only_unsent)
{
    size_t count = 0;
    for (rill_broker_call_t *call = zhashx_first(self->pending); call != NULL; call = zhashx_next(self->pending)) {
        if (call->copy == NULL || (only_unsent && !call->unsent))
            continue;
        rill_frame_t arguments[CALL_ARGUMENTS_MAX];
        size_t at = 0;
        for (size_t i = 0; i < call->argument_count; i++) {
            arguments[i] = (rill_frame_t){call->copy + at, call->sizes[i]};
            at += call->sizes[i];
        }
        if (send_call(self, call, arguments) != 0) {
            rill_log_debug(NULL, "%s req %s not sent again yet: %s", rill_command_name(call->command), call->req,
                           zmq_strerror(errno));
            continue;
        }
        call->unsent = 0;
        arm(self, call);
        count++;
    }
    return count;
}

size_t rill_broker_calls_resend(rill_broker_calls_t *self)
{
    size_t count = send_copies(self, 0);
    self->resent += count;
    return count;
}

size_t rill_broker_calls_send_unsent(rill_broker_calls_t *self)
{
    return send_copies(self, 1);
}

uint64_t rill_broker_calls_resent(const rill_broker_calls_t *self)
{
    return self->resent;
}
