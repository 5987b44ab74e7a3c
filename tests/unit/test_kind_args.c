/* test_kind_args.c - the helpers a kind's argument check shares
 * (common/rill_kind_args.c): integer arguments read from a parsed object
 * and from their JSON text, which must agree. */
#include "rill_kind_args.h"
#include "rill_test.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t parts, interval, size;
} values_t;

static void specs_of(values_t *values, rill_kind_args_integer_t specs[3])
{
    values->parts = 3;
    values->interval = 100;
    values->size = -1;
    specs[0] = (rill_kind_args_integer_t){"parts", 0, 1000000, &values->parts};
    specs[1] = (rill_kind_args_integer_t){"interval_ms", 0, 3600000, &values->interval};
    specs[2] = (rill_kind_args_integer_t){"size", -5, 1048576, &values->size};
}

/* The JSON path on text: 0 with values, or -1 with error. */
static int parse_json(const char *text, values_t *values, rill_job_error_t *error)
{
    rill_kind_args_integer_t specs[3];
    specs_of(values, specs);
    json_t *args = json_loads(text, 0, NULL);
    int status = json_is_object(args) ? rill_kind_args_integers(args, "demo", specs, 3, error) : -2;
    json_decref(args);
    return status;
}

static int parse_text(const char *text, values_t *values)
{
    rill_kind_args_integer_t specs[3];
    specs_of(values, specs);
    return rill_kind_args_integers_text(text, strlen(text), specs, 3);
}

static void test_text(void)
{
    values_t values;
    CHECK(parse_text("{}", &values) == 1 && values.parts == 3 && values.interval == 100 && values.size == -1);
    CHECK(parse_text("{\"parts\":10,\"interval_ms\":0}", &values) == 1 && values.parts == 10 &&
          values.interval == 0 && values.size == -1);
    CHECK(parse_text("{\"size\":-5,\"parts\":1000000,\"interval_ms\":3600000}", &values) == 1 &&
          values.size == -5 && values.parts == 1000000 && values.interval == 3600000);
    CHECK(parse_text("{\"size\":-0}", &values) == 1 && values.size == 0);
    /* Anything else is the parser's to judge; the values keep their defaults. */
    const char *other[] = {
        "", "{", "}", "{}}", "{} ", " {}", "{\"parts\":1", "{\"parts\":1,}", "{\"parts\" :1}", "{\"parts\": 1}",
        "{\"parts\":1 }", "{\"parts\":1,\"parts\":2}", "{\"other\":1}", "{\"part\":1}", "{\"partss\":1}",
        "{\"parts\":-1}", "{\"parts\":1000001}", "{\"parts\":01}", "{\"parts\":1.0}", "{\"parts\":1e2}",
        "{\"parts\":\"1\"}", "{\"parts\":null}", "{\"parts\":1234567890123456789}", "{\"parts\":-}",
        "{\"pa\\u0072ts\":1}", "{\"parts\":1}x", "{parts:1}", "[1]",
    };
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        CHECKF(parse_text(other[i], &values) == 0, "took %s", other[i]);
        CHECK(values.parts == 3 && values.interval == 100 && values.size == -1);
    }
    rill_kind_args_integer_t specs[3];
    specs_of(&values, specs);
    CHECK(rill_kind_args_integers_text(NULL, 0, specs, 3) == 0);
    CHECK(rill_kind_args_integers_text("{\"parts\":1}", 6, specs, 3) == 0); /* cut by length */
}

/* What the text path takes, the JSON path takes with the same values. */
static void test_agree(void)
{
    static const char *const pieces[] = {"\"parts\":", "\"interval_ms\":", "\"size\":", "\"x\":", "0", "7",
                                         "-3", "01", "1000000", "1000001", "3600000", ",", "}", "{", " "};
    size_t count = sizeof(pieces) / sizeof(pieces[0]);
    unsigned int seed = 5;
    int taken = 0, disagreements = 0;
    for (int round = 0; round < 20000; round++) {
        char text[256] = "{";
        int n = 1 + rand_r(&seed) % 9;
        for (int i = 0; i < n; i++)
            strcat(text, pieces[rand_r(&seed) % count]);
        if (rand_r(&seed) % 2)
            strcat(text, "}");
        values_t fast, slow;
        rill_job_error_t error;
        if (parse_text(text, &fast) != 1)
            continue;
        taken++;
        if (parse_json(text, &slow, &error) != 0 || fast.parts != slow.parts || fast.interval != slow.interval ||
            fast.size != slow.size) {
            if (disagreements++ < 5)
                fprintf(stderr, "disagree on %s\n", text);
        }
    }
    CHECKF(disagreements == 0, "%d texts disagree", disagreements);
    CHECKF(taken > 100, "only %d texts taken", taken);
}

/* The JSON path: unknown names first, then each integer in order, with the
 * messages of rill_kind_args_only and rill_kind_args_integer. */
static void test_json(void)
{
    values_t values;
    rill_job_error_t error;
    CHECK(parse_json("{\"parts\":-1,\"other\":1}", &values, &error) == -1 && error.status == 422 &&
          strcmp(error.code, "invalid_args") == 0 && strcmp(error.message, "demo takes no argument \"other\"") == 0);
    CHECK(parse_json("{\"size\":\"x\",\"parts\":-1}", &values, &error) == -1 &&
          strcmp(error.message, "\"parts\" must be an integer from 0 to 1000000") == 0);
    CHECK(parse_json("{\"size\":1.5}", &values, &error) == -1 &&
          strcmp(error.message, "\"size\" must be an integer from -5 to 1048576") == 0);
    CHECK(parse_json("{\"parts\":1,\"parts\":2}", &values, &error) == 0 && values.parts == 2);
    rill_kind_args_integer_t specs[3];
    specs_of(&values, specs);
    CHECK(rill_kind_args_integers(NULL, "demo", specs, 3, &error) == 0 && values.parts == 3);
}

int main(void)
{
    test_text();
    test_agree();
    test_json();
    RILL_TEST_END();
}
