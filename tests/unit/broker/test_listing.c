/* test_listing.c - LIST (broker/listing.c) and presence (broker/presence.c)
 * without sockets: jobs newest first, filtered and paged with no duplicate
 * and no miss while jobs come; the workers list; topics with subscribers
 * counted over frontends (XPUB) plus the frontends' PRESENCE reports. */
#include "listeners.h"
#include "dispatch.h"
#include "events.h"
#include "fake_outbox.h"
#include "job_life.h"
#include "listing.h"
#include "presence.h"
#include "rill_clock.h"
#include "rill_messages.h"
#include "rill_test.h"
#include "worker_life.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rill_broker_t *new_broker(void)
{
    rill_config_t config;
    rill_config_defaults(&config);
    return fake_outbox_broker(&config);
}

static void submit_one(rill_broker_t *broker, unsigned number, const char *kind, const char *source)
{
    rill_submit_job_t job;
    memset(&job, 0, sizeof(job));
    snprintf(job.id, sizeof(job.id), "%032x", number);
    job.kind = kind;
    job.source = source;
    char ids[1][RILL_ID_TEXT_SIZE];
    uint64_t flush_ms[1];
    rill_broker_error_t error;
    CHECKF(rill_broker_submit(broker, &job, 1, "", ids, flush_ms, &error) == 0, "%s", error.message);
}

/* LIST what query: the parsed answer, or NULL with error filled. */
static json_t *list(rill_broker_t *broker, const char *what, const char *query, rill_broker_error_t *error)
{
    char *text = rill_listing_answer(broker, what, strlen(what), query, strlen(query), error);
    if (text == NULL)
        return NULL;
    json_t *answer = json_loads(text, 0, NULL);
    CHECK(answer != NULL);
    free(text);
    return answer;
}

static void test_jobs_paged(void)
{
    rill_broker_t *broker = new_broker();
    for (unsigned i = 1; i <= 7; i++)
        submit_one(broker, i, "demo", i % 2 ? "odd" : "even");
    rill_broker_error_t error;
    json_t *page = list(broker, "jobs", "{\"limit\":3}", &error);
    json_t *jobs = json_object_get(page, "jobs");
    CHECK(json_array_size(jobs) == 3);
    /* Newest first, with the fields of STATUS. */
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(jobs, 0), "id")),
                 "00000000000000000000000000000007") == 0);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(jobs, 0), "state")), "waiting") == 0);
    CHECK(json_object_get(json_array_get(jobs, 0), "subscribers") != NULL);
    const char *next = json_string_value(json_object_get(page, "next"));
    CHECK(next != NULL);

    /* Jobs that come meanwhile do not shift the pages. */
    submit_one(broker, 8, "demo", "odd");
    char query[128];
    int seen[9] = {0};
    for (size_t i = 0; i < 3; i++)
        seen[strtoul(json_string_value(json_object_get(json_array_get(jobs, i), "id")), NULL, 16)]++;
    while (next != NULL) {
        snprintf(query, sizeof(query), "{\"limit\":3,\"next\":\"%s\"}", next);
        json_decref(page);
        page = list(broker, "jobs", query, &error);
        jobs = json_object_get(page, "jobs");
        for (size_t i = 0; i < json_array_size(jobs); i++)
            seen[strtoul(json_string_value(json_object_get(json_array_get(jobs, i), "id")), NULL, 16)]++;
        next = json_string_value(json_object_get(page, "next"));
    }
    json_decref(page);
    for (unsigned i = 1; i <= 7; i++)
        CHECKF(seen[i] == 1, "job %u seen %d times", i, seen[i]);
    CHECK(seen[8] == 0);

    /* Filters; a value nothing has is an empty list. */
    page = list(broker, "jobs", "{\"source\":\"even\"}", &error);
    CHECK(json_array_size(json_object_get(page, "jobs")) == 3 && json_is_null(json_object_get(page, "next")));
    json_decref(page);
    page = list(broker, "jobs", "{\"state\":\"running\"}", &error);
    CHECK(json_array_size(json_object_get(page, "jobs")) == 0);
    json_decref(page);
    page = list(broker, "jobs", "{\"kind\":\"nope\",\"worker\":\"w\"}", &error);
    CHECK(json_array_size(json_object_get(page, "jobs")) == 0);
    json_decref(page);

    /* Refusals. */
    CHECK(list(broker, "jobs", "{\"state\":\"bogus\"}", &error) == NULL && strcmp(error.code, "bad_request") == 0);
    CHECK(list(broker, "jobs", "{\"color\":\"red\"}", &error) == NULL && strcmp(error.code, "bad_request") == 0);
    CHECK(list(broker, "jobs", "{\"limit\":0}", &error) == NULL);
    CHECK(list(broker, "jobs", "{\"limit\":1001}", &error) == NULL);
    CHECK(list(broker, "jobs", "{\"next\":\"x1\"}", &error) == NULL);
    CHECK(list(broker, "jobs", "[]", &error) == NULL);
    CHECK(list(broker, "nothing", "{}", &error) == NULL);
    rill_broker_destroy(&broker);
    forget_recorded();
}

static void test_workers(void)
{
    rill_broker_t *broker = new_broker();
    const char *names[2] = {"w1", "w2"};
    for (size_t i = 0; i < 2; i++) {
        char session[RILL_ID_TEXT_SIZE];
        snprintf(session, sizeof(session), "%032zx", i + 1);
        rill_hello_t hello = {.name = names[i], .host = "h", .pid = 100 + (int64_t)i, .kind_count = 1,
                              .kinds = {"demo"}, .credit = 2, .session = session};
        rill_frame_t routing = rill_frame_from_string(names[i]);
        rill_broker_worker_hello(broker, &routing, &hello);
    }
    submit_one(broker, 1, "demo", NULL);
    rill_broker_dispatch(broker);
    rill_broker_error_t error;
    json_t *page = list(broker, "workers", "{}", &error);
    json_t *workers = json_object_get(page, "workers");
    CHECK(json_array_size(workers) == 2);
    json_t *newest = json_array_get(workers, 0);
    CHECK(strcmp(json_string_value(json_object_get(newest, "name")), "w2") == 0);
    CHECK(json_integer_value(json_object_get(newest, "pid")) == 101);
    size_t running = 0;
    for (size_t i = 0; i < 2; i++) {
        json_t *jobs = json_object_get(json_array_get(workers, i), "jobs");
        if (json_array_size(jobs) == 1) {
            running++;
            CHECK(strcmp(json_string_value(json_array_get(jobs, 0)), "00000000000000000000000000000001") == 0);
            CHECK(json_integer_value(json_object_get(json_array_get(workers, i), "credit")) == 1);
        }
    }
    CHECK(running == 1);
    json_decref(page);
    page = list(broker, "workers", "{\"kind\":\"tail\"}", &error);
    CHECK(json_array_size(json_object_get(page, "workers")) == 0);
    json_decref(page);
    rill_broker_destroy(&broker);
    forget_recorded();
}

static uint64_t topic_number(json_t *object, const char *key)
{
    return (uint64_t)json_integer_value(json_object_get(object, key));
}

static void test_topics_and_presence(void)
{
    rill_broker_t *broker = new_broker();
    uint64_t seq = 0;
    CHECK(rill_events_publish_message(broker, "news", 4, "{}", 2, &seq) == 0);
    CHECK(rill_events_publish_message(broker, "news", 4, "[1]", 3, &seq) == 0 && seq == 2);
    rill_broker_error_t error;
    json_t *info = list(broker, "topic", "{\"name\":\"news\"}", &error);
    CHECK(info != NULL && topic_number(info, "last_seq") == 2 && topic_number(info, "retained") == 2);
    CHECK(topic_number(info, "subscribers") == 0 && json_real_value(json_object_get(info, "rate")) > 0);
    json_decref(info);
    CHECK(list(broker, "topic", "{\"name\":\"never\"}", &error) == NULL && strcmp(error.code, "not_found") == 0);

    /* Two frontends listen (XPUB), one of them with 3 streams (PRESENCE). */
    const uint8_t subscribe[] = "\001tnews/";
    rill_broker_subscription(broker, subscribe, sizeof(subscribe) - 1);
    rill_broker_subscription(broker, subscribe, sizeof(subscribe) - 1);
    CHECK(rill_broker_subscribers(broker, "tnews/") == 2);
    const char *report = "{\"interval_ms\":1000,\"subjects\":{\"tnews/\":3}}";
    uint64_t now = rill_clock_monotonic_ms();
    CHECK(rill_presence_report(broker->presence, (const uint8_t *)"A", 1, report, strlen(report), now) == 0);
    CHECK(rill_broker_subscribers(broker, "tnews/") == 4);
    /* A report replaces the last one; an expired one counts no more. */
    report = "{\"interval_ms\":1000,\"subjects\":{\"tnews/\":2}}";
    CHECK(rill_presence_report(broker->presence, (const uint8_t *)"A", 1, report, strlen(report), now) == 0);
    CHECK(rill_broker_subscribers(broker, "tnews/") == 3);
    CHECK(rill_presence_extra(broker->presence, "tnews/", now + 3000) == 0);
    CHECK(rill_presence_frontends(broker->presence, now) == 1);
    report = "{\"interval_ms\":1000,\"subjects\":{}}";
    CHECK(rill_presence_report(broker->presence, (const uint8_t *)"A", 1, report, strlen(report), now) == 0);
    CHECK(rill_presence_frontends(broker->presence, now) == 0 && rill_broker_subscribers(broker, "tnews/") == 2);
    CHECK(rill_presence_report(broker->presence, (const uint8_t *)"A", 1, "[]", 2, now) == -1);
    CHECK(rill_presence_report(broker->presence, (const uint8_t *)"A", 1, "{\"subjects\":{}}", 15, now) == -1);

    /* Topics list: newest first, prefix filter. */
    CHECK(rill_events_publish_message(broker, "alerts.cpu", 10, "1", 1, &seq) == 0);
    json_t *page = list(broker, "topics", "{}", &error);
    json_t *topics = json_object_get(page, "topics");
    CHECK(json_array_size(topics) == 2);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(topics, 0), "name")), "alerts.cpu") == 0);
    CHECK(topic_number(json_array_get(topics, 1), "subscribers") == 2);
    json_decref(page);
    page = list(broker, "topics", "{\"prefix\":\"alerts.\"}", &error);
    CHECK(json_array_size(json_object_get(page, "topics")) == 1);
    json_decref(page);
    rill_broker_destroy(&broker);
    forget_recorded();
}

int main(void)
{
    test_jobs_paged();
    test_workers();
    test_topics_and_presence();
    RILL_TEST_END();
}
