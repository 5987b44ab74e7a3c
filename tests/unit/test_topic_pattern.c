/* test_topic_pattern.c - wildcard topic patterns: what is one, what it matches. */
#include "rill_protocol.h"
#include "rill_test.h"
#include "rill_topic_pattern.h"

#include <string.h>

static int valid(const char *text)
{
    return rill_topic_pattern_is_valid(text, strlen(text));
}

static int matches(const char *prefix, const char *name)
{
    return rill_topic_pattern_matches(prefix, strlen(prefix), name, strlen(name));
}

int main(void)
{
    CHECK(valid("alerts.*"));
    CHECK(valid("a.*"));
    CHECK(valid("alerts.cpu.*"));
    CHECK(valid("x-y_z.*"));
    CHECK(!valid("alerts*"));   /* the star follows a dot */
    CHECK(!valid(".*")); /* a prefix has a byte before its dot */
    CHECK(!valid("alerts.**"));
    CHECK(!valid("*.alerts"));
    CHECK(!valid("al*rts.*"));
    CHECK(!valid("alerts.*.x"));
    CHECK(!valid("alerts"));
    CHECK(!valid("*"));
    CHECK(!valid(""));
    CHECK(!valid("al erts.*"));
    CHECK(!valid("alerts/.*"));
    CHECK(rill_topic_pattern_looks_like("al erts.*", 9));
    CHECK(!rill_topic_pattern_looks_like("alerts", 6));

    /* The longest prefix: 127 bytes with its dot; 128 leaves no room for a name. */
    char text[RILL_TOPIC_NAME_MAX + 2];
    memset(text, 'a', sizeof(text));
    text[126] = '.';
    text[127] = '*';
    CHECK(rill_topic_pattern_is_valid(text, 128));
    text[127] = '.';
    text[128] = '*';
    CHECK(!rill_topic_pattern_is_valid(text, 129));

    CHECK(rill_topic_prefix_is_valid("alerts.", 7));
    CHECK(!rill_topic_prefix_is_valid("alerts", 6));
    CHECK(!rill_topic_prefix_is_valid(".", 1));

    CHECK(matches("alerts.", "alerts.cpu"));
    CHECK(matches("alerts.", "alerts.cpu.high"));
    CHECK(matches("alerts.", "alerts.."));
    CHECK(!matches("alerts.", "alerts."));  /* the name goes on after the dot */
    CHECK(!matches("alerts.", "alertsX"));
    CHECK(!matches("alerts.", "alert.x"));
    CHECK(!matches("alerts.", "xalerts.cpu"));
    CHECK(!matches("alerts.", "alerts"));
    CHECK(matches("alerts.cpu.", "alerts.cpu.high"));
    CHECK(!matches("alerts.cpu.", "alerts.cpu"));
    RILL_TEST_END();
}
