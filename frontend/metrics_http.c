/*
 * metrics_http.c - see metrics_http.h. The scrape's state lives in the
 * request's pool (h2o_mem_alloc_shared with a dispose callback), like every
 * request that waits for the broker (http_api.c, submit_http.c): a client
 * that leaves mid-scrape takes the pending call and the deadline with it.
 */
#include "metrics_http.h"

#include "http_reply.h"
#include "process_metrics.h"
#include "rill_log.h"
#include "streams.h"

#include <string.h>
#include <unistd.h>

typedef struct {
    rill_broker_link_t *broker;
    rill_streams_t *streams;
    rill_frontend_metrics_t *metrics;
    h2o_req_t *req;
    rill_broker_call_t *call;
    h2o_timeout_entry_t deadline; /* on the context's one_sec_timeout */
} scrape_t;

#define SCRAPE_OF(entry) ((scrape_t *)((char *)(entry)-offsetof(scrape_t, deadline)))

static void scrape_dispose(void *data)
{
    scrape_t *scrape = data;
    rill_broker_link_cancel(scrape->broker, &scrape->call);
    if (h2o_timeout_is_linked(&scrape->deadline))
        h2o_timeout_unlink(&scrape->deadline);
}

/* Serves the processes' families, the frontend's part, then the broker's
 * text when there is one. */
static void respond(scrape_t *scrape, const rill_frame_t *broker_text, const rill_frame_t *processes)
{
    rill_streams_t *streams = scrape->streams;
    h2o_req_t *req = scrape->req;
    if (h2o_timeout_is_linked(&scrape->deadline))
        h2o_timeout_unlink(&scrape->deadline);
    /* A broker answer with a NUL in it is not text: leave it out. */
    if (broker_text != NULL && memchr(broker_text->data, '\0', broker_text->size) != NULL) {
        rill_log_warn(NULL, "the broker's METRICS text holds a NUL byte: left out");
        broker_text = NULL;
    }
    rill_frontend_gauges_t gauges = {
        .broker_up = broker_text != NULL,
        .streams_open = rill_streams_count(streams),
        .streams_opened = streams->opened,
        .subjects = rill_subject_registry_size(streams->subjects),
        .events_received = streams->events_received,
        .malformed = rill_broker_link_malformed(scrape->broker),
        .broker_switches = rill_broker_link_switches(scrape->broker),
        .calls_resent = rill_broker_link_resent(scrape->broker),
        /* Sampled now too: an idle frontend flushes nothing, which is when
         * a busy spell would otherwise never be seen to end. */
        .busy = rill_write_pacing_window(&streams->outputs.pacing, h2o_now(req->conn->ctx->loop)) > 0,
        .busy_episodes = streams->outputs.pacing.busy_episodes,
        .read_yields = rill_broker_link_read_yields(scrape->broker),
    };
    rill_buffer_t text;
    rill_buffer_init(&text);
    rill_process_metrics_render(&text, (long)getpid(), broker_text != NULL && processes != NULL ?
                                (const char *)processes->data : NULL, processes != NULL ? processes->size : 0);
    rill_frontend_metrics_render(scrape->metrics, &gauges, (long)getpid(), &text);
    if (broker_text != NULL && broker_text->size > 0) {
        rill_buffer_append(&text, (const char *)broker_text->data, broker_text->size);
        if (broker_text->data[broker_text->size - 1] != '\n')
            rill_buffer_append(&text, "\n", 1);
    }
    if (text.failed) {
        rill_buffer_release(&text);
        rill_http_reply_error(req, 500, "internal", "out of memory");
        return;
    }
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/plain; version=0.0.4; charset=utf-8"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store"));
    req->res.content_length = text.length;
    h2o_send_inline(req, text.data, text.length); /* copies into the pool */
    rill_buffer_release(&text);
}

static void on_reply(void *owner, rill_call_outcome_t outcome, const rill_message_t *message,
                     const rill_replay_header_t *replay)
{
    (void)replay;
    scrape_t *scrape = owner;
    scrape->call = NULL;
    if (outcome == RILL_CALL_REPLIED && message->command == RILL_COMMAND_METRICS) {
        respond(scrape, &message->arguments[1], message->argument_count >= 3 ? &message->arguments[2] : NULL);
        return;
    }
    if (outcome == RILL_CALL_REPLIED)
        rill_log_warn(NULL, "the broker answered METRICS with %s", rill_command_name(message->command));
    respond(scrape, NULL, NULL);
}

static void on_deadline(h2o_timeout_entry_t *entry)
{
    scrape_t *scrape = SCRAPE_OF(entry);
    rill_broker_link_cancel(scrape->broker, &scrape->call);
    scrape->metrics->broker_scrape_failures++;
    rill_log_warn(NULL, "the broker did not answer METRICS within %d ms: serving the frontend's part",
                  RILL_METRICS_BROKER_WAIT_MS);
    respond(scrape, NULL, NULL);
}

void rill_metrics_http_handle(h2o_req_t *req, rill_broker_link_t *broker, rill_streams_t *streams,
                              rill_frontend_metrics_t *metrics)
{
    scrape_t *scrape = h2o_mem_alloc_shared(&req->pool, sizeof(*scrape), scrape_dispose);
    memset(scrape, 0, sizeof(*scrape));
    scrape->broker = broker;
    scrape->streams = streams;
    scrape->metrics = metrics;
    scrape->req = req;
    scrape->deadline.cb = on_deadline;
    if (!rill_broker_link_is_connected(broker)) {
        respond(scrape, NULL, NULL);
        return;
    }
    scrape->call = rill_broker_link_call(broker, RILL_COMMAND_METRICS, NULL, 0, on_reply,
                                         scrape);
    if (scrape->call == NULL) {
        respond(scrape, NULL, NULL);
        return;
    }
    /* one_sec_timeout is exactly RILL_METRICS_BROKER_WAIT_MS. */
    h2o_context_t *context = req->conn->ctx;
    h2o_timeout_link(context->loop, &context->one_sec_timeout, &scrape->deadline);
}
