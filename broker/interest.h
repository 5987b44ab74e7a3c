/*
 * interest.h - who listens to what, from the XPUB's subscribe/unsubscribe
 * messages.
 *
 * Each frontend's SUB socket subscribes a subject once however many of its
 * clients want it (docs/PROTOCOL.md), so the count of a subject is the number
 * of frontends listening. Only well-formed subjects are counted: "j"+job id,
 * "t"+name+"/", "s"+barrier token, (rill/3) "t"+a wildcard pattern's
 * prefix, which ends with '.' where a topic's subject ends with '/', and
 * (rill/4) "d"+a frontend's follow token+"/";
 * anything else is reported as ignored.
 * A subject's entry disappears when its count reaches 0, so the table only
 * holds what someone listens to.
 */
#ifndef RILL_BROKER_INTEREST_H
#define RILL_BROKER_INTEREST_H

#include <stddef.h>
#include <stdint.h>

#define RILL_BARRIER_TOKEN_MAX 128

typedef struct rill_interest rill_interest_t;

typedef enum {
    RILL_INTEREST_IGNORED = 0, /* not a rill subject, or not a subscription message */
    RILL_INTEREST_JOB,
    RILL_INTEREST_TOPIC,
    RILL_INTEREST_BARRIER,
    RILL_INTEREST_PATTERN, /* rill/3: "t" + a wildcard's prefix ("talerts."), see rill_topic_pattern.h */
    RILL_INTEREST_FOLLOW,  /* rill/4: "d" + a frontend's follow token + "/" (followers.h) */
} rill_interest_kind_t;

typedef struct {
    rill_interest_kind_t kind;
    int subscribe;      /* 1 subscribe, 0 unsubscribe */
    uint64_t previous;  /* count before */
    uint64_t count;     /* count after */
    char subject[RILL_BARRIER_TOKEN_MAX + 3]; /* the topic, NUL-terminated */
} rill_interest_change_t;

rill_interest_t *rill_interest_new(void);
void rill_interest_destroy(rill_interest_t **self_p);
/* Applies one XPUB message (first byte 1 = subscribe, 0 = unsubscribe, then
 * the topic) and fills change (kind IGNORED for what is not counted). A
 * count never goes below 0. */
void rill_interest_apply(rill_interest_t *self, const uint8_t *message, size_t size,
                         rill_interest_change_t *change);
/* Subscribers of a topic ("j"+id, "t"+name+"/", "s"+token). */
uint64_t rill_interest_count(rill_interest_t *self, const char *topic);
size_t rill_interest_size(rill_interest_t *self);
/* Frontends listening to a topic (name, length bytes) through wildcard
 * patterns: the sum over the patterns that match it ("talerts." for
 * "alerts.cpu"). */
uint64_t rill_interest_pattern_count(rill_interest_t *self, const char *name, size_t length);
/* Is text a usable barrier token (printable ASCII, 1..128 bytes)? */
int rill_barrier_token_is_valid(const uint8_t *token, size_t size);

#endif
