/*
 * access_claims.h - what a verified JWT lets its bearer do (docs/API.md
 * "Access"), Mercure's model: the claims name the topics one may subscribe
 * to and publish on, and the jobs one may read besides one's own.
 *
 *   {"sub":"alice","exp":...,"nbf":...,
 *    "rill":{"subscribe":["news","alerts.*"],"publish":["news"],
 *            "jobs":["<job id>",...],"admin":true}}
 *
 * A topic entry is a topic name, a wildcard (`alerts.*`, the API's syntax:
 * rill_topic_pattern.h) or "*" (every topic); a job entry a job id or "*".
 * A job belongs to the `sub` of the token it was submitted with: the
 * frontend writes it into the job's `who` (" sub=<sub>" after the client's
 * address, which never holds a space), which the broker keeps and STATUS
 * reports, so ownership needs no new field on the wire.
 *
 * Pure functions on jansson values, no h2o: unit-tested
 * (tests/unit/frontend/test_access_claims.c).
 */
#ifndef RILL_FRONTEND_ACCESS_CLAIMS_H
#define RILL_FRONTEND_ACCESS_CLAIMS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define RILL_ACCESS_SUB_MAX 192 /* bytes of a sub: address + mark + sub fit a who's 256 */
#define RILL_ACCESS_OWNER_MARK " sub="

typedef struct {
    int everything;                    /* no JWT access configured, or the operator's auth_token */
    int admin;                         /* rill.admin: the lists, any job, any topic */
    char sub[RILL_ACCESS_SUB_MAX + 1]; /* "" = the token has none */
    const json_t *subscribe;           /* arrays of strings borrowed from payload, or NULL */
    const json_t *publish;
    const json_t *jobs;
    json_t *payload;                   /* owned: the token's claims */
    int jobs_verified;                 /* job_owner_http.h found every job of the request the sub's */
} rill_access_grant_t;

/* Checks exp and nbf (NumericDate seconds; either may be absent) against
 * now_s with leeway_s. Returns 0, or -1 with why ("expired", ...). */
int rill_access_claims_check_time(const json_t *payload, int64_t now_s, uint64_t leeway_s, const char **why);
/* Fills grant from a verified token's payload (takes the reference).
 * Returns 0, or -1 with why when sub or rill has the wrong shape (the
 * payload is released then). */
int rill_access_grant_read(rill_access_grant_t *grant, json_t *payload, const char **why);
void rill_access_grant_clear(rill_access_grant_t *grant);

/* Does a list of topic entries allow name (a topic, or a wildcard such as
 * alerts.b.*, which an entry must cover whole)? NULL allows nothing. */
int rill_access_claims_topic(const json_t *entries, const char *name, size_t length);
/* Does a list of job entries name the job id? */
int rill_access_claims_job(const json_t *entries, const char *id);

int rill_access_may_subscribe(const rill_access_grant_t *grant, const char *topic, size_t length);
int rill_access_may_publish(const rill_access_grant_t *grant, const char *topic, size_t length);
/* Without asking the broker: everything, admin, or a jobs entry naming it. */
int rill_access_may_read_job_by_claim(const rill_access_grant_t *grant, const char *id);
/* Is who (a job's, from STATUS) the grant's sub's? */
int rill_access_owns(const rill_access_grant_t *grant, const char *who, size_t length);
/* The who of a job submitted by client under grant: client, then the mark
 * and the sub when the grant has one. */
void rill_access_owner_who(const rill_access_grant_t *grant, const char *client, char *who, size_t size);

#endif
