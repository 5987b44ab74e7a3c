/*
 * access_claims.c - see access_claims.h.
 */
#include "access_claims.h"

#include "rill_topic_pattern.h"

#include <stdio.h>
#include <string.h>

int rill_access_claims_check_time(const json_t *payload, int64_t now_s, uint64_t leeway_s, const char **why)
{
    const json_t *exp = json_object_get(payload, "exp");
    const json_t *nbf = json_object_get(payload, "nbf");
    if ((exp != NULL && !json_is_number(exp)) || (nbf != NULL && !json_is_number(nbf))) {
        *why = "exp and nbf must be numbers (seconds since the epoch)";
        return -1;
    }
    double now = (double)now_s, leeway = (double)leeway_s;
    if (exp != NULL && now >= json_number_value(exp) + leeway) {
        *why = "the token has expired (exp)";
        return -1;
    }
    if (nbf != NULL && now + leeway < json_number_value(nbf)) {
        *why = "the token is not valid yet (nbf)";
        return -1;
    }
    return 0;
}

static int is_string_array(const json_t *value)
{
    if (!json_is_array(value))
        return 0;
    for (size_t i = 0; i < json_array_size(value); i++) {
        if (!json_is_string(json_array_get(value, i)))
            return 0;
    }
    return 1;
}

int rill_access_grant_read(rill_access_grant_t *grant, json_t *payload, const char **why)
{
    memset(grant, 0, sizeof(*grant));
    const json_t *sub = json_object_get(payload, "sub");
    const json_t *rill = json_object_get(payload, "rill");
    *why = NULL;
    if (!json_is_object(payload))
        *why = "the claims are not a JSON object";
    else if (sub != NULL && (!json_is_string(sub) || json_string_length(sub) == 0 ||
                             json_string_length(sub) > RILL_ACCESS_SUB_MAX ||
                             strlen(json_string_value(sub)) != json_string_length(sub)))
        *why = "sub must be a string of 1 to 192 bytes";
    else if (rill != NULL && !json_is_object(rill))
        *why = "the rill claim must be an object";
    if (*why == NULL && rill != NULL) {
        const char *field;
        json_t *value;
        json_object_foreach((json_t *)rill, field, value)
        {
            if (strcmp(field, "admin") == 0 ? !json_is_boolean(value)
                : strcmp(field, "subscribe") == 0 || strcmp(field, "publish") == 0 || strcmp(field, "jobs") == 0
                    ? !is_string_array(value)
                    : 1) {
                *why = "rill holds subscribe, publish and jobs (arrays of strings) and admin (a boolean)";
                break;
            }
        }
    }
    if (*why != NULL) {
        json_decref(payload);
        return -1;
    }
    if (sub != NULL)
        memcpy(grant->sub, json_string_value(sub), json_string_length(sub) + 1);
    grant->subscribe = json_object_get(rill, "subscribe");
    grant->publish = json_object_get(rill, "publish");
    grant->jobs = json_object_get(rill, "jobs");
    grant->admin = json_is_true(json_object_get(rill, "admin"));
    grant->payload = payload;
    return 0;
}

void rill_access_grant_clear(rill_access_grant_t *grant)
{
    json_decref(grant->payload);
    memset(grant, 0, sizeof(*grant));
}

/* Does entry (length bytes) allow name: equal, "*", or a wildcard whose
 * prefix starts the topic name, or the requested wildcard's prefix? */
static int entry_allows(const char *entry, size_t entry_length, const char *name, size_t length)
{
    if (entry_length == 1 && entry[0] == '*')
        return 1;
    if (entry_length == length && memcmp(entry, name, length) == 0)
        return 1;
    if (!rill_topic_pattern_is_valid(entry, entry_length))
        return 0;
    size_t prefix_length = entry_length - 1; /* "alerts." */
    if (rill_topic_pattern_is_valid(name, length)) /* alerts.b.* within alerts.* */
        return length - 1 >= prefix_length && memcmp(name, entry, prefix_length) == 0;
    return rill_topic_pattern_matches(entry, prefix_length, name, length);
}

int rill_access_claims_topic(const json_t *entries, const char *name, size_t length)
{
    for (size_t i = 0; i < json_array_size(entries); i++) {
        const json_t *entry = json_array_get(entries, i);
        if (json_is_string(entry) && entry_allows(json_string_value(entry), json_string_length(entry), name, length))
            return 1;
    }
    return 0;
}

int rill_access_claims_job(const json_t *entries, const char *id)
{
    for (size_t i = 0; i < json_array_size(entries); i++) {
        const char *entry = json_string_value(json_array_get(entries, i));
        if (entry != NULL && (strcmp(entry, "*") == 0 || strcmp(entry, id) == 0))
            return 1;
    }
    return 0;
}

int rill_access_may_subscribe(const rill_access_grant_t *grant, const char *topic, size_t length)
{
    return grant->everything || grant->admin || rill_access_claims_topic(grant->subscribe, topic, length);
}

int rill_access_may_publish(const rill_access_grant_t *grant, const char *topic, size_t length)
{
    return grant->everything || grant->admin || rill_access_claims_topic(grant->publish, topic, length);
}

int rill_access_may_read_job_by_claim(const rill_access_grant_t *grant, const char *id)
{
    return grant->everything || grant->admin || rill_access_claims_job(grant->jobs, id);
}

int rill_access_owns(const rill_access_grant_t *grant, const char *who, size_t length)
{
    static const char mark[] = RILL_ACCESS_OWNER_MARK;
    size_t mark_length = sizeof(mark) - 1, sub_length = strlen(grant->sub);
    if (sub_length == 0 || who == NULL)
        return 0;
    /* The client's address holds no space: the first mark ends it. */
    for (size_t i = 0; i + mark_length <= length; i++) {
        if (memcmp(who + i, mark, mark_length) == 0)
            return length - i - mark_length == sub_length &&
                   memcmp(who + i + mark_length, grant->sub, sub_length) == 0;
    }
    return 0;
}

void rill_access_owner_who(const rill_access_grant_t *grant, const char *client, char *who, size_t size)
{
    if (grant == NULL || grant->sub[0] == '\0')
        snprintf(who, size, "%s", client);
    else
        snprintf(who, size, "%s" RILL_ACCESS_OWNER_MARK "%s", client, grant->sub);
}
