/*
 * rill_batch_fast.c - the BATCH layout rill_batch_encode writes, read
 * without a JSON parser, and the full decoder for every other frame. See
 * rill_batch_fast.h.
 */
#include "rill_batch_fast.h"

#include "rill_alloc.h"
#include "rill_json_check.h"
#include "rill_json_cursor.h"
#include "rill_protocol.h"

#include <stdlib.h>
#include <string.h>




/* The bytes of the args object at the cursor, when jansson would read them
 * as rill_json_check does (rill_batch_fast.h says what that excludes). */
static int args_extent(rill_json_cursor_t *c, const char **start, size_t *length)
{
    if (c->at >= c->end || *c->at != '{')
        return -1;
    char *first = c->at;
    int depth = 0, in_string = 0;
    size_t digits = 0;
    for (; c->at < c->end; c->at++) {
        unsigned char ch = (unsigned char)*c->at;
        if (ch == '\\' || ch > 0x7e)
            return -1;
        if (in_string) {
            in_string = ch != '"';
            continue;
        }
        if (ch >= '0' && ch <= '9') {
            if (++digits > 18)
                return -1;
            continue;
        }
        if ((ch == 'e' || ch == 'E') && digits > 0)
            return -1; /* an exponent: the real may overflow */
        digits = 0;
        if (ch == '"') {
            in_string = 1;
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if ((ch == '}' || ch == ']') && --depth == 0) {
            c->at++;
            *start = first;
            *length = (size_t)(c->at - first);
            return rill_json_check(first, *length, NULL);
        }
    }
    return -1;
}

/* One entry of the layout into job: valid, or -1 (the full decoder takes
 * the frame, and decides about an entry that is not valid). */
static int read_job(rill_json_cursor_t *c, rill_batch_entry_t *job)
{
    size_t id_length;
    memset(job, 0, sizeof(*job));
    if (RILL_JSON_CURSOR_EXPECT(c, "{\"id\":") != 0 || rill_json_cursor_plain(c, &job->id, &id_length) != 0 ||
        !rill_job_id_is_valid((const uint8_t *)job->id, id_length) ||
        RILL_JSON_CURSOR_EXPECT(c, ",\"kind\":") != 0 || rill_json_cursor_plain(c, &job->kind, NULL) != 0 ||
        RILL_JSON_CURSOR_EXPECT(c, ",\"source\":") != 0 || rill_json_cursor_plain(c, &job->source, NULL) != 0 ||
        RILL_JSON_CURSOR_EXPECT(c, ",\"args\":") != 0 || args_extent(c, &job->args_text, &job->args_length) != 0 ||
        RILL_JSON_CURSOR_EXPECT(c, ",\"attempt\":") != 0 || rill_json_cursor_count(c, &job->attempt) != 0 ||
        RILL_JSON_CURSOR_EXPECT(c, ",\"who\":") != 0 || rill_json_cursor_plain(c, &job->who, NULL) != 0 ||
        RILL_JSON_CURSOR_EXPECT(c, ",\"seq\":") != 0 || rill_json_cursor_count(c, &job->seq) != 0 ||
        RILL_JSON_CURSOR_EXPECT(c, "}") != 0)
        return -1;
    job->valid = 1;
    return 0;
}

/* 1 with batch filled, or 0 when the frame is not in the layout (batch
 * left empty). */
static int read_fast(const void *bytes, size_t length, rill_batch_read_t *batch)
{
    static const char head[] = "{\"batch\":\"";
    if (length < sizeof(head) - 1 || memcmp(bytes, head, sizeof(head) - 1) != 0)
        return 0;
    char *text = rill_xmalloc(length);
    memcpy(text, bytes, length);
    rill_json_cursor_t c = {text + sizeof(head) - 2, text + length};
    size_t capacity = 0, used = 0;
    rill_batch_entry_t *jobs = NULL;
    int ok = rill_json_cursor_plain(&c, &batch->batch_id, NULL) == 0 &&
        RILL_JSON_CURSOR_EXPECT(&c, ",\"jobs\":[") == 0;
    if (ok && RILL_JSON_CURSOR_EXPECT(&c, "]") != 0) {
        for (;;) {
            if (used == capacity) {
                capacity = capacity > 0 ? 2 * capacity : 4;
                jobs = rill_xrealloc(jobs, capacity * sizeof(*jobs));
            }
            if (read_job(&c, &jobs[used]) != 0) {
                ok = 0;
                break;
            }
            used++;
            if (RILL_JSON_CURSOR_EXPECT(&c, "]") == 0)
                break;
            if (RILL_JSON_CURSOR_EXPECT(&c, ",") != 0) {
                ok = 0;
                break;
            }
        }
    }
    if (ok && RILL_JSON_CURSOR_EXPECT(&c, ",\"ordered\":true") == 0)
        batch->ordered = 1;
    if (!ok || RILL_JSON_CURSOR_EXPECT(&c, "}") != 0 || c.at != c.end) {
        free(jobs);
        free(text);
        memset(batch, 0, sizeof(*batch));
        return 0;
    }
    batch->jobs = jobs;
    batch->count = used;
    batch->text = text;
    batch->fast = 1;
    return 1;
}

int rill_batch_read(const void *bytes, size_t length, rill_batch_read_t *batch, char *error, size_t error_size)
{
    memset(batch, 0, sizeof(*batch));
    if (read_fast(bytes, length, batch))
        return 0;
    if (rill_batch_decode(bytes, length, &batch->decoded, error, error_size) != 0)
        return -1;
    const rill_batch_t *decoded = &batch->decoded;
    batch->batch_id = decoded->batch_id;
    batch->ordered = decoded->ordered;
    batch->count = decoded->count;
    batch->jobs = rill_xcalloc(decoded->count > 0 ? decoded->count : 1, sizeof(*batch->jobs));
    for (size_t i = 0; i < decoded->count; i++) {
        const rill_batch_job_t *from = &decoded->jobs[i];
        batch->jobs[i] = (rill_batch_entry_t){.id = from->id, .kind = from->kind, .source = from->source,
                                              .who = from->who, .args = from->args, .attempt = from->attempt,
                                              .seq = from->seq, .valid = from->valid};
    }
    return 0;
}

void rill_batch_read_release(rill_batch_read_t *batch)
{
    free(batch->jobs);
    free(batch->text);
    rill_batch_release(&batch->decoded);
    memset(batch, 0, sizeof(*batch));
}
