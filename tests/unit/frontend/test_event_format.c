/* test_event_format.c - the exact bytes of NDJSON lines, gaps, errors and SSE heads. */
#include "rill_test.h"
#include "event_format.h"

#include <jansson.h>

static const char id[] = "0123456789abcdef0123456789abcdef";

/* Every line must be one JSON object followed by exactly one newline. */
static void check_json_line(const rill_chunk_t *chunk)
{
    CHECK(chunk->length > 0 && chunk->bytes[chunk->length - 1] == '\n');
    CHECK(memchr(chunk->bytes, '\n', chunk->length) == chunk->bytes + chunk->length - 1);
    json_error_t error;
    json_t *value = json_loadb(chunk->bytes, chunk->length, 0, &error);
    CHECK(json_is_object(value));
    json_decref(value);
}

int main(void)
{
    rill_chunk_t *line = rill_event_format_line(0, id, 32, 3, "part", "{\"i\":1}", 7);
    CHECK(line != NULL);
    CHECK_BYTES(line->bytes, line->length,
                "{\"job\":\"0123456789abcdef0123456789abcdef\",\"seq\":3,\"event\":\"part\","
                "\"data\":{\"i\":1}}\n");
    CHECK(line->length <= line->capacity);
    check_json_line(line);
    rill_chunk_unref(&line);

    line = rill_event_format_line(1, "news", 4, 18446744073709551615ull, "part", "[1,2]", 5);
    CHECK_BYTES(line->bytes, line->length,
                "{\"topic\":\"news\",\"seq\":18446744073709551615,\"event\":\"part\",\"data\":[1,2]}\n");
    rill_chunk_unref(&line);

    line = rill_event_format_line(0, id, 32, 1, "done", "", 0);
    CHECK_BYTES(line->bytes, line->length,
                "{\"job\":\"0123456789abcdef0123456789abcdef\",\"seq\":1,\"event\":\"done\",\"data\":null}\n");
    rill_chunk_unref(&line);

    rill_chunk_t *gap = rill_event_format_gap(0, id, 32, 4, 9);
    CHECK_BYTES(gap->bytes, gap->length,
                "{\"job\":\"0123456789abcdef0123456789abcdef\",\"seq\":9,\"event\":\"gap\","
                "\"data\":{\"from\":4,\"to\":9}}\n");
    check_json_line(gap);
    rill_chunk_unref(&gap);

    rill_chunk_t *error = rill_event_format_error(0, id, 32, 7, "broker_restarted",
                                                  "quote \" backslash \\ newline \n tab \t");
    CHECK(error != NULL);
    check_json_line(error);
    json_error_t json_error;
    json_t *parsed = json_loadb(error->bytes, error->length, 0, &json_error);
    json_t *data = json_object_get(parsed, "data");
    CHECK(strcmp(json_string_value(json_object_get(data, "code")), "broker_restarted") == 0);
    CHECK(strcmp(json_string_value(json_object_get(data, "message")),
                 "quote \" backslash \\ newline \n tab \t") == 0);
    CHECK(strcmp(json_string_value(json_object_get(parsed, "event")), "error") == 0);
    CHECK(json_integer_value(json_object_get(parsed, "seq")) == 7);
    json_decref(parsed);
    rill_chunk_unref(&error);

    rill_chunk_t *head = rill_event_format_sse_head("part", "a:1,b:2", 7);
    CHECK_BYTES(head->bytes, head->length, "event: part\nid: a:1,b:2\ndata: ");
    rill_chunk_unref(&head);
    /* A notice: no id: line, no subject, no seq. */
    head = rill_event_format_sse_head("closing", NULL, 0);
    CHECK_BYTES(head->bytes, head->length, "event: closing\ndata: ");
    rill_chunk_unref(&head);
    rill_chunk_t *notice = rill_event_format_notice("closing", "{\"cursor\":\"news:3\"}", 19);
    CHECK_BYTES(notice->bytes, notice->length,
                "{\"event\":\"closing\",\"data\":{\"cursor\":\"news:3\"}}\n");
    CHECK(notice->kind == RILL_CHUNK_BYTES);
    check_json_line(notice);
    rill_chunk_unref(&notice);
    notice = rill_event_format_notice("broker_unavailable", "{}", 2);
    CHECK_BYTES(notice->bytes, notice->length, "{\"event\":\"broker_unavailable\",\"data\":{}}\n");
    rill_chunk_unref(&notice);
    notice = rill_event_format_closing("a:1,news:3", 10);
    CHECK_BYTES(notice->bytes, notice->length,
                "{\"event\":\"closing\",\"data\":{\"cursor\":\"a:1,news:3\"}}\n");
    rill_chunk_unref(&notice);
    /* The accepted notice: the ids in order, one or many. */
    char ids[2][RILL_ID_TEXT_SIZE] = {"0123456789abcdef0123456789abcdef",
                                      "fedcba9876543210fedcba9876543210"};
    notice = rill_event_format_accepted((const char(*)[RILL_ID_TEXT_SIZE])ids, 2);
    CHECK_BYTES(notice->bytes, notice->length,
                "{\"event\":\"accepted\",\"data\":{\"jobs\":[\"0123456789abcdef0123456789abcdef\","
                "\"fedcba9876543210fedcba9876543210\"]}}\n");
    CHECK(notice->kind == RILL_CHUNK_BYTES && notice->length <= notice->capacity);
    check_json_line(notice);
    rill_chunk_unref(&notice);
    notice = rill_event_format_accepted((const char(*)[RILL_ID_TEXT_SIZE])ids + 1, 1);
    CHECK_BYTES(notice->bytes, notice->length,
                "{\"event\":\"accepted\",\"data\":{\"jobs\":[\"fedcba9876543210fedcba9876543210\"]}}\n");
    rill_chunk_unref(&notice);
    CHECK_BYTES(RILL_SSE_RETRY, strlen(RILL_SSE_RETRY), "retry: 3000\n\n");

    char buffer[64];
    size_t length = rill_json_escape(buffer, sizeof(buffer), "a\"b", 3);
    CHECK_BYTES(buffer, length, "\"a\\\"b\"");
    length = rill_json_escape(buffer, sizeof(buffer), "\x01", 1);
    CHECK_BYTES(buffer, length, "\"\\u0001\"");
    CHECK(rill_json_escape(buffer, 4, "abcdef", 6) == 0); /* does not fit: refused */
    CHECK(strlen(RILL_HEARTBEAT_NDJSON) == 22 && RILL_HEARTBEAT_NDJSON[21] == '\n');
    RILL_TEST_END();
}
