/* test_router.c - exact routing, 404/405 with Allow, query and Accept parsing. */
#include "rill_test.h"
#include "router.h"

static rill_route_t route_of(const char *method, const char *path)
{
    rill_route_t route;
    rill_route_match(method, strlen(method), path, strlen(path), &route);
    return route;
}

int main(void)
{
    const char id[] = "0123456789abcdef0123456789abcdef";
    char path[128];

    rill_route_t route = route_of("POST", "/v1/jobs");
    CHECK(route.id == RILL_ROUTE_JOBS && route.status == 0);
    route = route_of("GET", "/v1/jobs"); /* the list */
    CHECK(route.id == RILL_ROUTE_JOBS && route.status == 0);
    route = route_of("PUT", "/v1/jobs");
    CHECK(route.status == 405 && strcmp(route.allow, "GET, POST") == 0);
    route = route_of("GET", "/v1/workers");
    CHECK(route.id == RILL_ROUTE_WORKERS && route.status == 0);
    route = route_of("GET", "/v1/topics");
    CHECK(route.id == RILL_ROUTE_TOPICS && route.status == 0);
    CHECK(route_of("POST", "/v1/workers").status == 405);
    CHECK(route_of("DELETE", "/v1/topics").status == 405);
    route = route_of("GET", "/v1/pipelines");
    CHECK(route.id == RILL_ROUTE_PIPELINES && route.status == 0);
    CHECK(route_of("POST", "/v1/pipelines").status == 405);
    CHECK(route_of("GET", "/v1/pipeline").status == 404);

    snprintf(path, sizeof(path), "/v1/jobs/%s", id);
    route = route_of("GET", path);
    CHECK(route.id == RILL_ROUTE_JOB && route.status == 0 && strcmp(route.job_id, id) == 0);
    route = route_of("DELETE", path);
    CHECK(route.id == RILL_ROUTE_JOB && route.status == 0);
    route = route_of("PUT", path);
    CHECK(route.status == 405 && strstr(route.allow, "DELETE") != NULL);

    /* Not a job id: 404 whatever the method. */
    CHECK(route_of("GET", "/v1/jobs/abc").status == 404);
    CHECK(route_of("GET", "/v1/jobs/0123456789ABCDEF0123456789ABCDEF").status == 404);
    snprintf(path, sizeof(path), "/v1/jobs/%s/x", id);
    CHECK(route_of("GET", path).status == 404);
    CHECK(route_of("PUT", "/v1/jobs/").status == 404);

    /* Prefixes are not routes. */
    CHECK(route_of("POST", "/v1/jobsx").status == 404);
    CHECK(route_of("GET", "/healthzz").status == 404);

    /* The dashboard: GET and HEAD of "/" exactly. */
    route = route_of("GET", "/");
    CHECK(route.id == RILL_ROUTE_DASHBOARD && route.status == 0);
    CHECK(route_of("HEAD", "/").status == 0);
    route = route_of("POST", "/");
    CHECK(route.status == 405 && strcmp(route.allow, "GET, HEAD") == 0);
    CHECK(route_of("GET", "/index.html").status == 404);
    CHECK(route_of("GET", "").status == 404);
    route = route_of("GET", "/healthz");
    CHECK(route.id == RILL_ROUTE_HEALTHZ && route.status == 0);
    CHECK(route_of("POST", "/healthz").status == 405);
    route = route_of("GET", "/livez");
    CHECK(route.id == RILL_ROUTE_LIVEZ && route.status == 0);
    route = route_of("HEAD", "/readyz");
    CHECK(route.id == RILL_ROUTE_READYZ && route.status == 0);
    CHECK(route_of("POST", "/readyz").status == 405);
    CHECK(route_of("GET", "/readyzz").status == 404 && route_of("GET", "/live").status == 404);
    rill_route_match("GET", 3, NULL, 0, &route);
    CHECK(route.status == 404);

    /* Streams and topics. */
    route = route_of("GET", "/v1/stream");
    CHECK(route.id == RILL_ROUTE_STREAM && route.status == 0);
    CHECK(route_of("POST", "/v1/stream").status == 405);
    CHECK(route_of("GET", "/v1/streams").status == 404);
    route = route_of("GET", "/v1/topics/news.eu_1-b");
    CHECK(route.id == RILL_ROUTE_TOPIC && route.status == 0 && strcmp(route.topic, "news.eu_1-b") == 0);
    route = route_of("POST", "/v1/topics/news");
    CHECK(route.id == RILL_ROUTE_TOPIC && route.status == 0);
    route = route_of("DELETE", "/v1/topics/news");
    CHECK(route.id == RILL_ROUTE_TOPIC && route.status == 0 && strcmp(route.topic, "news") == 0);
    route = route_of("PUT", "/v1/topics/news");
    CHECK(route.status == 405 && strcmp(route.allow, "GET, POST, DELETE") == 0);
    /* A wildcard (rill/4): GET only, a trailing ".*" after a name prefix. */
    route = route_of("GET", "/v1/topics/alerts.*");
    CHECK(route.status == 0 && strcmp(route.topic, "alerts.*") == 0);
    CHECK(route_of("POST", "/v1/topics/alerts.*").status == 400);
    CHECK(route_of("DELETE", "/v1/topics/alerts.*").status == 400);
    CHECK(route_of("GET", "/v1/topics/alerts*").status == 400);
    CHECK(route_of("GET", "/v1/topics/al*rts.*").status == 400);
    CHECK(route_of("GET", "/v1/topics/bad name").status == 400);
    CHECK(route_of("POST", "/v1/topics/a/b").status == 400);
    CHECK(route_of("GET", "/v1/topics/").status == 404);
    CHECK(route_of("GET", "/v1/topics").status == 0); /* the list */
    char long_path[200];
    snprintf(long_path, sizeof(long_path), "/v1/topics/%0128d", 7);
    CHECK(route_of("GET", long_path).status == 0);
    snprintf(long_path, sizeof(long_path), "/v1/topics/%0129d", 7);
    CHECK(route_of("GET", long_path).status == 400);

    /* Query pairs, repeated names, percent-decoding. */
    const char pairs[] = "job=a&&job=b&topic&since=x%3A1%2Cy%3a2";
    size_t at = 0, name_length, value_length;
    const char *name, *pair_value;
    CHECK(rill_query_next(pairs, strlen(pairs), &at, &name, &name_length, &pair_value, &value_length));
    CHECK_BYTES(name, name_length, "job");
    CHECK_BYTES(pair_value, value_length, "a");
    CHECK(rill_query_next(pairs, strlen(pairs), &at, &name, &name_length, &pair_value, &value_length));
    CHECK_BYTES(pair_value, value_length, "b");
    CHECK(rill_query_next(pairs, strlen(pairs), &at, &name, &name_length, &pair_value, &value_length));
    CHECK_BYTES(name, name_length, "topic");
    CHECK(value_length == 0);
    CHECK(rill_query_next(pairs, strlen(pairs), &at, &name, &name_length, &pair_value, &value_length));
    char decoded[64];
    long decoded_length = rill_percent_decode(pair_value, value_length, decoded);
    CHECK(decoded_length > 0);
    CHECK_BYTES(decoded, (size_t)decoded_length, "x:1,y:2");
    CHECK(!rill_query_next(pairs, strlen(pairs), &at, &name, &name_length, &pair_value, &value_length));
    CHECK(!rill_query_next(NULL, 0, &at, &name, &name_length, &pair_value, &value_length));
    CHECK(rill_percent_decode("a+b", 3, decoded) == 3 && memcmp(decoded, "a b", 3) == 0);
    CHECK(rill_percent_decode("%4", 2, decoded) == -1);
    CHECK(rill_percent_decode("%zz", 3, decoded) == -1);
    CHECK(rill_percent_decode("a%00", 4, decoded) == -1);
    CHECK(rill_percent_decode("", 0, decoded) == 0);

    const char *value;
    size_t length;
    const char query[] = "detach=1&format=sse&empty=&flag";
    CHECK(rill_query_find(query, strlen(query), "format", &value, &length) == 1);
    CHECK_BYTES(value, length, "sse");
    CHECK(rill_query_find(query, strlen(query), "form", &value, &length) == 0);
    CHECK(rill_query_find(query, strlen(query), "empty", &value, &length) == 1 && length == 0);
    CHECK(rill_query_flag(query, strlen(query), "detach") == 1);
    CHECK(rill_query_flag(query, strlen(query), "flag") == 1);
    CHECK(rill_query_flag("detach=0", 8, "detach") == 0);
    CHECK(rill_query_flag("detach=true", 11, "detach") == 1);
    CHECK(rill_query_flag(NULL, 0, "detach") == 0);
    CHECK(rill_query_flag("&&=&", 4, "detach") == 0);

    CHECK(rill_accept_wants_sse("text/event-stream", 17) == 1);
    CHECK(rill_accept_wants_sse("application/json, Text/Event-Stream;q=0.9", 41) == 1);
    CHECK(rill_accept_wants_sse("*/*", 3) == 0);
    CHECK(rill_accept_wants_sse(NULL, 0) == 0);

    /* The stream format: format= in the query, or the Accept header. */
    rill_stream_format_t format = RILL_STREAM_SSE;
    CHECK(rill_query_stream_format(NULL, 0, NULL, 0, &format) == 0 && format == RILL_STREAM_NDJSON);
    CHECK(rill_query_stream_format(query, strlen(query), NULL, 0, &format) == 0 &&
          format == RILL_STREAM_SSE);
    CHECK(rill_query_stream_format("format=ndjson", 13, NULL, 0, &format) == 0 &&
          format == RILL_STREAM_NDJSON);
    CHECK(rill_query_stream_format("format=ndjson", 13, "text/event-stream", 17, &format) == 0 &&
          format == RILL_STREAM_SSE);
    CHECK(rill_query_stream_format("job=x", 5, "*/*", 3, &format) == 0 &&
          format == RILL_STREAM_NDJSON);
    CHECK(rill_query_stream_format("format=xml", 10, NULL, 0, &format) == -1 &&
          format == RILL_STREAM_NDJSON);
    CHECK(rill_query_stream_format("format=xml&format=sse", 21, NULL, 0, &format) == -1 &&
          format == RILL_STREAM_SSE);
    RILL_TEST_END();
}
