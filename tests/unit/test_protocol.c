/* test_protocol.c - the wire codec: parse every channel, refuse every malformation. */
#include "rill_event_batch.h"
#include "rill_parts_batch.h"
#include "rill_protocol.h"
#include "rill_test.h"

#include <string.h>

#define F(text) rill_frame_from_string(text)
#define ID "0123456789abcdef0123456789abcdef"

static void test_numbers(void)
{
    uint64_t value = 0;
    CHECK(rill_frame_to_u64(F("0"), &value) == 0 && value == 0);
    CHECK(rill_frame_to_u64(F("18446744073709551"), &value) == 0 && value == 18446744073709551ull);
    CHECK(rill_frame_to_u64(F(""), &value) == -1);
    CHECK(rill_frame_to_u64(F("12a"), &value) == -1);
    CHECK(rill_frame_to_u64(F("-1"), &value) == -1);
    CHECK(rill_frame_to_u64(F("+1"), &value) == -1);
    CHECK(rill_frame_to_u64(F("12345678901234567890"), &value) == -1);
    char text[21];
    CHECK(rill_u64_to_text(0, text) == 1 && strcmp(text, "0") == 0);
    CHECK(rill_u64_to_text(1234567890123ull, text) == 13 && strcmp(text, "1234567890123") == 0);
}

static void test_ids_and_topics(void)
{
    CHECK(rill_job_id_is_valid((const uint8_t *)ID, 32));
    CHECK(!rill_job_id_is_valid((const uint8_t *)ID, 31));
    CHECK(!rill_job_id_is_valid((const uint8_t *)"0123456789ABCDEF0123456789abcdef", 32));
    /* Every byte value at every place: valid exactly for 0-9 and a-f. */
    int every_byte_right = 1;
    for (size_t place = 0; place < 32; place++) {
        for (int value = 0; value < 256; value++) {
            uint8_t id[32];
            memcpy(id, ID, 32);
            id[place] = (uint8_t)value;
            int hex = (value >= '0' && value <= '9') || (value >= 'a' && value <= 'f');
            every_byte_right &= rill_job_id_is_valid(id, 32) == hex;
        }
    }
    CHECK(every_byte_right);
    CHECK(rill_topic_name_is_valid("news.eu-west_1", 14));
    CHECK(!rill_topic_name_is_valid("", 0));
    CHECK(!rill_topic_name_is_valid("a/b", 3));
    char long_name[130];
    memset(long_name, 'a', sizeof(long_name));
    CHECK(rill_topic_name_is_valid(long_name, 128));
    CHECK(!rill_topic_name_is_valid(long_name, 129));
}

static void test_worker_channel(void)
{
    rill_message_t message;
    const char *error = NULL;
    /* rill/4: PART carries the seq the worker gave the part. */
    rill_frame_t part[] = {F("rill/12"), F("PART"), F(ID), F("17"), F("{\"i\":1}")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, part, 5, &message, &error) == 0);
    CHECK(message.command == RILL_COMMAND_PART && message.argument_count == 3);
    CHECK(rill_frame_equals(message.arguments[0], ID) && rill_frame_equals(message.arguments[1], "17"));
    /* rill/1's PART (no seq) is refused, and so is a seq that is no number. */
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, (rill_frame_t[]){F("rill/12"), F("PART"), F(ID),
                             F("{}")}, 4, &message, &error) == -1);
    CHECK(strcmp(error, "wrong number of frames") == 0);
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, (rill_frame_t[]){F("rill/12"), F("PART"), F(ID),
                             F("x"), F("{}")}, 5, &message, &error) == -1);

    rill_frame_t wrong_version[] = {F("rill/1"), F("PART"), F(ID), F("1"), F("{}")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, wrong_version, 5, &message, &error) == -1);
    CHECK(strcmp(error, "wrong protocol version") == 0);

    rill_frame_t bad_id[] = {F("rill/12"), F("PART"), F("xyz"), F("1"), F("{}")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, bad_id, 5, &message, &error) == -1);

    /* A PART's data passes the codec whatever it is: the broker checks it
     * whole and fails its job with bad_part (issue 9), never drops it unseen. */
    rill_frame_t bad_json[] = {F("rill/12"), F("PART"), F(ID), F("1"), F("<html>")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, bad_json, 5, &message, &error) == 0);
    rill_frame_t bad_hello[] = {F("rill/12"), F("HELLO"), F("<html>")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, bad_hello, 3, &message, &error) == -1);

    rill_frame_t too_many[] = {F("rill/12"), F("DONE"), F(ID), F("extra")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, too_many, 4, &message, &error) == -1);
    CHECK(strcmp(error, "wrong number of frames") == 0);

    /* rill/5: TOPIC job name data from a worker; PING may carry its stats. */
    rill_frame_t topic[] = {F("rill/12"), F("TOPIC"), F(ID), F("news"), F("{\"a\":1}")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, topic, 5, &message, &error) == 0);
    CHECK(message.command == RILL_COMMAND_TOPIC && message.argument_count == 3);
    rill_frame_t topic_bad_id[] = {F("rill/12"), F("TOPIC"), F("nope"), F("news"), F("{}")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, topic_bad_id, 5, &message, &error) == -1);
    CHECK(rill_message_parse(RILL_CHANNEL_TO_FRONTEND, topic, 5, &message, &error) == -1);
    rill_frame_t ping_stats[] = {F("rill/12"), F("PING"), F("{\"open_fds\":3}")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, ping_stats, 3, &message, &error) == 0);
    CHECK(message.command == RILL_COMMAND_PING && message.argument_count == 1);
    rill_frame_t ping_junk[] = {F("rill/12"), F("PING"), F("<html>")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, ping_junk, 3, &message, &error) == -1);

    /* A command of another channel is unknown here. */
    rill_frame_t batch[] = {F("rill/12"), F("BATCH"), F("{}")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, batch, 3, &message, &error) == -1);
    CHECK(rill_message_parse(RILL_CHANNEL_TO_WORKER, batch, 3, &message, &error) == 0);
    CHECK(message.command == RILL_COMMAND_BATCH);

    rill_frame_t credit[] = {F("rill/12"), F("CREDIT"), F("ten")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, credit, 3, &message, &error) == -1);

    rill_frame_t only_version[] = {F("rill/12")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_WORKER, only_version, 1, &message, &error) == -1);
}

static void test_frontend_channels(void)
{
    rill_message_t message;
    const char *error = NULL;
    /* CANCEL takes a req frame from a frontend, none towards a worker. */
    rill_frame_t cancel[] = {F("rill/12"), F("CANCEL"), F("7"), F(ID)};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, cancel, 4, &message, &error) == 0);
    CHECK(rill_message_parse(RILL_CHANNEL_TO_WORKER, cancel, 4, &message, &error) == -1);

    rill_frame_t publish[] = {F("rill/12"), F("PUBLISH"), F("9"), F("news"), F("{\"a\":1}")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, publish, 5, &message, &error) == 0);
    CHECK(message.command == RILL_COMMAND_PUBLISH);
    rill_frame_t published[] = {F("rill/12"), F("PUBLISHED"), F("9"), F("{\"seq\":1}")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_FRONTEND, published, 4, &message, &error) == 0);
    /* rill/8, topic leases: a seq under the lease, the lease flag, REVOKE and REVOKED. */
    rill_frame_t numbered[] = {F("rill/12"), F("PUBLISH"), F("9"), F("news"), F("{}"), F("12")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, numbered, 6, &message, &error) == 0 &&
          message.argument_count == 4);
    rill_frame_t bad_numbered[] = {F("rill/12"), F("PUBLISH"), F("9"), F("news"), F("{}"), F("-1")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, bad_numbered, 6, &message, &error) == -1);
    /* rill/10: a key after an empty seq frame (or after a seq), a drawn one, bad ones. */
    rill_frame_t keyed[] = {F("rill/12"), F("PUBLISH"), F("9"), F("news"), F("{}"), F(""), F("order-17:a.b_c")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, keyed, 7, &message, &error) == 0 &&
          message.argument_count == 5 && message.arguments[3].size == 0);
    rill_frame_t drawn[] = {F("rill/12"), F("PUBLISH"), F("9"), F("news"), F("{}"), F(""), F("~0123abcd")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, drawn, 7, &message, &error) == 0);
    const char *bad_keys[] = {"two words", "~", "~~x", "k\n", "{}"};
    for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
        rill_frame_t bad_key[] = {F("rill/12"), F("PUBLISH"), F("9"), F("news"), F("{}"), F(""), F(bad_keys[i])};
        CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, bad_key, 7, &message, &error) == -1);
    }
    rill_frame_t leased[] = {F("rill/12"), F("PUBLISHED"), F("9"), F("{\"seq\":1}"), F("1")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_FRONTEND, leased, 5, &message, &error) == 0 && message.argument_count == 3);
    rill_frame_t bad_flag[] = {F("rill/12"), F("PUBLISHED"), F("9"), F("{\"seq\":1}"), F("yes")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_FRONTEND, bad_flag, 5, &message, &error) == -1);
    rill_frame_t revoke[] = {F("rill/12"), F("REVOKE"), F("news")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_FRONTEND, revoke, 3, &message, &error) == 0 &&
          message.command == RILL_COMMAND_REVOKE);
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, revoke, 3, &message, &error) == -1);
    rill_frame_t revoked[] = {F("rill/12"), F("REVOKED"), F("news")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, revoked, 3, &message, &error) == 0 &&
          message.command == RILL_COMMAND_REVOKED);
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, revoked, 2, &message, &error) == -1);
    rill_frame_t metrics_reply[] = {F("rill/12"), F("METRICS"), F("3"), F("rill_workers_alive{process=\"broker\"} 2\n")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_FRONTEND, metrics_reply, 4, &message, &error) == 0);
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, metrics_reply, 3, &message, &error) == 0);
    rill_frame_t submit[] = {F("rill/12"), F("SUBMIT"), F("1"), F(""), F("[]")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, submit, 5, &message, &error) == 0);
    CHECK(message.arguments[1].size == 0);

    rill_frame_t replay[] = {F("rill/12"), F("REPLAY"), F("1"), F("j" ID), F("{}"),
                             F("part"), F("1"), F("{}"), F("done"), F("2"), F("{\"parts\":1}")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_FRONTEND, replay, 11, &message, &error) == 0);
    CHECK(message.argument_count == 9);
    CHECK(rill_message_parse(RILL_CHANNEL_TO_FRONTEND, replay, 10, &message, &error) == -1);
    rill_frame_t bad_replay_seq[] = {F("rill/12"), F("REPLAY"), F("1"), F("j" ID), F("{}"),
                                     F("part"), F("x"), F("{}")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_FRONTEND, bad_replay_seq, 8, &message, &error) == -1);

    /* RELEASE: a job id and nothing else (no req: it has no reply); only
     * a frontend sends it. */
    /* SUBMIT (rill/4) may name a follow subject; UNFOLLOW: id, subject, flag. */
    rill_frame_t submit_followed[] = {F("rill/12"), F("SUBMIT"), F("1"), F(""), F("[]"), F("dfrontend-0001/")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, submit_followed, 6, &message, &error) == 0 &&
          message.argument_count == 4);
    rill_frame_t unfollow[] = {F("rill/12"), F("UNFOLLOW"), F(ID), F("dfrontend-0001/"), F("1")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, unfollow, 5, &message, &error) == 0 &&
          message.command == RILL_COMMAND_UNFOLLOW && strcmp(rill_command_name(message.command), "UNFOLLOW") == 0);
    rill_frame_t unfollow_bad_flag[] = {F("rill/12"), F("UNFOLLOW"), F(ID), F("dfrontend-0001/"), F("2")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, unfollow_bad_flag, 5, &message, &error) == -1);
    rill_frame_t release[] = {F("rill/12"), F("RELEASE"), F(ID)};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, release, 3, &message, &error) == 0);
    CHECK(message.command == RILL_COMMAND_RELEASE && message.argument_count == 1);
    CHECK(message.arguments[0].size == 32 && strcmp(rill_command_name(message.command), "RELEASE") == 0);
    rill_frame_t release_with_req[] = {F("rill/12"), F("RELEASE"), F("7"), F(ID)};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, release_with_req, 4, &message, &error) == -1);
    CHECK(strcmp(error, "wrong number of frames") == 0);
    rill_frame_t release_bad_id[] = {F("rill/12"), F("RELEASE"), F("j" ID)};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, release_bad_id, 3, &message, &error) == -1);
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, release, 3, &message, &error) == -1);
    CHECK(rill_message_parse(RILL_CHANNEL_TO_FRONTEND, release, 3, &message, &error) == -1);
    /* FLOW (frontend -> broker) and PAUSE (broker -> worker): a job id and
     * a flag that is exactly "0" or "1"; each only on its own channel. */
    rill_frame_t flow[] = {F("rill/12"), F("FLOW"), F(ID), F("1")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, flow, 4, &message, &error) == 0);
    CHECK(message.command == RILL_COMMAND_FLOW && message.argument_count == 2);
    CHECK(message.arguments[1].size == 1 && message.arguments[1].data[0] == '1');
    CHECK(strcmp(rill_command_name(RILL_COMMAND_FLOW), "FLOW") == 0);
    CHECK(rill_message_parse(RILL_CHANNEL_TO_WORKER, flow, 4, &message, &error) == -1);
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, flow, 3, &message, &error) == -1);
    rill_frame_t flow_bad[] = {F("rill/12"), F("FLOW"), F(ID), F("2")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, flow_bad, 4, &message, &error) == -1);
    rill_frame_t flow_long[] = {F("rill/12"), F("FLOW"), F(ID), F("01")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, flow_long, 4, &message, &error) == -1);
    rill_frame_t pause[] = {F("rill/12"), F("PAUSE"), F(ID), F("0")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_WORKER, pause, 4, &message, &error) == 0);
    CHECK(message.command == RILL_COMMAND_PAUSE && message.argument_count == 2);
    CHECK(strcmp(rill_command_name(RILL_COMMAND_PAUSE), "PAUSE") == 0);
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, pause, 4, &message, &error) == -1);
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, pause, 4, &message, &error) == -1);
    rill_frame_t pause_bad_id[] = {F("rill/12"), F("PAUSE"), F("x"), F("0")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_WORKER, pause_bad_id, 4, &message, &error) == -1);
    /* LIST (rill/4): req, what, query json to the broker; req, json back. */
    rill_frame_t list[] = {F("rill/12"), F("LIST"), F("9"), F("jobs"), F("{\"limit\":2}")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, list, 5, &message, &error) == 0);
    CHECK(message.command == RILL_COMMAND_LIST && message.argument_count == 3);
    CHECK(strcmp(rill_command_name(RILL_COMMAND_LIST), "LIST") == 0);
    rill_frame_t list_not_json[] = {F("rill/12"), F("LIST"), F("9"), F("jobs"), F("limit=2")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, list_not_json, 5, &message, &error) == -1);
    rill_frame_t listed[] = {F("rill/12"), F("LIST"), F("9"), F("{\"jobs\":[],\"next\":null}")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_FRONTEND, listed, 4, &message, &error) == 0);
    CHECK(message.command == RILL_COMMAND_LIST && message.argument_count == 2);
    CHECK(rill_message_parse(RILL_CHANNEL_TO_WORKER, listed, 4, &message, &error) == -1);
    /* PRESENCE (rill/4): one json frame, frontend -> broker only. */
    rill_frame_t presence[] = {F("rill/12"), F("PRESENCE"), F("{\"interval_ms\":1000,\"subjects\":{}}")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, presence, 3, &message, &error) == 0);
    CHECK(message.command == RILL_COMMAND_PRESENCE && message.argument_count == 1);
    CHECK(rill_message_parse(RILL_CHANNEL_TO_FRONTEND, presence, 3, &message, &error) == -1);
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, presence, 2, &message, &error) == -1);
    /* The version is rill/4: a rill/1 peer is refused. */
    rill_frame_t old_version[] = {F("rill/1"), F("RELEASE"), F(ID)};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_FRONTEND, old_version, 3, &message, &error) == -1);
    CHECK(strcmp(error, "wrong protocol version") == 0);
}

static void test_events(void)
{
    rill_event_t event;
    const char *error = NULL;
    rill_frame_t part[] = {F("j" ID), F("rill/12"), F("part"), F("3"), F("{\"i\":3}")};
    CHECK(rill_event_parse(part, 5, &event, &error) == 0);
    CHECK(event.subject_kind == RILL_SUBJECT_JOB && event.type == RILL_EVENT_PART && event.seq == 3);
    CHECK(rill_frame_equals(event.subject, ID));

    rill_frame_t topic[] = {F("tnews/"), F("rill/12"), F("part"), F("1"), F("\"hi\"")};
    CHECK(rill_event_parse(topic, 5, &event, &error) == 0);
    CHECK(event.subject_kind == RILL_SUBJECT_TOPIC && rill_frame_equals(event.subject, "news"));

    rill_frame_t stamped[] = {F("j" ID), F("rill/12"), F("done"), F("4"), F("{}"), F("123456789")};
    CHECK(rill_event_parse(stamped, 6, &event, &error) == 0 && event.accepted_ns == 123456789u);
    CHECK(rill_event_parse(part, 5, &event, &error) == 0 && event.accepted_ns == 0);
    rill_frame_t bad_stamp[] = {F("j" ID), F("rill/12"), F("done"), F("4"), F("{}"), F("soon")};
    CHECK(rill_event_parse(bad_stamp, 6, &event, &error) == -1);
    rill_frame_t unterminated[] = {F("tnews"), F("rill/12"), F("part"), F("1"), F("1")};
    CHECK(rill_event_parse(unterminated, 5, &event, &error) == -1);
    rill_frame_t zero_seq[] = {F("j" ID), F("rill/12"), F("part"), F("0"), F("{}")};
    CHECK(rill_event_parse(zero_seq, 5, &event, &error) == -1);
    rill_frame_t unknown_event[] = {F("j" ID), F("rill/12"), F("party"), F("1"), F("{}")};
    CHECK(rill_event_parse(unknown_event, 5, &event, &error) == -1);
    CHECK(rill_event_parse(part, 4, &event, &error) == -1);
    rill_frame_t sync[] = {F("tnews/"), F("rill/12"), F("sync"), F("12"), F("{}"), F("99")};
    CHECK(rill_event_parse(sync, 6, &event, &error) == 0 && event.type == RILL_EVENT_SYNC && event.seq == 12);

    /* rill/4: one frame, as the broker sends it. */
    zmq_msg_t message;
    size_t offset = 0;
    CHECK(rill_event_encode(&message, "j" ID, 33, RILL_EVENT_PART, 17, 123456789u, "{\"i\":17}", 8, &offset) == 0);
    const char *expected = "j" ID " rill/12 part 17 123456789\n{\"i\":17}";
    CHECK(zmq_msg_size(&message) == strlen(expected) && memcmp(zmq_msg_data(&message), expected, strlen(expected)) == 0);
    CHECK(offset == strlen(expected) - 8);
    rill_frame_t one = {zmq_msg_data(&message), zmq_msg_size(&message)};
    CHECK(rill_event_parse(&one, 1, &event, &error) == 0);
    CHECK(event.subject_kind == RILL_SUBJECT_JOB && rill_frame_equals(event.subject, ID));
    CHECK(rill_frame_equals(event.topic, "j" ID) && event.type == RILL_EVENT_PART && event.seq == 17);
    CHECK(event.accepted_ns == 123456789u && rill_frame_equals(event.data, "{\"i\":17}"));
    zmq_msg_close(&message);
    /* The header alone is what precedes the data in the message. */
    char header[RILL_EVENT_HEADER_MAX];
    size_t header_length = rill_event_header_encode(header, "j" ID, 33, RILL_EVENT_PART, 17, 123456789u);
    CHECK(header_length == strlen(expected) - 8 && memcmp(header, expected, header_length) == 0);
    CHECK(rill_event_header_encode(header, "j" ID, 33, RILL_EVENT_COUNT, 17, 0) == 0);
    char long_topic[RILL_TOPIC_NAME_MAX + 4];
    memset(long_topic, 'x', sizeof(long_topic));
    CHECK(rill_event_header_encode(header, long_topic, sizeof(long_topic), RILL_EVENT_PART, 1, 0) == 0);
    CHECK(rill_event_encode(&message, long_topic, sizeof(long_topic), RILL_EVENT_PART, 1, 0, "{}", 2, &offset) == -1);
    /* Data may hold anything after the header's line break, even line breaks. */
    CHECK(rill_event_encode(&message, "tnews/", 6, RILL_EVENT_SYNC, 12, 0, "{}", 2, &offset) == 0);
    one.data = zmq_msg_data(&message);
    one.size = zmq_msg_size(&message);
    CHECK(rill_event_parse(&one, 1, &event, &error) == 0 && event.type == RILL_EVENT_SYNC && event.seq == 12);
    CHECK(rill_frame_equals(event.subject, "news") && rill_frame_equals(event.data, "{}"));
    zmq_msg_close(&message);
    const char *bad_frames[] = {
        "", "j" ID " rill/12 part 1 5", /* no line break */
        "j" ID " rill/12 part 1\n{}", /* no accepted_ns */
        "j" ID " rill/2 part 1 5\n{}", "j" ID " rill/12 part 0 5\n{}", "j" ID " rill/12 party 1 5\n{}",
        "j" ID " rill/12 part 1 5\n", "j" ID " rill/12 part 1 5 6\n{}", "tnews rill/12 part 1 5\n{}",
        "jxyz rill/12 part 1 5\n{}", "j" ID " rill/12 part 1 soon\n{}",
    };
    for (size_t i = 0; i < sizeof(bad_frames) / sizeof(bad_frames[0]); i++) {
        rill_frame_t bad = F(bad_frames[i]);
        CHECKF(rill_event_parse(&bad, 1, &event, &error) == -1, "bad event frame %zu accepted", i);
    }
    /* rill/4: a followed job's event, "d<token>/j<id> ...": the topic is the
     * job's, the follow subject kept aside. */
    rill_frame_t followed = F("dfrontend-0001/j" ID " rill/12 part 3 5\n{\"a\":1}");
    CHECK(rill_event_parse(&followed, 1, &event, &error) == 0 && event.seq == 3);
    CHECK(rill_frame_equals(event.follow, "dfrontend-0001/") && rill_frame_equals(event.topic, "j" ID));
    CHECK(rill_frame_equals(event.subject, ID) && event.subject_kind == RILL_SUBJECT_JOB);
    rill_frame_t plain = F("j" ID " rill/12 part 3 5\n{}");
    CHECK(rill_event_parse(&plain, 1, &event, &error) == 0 && event.follow.size == 0);
    const char *bad_follows[] = {
        "dfrontend-0001j" ID " rill/12 part 3 5\n{}",   /* no '/' */
        "dshort/j" ID " rill/12 part 3 5\n{}",          /* token under 8 bytes */
        "dfrontend-0001/tnews/ rill/12 part 3 5\n{}",   /* only jobs are followed */
        "dfrontend-0001/ rill/12 part 3 5\n{}",         /* nothing after it */
    };
    for (size_t i = 0; i < sizeof(bad_follows) / sizeof(bad_follows[0]); i++) {
        rill_frame_t bad = F(bad_follows[i]);
        CHECKF(rill_event_parse(&bad, 1, &event, &error) == -1, "bad follow frame %zu accepted", i);
    }
    CHECK(rill_follow_subject_is_valid((const uint8_t *)"d0123456789abcdef0123456789abcdef/", 34));
    CHECK(!rill_follow_subject_is_valid((const uint8_t *)"s0123456789abcdef/", 18));
    char longest[RILL_FOLLOW_SUBJECT_MAX + 2];
    memset(longest, 'x', sizeof(longest));
    longest[0] = 'd';
    longest[RILL_FOLLOW_SUBJECT_MAX - 1] = '/';
    CHECK(rill_follow_subject_is_valid((const uint8_t *)longest, RILL_FOLLOW_SUBJECT_MAX));
    longest[RILL_FOLLOW_SUBJECT_MAX] = '/';
    CHECK(!rill_follow_subject_is_valid((const uint8_t *)longest, RILL_FOLLOW_SUBJECT_MAX + 1));
    rill_event_type_t type;
    CHECK(rill_event_type_from_name("gap", 3, &type) == 0 && type == RILL_EVENT_GAP);
    CHECK(strcmp(rill_event_type_name(RILL_EVENT_RETRY), "retry") == 0);
}

/* PARTS (rill/4): entries written by the header helper read back; every
 * malformation ends the batch there. */
/* rill/4: a follower's batch: "d<token>/ rill/12 batch <count>\n" then
 * "<len> <frame>" per event; the framing is checked whole before any entry
 * is read; an entry is parsed as a lone event (a bad one fails alone). */
static void test_event_batches(void)
{
    char header[RILL_EVENT_BATCH_HEADER_MAX];
    size_t length = rill_event_batch_header(header, "dfrontend-0001/", 15, 3);
    CHECK(length == strlen("dfrontend-0001/ rill/12 batch 3\n") &&
          memcmp(header, "dfrontend-0001/ rill/12 batch 3\n", length) == 0);
    char prefix[RILL_EVENT_BATCH_PREFIX_MAX];
    CHECK(rill_event_batch_prefix(prefix, 1234) == 5 && memcmp(prefix, "1234 ", 5) == 0);

    /* Encoded as the broker does: header, then each entry. */
    const char *frames[] = {"j" ID " rill/12 part 1 7\n{\"i\":1}", "j" ID " rill/12 part 2 8\n\"two\nlines\"",
                            "j" ID " rill/12 done 3 9\n{\"parts\":2}"};
    char text[1024];
    size_t size = rill_event_batch_header(text, "dfrontend-0001/", 15, 3);
    for (size_t i = 0; i < 3; i++) {
        size += rill_event_batch_prefix(text + size, strlen(frames[i]));
        memcpy(text + size, frames[i], strlen(frames[i]));
        size += strlen(frames[i]);
    }
    rill_frame_t frame = {(const uint8_t *)text, size};
    CHECK(rill_event_is_batch(frame));
    rill_event_batch_t batch;
    const char *error = NULL;
    CHECK(rill_event_batch_open(frame, &batch, &error) == 0 && batch.count == 3);
    CHECK(rill_frame_equals(batch.follow, "dfrontend-0001/"));
    rill_event_t event;
    for (uint64_t seq = 1; seq <= 3; seq++) {
        CHECK(rill_event_batch_next(&batch, &event, &error) == 1);
        CHECK(event.seq == seq && rill_frame_equals(event.subject, ID) && rill_frame_equals(event.follow, "dfrontend-0001/"));
        CHECK(event.type == (seq == 3 ? RILL_EVENT_DONE : RILL_EVENT_PART) && event.accepted_ns == 6 + seq);
    }
    CHECK(rill_frame_equals(event.data, "{\"parts\":2}"));
    CHECK(rill_event_batch_next(&batch, &event, &error) == 0);

    /* A lone event is not a batch, nor is a topic's. */
    rill_frame_t lone = F("dfrontend-0001/j" ID " rill/12 part 3 5\n{}");
    CHECK(!rill_event_is_batch(lone));
    rill_frame_t topic = F("tnews/ rill/12 part 3 5\n{}");
    CHECK(!rill_event_is_batch(topic));

    /* Bad framing: the batch is refused whole. */
    const char *bad[] = {
        "dfrontend-0001/ rill/12 batch 1\n",                                /* no entry */
        "dfrontend-0001/ rill/12 batch 0\n",                                /* empty */
        "dfrontend-0001/ rill/12 batch 65\n2 {}",                           /* over the count bound */
        "dfrontend-0001/ rill/3 batch 1\n2 {}",                            /* version */
        "dfrontend-0001/ rill/12 bunch 1\n2 {}",                            /* word */
        "dfrontend-0001/ rill/12 batch 1\n3 {}",                            /* entry past the end */
        "dfrontend-0001/ rill/12 batch 1\n1 {}",                            /* bytes after the entries */
        "dfrontend-0001/ rill/12 batch 2\n2 {}",                            /* fewer entries than said */
        "dfrontend-0001/ rill/12 batch 1\n0 ",                              /* empty entry */
        "dfrontend-0001/ rill/12 batch 1\nx {}",                            /* length not a number */
        "dfrontend-0001/ rill/12 batch one\n2 {}",                          /* count not a number */
        "dfrontend-0001/ rill/12 batch 1",                                  /* no line break */
        "dshort/ rill/12 batch 1\n2 {}",                                    /* token too short */
        "dfrontend-0001/ rill/12 batch 1\n99999999999999999999999 {}",      /* length too long */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rill_frame_t b = F(bad[i]);
        error = NULL;
        CHECKF(rill_event_batch_open(b, &batch, &error) == -1 && error != NULL, "bad batch %zu accepted", i);
    }
    /* A bad entry fails alone; the next one is read. */
    const char *entries[] = {"tnews/ rill/12 part 1 5\n{}", "dfrontend-0001/j" ID " rill/12 part 1 5\n{}",
                             "j" ID " rill/12 part 0 5\n{}", "j" ID " rill/12 part 4 5\n{}"};
    size = rill_event_batch_header(text, "dfrontend-0001/", 15, 4);
    for (size_t i = 0; i < 4; i++) {
        size += rill_event_batch_prefix(text + size, strlen(entries[i]));
        memcpy(text + size, entries[i], strlen(entries[i]));
        size += strlen(entries[i]);
    }
    frame.size = size;
    CHECK(rill_event_batch_open(frame, &batch, &error) == 0);
    CHECK(rill_event_batch_next(&batch, &event, &error) == -1);
    CHECK(rill_event_batch_next(&batch, &event, &error) == -1);
    CHECK(rill_event_batch_next(&batch, &event, &error) == -1);
    CHECK(rill_event_batch_next(&batch, &event, &error) == 1 && event.seq == 4);
    CHECK(rill_event_batch_next(&batch, &event, &error) == 0);
}

static void test_parts(void)
{
    char batch[512];
    size_t length = rill_parts_entry_header(batch, ID, 7, 7);
    CHECK(length == 32 + strlen(" 7 7\n") && memcmp(batch + 32, " 7 7\n", 5) == 0);
    memcpy(batch + length, "{\"i\":7}", 7);
    length += 7;
    length += rill_parts_entry_header(batch + length, ID, 8, 0); /* an empty part is still an entry */
    length += rill_parts_entry_header(batch + length, ID, 123456, 4);
    memcpy(batch + length, "\"\n\"x", 4); /* data may hold line breaks */
    length += 4;
    rill_frame_t frame = {(const uint8_t *)batch, length};
    size_t offset = 0;
    rill_parts_entry_t entry;
    const char *error = NULL;
    CHECK(rill_parts_next(frame, &offset, &entry, &error) == 1 && entry.seq == 7);
    CHECK(rill_frame_equals(entry.id, ID) && rill_frame_equals(entry.data, "{\"i\":7}"));
    CHECK(rill_parts_next(frame, &offset, &entry, &error) == 1 && entry.seq == 8 && entry.data.size == 0);
    CHECK(rill_parts_next(frame, &offset, &entry, &error) == 1 && entry.seq == 123456);
    CHECK(entry.data.size == 4 && memcmp(entry.data.data, "\"\n\"x", 4) == 0);
    CHECK(rill_parts_next(frame, &offset, &entry, &error) == 0 && offset == length);

    const char *bad[] = {
        "xyz 1 2\n{}", ID "1 2\n{}", ID " 1 3\n{}", ID " 1 2{}", ID " a 2\n{}", ID " 1 -2\n{}",
        ID " 1 99999999999999999999\n{}", ID " 1", ID " 1 2\n{}" "ABCDEF",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rill_frame_t one = F(bad[i]);
        offset = 0;
        int got;
        error = NULL;
        while ((got = rill_parts_next(one, &offset, &entry, &error)) == 1)
            ;
        CHECKF(got == -1 && error != NULL, "bad PARTS %zu accepted", i);
    }
    rill_message_t message;
    rill_frame_t parts[] = {F("rill/12"), F("PARTS"), F(ID " 1 2\n{}")};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, parts, 3, &message, &error) == 0);
    CHECK(message.command == RILL_COMMAND_PARTS && message.argument_count == 1);
    CHECK(rill_message_parse(RILL_CHANNEL_TO_WORKER, parts, 3, &message, &error) == -1);

    /* rill/7: a second frame, the ids of the jobs done after the parts. */
    char done[3 * (RILL_JOB_ID_LENGTH + 1)];
    size_t done_length = 0;
    rill_parts_add_done(done, &done_length, ID);
    CHECK(done_length == RILL_JOB_ID_LENGTH && memcmp(done, ID, RILL_JOB_ID_LENGTH) == 0);
    rill_parts_add_done(done, &done_length, "00000000000000000000000000000abc");
    CHECK(done_length == 2 * RILL_JOB_ID_LENGTH + 1 && done[RILL_JOB_ID_LENGTH] == ' ');
    rill_frame_t done_frame = {(const uint8_t *)done, done_length};
    rill_frame_t id;
    offset = 0;
    CHECK(rill_parts_next_done(done_frame, &offset, &id, &error) == 1 && rill_frame_equals(id, ID));
    CHECK(rill_parts_next_done(done_frame, &offset, &id, &error) == 1 &&
          rill_frame_equals(id, "00000000000000000000000000000abc"));
    CHECK(rill_parts_next_done(done_frame, &offset, &id, &error) == 0 && offset == done_length);
    offset = 0;
    CHECK(rill_parts_next_done(F(""), &offset, &id, &error) == 0); /* empty: no job done */
    const char *bad_done[] = {"xyz", ID " ", ID ID, ID " nothex", ID "  " ID, "A" ID};
    for (size_t i = 0; i < sizeof(bad_done) / sizeof(bad_done[0]); i++) {
        offset = 0;
        int got;
        error = NULL;
        while ((got = rill_parts_next_done(F(bad_done[i]), &offset, &id, &error)) == 1)
            ;
        CHECKF(got == -1 && error != NULL, "bad done frame %zu accepted", i);
    }
    rill_frame_t parts_done[] = {F("rill/12"), F("PARTS"), F(ID " 1 2\n{}"), F(ID)};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, parts_done, 4, &message, &error) == 0);
    CHECK(message.argument_count == 2 && rill_frame_equals(message.arguments[1], ID));
    rill_frame_t parts_three[] = {F("rill/12"), F("PARTS"), F(ID " 1 2\n{}"), F(ID), F(ID)};
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, parts_three, 5, &message, &error) == -1);
}

/* Round trip through real ZeroMQ sockets, including an over-long message. */
static void test_send_receive(void)
{
    void *context = zmq_ctx_new();
    void *server = zmq_socket(context, ZMQ_PAIR);
    void *client = zmq_socket(context, ZMQ_PAIR);
    CHECK(rill_socket_configure(server, 1u << 20) == 0 && rill_socket_configure(client, 1u << 20) == 0);
    CHECK(zmq_bind(server, "inproc://protocol-test") == 0);
    CHECK(zmq_connect(client, "inproc://protocol-test") == 0);

    rill_received_t received;
    CHECK(rill_protocol_receive(server, &received) == 0); /* nothing waiting */

    rill_frame_t arguments[] = {F(ID), F("1"), F("{\"i\":1}")};
    CHECK(rill_protocol_send_command(client, NULL, RILL_COMMAND_PART, arguments, 3, 0) == 0);
    CHECK(rill_protocol_receive(server, &received) == 1);
    CHECK(received.count == 5 && !received.truncated);
    rill_message_t message;
    const char *error;
    CHECK(rill_message_parse(RILL_CHANNEL_TO_BROKER_FROM_WORKER, received.frames, received.count,
                             &message, &error) == 0);
    CHECK(message.command == RILL_COMMAND_PART);
    rill_received_close(&received);

    rill_frame_t many[RILL_MESSAGE_MAX_FRAMES + 5];
    for (size_t i = 0; i < sizeof(many) / sizeof(many[0]); i++)
        many[i] = F("x");
    CHECK(rill_protocol_send(client, NULL, many, sizeof(many) / sizeof(many[0]), 0) == 0);
    CHECK(rill_protocol_send_command(client, NULL, RILL_COMMAND_DONE, arguments, 1, 0) == 0);
    CHECK(rill_protocol_receive(server, &received) == 1);
    CHECK(received.truncated && received.count == RILL_MESSAGE_MAX_FRAMES);
    rill_received_close(&received);
    /* The socket stays in step: the next message is whole. */
    CHECK(rill_protocol_receive(server, &received) == 1);
    CHECK(received.count == 3 && rill_frame_equals(received.frames[1], "DONE"));
    rill_received_close(&received);

    zmq_close(client);
    zmq_close(server);
    zmq_ctx_term(context);
}

int main(void)
{
    test_numbers();
    test_ids_and_topics();
    test_worker_channel();
    test_frontend_channels();
    test_events();
    test_event_batches();
    test_parts();
    test_send_receive();
    RILL_TEST_END();
}
