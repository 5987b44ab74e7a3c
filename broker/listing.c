/*
 * listing.c - LIST: jobs, workers and topics, newest first, filtered and
 * paged by serial. See listing.h.
 *
 * Each list collects the items that pass its filters and lie below the
 * page's token, sorts them by serial (highest first) and writes at most
 * limit of them: O(n log n) in the items the broker knows, for an
 * administrator's request, never on the path of a part.
 */
#include "listing.h"
#include "pipeline_listing.h"
#include "rill_alloc.h"
#include "rill_buffer.h"
#include "rill_clock.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room kept under max_message_bytes for the frames around the answer. */
#define LISTING_MARGIN_BYTES 4096

/* ---- the query ------------------------------------------------------------ */

typedef struct {
    const char *state, *kind, *worker, *pipeline, *source, *prefix, *name;
    uint64_t limit;
    uint64_t below; /* serials below this one; UINT64_MAX = from the newest */
} query_t;

/* Reads query (an object whose keys are among allowed) into out; the
 * strings point into root. 0, or -1 with error. */
static int read_query(json_t *root, const char *const *allowed, query_t *out, rill_broker_error_t *error)
{
    memset(out, 0, sizeof(*out));
    out->limit = RILL_LISTING_DEFAULT_LIMIT;
    out->below = UINT64_MAX;
    if (!json_is_object(root)) {
        (void)rill_broker_refuse(error, "bad_request", "the query must be a JSON object");
        return -1;
    }
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        int known = 0;
        for (size_t i = 0; allowed[i] != NULL && !known; i++)
            known = strcmp(allowed[i], key) == 0;
        if (!known) {
            (void)rill_broker_refuse(error, "bad_request", "unknown parameter \"%.64s\"", key);
            return -1;
        }
        if (strcmp(key, "limit") == 0) {
            if (!json_is_integer(value) || json_integer_value(value) < 1 ||
                json_integer_value(value) > RILL_LISTING_MAX_LIMIT) {
                (void)rill_broker_refuse(error, "bad_request", "limit must be an integer from 1 to %d", RILL_LISTING_MAX_LIMIT);
                return -1;
            }
            out->limit = (uint64_t)json_integer_value(value);
            continue;
        }
        if (!json_is_string(value) || json_string_length(value) == 0 || json_string_length(value) > 256) {
            (void)rill_broker_refuse(error, "bad_request", "%.64s must be a string of 1 to 256 bytes", key);
            return -1;
        }
        const char *text = json_string_value(value);
        if (strcmp(key, "next") == 0) {
            char *end = NULL;
            errno = 0;
            unsigned long long below = strtoull(text, &end, 10);
            if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || below == 0) {
                (void)rill_broker_refuse(error, "bad_request", "next must be the token a previous page gave");
                return -1;
            }
            out->below = below;
        } else if (strcmp(key, "state") == 0) {
            static const char *const states[] = {"queued", "waiting", "running", "done", "failed", "cancelled"};
            int valid = 0;
            for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
                valid |= strcmp(states[i], text) == 0;
            if (!valid) {
                (void)rill_broker_refuse(error, "bad_request",
                       "state must be queued, waiting, running, done, failed or cancelled");
                return -1;
            }
            out->state = text;
        } else if (strcmp(key, "kind") == 0) {
            out->kind = text;
        } else if (strcmp(key, "worker") == 0) {
            out->worker = text;
        } else if (strcmp(key, "pipeline") == 0) {
            out->pipeline = text;
        } else if (strcmp(key, "source") == 0) {
            out->source = text;
        } else if (strcmp(key, "prefix") == 0) {
            out->prefix = text;
        } else if (strcmp(key, "name") == 0) {
            out->name = text;
        }
    }
    return 0;
}

static int text_is(const char *wanted, const char *have)
{
    return wanted == NULL || (have != NULL && strcmp(wanted, have) == 0);
}

/* ---- pages ---------------------------------------------------------------- */

typedef struct {
    const void *item;
    uint64_t serial;
} entry_t;

typedef struct {
    entry_t *entries;
    size_t count, capacity;
} entries_t;

static void entries_add(entries_t *self, const void *item, uint64_t serial)
{
    if (self->count == self->capacity) {
        self->capacity = self->capacity != 0 ? 2 * self->capacity : 64;
        self->entries = rill_xrealloc(self->entries, self->capacity * sizeof(*self->entries));
    }
    self->entries[self->count++] = (entry_t){item, serial};
}

static int newest_first(const void *a, const void *b)
{
    uint64_t left = ((const entry_t *)a)->serial, right = ((const entry_t *)b)->serial;
    return left < right ? 1 : left > right ? -1 : 0;
}

/* Writes {"<name>":[items...],"next":token|null}: render(item) gives each
 * item's JSON text (freed here; NULL skips it). A page ends at limit items,
 * or before the one that would take it over max_bytes. Returns the text
 * (caller frees) or NULL. */
static char *write_page(entries_t *entries, const char *name, uint64_t limit, uint64_t max_bytes,
                        char *(*render)(void *context, const void *item), void *context)
{
    if (entries->count > 0)
        qsort(entries->entries, entries->count, sizeof(*entries->entries), newest_first);
    rill_buffer_t out;
    rill_buffer_init(&out);
    rill_buffer_printf(&out, "{\"%s\":[", name);
    size_t written = 0, at = 0;
    uint64_t last_serial = 0;
    for (; at < entries->count && written < limit; at++) {
        char *text = render(context, entries->entries[at].item);
        if (text == NULL)
            continue;
        size_t length = strlen(text);
        if (written > 0 && out.length + length + LISTING_MARGIN_BYTES > max_bytes) {
            free(text);
            break;
        }
        if (written > 0)
            rill_buffer_append(&out, ",", 1);
        rill_buffer_append(&out, text, length);
        free(text);
        written++;
        last_serial = entries->entries[at].serial;
    }
    if (at < entries->count)
        rill_buffer_printf(&out, "],\"next\":\"%llu\"}", (unsigned long long)last_serial);
    else
        rill_buffer_printf(&out, "],\"next\":null}");
    free(entries->entries);
    entries->entries = NULL;
    if (out.failed) {
        rill_buffer_release(&out);
        return NULL;
    }
    char *text = rill_xstrndup(out.data, out.length);
    rill_buffer_release(&out);
    return text;
}

static uint64_t max_bytes(const rill_broker_t *broker)
{
    return broker->config.max_message_bytes;
}

/* ---- jobs ----------------------------------------------------------------- */

typedef struct {
    rill_broker_t *broker;
    const query_t *query;
    entries_t entries;
} job_pass_t;

static void visit_job(void *argument, rill_job_t *job)
{
    job_pass_t *pass = argument;
    const query_t *query = pass->query;
    if (job->serial >= query->below || !text_is(query->kind, job->kind) || !text_is(query->source, job->source) ||
        !text_is(query->pipeline, job->pipeline) || !text_is(query->worker, job->worker_name))
        return;
    if (query->state != NULL) {
        int served = job->state != RILL_JOB_QUEUED || rill_broker_kind_served(pass->broker, job->kind);
        if (strcmp(query->state, rill_job_state_name(job, served)) != 0)
            return;
    }
    entries_add(&pass->entries, job, job->serial);
}

static char *render_job(void *context, const void *item)
{
    return rill_broker_job_status(context, item);
}

static char *list_jobs(rill_broker_t *broker, const query_t *query)
{
    job_pass_t pass = {broker, query, {0}};
    rill_job_table_foreach(broker->jobs, visit_job, &pass);
    return write_page(&pass.entries, "jobs", query->limit, max_bytes(broker), render_job, broker);
}

/* ---- workers -------------------------------------------------------------- */

static char *render_worker(void *context, const void *item)
{
    (void)context;
    const rill_worker_t *worker = item;
    uint64_t now = rill_clock_monotonic_ms();
    json_t *kinds = json_array();
    for (size_t i = 0; i < worker->kind_count; i++)
        json_array_append_new(kinds, json_string(worker->kinds[i]));
    json_t *jobs = json_array();
    for (rill_link_t *link = worker->jobs.next; link != &worker->jobs; link = link->next) {
        const rill_job_t *job = rill_container_of(link, rill_job_t, worker_link);
        json_array_append_new(jobs, json_string(job->id));
    }
    json_t *object = json_pack(
        "{s:s?, s:s?, s:I, s:o, s:I, s:I, s:I, s:o, s:b, s:I, s:I}", "name", worker->name, "host", worker->host,
        "pid", (json_int_t)worker->pid, "kinds", kinds, "credit", (json_int_t)worker->credit, "capacity",
        (json_int_t)worker->capacity, "held", (json_int_t)worker->held, "jobs", jobs, "draining",
        worker->draining, "last_heartbeat_ms", (json_int_t)(now > worker->last_seen_ms ? now - worker->last_seen_ms : 0),
        "connected_ms", (json_int_t)worker->joined_wall_ms);
    if (object == NULL)
        return NULL;
    char *text = json_dumps(object, JSON_COMPACT);
    json_decref(object);
    return text;
}

static char *list_workers(rill_broker_t *broker, const query_t *query)
{
    entries_t entries = {0};
    for (rill_worker_t *worker = rill_worker_pool_first(broker->pool); worker != NULL;
         worker = rill_worker_pool_next(broker->pool, worker)) {
        if (worker->serial < query->below && (query->kind == NULL || rill_worker_serves(worker, query->kind)))
            entries_add(&entries, worker, worker->serial);
    }
    return write_page(&entries, "workers", query->limit, max_bytes(broker), render_worker, NULL);
}

/* ---- topics --------------------------------------------------------------- */

typedef struct {
    rill_broker_t *broker;
    const query_t *query;
    entries_t entries;
} topic_pass_t;

static void visit_topic(void *argument, rill_topic_t *topic)
{
    topic_pass_t *pass = argument;
    const char *prefix = pass->query->prefix;
    /* subject is "t" + name + "/" */
    if (topic->serial >= pass->query->below ||
        (prefix != NULL && strncmp(topic->subject + 1, prefix, strlen(prefix)) != 0))
        return;
    entries_add(&pass->entries, topic, topic->serial);
}

static char *render_topic(void *context, const void *item)
{
    rill_broker_t *broker = context;
    rill_topic_t *topic = (rill_topic_t *)item;
    uint64_t now = rill_clock_monotonic_ms();
    rill_topic_expire(topic, now, broker->config.topic_retain_ms);
    size_t retained = topic->retention != NULL ? rill_retention_count(topic->retention) : 0;
    json_t *object = json_pack("{s:s%, s:I, s:I, s:I, s:I, s:f}", "name", topic->subject + 1,
                               topic->subject_length - 2, "subscribers",
                               (json_int_t)rill_broker_subscribers(broker, topic->subject), "last_seq",
                               (json_int_t)topic->last_seq, "first_seq", (json_int_t)rill_topic_first_seq(topic),
                               "retained", (json_int_t)retained, "rate", rill_topic_rate(topic, now));
    if (object == NULL)
        return NULL;
    char *text = json_dumps(object, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(object);
    return text;
}

static char *list_topics(rill_broker_t *broker, const query_t *query)
{
    topic_pass_t pass = {broker, query, {0}};
    rill_topic_table_foreach(broker->topics, visit_topic, &pass);
    return write_page(&pass.entries, "topics", query->limit, max_bytes(broker), render_topic, broker);
}

static char *topic_info(rill_broker_t *broker, const query_t *query, rill_broker_error_t *error)
{
    rill_topic_t *topic = query->name != NULL ? rill_topic_table_find(broker->topics, query->name,
                                                                      strlen(query->name))
                                              : NULL;
    if (topic == NULL) {
        (void)rill_broker_refuse(error, "not_found", "no such topic (never published to nor subscribed)");
        return NULL;
    }
    return render_topic(broker, topic);
}

/* ---- LIST ----------------------------------------------------------------- */

char *rill_listing_answer(rill_broker_t *broker, const char *what, size_t what_length, const char *query,
                          size_t query_length, rill_broker_error_t *error)
{
    static const char *const job_keys[] = {"state", "kind", "worker", "pipeline", "source", "limit", "next", NULL};
    static const char *const worker_keys[] = {"kind", "limit", "next", NULL};
    static const char *const topic_keys[] = {"prefix", "limit", "next", NULL};
    static const char *const info_keys[] = {"name", NULL};
    static const char *const no_keys[] = {NULL};
    static const struct {
        const char *what;
        const char *const *keys;
    } lists[] = {{"jobs", job_keys}, {"workers", worker_keys}, {"topics", topic_keys}, {"topic", info_keys},
                 {"pipelines", no_keys}};
    size_t which = sizeof(lists) / sizeof(lists[0]);
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        if (strlen(lists[i].what) == what_length && memcmp(lists[i].what, what, what_length) == 0)
            which = i;
    }
    if (which == sizeof(lists) / sizeof(lists[0])) {
        (void)rill_broker_refuse(error, "bad_request", "LIST takes jobs, workers, topics, topic or pipelines");
        return NULL;
    }
    json_t *root = json_loadb(query, query_length, 0, NULL);
    query_t parsed;
    if (read_query(root, lists[which].keys, &parsed, error) != 0) {
        json_decref(root);
        return NULL;
    }
    char *text = NULL;
    switch (which) {
    case 0:
        text = list_jobs(broker, &parsed);
        break;
    case 1:
        text = list_workers(broker, &parsed);
        break;
    case 2:
        text = list_topics(broker, &parsed);
        break;
    case 3:
        text = topic_info(broker, &parsed, error);
        json_decref(root);
        return text;
    default:
        json_decref(root);
        return rill_pipeline_listing_answer(broker, error);
    }
    json_decref(root);
    if (text == NULL)
        (void)rill_broker_refuse(error, "internal", "cannot encode the list");
    return text;
}
