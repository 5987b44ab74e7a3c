/*
 * rill_names.h - the names the wire carries, and their checks: a job id, a
 * topic's name and epoch, a publish key (docs/PROTOCOL.md, "Framing",
 * "Publish keys"). Pure functions over bytes; rill_protocol.h includes this
 * header, so every user of the codec has them.
 */
#ifndef RILL_NAMES_H
#define RILL_NAMES_H

#include <stddef.h>
#include <stdint.h>

#define RILL_JOB_ID_LENGTH 32 /* hex digits: 128 random bits */
#define RILL_TOPIC_NAME_MAX 128
/* A topic's epoch (rill/6): 8 lower-case hex digits drawn when the broker
 * makes the topic's record, so a cursor's seq is never read against another
 * numbering of the same name (a deleted, evicted or restarted topic). */
#define RILL_TOPIC_EPOCH_LENGTH 8
/* rill/10: a PUBLISH's key (docs/PROTOCOL.md "Publish keys"): a client's,
 * [A-Za-z0-9._:-]{1,128}, or one a frontend drew, the same after a '~'. */
#define RILL_PUBLISH_KEY_MAX 128
#define RILL_PUBLISH_KEY_DRAWN '~' /* a drawn key starts with it; a client's never does */

/* 32 lower-case hex digits. */
int rill_job_id_is_valid(const uint8_t *id, size_t length);
/* [A-Za-z0-9._-]{1,128}. */
int rill_topic_name_is_valid(const char *name, size_t length);
/* Exactly RILL_TOPIC_EPOCH_LENGTH lower-case hex digits. */
int rill_topic_epoch_is_valid(const char *epoch, size_t length);
/* A client's key; with drawn_allowed, a drawn one too (an Idempotency-Key
 * header takes only a client's). */
int rill_publish_key_is_valid(const char *key, size_t length, int drawn_allowed);

#endif
