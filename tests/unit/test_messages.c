/*
 * test_messages.c - the typed frames of rill_messages.h: each encodes to the
 * text rill wrote before the codec existed and decodes back; SUBMIT refuses
 * every bad shape with the broker's message; no garbage makes a decoder
 * crash or succeed.
 */
#include "rill_messages.h"
#include "rill_submit_fast.h"
#include "rill_test.h"

#include <stdlib.h>
#include <string.h>

#define ID1 "0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210"

/* Decodes text as a SUBMIT: 0 or -1; error gets the reason. */
static int submit_text(const char *text, char *error, size_t error_size)
{
    rill_submit_t submit;
    int result = rill_submit_decode(text, strlen(text), &submit, error, error_size);
    rill_submit_release(&submit);
    return result;
}

/* SUBMIT text is refused with exactly the message expected: -2 for an id
 * given twice (the broker's conflict), -1 for any other fault. */
static void check_refused(const char *text, const char *expected)
{
    char error[256] = "";
    int result = submit_text(text, error, sizeof(error));
    int twice = strstr(expected, "appears twice") != NULL;
    CHECKF(result == (twice ? -2 : -1), "for %s: returned %d", text, result);
    CHECKF(strcmp(error, expected) == 0, "for %s: got \"%s\", expected \"%s\"", text, error, expected);
}

/* A job's args as rill_submit_job_t holds them: compact text. */
#define ARGS(literal) .args = (literal), .args_length = sizeof(literal) - 1

/* A decoded job's args are exactly text (NULL: none). */
static int args_are(const rill_submit_job_t *job, const char *text)
{
    if (text == NULL || job->args == NULL)
        return text == NULL && job->args == NULL;
    return job->args_length == strlen(text) && memcmp(job->args, text, job->args_length) == 0;
}

static void test_submit_round_trip(void)
{
    rill_submit_job_t jobs[2] = {
        {.id = ID1, .kind = "demo", .source = "app", .key = "k1", .who = "10.0.0.1", ARGS("{\"parts\":3}")},
        {.id = ID2, .kind = "exec", .who = "10.0.0.1", .detach = 1},
    };
    char *text = rill_submit_encode(jobs, 2);
    /* The shape submit_http.c writes: no source is null (the broker decides
     * it, rill_job_source), args default to {}, key to null. */
    CHECK_BYTES(text, strlen(text),
                "[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"source\":\"app\",\"args\":{\"parts\":3},"
                "\"key\":\"k1\",\"who\":\"10.0.0.1\",\"detach\":false},"
                "{\"id\":\"" ID2 "\",\"kind\":\"exec\",\"source\":null,\"args\":{},"
                "\"key\":null,\"who\":\"10.0.0.1\",\"detach\":true}]");
    rill_submit_t submit;
    char error[256] = "";
    CHECKF(rill_submit_decode(text, strlen(text), &submit, error, sizeof(error)) == 0, "%s", error);
    CHECK(submit.count == 2 && submit.text != NULL); /* the fast path */
    CHECK(strcmp(submit.jobs[0].id, ID1) == 0 && strcmp(submit.jobs[1].id, ID2) == 0);
    CHECK(strcmp(submit.jobs[0].kind, "demo") == 0 && strcmp(submit.jobs[1].kind, "exec") == 0);
    CHECK(strcmp(submit.jobs[0].source, "app") == 0 && submit.jobs[1].source == NULL);
    CHECK(strcmp(submit.jobs[0].key, "k1") == 0 && submit.jobs[1].key == NULL);
    CHECK(strcmp(submit.jobs[1].who, "10.0.0.1") == 0);
    CHECK(args_are(&submit.jobs[0], "{\"parts\":3}") && args_are(&submit.jobs[1], "{}"));
    CHECK(submit.jobs[0].detach == 0 && submit.jobs[1].detach == 1);
    rill_submit_release(&submit);
    CHECK(submit.root == NULL && submit.jobs == NULL && submit.count == 0);
    rill_submit_release(&submit); /* twice is harmless */
    free(text);

    /* Absent and null optional fields are none; a NULL who encodes as null. */
    CHECK(rill_submit_decode("[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"source\":null,\"args\":null,"
                             "\"detach\":null}]",
                             strlen("[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"source\":null,"
                                    "\"args\":null,\"detach\":null}]"),
                             &submit, NULL, 0) == 0);
    CHECK(submit.count == 1 && submit.jobs[0].source == NULL && submit.jobs[0].key == NULL &&
          submit.jobs[0].who == NULL && submit.jobs[0].args == NULL && submit.jobs[0].detach == 0);
    rill_submit_release(&submit);
    rill_submit_job_t bare = {.id = ID1, .kind = "demo"};
    text = rill_submit_encode(&bare, 1);
    CHECK_BYTES(text, strlen(text),
                "[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"source\":null,\"args\":{},\"key\":null,"
                "\"who\":null,\"detach\":false}]");
    free(text);
}

/* Two decodes of one SUBMIT agree field by field. */
static int same_submit(const rill_submit_t *a, const rill_submit_t *b)
{
    if (a->count != b->count)
        return 0;
    for (size_t i = 0; i < a->count; i++) {
        const rill_submit_job_t *x = &a->jobs[i], *y = &b->jobs[i];
#define SAME_TEXT(f) ((x->f == NULL && y->f == NULL) || (x->f != NULL && y->f != NULL && strcmp(x->f, y->f) == 0))
        if (strcmp(x->id, y->id) != 0 || !SAME_TEXT(kind) || !SAME_TEXT(source) || !SAME_TEXT(key) ||
            !SAME_TEXT(who) || x->detach != y->detach || x->args_length != y->args_length ||
            (x->args == NULL) != (y->args == NULL) || (x->args != NULL && memcmp(x->args, y->args, x->args_length) != 0))
            return 0;
#undef SAME_TEXT
    }
    return 1;
}

/* rill_submit_encode's layout is read without jansson (rill_submit_fast.h:
 * submit.text set); the same jobs written otherwise go through the full
 * decoder, with the same values; what the fast reader cannot take falls
 * back, never fails differently. */
static void test_submit_fast_path(void)
{
    rill_submit_job_t jobs[3] = {
        {.id = ID1, .kind = "demo", ARGS("{\"parts\":10,\"pad\":\"}{\\\"]\"}")},
        {.id = ID2, .kind = "exec", .source = "app", .key = "k 1", .who = "10.0.0.1", .detach = 1},
        {.id = "00000000000000000000000000000003", .kind = "http", .who = "caf\xc3\xa9",
         ARGS("{\"a\":[1,{\"b\":\"x\"}]}")},
    };
    char error[256];
    for (size_t n = 1; n <= 3; n++) {
        char *text = rill_submit_encode(jobs, n);
        rill_submit_t fast, full;
        CHECKF(rill_submit_decode(text, strlen(text), &fast, error, sizeof(error)) == 0, "%s", error);
        /* Non-ASCII text (job 3's who) is the full decoder's. */
        CHECKF((fast.text != NULL) == (n < 3), "%zu jobs: fast path %s", n, fast.text != NULL ? "taken" : "not taken");
        /* The same document, pretty-printed: the full decoder. */
        json_t *document = json_loadb(text, strlen(text), 0, NULL);
        char *pretty = json_dumps(document, JSON_INDENT(1));
        CHECK(rill_submit_decode(pretty, strlen(pretty), &full, error, sizeof(error)) == 0 && full.text == NULL);
        CHECKF(same_submit(&fast, &full), "%zu jobs decode differently", n);
        rill_submit_release(&fast);
        rill_submit_release(&full);
        free(pretty);
        json_decref(document);
        free(text);
    }
    /* An id twice: the same refusal (conflict) as ever. */
    rill_submit_job_t twice[2] = {{.id = ID1, .kind = "demo"}, {.id = ID1, .kind = "demo"}};
    char *text = rill_submit_encode(twice, 2);
    rill_submit_t submit;
    CHECK(rill_submit_decode(text, strlen(text), &submit, error, sizeof(error)) == -2);
    CHECKF(strstr(error, "appears twice") != NULL, "%s", error);
    free(text);
    /* Limits the fast reader checks are still refused with the full message. */
    rill_submit_job_t bad_kind = {.id = ID1, .kind = "k234567890123456789012345678901234567890123456789012345678901234"};
    text = rill_submit_encode(&bad_kind, 1);
    CHECK(rill_submit_decode(text, strlen(text), &submit, error, sizeof(error)) == -1);
    CHECKF(strstr(error, "\"kind\" must be") != NULL, "%s", error);
    free(text);
    /* Brackets that close wrong are jansson's to refuse, even in two bytes
     * (found by a differential run of the fast and full decoders). */
    const char *wrong = "[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"source\":null,\"args\":{],\"key\":null,"
                        "\"who\":null,\"detach\":false}]";
    CHECK(rill_submit_decode(wrong, strlen(wrong), &submit, error, sizeof(error)) == -1);
}

/* A SUBMIT's args go on to the BATCH as the text the decoder gives: what
 * jansson's compact dump of them is, whichever decoder read them. Args
 * the fast reader cannot vouch for are the full decoder's. */
static void test_submit_args_text(void)
{
    const char *cases[][2] = {
        {"{\"a\":1}", "{\"a\":1}"},                                       /* fast */
        {"{\"a\": 1 ,\"b\":[ ]}", "{\"a\":1,\"b\":[]}"},                   /* whitespace */
        {"{\"r\":0.1}", "{\"r\":0.10000000000000001}"},                     /* a real */
        {"{\"s\":\"\\u00e9\\/\"}", "{\"s\":\"\xc3\xa9/\"}"},                  /* escapes */
        {"{\"z\":-0,\"n\":null}", "{\"z\":0,\"n\":null}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char frame[512];
        snprintf(frame, sizeof(frame),
                 "[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"source\":null,\"args\":%s,\"key\":null,"
                 "\"who\":null,\"detach\":false}]",
                 cases[i][0]);
        rill_submit_t submit;
        char error[256] = "";
        CHECKF(rill_submit_decode(frame, strlen(frame), &submit, error, sizeof(error)) == 0, "%s", error);
        CHECKF(submit.count == 1 && args_are(&submit.jobs[0], cases[i][1]), "%s: %.*s", cases[i][0],
               (int)submit.jobs[0].args_length, submit.jobs[0].args);
        CHECK((submit.text != NULL) == (i == 0)); /* only the first is read without jansson */
        rill_submit_release(&submit);
    }
    /* A key twice in args is refused, as jansson's JSON_REJECT_DUPLICATES did. */
    const char *twice = "[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"source\":null,\"args\":{\"a\":1,\"a\":2},"
                        "\"key\":null,\"who\":null,\"detach\":false}]";
    rill_submit_t submit;
    CHECK(rill_submit_decode(twice, strlen(twice), &submit, NULL, 0) == -1);
}

/* The encoder writes strings as jansson did (a tree dumped compactly):
 * \b, \f, \u00XX in upper case, DEL and UTF-8 as they are; text that is
 * not UTF-8 as null. */
static void test_submit_encode_strings(void)
{
    const char *texts[] = {"plain", "q\"b\\n\nt\tr\rb\bf\f", "\x01\x1f\x7f", "caf\xc3\xa9 \xf0\x9f\x98\x80", "bad\xff", ""};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        rill_submit_job_t job = {.id = ID1, .kind = "demo", .source = texts[i], .key = texts[i], .who = texts[i]};
        char *text = rill_submit_encode(&job, 1);
        json_t *item = json_object();
        json_object_set_new(item, "id", json_string(ID1));
        json_object_set_new(item, "kind", json_string("demo"));
        json_t *string = json_string(texts[i]);
        json_object_set_new(item, "source", string != NULL ? json_incref(string) : json_null());
        json_object_set_new(item, "args", json_object());
        json_object_set_new(item, "key", string != NULL ? json_incref(string) : json_null());
        json_object_set_new(item, "who", string != NULL ? json_incref(string) : json_null());
        json_object_set_new(item, "detach", json_false());
        json_t *array = json_array();
        json_array_append_new(array, item);
        char *expected = json_dumps(array, JSON_COMPACT);
        CHECKF(strcmp(text, expected) == 0, "%s, jansson %s", text, expected);
        free(expected);
        free(text);
        json_decref(string);
        json_decref(array);
    }
}

static void test_submit_refusals(void)
{
    char long_text[RILL_MESSAGE_TEXT_MAX + 2];
    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    char body[1024];
    const char *job1 = "{\"id\":\"" ID1 "\",\"kind\":\"demo\"}";

    check_refused("[]", "jobs must be an array of 1 or more job objects");
    check_refused("{\"id\":\"" ID1 "\",\"kind\":\"demo\"}", "jobs must be an array of 1 or more job objects");
    check_refused("[1]", "job 0 is not a JSON object");
    snprintf(body, sizeof(body), "[%s,null]", job1);
    check_refused(body, "job 1 is not a JSON object");
    const char *bad_ids[] = {"{\"kind\":\"demo\"}", "{\"id\":7,\"kind\":\"demo\"}",
                             "{\"id\":\"0123456789ABCDEF0123456789ABCDEF\",\"kind\":\"demo\"}",
                             "{\"id\":\"0123456789abcdef\",\"kind\":\"demo\"}",
                             "{\"id\":\"" ID1 "0\",\"kind\":\"demo\"}"};
    for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
        snprintf(body, sizeof(body), "[%s]", bad_ids[i]);
        check_refused(body, "job 0: \"id\" must be 32 lower-case hex digits");
    }
    char kind64[80];
    memset(kind64, 'k', 64);
    kind64[64] = '\0';
    const char *bad_kinds[] = {"", ",\"kind\":\"\"", ",\"kind\":null", ",\"kind\":[\"demo\"]"};
    for (size_t i = 0; i < sizeof(bad_kinds) / sizeof(bad_kinds[0]); i++) {
        snprintf(body, sizeof(body), "[{\"id\":\"" ID1 "\"%s}]", bad_kinds[i]);
        check_refused(body, "job 0: \"kind\" must be a string of 1 to 63 bytes");
    }
    snprintf(body, sizeof(body), "[{\"id\":\"" ID1 "\",\"kind\":\"%s\"}]", kind64);
    check_refused(body, "job 0: \"kind\" must be a string of 1 to 63 bytes");
    kind64[63] = '\0'; /* 63 bytes is the longest kind */
    snprintf(body, sizeof(body), "[{\"id\":\"" ID1 "\",\"kind\":\"%s\"}]", kind64);
    CHECK(submit_text(body, NULL, 0) == 0);

    const char *text_message =
        "job 0: \"source\", \"key\" and \"who\" must be strings of at most 256 bytes";
    const char *fields[] = {"source", "key", "who"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(body, sizeof(body), "[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"%s\":\"%s\"}]", fields[i],
                 long_text);
        check_refused(body, text_message);
        snprintf(body, sizeof(body), "[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"%s\":5}]", fields[i]);
        check_refused(body, text_message);
        snprintf(body, sizeof(body), "[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"%s\":\"%.256s\"}]",
                 fields[i], long_text); /* 256 bytes: allowed */
        CHECK(submit_text(body, NULL, 0) == 0);
    }
    snprintf(body, sizeof(body), "[%s,{\"id\":\"" ID2 "\",\"kind\":\"demo\",\"args\":[1]}]", job1);
    check_refused(body, "job 1: \"args\" must be a JSON object");
    snprintf(body, sizeof(body), "[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"args\":\"{}\"}]");
    check_refused(body, "job 0: \"args\" must be a JSON object");
    snprintf(body, sizeof(body), "[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"detach\":1}]");
    check_refused(body, "job 0: \"detach\" must be a boolean");
    snprintf(body, sizeof(body), "[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"detach\":\"true\"}]");
    check_refused(body, "job 0: \"detach\" must be a boolean");

    /* An id given twice; the first bad job is the one reported. */
    snprintf(body, sizeof(body), "[%s,{\"id\":\"" ID2 "\",\"kind\":\"demo\"},%s]", job1, job1);
    check_refused(body, "job " ID1 " appears twice in the request");
    snprintf(body, sizeof(body), "[%s,{\"id\":\"" ID1 "\",\"kind\":7},%s]", job1, job1);
    check_refused(body, "job 1: \"kind\" must be a string of 1 to 63 bytes");
    snprintf(body, sizeof(body), "[%s,%s,{\"id\":\"x\"}]", job1, job1);
    check_refused(body, "job " ID1 " appears twice in the request");

    /* Not JSON, duplicate keys (as the broker loaded it), NUL and non-UTF-8. */
    char error[256] = "";
    CHECK(submit_text("[{", error, sizeof(error)) == -1);
    CHECKF(strncmp(error, "jobs are not valid JSON: ", 25) == 0, "got %s", error);
    snprintf(body, sizeof(body), "[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"kind\":\"exec\"}]");
    CHECK(submit_text(body, error, sizeof(error)) == -1);
    snprintf(body, sizeof(body), "[{\"id\":\"" ID1 "\",\"kind\":\"de\\u0000mo\"}]");
    CHECK(submit_text(body, error, sizeof(error)) == -1);
    snprintf(body, sizeof(body), "[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"who\":\"\\u0000\"}]");
    CHECK(submit_text(body, error, sizeof(error)) == -1);
    char with_nul[] = "[{\"id\":\"" ID1 "\",\"kind\":\"demo\"}]";
    rill_submit_t submit;
    CHECK(rill_submit_decode(with_nul, sizeof(with_nul), &submit, NULL, 0) == -1); /* trailing NUL */
    with_nul[20] = '\0';
    CHECK(rill_submit_decode(with_nul, sizeof(with_nul) - 1, &submit, error, sizeof(error)) == -1);
    snprintf(body, sizeof(body), "[{\"id\":\"" ID1 "\",\"kind\":\"d\xff\xfemo\"}]");
    CHECK(submit_text(body, error, sizeof(error)) == -1);
    CHECK(submit.root == NULL && submit.jobs == NULL && submit.count == 0);
    /* A short error buffer is cut, never overrun. */
    char tiny[8];
    memset(tiny, '#', sizeof(tiny));
    CHECK(submit_text("[1]", tiny, 5) == -1 && strcmp(tiny, "job ") == 0 && tiny[5] == '#');
}

static void test_submitted(void)
{
    const char ids[2][RILL_ID_TEXT_SIZE] = {ID1, ID2};
    const uint64_t flush[2] = {0, 250};
    char *text = rill_submitted_encode(ids, flush, 2);
    /* control_channel.c's json_pack("{s:O, s:O}", "jobs", ..., "flush_ms", ...). */
    CHECK_BYTES(text, strlen(text), "{\"jobs\":[\"" ID1 "\",\"" ID2 "\"],\"flush_ms\":[0,250]}");
    rill_submitted_t submitted;
    CHECK(rill_submitted_decode(text, strlen(text), &submitted, NULL, 0) == 0);
    CHECK(submitted.count == 2 && strcmp(submitted.ids[0], ID1) == 0 && strcmp(submitted.ids[1], ID2) == 0);
    CHECK(submitted.flush_ms[0] == 0 && submitted.flush_ms[1] == 250);
    rill_submitted_release(&submitted);
    CHECK(submitted.ids == NULL && submitted.flush_ms == NULL && submitted.count == 0);
    /* rill-broker's layout is read without jansson, with the same values. */
    CHECK(rill_submitted_decode_fast(text, strlen(text), &submitted) == 1 && submitted.count == 2 &&
          strcmp(submitted.ids[1], ID2) == 0 && submitted.flush_ms[1] == 250);
    rill_submitted_release(&submitted);
    free(text);
    const uint64_t large[2] = {999999999999999999ull, 1000000000000000000ull};
    text = rill_submitted_encode(ids, large, 2);
    CHECK(rill_submitted_decode_fast(text, strlen(text), &submitted) == 0 && submitted.ids == NULL);
    CHECK(rill_submitted_decode(text, strlen(text), &submitted, NULL, 0) == 0 &&
          submitted.flush_ms[0] == large[0] && submitted.flush_ms[1] == large[1]);
    rill_submitted_release(&submitted);
    free(text);
    /* Any other layout is the full decoder's (same values, or its refusal). */
    const char *others[] = {"{\"jobs\":[\"" ID1 "\"],\"flush_ms\":[1,2]}", "{\"jobs\":[\"" ID1 "\"],\"flush_ms\":[01]}",
                            "{\"jobs\":[\"" ID1 "\"], \"flush_ms\":[1]}", "{\"jobs\":[\"" ID1 "\"],\"flush_ms\":[1]} ",
                            "{\"jobs\":[\"" ID1 "\",],\"flush_ms\":[1]}", "{\"jobs\":[\"0123456789ABCDEF0123456789abcdef\"],\"flush_ms\":[1]}",
                            "{\"jobs\":[\"" ID1 "\"],\"flush_ms\":[]}", "{\"jobs\":[\"" ID1 "\"]}", "{\"jobs\":["};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        CHECKF(rill_submitted_decode_fast(others[i], strlen(others[i]), &submitted) == 0, "fast: %s", others[i]);
        CHECK(submitted.ids == NULL && submitted.count == 0);
    }

    /* Older brokers: no flush_ms; a bad entry reads as 0. */
    const char *old = "{\"jobs\":[\"" ID1 "\",\"" ID2 "\"]}";
    CHECK(rill_submitted_decode(old, strlen(old), &submitted, NULL, 0) == 0);
    CHECK(submitted.count == 2 && submitted.flush_ms[0] == 0 && submitted.flush_ms[1] == 0);
    rill_submitted_release(&submitted);
    const char *odd = "{\"jobs\":[\"" ID1 "\",\"" ID2 "\"],\"flush_ms\":[-5]}";
    CHECK(rill_submitted_decode(odd, strlen(odd), &submitted, NULL, 0) == 0);
    CHECK(submitted.flush_ms[0] == 0 && submitted.flush_ms[1] == 0);
    rill_submitted_release(&submitted);
    text = rill_submitted_encode(NULL, NULL, 0);
    CHECK_BYTES(text, strlen(text), "{\"jobs\":[],\"flush_ms\":[]}");
    CHECK(rill_submitted_decode(text, strlen(text), &submitted, NULL, 0) == 0 && submitted.count == 0);
    rill_submitted_release(&submitted);
    free(text);

    const char *bad[] = {"{}", "[]", "{\"jobs\":{}}", "{\"jobs\":[\"" ID1 "\",7]}",
                         "{\"jobs\":[\"0123\"]}", "{\"jobs\":[\"" ID1 "\"]", "\"jobs\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char error[128] = "";
        CHECKF(rill_submitted_decode(bad[i], strlen(bad[i]), &submitted, error, sizeof(error)) == -1,
               "accepted %s", bad[i]);
        CHECKF(error[0] != '\0', "no reason for %s", bad[i]);
        CHECK(submitted.ids == NULL && submitted.count == 0);
    }
}

static void test_batch(void)
{
    json_t *args = json_pack("{s:s}", "cmd", "ls");
    rill_batch_job_t jobs[2] = {
        {.id = ID1, .kind = "exec", .source = "app", .who = "10.0.0.1", .args = args, .attempt = 2, .seq = 41},
        {.id = ID2, .kind = "demo", .source = "demo", .who = NULL, .args = NULL, .attempt = 1},
    };
    char *text = rill_batch_encode("b1", 0, jobs, 2);
    /* broker.c:send_batch's shape: args {} when none, who "" when none;
     * rill/4 adds the job's last seq (its parts go on from seq + 1). */
    CHECK_BYTES(text, strlen(text),
                "{\"batch\":\"b1\",\"jobs\":[{\"id\":\"" ID1 "\",\"kind\":\"exec\",\"source\":\"app\","
                "\"args\":{\"cmd\":\"ls\"},\"attempt\":2,\"who\":\"10.0.0.1\",\"seq\":41},"
                "{\"id\":\"" ID2 "\",\"kind\":\"demo\",\"source\":\"demo\",\"args\":{},\"attempt\":1,"
                "\"who\":\"\",\"seq\":0}]}");
    rill_batch_t batch;
    CHECK(rill_batch_decode(text, strlen(text), &batch, NULL, 0) == 0);
    CHECK(batch.count == 2 && strcmp(batch.batch_id, "b1") == 0);
    CHECK(batch.jobs[0].valid && strcmp(batch.jobs[0].id, ID1) == 0 &&
          strcmp(batch.jobs[0].kind, "exec") == 0 && strcmp(batch.jobs[0].source, "app") == 0 &&
          strcmp(batch.jobs[0].who, "10.0.0.1") == 0 && batch.jobs[0].attempt == 2 &&
          batch.jobs[0].seq == 41 && json_equal(batch.jobs[0].args, args));
    CHECK(batch.jobs[1].valid && strcmp(batch.jobs[1].who, "") == 0 && batch.jobs[1].attempt == 1 &&
          json_object_size(batch.jobs[1].args) == 0);
    /* args are borrowed from the document: a caller that keeps them takes a reference. */
    CHECK(batch.jobs[0].args->refcount == 1);
    rill_batch_release(&batch);
    CHECK(batch.root == NULL && batch.jobs == NULL && batch.count == 0);
    CHECK(strstr(text, "ordered") == NULL); /* a parallel batch says nothing (rill/2's shape) */
    free(text);

    /* rill/4: an ordered pipeline's batch says so; a job without source goes with its kind. */
    rill_batch_job_t bare = {.id = ID2, .kind = "demo", .attempt = 1};
    text = rill_batch_encode("b3", 1, &bare, 1);
    CHECK_BYTES(text, strlen(text),
                "{\"batch\":\"b3\",\"jobs\":[{\"id\":\"" ID2 "\",\"kind\":\"demo\",\"source\":\"demo\","
                "\"args\":{},\"attempt\":1,\"who\":\"\",\"seq\":0}],\"ordered\":true}");
    CHECK(rill_batch_decode(text, strlen(text), &batch, NULL, 0) == 0);
    CHECK(batch.ordered == 1 && batch.count == 1 && strcmp(batch.jobs[0].source, "demo") == 0);
    rill_batch_release(&batch);
    free(text);
    const char *not_true = "{\"batch\":\"b4\",\"jobs\":[],\"ordered\":1}";
    CHECK(rill_batch_decode(not_true, strlen(not_true), &batch, NULL, 0) == 0 && batch.ordered == 0);
    rill_batch_release(&batch);
    json_decref(args);

    /* Malformed entries only are skipped; missing who/attempt are NULL/0. */
    const char *mixed = "{\"batch\":\"b2\",\"jobs\":["
                        "{\"id\":\"" ID1 "\",\"kind\":\"demo\"},"
                        "{\"id\":\"nothex\",\"kind\":\"demo\"},"
                        "{\"id\":\"" ID2 "\"},"
                        "{\"id\":\"" ID2 "\",\"kind\":3},"
                        "7,"
                        "{\"id\":\"" ID2 "\",\"kind\":\"demo\",\"who\":4,\"attempt\":\"x\",\"args\":[1]}"
                        "]}";
    CHECK(rill_batch_decode(mixed, strlen(mixed), &batch, NULL, 0) == 0);
    CHECK(batch.count == 6);
    CHECK(batch.jobs[0].valid && batch.jobs[0].who == NULL && batch.jobs[0].attempt == 0 &&
          batch.jobs[0].source == NULL && batch.jobs[0].args == NULL);
    CHECK(!batch.jobs[1].valid && !batch.jobs[2].valid && !batch.jobs[3].valid && !batch.jobs[4].valid);
    CHECK(batch.jobs[5].valid && batch.jobs[5].who == NULL && batch.jobs[5].attempt == 0 &&
          batch.jobs[5].args == NULL);
    rill_batch_release(&batch);
    const char *no_id = "{\"jobs\":[]}";
    CHECK(rill_batch_decode(no_id, strlen(no_id), &batch, NULL, 0) == 0 && batch.count == 0 &&
          batch.batch_id == NULL);
    rill_batch_release(&batch);

    const char *bad[] = {"{}", "{\"jobs\":{}}", "[]", "{\"batch\":\"b\",\"jobs\":null}", "{\"jobs\":["};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char error[128] = "";
        CHECKF(rill_batch_decode(bad[i], strlen(bad[i]), &batch, error, sizeof(error)) == -1,
               "accepted %s", bad[i]);
        CHECKF(error[0] != '\0', "no reason for %s", bad[i]);
        CHECK(batch.root == NULL && batch.jobs == NULL);
    }
}

static void test_replay_header(void)
{
    rill_replay_header_t header = {.first = 3, .last = 9, .flush_ms = 40, .ended = 1, .final = 0};
    char buffer[RILL_REPLAY_HEADER_MAX];
    size_t length = rill_replay_header_encode(&header, buffer, sizeof(buffer));
    /* The text control_channel.c snprintf'd. */
    CHECK_BYTES(buffer, length, "{\"first\":3,\"last\":9,\"ended\":true,\"final\":false,\"flush_ms\":40}");
    rill_replay_header_t decoded;
    CHECK(rill_replay_header_decode(buffer, length, &decoded) == 0);
    CHECK(decoded.first == 3 && decoded.last == 9 && decoded.flush_ms == 40 && decoded.ended == 1 &&
          decoded.final == 0);

    /* The longest header fits in RILL_REPLAY_HEADER_MAX; one byte short is refused. */
    rill_replay_header_t big = {.first = UINT64_MAX, .last = UINT64_MAX, .flush_ms = UINT64_MAX};
    length = rill_replay_header_encode(&big, buffer, sizeof(buffer));
    CHECK(length > 0 && length == strlen(buffer));
    CHECK(rill_replay_header_encode(&big, buffer, length) == 0 && buffer[0] == '\0');
    CHECK(rill_replay_header_encode(&big, buffer, length + 1) == length);
    CHECK(rill_replay_header_encode(&header, NULL, 0) == 0);

    /* Only last is required; first defaults to last + 1, final to true. */
    const char *minimal = "{\"last\":0}";
    CHECK(rill_replay_header_decode(minimal, strlen(minimal), &decoded) == 0);
    CHECK(decoded.last == 0 && decoded.first == 1 && decoded.final == 1 && decoded.ended == 0 &&
          decoded.flush_ms == 0);
    const char *bad[] = {"{}", "{\"last\":-1}", "{\"last\":\"9\"}", "[9]", "9", "{\"last\":9"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECKF(rill_replay_header_decode(bad[i], strlen(bad[i]), &decoded) == -1, "accepted %s", bad[i]);
        CHECK(decoded.final == 1); /* an unreadable header ends the replay */
    }
    /* rill/6: a topic's epoch, optional both ways; a bad one reads as none. */
    rill_replay_header_t topic = {.first = 1, .last = 2, .final = 1};
    memcpy(topic.epoch, "0123abcd", 9);
    length = rill_replay_header_encode(&topic, buffer, sizeof(buffer));
    CHECK(strstr(buffer, ",\"epoch\":\"0123abcd\"}") != NULL);
    CHECK(rill_replay_header_decode(buffer, length, &decoded) == 0 && strcmp(decoded.epoch, "0123abcd") == 0);
    const char *bad_epoch = "{\"last\":2,\"epoch\":\"XYZ\"}";
    CHECK(rill_replay_header_decode(bad_epoch, strlen(bad_epoch), &decoded) == 0 && decoded.epoch[0] == '\0');
    CHECK(rill_replay_header_decode("{\"last\":2}", 10, &decoded) == 0 && decoded.epoch[0] == '\0');
}

#define SESSION "00112233445566778899aabbccddeeff"
#define HELLO_TEXT                                                                                           \
    "{\"name\":\"w1\",\"host\":\"h\",\"pid\":7,\"kinds\":[\"demo\",\"exec\"],\"credit\":4,\"session\":\"" SESSION \
    "\",\"jobs\":[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"source\":\"app\",\"who\":\"10.0.0.1\",\"attempt\":2,"  \
    "\"seq\":120,\"first\":21},{\"id\":\"" ID2 "\",\"kind\":\"exec\",\"source\":\"exec\",\"who\":null,"          \
    "\"attempt\":1,\"seq\":0,\"first\":1}]}"

/* HELLO: a worker's name, kinds, credit in all, session, and the jobs it runs. */
static void test_hello(void)
{
    rill_hello_job_t jobs[2] = {
        {.id = ID1, .kind = "demo", .source = "app", .who = "10.0.0.1", .attempt = 2, .seq = 120, .first = 21},
        {.id = ID2, .kind = "exec", .attempt = 1, .seq = 0, .first = 1},
    };
    rill_hello_t hello = {.name = "w1", .host = "h", .pid = 7, .kind_count = 2, .kinds = {"demo", "exec"},
                          .credit = 4, .session = SESSION, .jobs = jobs, .job_count = 2};
    char *text = rill_hello_encode(&hello);
    CHECK_BYTES(text, strlen(text), HELLO_TEXT);
    rill_hello_t decoded;
    char error[256] = "";
    CHECKF(rill_hello_decode(text, strlen(text), &decoded, error, sizeof(error)) == 0, "%s", error);
    CHECK(strcmp(decoded.name, "w1") == 0 && strcmp(decoded.host, "h") == 0 && decoded.pid == 7);
    CHECK(decoded.kind_count == 2 && strcmp(decoded.kinds[1], "exec") == 0 && decoded.credit == 4);
    CHECK(strcmp(decoded.session, SESSION) == 0 && decoded.job_count == 2);
    CHECK(strcmp(decoded.jobs[0].id, ID1) == 0 && strcmp(decoded.jobs[0].kind, "demo") == 0 &&
          strcmp(decoded.jobs[0].source, "app") == 0 && strcmp(decoded.jobs[0].who, "10.0.0.1") == 0 &&
          decoded.jobs[0].attempt == 2 && decoded.jobs[0].seq == 120 && decoded.jobs[0].first == 21);
    CHECK(decoded.jobs[1].who == NULL && decoded.jobs[1].seq == 0 && decoded.jobs[1].first == 1);
    rill_hello_release(&decoded);
    CHECK(decoded.root == NULL && decoded.jobs == NULL);
    free(text);

    /* A worker that runs nothing may leave "jobs" and "host" out; a job
     * without "first" holds no part. */
    const char *bare = "{\"name\":\"w\",\"kinds\":[\"demo\"],\"credit\":0,\"session\":\"" SESSION "\"}";
    CHECK(rill_hello_decode(bare, strlen(bare), &decoded, NULL, 0) == 0 && decoded.job_count == 0 &&
          strcmp(decoded.host, "") == 0 && decoded.pid == 0);
    rill_hello_release(&decoded);
    const char *no_first = "{\"name\":\"w\",\"kinds\":[\"demo\"],\"credit\":1,\"session\":\"" SESSION
                           "\",\"jobs\":[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"attempt\":1,\"seq\":5}]}";
    CHECK(rill_hello_decode(no_first, strlen(no_first), &decoded, NULL, 0) == 0 && decoded.jobs[0].first == 6 &&
          decoded.jobs[0].source == NULL);
    rill_hello_release(&decoded);
}

/* A HELLO is refused with a reason naming what is wrong. */
static void check_hello_refused(const char *text, const char *expected)
{
    rill_hello_t hello;
    char error[256] = "";
    CHECKF(rill_hello_decode(text, strlen(text), &hello, error, sizeof(error)) == -1, "accepted %s", text);
    CHECKF(strcmp(error, expected) == 0, "for %s: got \"%s\", expected \"%s\"", text, error, expected);
    CHECK(hello.root == NULL && hello.jobs == NULL);
}

static void test_hello_refusals(void)
{
#define WORKER "\"name\":\"w\",\"kinds\":[\"demo\"],\"credit\":2,\"session\":\"" SESSION "\""
#define JOB "\"id\":\"" ID1 "\",\"kind\":\"demo\",\"attempt\":1,\"seq\":3"
    check_hello_refused("[]", "HELLO: not a JSON object");
    check_hello_refused("{\"name\":\"\",\"kinds\":[\"demo\"],\"credit\":1}",
                        "HELLO: \"name\" must be a string of 1 to 256 bytes");
    check_hello_refused("{\"name\":\"w\",\"host\":7,\"kinds\":[\"demo\"],\"credit\":1}",
                        "HELLO: \"host\" must be a string of at most 256 bytes");
    check_hello_refused("{\"name\":\"w\",\"pid\":-1,\"kinds\":[\"demo\"],\"credit\":1}",
                        "HELLO: \"pid\" must be a non-negative integer");
    check_hello_refused("{\"name\":\"w\",\"kinds\":[],\"credit\":1}", "HELLO: \"kinds\" must be an array of 1 to 32 names");
    check_hello_refused("{\"name\":\"w\",\"kinds\":[\"\"],\"credit\":1}", "HELLO: each kind must be a string of 1 to 63 bytes");
    check_hello_refused("{\"name\":\"w\",\"kinds\":[\"demo\"],\"credit\":1000001}",
                        "HELLO: \"credit\" must be an integer from 0 to 1000000");
    check_hello_refused("{\"name\":\"w\",\"kinds\":[\"demo\"],\"credit\":1}",
                        "HELLO: \"session\" must be 32 lower-case hex digits");
    check_hello_refused("{" WORKER ",\"jobs\":{}}", "HELLO: \"jobs\" must be an array of at most 1000000 jobs");
    check_hello_refused("{" WORKER ",\"jobs\":[{\"id\":\"x\"}]}", "HELLO: job 0 has no job id");
    check_hello_refused("{" WORKER ",\"jobs\":[{" JOB "},{\"id\":\"" ID2 "\",\"attempt\":1,\"seq\":0}]}",
                        "HELLO: job 1: \"kind\" must be a string of 1 to 63 bytes");
    check_hello_refused("{" WORKER ",\"jobs\":[{" JOB ",\"who\":5}]}",
                        "HELLO: job 0: \"source\" and \"who\" must be strings of at most 256 bytes");
    check_hello_refused("{" WORKER ",\"jobs\":[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"attempt\":0,\"seq\":3}]}",
                        "HELLO: job 0: \"attempt\" (from 1) and \"seq\" must be counts");
    check_hello_refused("{" WORKER ",\"jobs\":[{" JOB ",\"first\":5}]}",
                        "HELLO: job 0: \"first\" must be a count from 1 to seq + 1");
    check_hello_refused("{" WORKER ",\"name\":\"twice\"}", "HELLO: not a JSON object");
#undef WORKER
#undef JOB
}

/* WELCOME: the broker's id and heartbeat, the jobs adopted with the last
 * seq it has of each, the jobs to stop. */
static void test_welcome(void)
{
    rill_welcome_job_t adopted[2] = {{ID1, 17}, {ID2, 0}};
    const char *cancelled[1] = {ID2};
    rill_welcome_t welcome = {.broker = "b1", .heartbeat_ms = 1000, .adopted = adopted, .adopted_count = 2,
                              .cancelled = cancelled, .cancelled_count = 1};
    char *text = rill_welcome_encode(&welcome);
    CHECK_BYTES(text, strlen(text),
                "{\"broker\":\"b1\",\"heartbeat_ms\":1000,\"adopted\":{\"" ID1 "\":17,\"" ID2 "\":0},"
                "\"cancelled\":[\"" ID2 "\"]}");
    rill_welcome_t decoded;
    char error[256] = "";
    CHECKF(rill_welcome_decode(text, strlen(text), &decoded, error, sizeof(error)) == 0, "%s", error);
    CHECK(strcmp(decoded.broker, "b1") == 0 && decoded.heartbeat_ms == 1000);
    CHECK(decoded.adopted_count == 2 && decoded.cancelled_count == 1);
    if (decoded.adopted_count == 2) {
        CHECK(strcmp(decoded.adopted[0].id, ID1) == 0 && decoded.adopted[0].last_seq == 17);
        CHECK(strcmp(decoded.adopted[1].id, ID2) == 0 && decoded.adopted[1].last_seq == 0);
    }
    CHECK(decoded.cancelled_count == 1 && strcmp(decoded.cancelled[0], ID2) == 0);
    rill_welcome_release(&decoded);
    free(text);
    /* rill/1's WELCOME (no lists) reads as nothing adopted, nothing cancelled. */
    const char *plain = "{\"broker\":\"b2\",\"heartbeat_ms\":100}";
    CHECK(rill_welcome_decode(plain, strlen(plain), &decoded, NULL, 0) == 0 && decoded.adopted_count == 0 &&
          decoded.cancelled_count == 0 && decoded.heartbeat_ms == 100);
    rill_welcome_release(&decoded);
    const char *bad[] = {"{}", "{\"broker\":\"\"}", "{\"broker\":\"b\",\"adopted\":[]}",
                         "{\"broker\":\"b\",\"adopted\":{\"x\":1}}", "{\"broker\":\"b\",\"adopted\":{\"" ID1 "\":-1}}",
                         "{\"broker\":\"b\",\"cancelled\":[\"x\"]}", "{\"broker\":\"b\",\"cancelled\":{}}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECKF(rill_welcome_decode(bad[i], strlen(bad[i]), &decoded, error, sizeof(error)) == -1, "accepted %s", bad[i]);
        CHECK(decoded.root == NULL && decoded.adopted == NULL && decoded.cancelled == NULL);
    }
}

/* How many of the HELLO and WELCOME decoders accept bytes (0, 1 or 2);
 * what they decoded is released. */
static int hello_or_welcome_decodes(const void *bytes, size_t length)
{
    rill_hello_t hello;
    rill_welcome_t welcome;
    char error[64];
    int accepted = 0;
    if (rill_hello_decode(bytes, length, &hello, error, sizeof(error)) == 0) {
        accepted++;
        rill_hello_release(&hello);
    }
    if (rill_welcome_decode(bytes, length, &welcome, error, sizeof(error)) == 0) {
        accepted++;
        rill_welcome_release(&welcome);
    }
    return accepted;
}

/* Garbage, truncations and odd bytes: every decoder answers -1 and nothing leaks or crashes. */
static void test_garbage(void)
{
    const char *valid[] = {
        "[{\"id\":\"" ID1 "\",\"kind\":\"demo\"}]",
        "{\"jobs\":[\"" ID1 "\"],\"flush_ms\":[1]}",
        "{\"batch\":\"b\",\"jobs\":[{\"id\":\"" ID1 "\",\"kind\":\"demo\"}]}",
        "{\"first\":1,\"last\":2,\"ended\":false,\"final\":true,\"flush_ms\":0}",
        HELLO_TEXT,
        "{\"broker\":\"b\",\"adopted\":{\"" ID1 "\":3}}",
    };
    int failures = 0;
    for (size_t v = 0; v < sizeof(valid) / sizeof(valid[0]); v++) {
        size_t full = strlen(valid[v]);
        for (size_t cut = 0; cut < full; cut++) {
            rill_submit_t submit;
            rill_submitted_t submitted;
            rill_batch_t batch;
            rill_replay_header_t header;
            failures += rill_submit_decode(valid[v], cut, &submit, NULL, 0) != -1;
            failures += rill_submitted_decode(valid[v], cut, &submitted, NULL, 0) != -1;
            failures += rill_batch_decode(valid[v], cut, &batch, NULL, 0) != -1;
            failures += rill_replay_header_decode(valid[v], cut, &header) != -1;
            failures += hello_or_welcome_decodes(valid[v], cut);
        }
    }
    CHECKF(failures == 0, "%d truncated frames decoded", failures);

    unsigned int seed = 7;
    unsigned char noise[64];
    failures = 0;
    for (int round = 0; round < 2000; round++) {
        size_t length = (size_t)(rand_r(&seed) % (int)sizeof(noise));
        for (size_t i = 0; i < length; i++)
            noise[i] = (unsigned char)rand_r(&seed);
        if (length > 0)
            noise[0] = "[{\x00\xff"[round % 4]; /* start like a frame half of the time */
        rill_submit_t submit;
        rill_submitted_t submitted;
        rill_batch_t batch;
        rill_replay_header_t header;
        char error[64];
        failures += rill_submit_decode(noise, length, &submit, error, sizeof(error)) != -1;
        failures += rill_submitted_decode(noise, length, &submitted, error, sizeof(error)) != -1;
        failures += rill_batch_decode(noise, length, &batch, error, sizeof(error)) != -1;
        failures += rill_replay_header_decode(noise, length, &header) != -1;
        failures += hello_or_welcome_decodes(noise, length);
    }
    CHECKF(failures == 0, "%d noise frames decoded", failures);

    /* NUL inside, non-UTF-8, an empty frame: refused by all. */
    const char nul_inside[] = "{\"last\":1}\0{\"last\":2}";
    const char *odd[] = {"{\"jobs\":[\"\xc3\x28\"]}", "", "\xef\xbb\xbf{\"last\":1}", "null"};
    rill_replay_header_t header;
    CHECK(rill_replay_header_decode(nul_inside, sizeof(nul_inside) - 1, &header) == -1);
    rill_batch_t batch;
    CHECK(rill_batch_decode(nul_inside, sizeof(nul_inside) - 1, &batch, NULL, 0) == -1);
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        rill_submit_t submit;
        rill_submitted_t submitted;
        CHECK(rill_submit_decode(odd[i], strlen(odd[i]), &submit, NULL, 0) == -1);
        CHECK(rill_submitted_decode(odd[i], strlen(odd[i]), &submitted, NULL, 0) == -1);
        CHECK(rill_batch_decode(odd[i], strlen(odd[i]), &batch, NULL, 0) == -1);
        CHECK(rill_replay_header_decode(odd[i], strlen(odd[i]), &header) == -1);
        CHECK(hello_or_welcome_decodes(odd[i], strlen(odd[i])) == 0);
    }
    rill_submit_t submit;
    CHECK(rill_submit_decode(NULL, 0, &submit, NULL, 0) == -1);
}

int main(void)
{
    test_submit_fast_path();
    test_submit_args_text();
    test_submit_encode_strings();
    test_submit_round_trip();
    test_submit_refusals();
    test_submitted();
    test_batch();
    test_replay_header();
    test_hello();
    test_hello_refusals();
    test_welcome();
    test_garbage();
    RILL_TEST_END();
}
