/* test_access_claims.c - JWT claims: topics, wildcards, jobs, owners, exp/nbf (frontend/access_claims.c). */
#include "rill_test.h"
#include "access_claims.h"

#include <string.h>

static json_t *parse(const char *text)
{
    json_error_t error;
    json_t *value = json_loads(text, 0, &error);
    CHECK(value != NULL);
    return value;
}

static int topic(const json_t *entries, const char *name)
{
    return rill_access_claims_topic(entries, name, strlen(name));
}

static int reads(const char *payload, const char **why)
{
    rill_access_grant_t grant;
    int result = rill_access_grant_read(&grant, parse(payload), why);
    if (result == 0)
        rill_access_grant_clear(&grant);
    return result;
}

int main(void)
{
    json_t *entries = parse("[\"news\",\"alerts.*\",\"a.b.*\"]");
    CHECK(topic(entries, "news"));
    CHECK(!topic(entries, "news2"));
    CHECK(!topic(entries, "new"));
    CHECK(topic(entries, "alerts.cpu"));
    CHECK(topic(entries, "alerts.cpu.high"));
    CHECK(!topic(entries, "alerts."));
    CHECK(!topic(entries, "alerts"));
    CHECK(!topic(entries, "alertsX"));
    CHECK(topic(entries, "alerts.*"));      /* a wildcard within a wildcard */
    CHECK(topic(entries, "alerts.cpu.*"));
    CHECK(!topic(entries, "a.*"));          /* wider than a.b.* */
    CHECK(topic(entries, "a.b.c"));
    CHECK(!topic(entries, "a.c"));
    CHECK(!topic(entries, "*"));
    json_decref(entries);

    json_t *all = parse("[\"*\"]");
    CHECK(topic(all, "anything") && topic(all, "x.*"));
    json_decref(all);
    CHECK(!topic(NULL, "news"));
    json_t *empty = parse("[]");
    CHECK(!topic(empty, "news"));
    json_decref(empty);

    const char id[] = "0123456789abcdef0123456789abcdef";
    json_t *jobs = parse("[\"0123456789abcdef0123456789abcdef\"]");
    CHECK(rill_access_claims_job(jobs, id));
    CHECK(!rill_access_claims_job(jobs, "0123456789abcdef0123456789abcdee"));
    json_decref(jobs);

    /* Grants: shape, sub, ownership through who. */
    const char *why = NULL;
    rill_access_grant_t grant;
    CHECK(rill_access_grant_read(&grant, parse("{\"sub\":\"alice\",\"rill\":{\"subscribe\":[\"news\"],"
                                               "\"publish\":[\"alerts.*\"],\"jobs\":[\"" "0123456789abcdef0123456789abcdef" "\"]}}"),
                                 &why) == 0);
    CHECK(strcmp(grant.sub, "alice") == 0 && !grant.admin && !grant.everything);
    CHECK(rill_access_may_subscribe(&grant, "news", 4) && !rill_access_may_publish(&grant, "news", 4));
    CHECK(rill_access_may_publish(&grant, "alerts.x", 8) && !rill_access_may_subscribe(&grant, "alerts.x", 8));
    CHECK(rill_access_may_read_job_by_claim(&grant, id));
    CHECK(!rill_access_may_read_job_by_claim(&grant, "ffffffffffffffffffffffffffffffff"));
    char who[256];
    rill_access_owner_who(&grant, "127.0.0.1:5000", who, sizeof(who));
    CHECK(strcmp(who, "127.0.0.1:5000 sub=alice") == 0);
    CHECK(rill_access_owns(&grant, who, strlen(who)));
    CHECK(!rill_access_owns(&grant, "127.0.0.1:5000 sub=alicex", 25));
    CHECK(!rill_access_owns(&grant, "127.0.0.1:5000 sub=alic", 23));
    CHECK(!rill_access_owns(&grant, "127.0.0.1:5000", 14));
    CHECK(!rill_access_owns(&grant, "127.0.0.1:5000 sub=bob sub=alice", 32)); /* the first mark counts */
    rill_access_grant_clear(&grant);

    /* A token without rill claims: its own jobs only. */
    CHECK(rill_access_grant_read(&grant, parse("{\"sub\":\"bob\"}"), &why) == 0);
    CHECK(!rill_access_may_subscribe(&grant, "news", 4) && !rill_access_may_publish(&grant, "news", 4));
    CHECK(rill_access_owns(&grant, "[::1]:80 sub=bob", 16));
    rill_access_grant_clear(&grant);
    /* No sub: owns nothing, and the who carries no mark. */
    CHECK(rill_access_grant_read(&grant, parse("{\"rill\":{\"admin\":true}}"), &why) == 0);
    CHECK(grant.admin && rill_access_may_subscribe(&grant, "x", 1));
    CHECK(!rill_access_owns(&grant, "1.2.3.4:5 sub=", 14));
    rill_access_owner_who(&grant, "1.2.3.4:5", who, sizeof(who));
    CHECK(strcmp(who, "1.2.3.4:5") == 0);
    rill_access_grant_clear(&grant);

    CHECK(reads("{\"sub\":5}", &why) == -1 && why != NULL);
    CHECK(reads("{\"sub\":\"\"}", &why) == -1);
    CHECK(reads("{\"rill\":[]}", &why) == -1);
    CHECK(reads("{\"rill\":{\"subscribe\":\"news\"}}", &why) == -1);
    CHECK(reads("{\"rill\":{\"subscribe\":[1]}}", &why) == -1);
    CHECK(reads("{\"rill\":{\"admin\":1}}", &why) == -1);
    CHECK(reads("{\"rill\":{\"other\":[]}}", &why) == -1);
    CHECK(reads("[]", &why) == -1);
    char long_sub[300];
    snprintf(long_sub, sizeof(long_sub), "{\"sub\":\"%0193d\"}", 0);
    CHECK(reads(long_sub, &why) == -1);
    snprintf(long_sub, sizeof(long_sub), "{\"sub\":\"%0192d\"}", 0);
    CHECK(reads(long_sub, &why) == 0);

    /* exp and nbf with a leeway. */
    json_t *times = parse("{\"exp\":1000,\"nbf\":900}");
    CHECK(rill_access_claims_check_time(times, 950, 0, &why) == 0);
    CHECK(rill_access_claims_check_time(times, 1000, 0, &why) == -1 && strstr(why, "expired") != NULL);
    CHECK(rill_access_claims_check_time(times, 1004, 5, &why) == 0);
    CHECK(rill_access_claims_check_time(times, 1005, 5, &why) == -1);
    CHECK(rill_access_claims_check_time(times, 899, 0, &why) == -1 && strstr(why, "not valid yet") != NULL);
    CHECK(rill_access_claims_check_time(times, 896, 5, &why) == 0);
    json_decref(times);
    json_t *none = parse("{}");
    CHECK(rill_access_claims_check_time(none, 1, 0, &why) == 0);
    json_decref(none);
    json_t *bad = parse("{\"exp\":\"soon\"}");
    CHECK(rill_access_claims_check_time(bad, 1, 0, &why) == -1);
    json_decref(bad);
    RILL_TEST_END();
}
