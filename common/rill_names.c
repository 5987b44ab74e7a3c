/*
 * rill_names.c - the shapes of the names the wire carries: job ids, topic
 * names, topic epochs, publish keys (see rill_names.h). Every process
 * checks a name here before it uses it, so bad bytes from a peer or a
 * client never reach a table or a subject.
 */
#include "rill_names.h"

#include <string.h>

/* A job id is checked on every PARTS entry: 32 bytes, 16 at a time with
 * GCC's vector extensions (SSE2 instructions on x86-64), where a table
 * lookup a byte cost ~240 instructions an id. A byte is a digit when it is
 * in '0'..'9' or 'a'..'f'; the compares give all-ones lanes for true. */
typedef unsigned char id_lanes_t __attribute__((vector_size(16)));

static int sixteen_hex_digits(const uint8_t *at)
{
    id_lanes_t bytes;
    memcpy(&bytes, at, sizeof(bytes));
    id_lanes_t digit = (bytes >= '0') & (bytes <= '9');
    id_lanes_t letter = (bytes >= 'a') & (bytes <= 'f');
    id_lanes_t valid = digit | letter;
    uint64_t halves[2];
    memcpy(halves, &valid, sizeof(halves));
    return (halves[0] & halves[1]) == UINT64_MAX;
}

int rill_job_id_is_valid(const uint8_t *id, size_t length)
{
    _Static_assert(RILL_JOB_ID_LENGTH == 32, "a job id is two lanes of 16");
    return length == RILL_JOB_ID_LENGTH && sixteen_hex_digits(id) && sixteen_hex_digits(id + 16);
}

/* 1 to most bytes of [A-Za-z0-9._-], and ':' when colon is set. */
static int word_is_valid(const char *text, size_t length, size_t most, int colon)
{
    if (length < 1 || length > most)
        return 0;
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                 c == '_' || c == '-' || (colon && c == ':');
        if (!ok)
            return 0;
    }
    return 1;
}

int rill_topic_name_is_valid(const char *name, size_t length)
{
    return word_is_valid(name, length, RILL_TOPIC_NAME_MAX, 0);
}

int rill_publish_key_is_valid(const char *key, size_t length, int drawn_allowed)
{
    if (drawn_allowed && length > 0 && key[0] == RILL_PUBLISH_KEY_DRAWN) {
        key++;
        length--;
    }
    return word_is_valid(key, length, RILL_PUBLISH_KEY_MAX, 1);
}

int rill_topic_epoch_is_valid(const char *epoch, size_t length)
{
    if (length != RILL_TOPIC_EPOCH_LENGTH)
        return 0;
    for (size_t i = 0; i < length; i++) {
        char c = epoch[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

