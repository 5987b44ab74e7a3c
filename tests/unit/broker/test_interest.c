/* test_interest.c - subscriber counts from XPUB messages (broker/interest.c). */
#include "rill_test.h"
#include "interest.h"

#include <string.h>

static rill_interest_change_t apply(rill_interest_t *interest, int subscribe, const char *topic)
{
    uint8_t message[256];
    message[0] = (uint8_t)subscribe;
    memcpy(message + 1, topic, strlen(topic));
    rill_interest_change_t change;
    rill_interest_apply(interest, message, strlen(topic) + 1, &change);
    return change;
}

int main(void)
{
    rill_interest_t *interest = rill_interest_new();
    const char *job = "j0123456789abcdef0123456789abcdef";
    rill_interest_change_t change = apply(interest, 1, job);
    CHECK(change.kind == RILL_INTEREST_JOB && change.subscribe && change.previous == 0 && change.count == 1);
    change = apply(interest, 1, job); /* a second frontend */
    CHECK(change.count == 2);
    CHECK(rill_interest_count(interest, job) == 2);
    change = apply(interest, 0, job);
    CHECK(!change.subscribe && change.previous == 2 && change.count == 1);
    change = apply(interest, 0, job);
    CHECK(change.previous == 1 && change.count == 0); /* the 1 -> 0 the broker acts on */
    CHECK(rill_interest_count(interest, job) == 0 && rill_interest_size(interest) == 0);
    change = apply(interest, 0, job); /* never below 0, and not another 1 -> 0 */
    CHECK(change.previous == 0 && change.count == 0);
    /* Two subjects of one kind (one first byte): the count of the one left
     * is still found once the other went (the lookup is skipped only while
     * no subject begins with that byte). */
    const char *other = "jfedcba9876543210fedcba9876543210";
    apply(interest, 1, job);
    apply(interest, 1, other);
    apply(interest, 0, job);
    CHECK(rill_interest_count(interest, other) == 1 && rill_interest_count(interest, job) == 0);
    apply(interest, 0, other);
    CHECK(rill_interest_count(interest, other) == 0);
    CHECK(apply(interest, 1, other).count == 1 && rill_interest_count(interest, other) == 1);
    apply(interest, 0, other);

    change = apply(interest, 1, "stoken-1");
    CHECK(change.kind == RILL_INTEREST_BARRIER && strcmp(change.subject, "stoken-1") == 0);
    change = apply(interest, 1, "tnews.eu/");
    CHECK(change.kind == RILL_INTEREST_TOPIC && change.count == 1);
    /* rill/4: a wildcard's prefix is a pattern, never a topic. */
    change = apply(interest, 1, "talerts.");
    CHECK(change.kind == RILL_INTEREST_PATTERN && change.count == 1);
    apply(interest, 1, "talerts.cpu.");
    CHECK(rill_interest_pattern_count(interest, "alerts.cpu.high", 15) == 2);
    CHECK(rill_interest_pattern_count(interest, "alerts.cpu", 10) == 1);
    CHECK(rill_interest_pattern_count(interest, "alerts.", 7) == 0); /* nothing after the dot */
    CHECK(rill_interest_pattern_count(interest, "alertsX", 7) == 0);
    CHECK(rill_interest_count(interest, "talerts./") == 0);
    apply(interest, 0, "talerts.");
    apply(interest, 0, "talerts.cpu.");
    CHECK(rill_interest_pattern_count(interest, "alerts.cpu.high", 15) == 0);
    CHECK(apply(interest, 1, "t.").kind == RILL_INTEREST_IGNORED);
    /* Not rill subjects: ignored, not counted. */
    CHECK(apply(interest, 1, "tnews").kind == RILL_INTEREST_IGNORED);
    CHECK(apply(interest, 1, "j0123").kind == RILL_INTEREST_IGNORED);
    CHECK(apply(interest, 1, "jABCDEF6789abcdef0123456789abcdef").kind == RILL_INTEREST_IGNORED);
    CHECK(apply(interest, 1, "").kind == RILL_INTEREST_IGNORED);
    CHECK(apply(interest, 1, "s").kind == RILL_INTEREST_IGNORED);
    CHECK(apply(interest, 1, "s with space").kind == RILL_INTEREST_IGNORED);
    uint8_t odd[3] = {7, 'j', 'x'};
    rill_interest_change_t ignored;
    rill_interest_apply(interest, odd, 3, &ignored);
    CHECK(ignored.kind == RILL_INTEREST_IGNORED);
    rill_interest_apply(interest, odd, 0, &ignored);
    CHECK(ignored.kind == RILL_INTEREST_IGNORED);
    CHECK(rill_interest_size(interest) == 2);
    rill_interest_destroy(&interest);
    CHECK(interest == NULL);
    RILL_TEST_END();
}
