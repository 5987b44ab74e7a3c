/*
 * rill_submit_fast.c - the SUBMIT layout: rill_submit_encode writes it, and
 * it is read back without a JSON parser; SUBMITTED read likewise. See
 * rill_submit_fast.h.
 */
#include "rill_submit_fast.h"
#include "rill_alloc.h"
#include "rill_json_compact.h"
#include "rill_json_cursor.h"
#include "rill_protocol.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- SUBMIT, written ---------------------------------------------------- */

static void append(rill_buffer_t *out, const char *text)
{
    (void)rill_buffer_append(out, text, strlen(text));
}

/* A JSON string as jansson writes it, or null for NULL. */
static void append_jansson_text(rill_buffer_t *out, const char *text)
{
    if (text == NULL)
        append(out, "null");
    else
        (void)rill_json_compact_string(out, text, strlen(text));
}

char *rill_submit_encode(const rill_submit_job_t *jobs, size_t count)
{
    rill_buffer_t out;
    rill_buffer_init(&out);
    append(&out, "[");
    for (size_t i = 0; i < count; i++) {
        const rill_submit_job_t *job = &jobs[i];
        append(&out, i > 0 ? ",{\"id\":" : "{\"id\":");
        append_jansson_text(&out, job->id);
        append(&out, ",\"kind\":");
        append_jansson_text(&out, job->kind);
        append(&out, ",\"source\":");
        append_jansson_text(&out, job->source);
        append(&out, ",\"args\":");
        if (job->args != NULL)
            (void)rill_buffer_append(&out, job->args, job->args_length);
        else
            append(&out, "{}");
        append(&out, ",\"key\":");
        append_jansson_text(&out, job->key);
        append(&out, ",\"who\":");
        append_jansson_text(&out, job->who);
        append(&out, job->detach ? ",\"detach\":true}" : ",\"detach\":false}");
    }
    append(&out, "]");
    if (out.failed || rill_buffer_append(&out, "", 1) != 0) {
        fprintf(stderr, "rill: out of memory encoding a message\n");
        abort();
    }
    return out.data;
}

/* ---- SUBMIT, read ---------------------------------------------------------- */



/* null, or a plain string of at most RILL_MESSAGE_TEXT_MAX bytes. */
static int optional(rill_json_cursor_t *c, const char **value)
{
    size_t length;
    if (RILL_JSON_CURSOR_EXPECT(c, "null") == 0) {
        *value = NULL;
        return 0;
    }
    return rill_json_cursor_plain(c, value, &length) == 0 && length <= RILL_MESSAGE_TEXT_MAX ? 0 : -1;
}


/* One job of the layout into out; its args point into the frame's copy. */
static int read_job(rill_json_cursor_t *c, rill_submit_job_t *out)
{
    const char *id, *args_start;
    size_t id_length, kind_length, args_length;
    if (RILL_JSON_CURSOR_EXPECT(c, "{\"id\":") != 0 || rill_json_cursor_plain(c, &id, &id_length) != 0 ||
        !rill_job_id_is_valid((const uint8_t *)id, id_length) || RILL_JSON_CURSOR_EXPECT(c, ",\"kind\":") != 0 ||
        rill_json_cursor_plain(c, &out->kind, &kind_length) != 0 || kind_length == 0 ||
        kind_length >= RILL_CONFIG_KIND_NAME_MAX || RILL_JSON_CURSOR_EXPECT(c, ",\"source\":") != 0 ||
        optional(c, &out->source) != 0 || RILL_JSON_CURSOR_EXPECT(c, ",\"args\":") != 0 ||
        rill_json_cursor_object(c, &args_start, &args_length) != 0 ||
        RILL_JSON_CURSOR_EXPECT(c, ",\"key\":") != 0 || optional(c, &out->key) != 0 ||
        RILL_JSON_CURSOR_EXPECT(c, ",\"who\":") != 0 || optional(c, &out->who) != 0 ||
        RILL_JSON_CURSOR_EXPECT(c, ",\"detach\":") != 0)
        return -1;
    if (RILL_JSON_CURSOR_EXPECT(c, "true") == 0)
        out->detach = 1;
    else if (RILL_JSON_CURSOR_EXPECT(c, "false") != 0)
        return -1;
    if (RILL_JSON_CURSOR_EXPECT(c, "}") != 0)
        return -1;
    /* Sent on as they are (BATCH): so they must be what the full decoder
     * would make of them, jansson's compact dump (rill_json_compact.h). "{}"
     * is the common case. */
    if (!(args_length == 2 && args_start[1] == '}') && !rill_json_compact_is_exact(args_start, args_length))
        return -1;
    out->args = args_start;
    out->args_length = args_length;
    memcpy(out->id, id, RILL_JOB_ID_LENGTH);
    out->id[RILL_JOB_ID_LENGTH] = '\0';
    return 0;
}

static int seen_before(const rill_submit_job_t *jobs, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (memcmp(jobs[i].id, jobs[count].id, RILL_JOB_ID_LENGTH) == 0)
            return 1;
    return 0;
}

/* Past this many jobs the duplicate check would be quadratic: the full
 * decoder (a hash) takes them. */
#define FAST_JOBS_MAX 64

int rill_submit_decode_fast(const void *bytes, size_t length, rill_submit_t *submit)
{
    memset(submit, 0, sizeof(*submit));
    if (length < 2 || ((const char *)bytes)[0] != '[' || ((const char *)bytes)[1] != '{')
        return 0;
    char *text = rill_xmalloc(length);
    memcpy(text, bytes, length);
    rill_json_cursor_t c = {text + 1, text + length};
    size_t capacity = 4;
    rill_submit_job_t *jobs = rill_xmalloc(capacity * sizeof(*jobs));
    size_t count = 0;
    int ok = 1;
    while (ok) {
        if (count == capacity) {
            capacity *= 2;
            jobs = rill_xrealloc(jobs, capacity * sizeof(*jobs));
        }
        memset(&jobs[count], 0, sizeof(*jobs));
        ok = count < FAST_JOBS_MAX && read_job(&c, &jobs[count]) == 0 && !seen_before(jobs, count);
        if (!ok)
            break;
        count++;
        if (RILL_JSON_CURSOR_EXPECT(&c, "]") == 0)
            break;
        ok = RILL_JSON_CURSOR_EXPECT(&c, ",") == 0;
    }
    if (!ok || c.at != c.end) {
        free(jobs);
        free(text);
        return 0;
    }
    submit->jobs = jobs;
    submit->count = count;
    submit->text = text;
    return 1;
}

/* ---- SUBMITTED ----------------------------------------------------------- */


/* Counts the ids of the "jobs" array at the cursor (its '[' passed),
 * checking the layout: the array's end is where the cursor stops. */
static long count_ids(const char *at, const char *end)
{
    long count = 0;
    if (at < end && *at == ']')
        return 0;
    for (;;) {
        if (end - at < RILL_JOB_ID_LENGTH + 3 || at[0] != '"' || at[RILL_JOB_ID_LENGTH + 1] != '"' ||
            !rill_job_id_is_valid((const uint8_t *)at + 1, RILL_JOB_ID_LENGTH))
            return -1;
        at += RILL_JOB_ID_LENGTH + 2;
        count++;
        if (*at == ']')
            return count;
        if (*at++ != ',')
            return -1;
    }
}

int rill_submitted_decode_fast(const void *bytes, size_t length, rill_submitted_t *submitted)
{
    memset(submitted, 0, sizeof(*submitted));
    /* Only read here: the cursor's text is not written. */
    rill_json_cursor_t c = {(char *)bytes, (char *)bytes + length};
    if (RILL_JSON_CURSOR_EXPECT(&c, "{\"jobs\":[") != 0)
        return 0;
    long count = count_ids(c.at, c.end);
    if (count < 0)
        return 0;
    char(*ids)[RILL_ID_TEXT_SIZE] = rill_xcalloc(count > 0 ? (size_t)count : 1, RILL_ID_TEXT_SIZE);
    uint64_t *flush_ms = rill_xcalloc(count > 0 ? (size_t)count : 1, sizeof(*flush_ms));
    for (long i = 0; i < count; i++) {
        memcpy(ids[i], c.at + 1, RILL_JOB_ID_LENGTH);
        ids[i][RILL_JOB_ID_LENGTH] = '\0';
        c.at += RILL_JOB_ID_LENGTH + 3; /* the quotes, and the ',' or ']' */
    }
    if (count == 0)
        c.at++; /* the ']' */
    int ok = RILL_JSON_CURSOR_EXPECT(&c, ",\"flush_ms\":[") == 0;
    for (long i = 0; ok && i < count; i++)
        ok = (i == 0 || RILL_JSON_CURSOR_EXPECT(&c, ",") == 0) && rill_json_cursor_count(&c, &flush_ms[i]) == 0;
    if (!ok || RILL_JSON_CURSOR_EXPECT(&c, "]}") != 0 || c.at != c.end) {
        free(ids);
        free(flush_ms);
        return 0;
    }
    submitted->ids = ids;
    submitted->flush_ms = flush_ms;
    submitted->count = (size_t)count;
    return 1;
}
