/* test_batch_fast.c - the worker's BATCH reader (common/rill_batch_fast.c):
 * the broker's layout is read without jansson, with args kept as text, and
 * every frame gets the verdict and the values of the full decoder
 * (rill_batch_decode), whichever of the two read it. */
#include "rill_batch_fast.h"
#include "rill_test.h"

#include <stdlib.h>
#include <string.h>

#define ID1 "0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210"

/* The args of an entry as a document: the full decoder's, or its text parsed. */
static json_t *entry_args(const rill_batch_entry_t *entry)
{
    if (entry->args_text != NULL)
        return json_loadb(entry->args_text, entry->args_length, 0, NULL);
    return json_incref(entry->args);
}

static int same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* 1 when rill_batch_read and rill_batch_decode agree on bytes: both refuse
 * it, or both take it with the same values. *fast: the reader's path. */
static int agrees(const char *bytes, size_t length, int *fast)
{
    rill_batch_read_t read;
    rill_batch_t decoded;
    int read_status = rill_batch_read(bytes, length, &read, NULL, 0);
    int decode_status = rill_batch_decode(bytes, length, &decoded, NULL, 0);
    *fast = read_status == 0 && read.fast;
    int same = read_status == decode_status;
    if (same && read_status == 0) {
        same = read.count == decoded.count && read.ordered == decoded.ordered &&
               same_text(read.batch_id, decoded.batch_id);
        for (size_t i = 0; same && i < read.count; i++) {
            const rill_batch_entry_t *a = &read.jobs[i];
            const rill_batch_job_t *b = &decoded.jobs[i];
            same = a->valid == b->valid;
            if (!same || !a->valid)
                continue;
            json_t *args = entry_args(a);
            same = same_text(a->id, b->id) && same_text(a->kind, b->kind) && same_text(a->source, b->source) &&
                   same_text(a->who, b->who) && a->attempt == b->attempt && a->seq == b->seq &&
                   ((args == NULL && b->args == NULL) || json_equal(args, b->args));
            json_decref(args);
        }
    }
    if (read_status == 0)
        rill_batch_read_release(&read);
    if (decode_status == 0)
        rill_batch_release(&decoded);
    return same;
}

static void test_layout(void)
{
    json_t *args = json_pack("{s:i,s:s,s:[i,b],s:{s:n},s:f}", "parts", 10, "path", "a b/c.log", "list", -3, 1,
                             "deep", "x", "ratio", 0.5);
    rill_batch_job_t jobs[2] = {
        {.id = ID1, .kind = "demo", .source = "app", .who = "10.0.0.1", .args = args, .attempt = 2, .seq = 41},
        {.id = ID2, .kind = "exec", .who = NULL, .args = NULL, .attempt = 1},
    };
    char *text = rill_batch_encode("b1", 0, jobs, 2);
    rill_batch_read_t batch;
    CHECK(rill_batch_read(text, strlen(text), &batch, NULL, 0) == 0);
    CHECK(batch.fast && batch.count == 2 && batch.ordered == 0 && strcmp(batch.batch_id, "b1") == 0);
    const rill_batch_entry_t *first = &batch.jobs[0], *second = &batch.jobs[1];
    CHECK(first->valid && strcmp(first->id, ID1) == 0 && strcmp(first->kind, "demo") == 0 &&
          strcmp(first->source, "app") == 0 && strcmp(first->who, "10.0.0.1") == 0 && first->attempt == 2 &&
          first->seq == 41 && first->args == NULL);
    json_t *parsed = entry_args(first);
    CHECK(parsed != NULL && json_equal(parsed, args));
    json_decref(parsed);
    /* The encoder's defaults: source = kind, who "", args {}. */
    CHECK(second->valid && strcmp(second->source, "exec") == 0 && strcmp(second->who, "") == 0 &&
          second->args_length == 2 && memcmp(second->args_text, "{}", 2) == 0 && second->attempt == 1);
    rill_batch_read_release(&batch);
    CHECK(batch.jobs == NULL && batch.text == NULL && batch.count == 0);
    int fast;
    CHECK(agrees(text, strlen(text), &fast) && fast);
    free(text);

    text = rill_batch_encode("b2", 1, jobs, 2);
    CHECK(rill_batch_read(text, strlen(text), &batch, NULL, 0) == 0 && batch.fast && batch.ordered == 1);
    rill_batch_read_release(&batch);
    free(text);
    const char *empty = "{\"batch\":\"b3\",\"jobs\":[]}";
    CHECK(rill_batch_read(empty, strlen(empty), &batch, NULL, 0) == 0 && batch.fast && batch.count == 0);
    rill_batch_read_release(&batch);
    json_decref(args);
}

/* Frames outside the layout are the full decoder's: same verdict, same
 * values, and the args come as a document. */
static void test_fallback(void)
{
#define ENTRY(args) "{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"source\":\"demo\",\"args\":" args ",\"attempt\":1,\"who\":\"w\",\"seq\":0}"
#define FRAME(entries) "{\"batch\":\"b\",\"jobs\":[" entries "]}"
    const char *slow[] = {
        FRAME(ENTRY("{\"s\":\"a\\\"b\"}")),           /* an escape in args */
        FRAME(ENTRY("{\"s\":\"\\u0000\"}")),          /* which jansson refuses: the frame is refused */
        FRAME(ENTRY("{\"n\":1e999}")),                /* a real too big */
        FRAME(ENTRY("{\"n\":1E2}")),                  /* any exponent */
        FRAME(ENTRY("{\"n\":1234567890123456789012}")), /* an integer too big */
        FRAME(ENTRY("{\"s\":\"\xc3\xa9\"}")),         /* non-ASCII */
        FRAME(ENTRY("{\"s\":\"\xc3\x28\"}")),         /* invalid UTF-8 */
        FRAME(ENTRY("{\"a\":}")),                     /* not JSON inside a balanced object */
        FRAME(ENTRY("[1]")),                          /* args not an object: none */
        "{\"batch\":\"b\",\"jobs\":[{\"id\":\"" ID1 "\",\"kind\":\"demo\"}]}", /* fields missing */
        "{\"batch\":\"b\",\"jobs\":[{\"id\":\"nothex\",\"kind\":\"demo\",\"source\":\"demo\",\"args\":{},"
        "\"attempt\":1,\"who\":\"\",\"seq\":0}]}", /* a bad id: that entry only is invalid */
        "{\"batch\":\"b\",\"jobs\":[{\"id\":\"" ID1 "\",\"kind\":\"d\\u0065mo\",\"source\":\"demo\",\"args\":{},"
        "\"attempt\":1,\"who\":\"\",\"seq\":0}]}", /* an escape in a string */
        "{\"batch\":\"b\",\"jobs\":[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"source\":\"demo\",\"args\":{},"
        "\"attempt\":01,\"who\":\"\",\"seq\":0}]}", /* not JSON */
        "{\"batch\":\"b\",\"jobs\":[{\"id\":\"" ID1 "\",\"kind\":\"demo\",\"source\":\"demo\",\"args\":{},"
        "\"attempt\":9223372036854775807,\"who\":\"\",\"seq\":0}]}", /* 19 digits */
        "{\"batch\":\"b\",\"jobs\":[],\"ordered\":1}",
        "{\"batch\":\"b\",\"jobs\":[]} ",
        "{\"batch\":\"b\",\"jobs\":[],\"ordered\":true,\"x\":1}",
        "{\"batch\":null,\"jobs\":[]}",
        "{\"batch\":\"b\",\"jobs\":{}}",
    };
    for (size_t i = 0; i < sizeof(slow) / sizeof(slow[0]); i++) {
        int fast = 1;
        CHECKF(agrees(slow[i], strlen(slow[i]), &fast), "disagree on %s", slow[i]);
        CHECKF(!fast, "read fast: %s", slow[i]);
    }
    /* Still in the layout: reals, negatives, nesting, null, whitespace and
     * a duplicate inside args (the last wins in both). */
    const char *quick[] = {
        FRAME(ENTRY("{\"a\":1,\"a\":2}")),
        FRAME(ENTRY("{ \"parts\" : 2 }")),
        FRAME(ENTRY("{\"a\":-1.25,\"b\":[true,false,null],\"c\":{\"d\":[]},\"e\":\"x y\"}")),
        FRAME(ENTRY("{}") "," ENTRY("{\"parts\":3}")),
        "{\"batch\":\"b\",\"jobs\":[" ENTRY("{}") "],\"ordered\":true}",
    };
    for (size_t i = 0; i < sizeof(quick) / sizeof(quick[0]); i++) {
        int fast = 0;
        CHECKF(agrees(quick[i], strlen(quick[i]), &fast), "disagree on %s", quick[i]);
        CHECKF(fast, "not read fast: %s", quick[i]);
    }
    /* A refusal names what is wrong. */
    char error[128] = "";
    rill_batch_read_t batch;
    CHECK(rill_batch_read("{\"jobs\":[", 9, &batch, error, sizeof(error)) == -1 && error[0] != '\0');
    CHECK(batch.jobs == NULL && batch.text == NULL);
#undef ENTRY
#undef FRAME
}

/* Every truncation and many mutations of real frames: the two agree. */
static void test_agree_on_mutations(void)
{
    json_t *args = json_pack("{s:i,s:i,s:s}", "parts", 10, "interval_ms", 0, "path", "x");
    rill_batch_job_t jobs[2] = {
        {.id = ID1, .kind = "demo", .source = "demo", .who = "127.0.0.1", .args = args, .attempt = 1, .seq = 0},
        {.id = ID2, .kind = "tail", .source = "t", .who = "", .args = NULL, .attempt = 3, .seq = 99},
    };
    char *text = rill_batch_encode("0123456789abcdef", 1, jobs, 2);
    size_t length = strlen(text);
    int disagreements = 0, fast_count = 0, fast;
    for (size_t cut = 0; cut <= length; cut++)
        disagreements += !agrees(text, cut, &fast);
    CHECKF(disagreements == 0, "%d truncations disagree", disagreements);
    static const char alphabet[] = "{}[]\",:0123456789-.eE\\ tfnul\x01\x7f\xc3\xff";
    char *mutant = malloc(length + 1);
    unsigned int seed = 11;
    disagreements = 0;
    for (int round = 0; round < 20000; round++) {
        memcpy(mutant, text, length + 1);
        int changes = 1 + rand_r(&seed) % 3;
        for (int i = 0; i < changes; i++)
            mutant[rand_r(&seed) % (int)length] = alphabet[rand_r(&seed) % (int)(sizeof(alphabet) - 1)];
        if (!agrees(mutant, length, &fast)) {
            if (disagreements++ < 5)
                fprintf(stderr, "disagree on %.*s\n", (int)length, mutant);
        }
        fast_count += fast;
    }
    CHECKF(disagreements == 0, "%d mutants disagree", disagreements);
    CHECKF(fast_count > 1000, "only %d mutants read fast", fast_count); /* the fast path was exercised */
    free(mutant);
    free(text);
    json_decref(args);
}

int main(void)
{
    test_layout();
    test_fallback();
    test_agree_on_mutations();
    RILL_TEST_END();
}
