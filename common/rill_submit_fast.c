/*
 * rill_submit_fast.c - the SUBMIT layout rill_submit_encode writes, read
 * without a JSON parser. See rill_submit_fast.h.
 */
#include "rill_submit_fast.h"
#include "rill_alloc.h"
#include "rill_protocol.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *at; /* in a writable copy of the frame: strings are ended in place */
    char *end;
} cursor_t;

static int expect(cursor_t *c, const char *text, size_t length)
{
    if ((size_t)(c->end - c->at) < length || memcmp(c->at, text, length) != 0)
        return -1;
    c->at += length;
    return 0;
}
#define EXPECT(c, literal) expect((c), (literal), sizeof(literal) - 1)

/* A string of printable ASCII without escapes, NUL-terminated in place
 * (over its closing quote). */
static int plain(cursor_t *c, const char **value, size_t *length)
{
    if (c->at >= c->end || *c->at != '"')
        return -1;
    char *start = ++c->at;
    while (c->at < c->end && *c->at != '"') {
        unsigned char ch = (unsigned char)*c->at;
        if (ch < 0x20 || ch > 0x7e || ch == '\\')
            return -1;
        c->at++;
    }
    if (c->at >= c->end)
        return -1;
    *c->at++ = '\0';
    *value = start;
    *length = (size_t)(c->at - 1 - start);
    return 0;
}

/* null, or a plain string of at most RILL_MESSAGE_TEXT_MAX bytes. */
static int optional(cursor_t *c, const char **value)
{
    size_t length;
    if (EXPECT(c, "null") == 0) {
        *value = NULL;
        return 0;
    }
    return plain(c, value, &length) == 0 && length <= RILL_MESSAGE_TEXT_MAX ? 0 : -1;
}

/* The bytes of the object at the cursor: brackets counted outside strings
 * (jansson checks the rest). */
static int object_extent(cursor_t *c, const char **start, size_t *length)
{
    if (c->at >= c->end || *c->at != '{')
        return -1;
    const char *first = c->at;
    int depth = 0, in_string = 0;
    for (; c->at < c->end; c->at++) {
        char ch = *c->at;
        if (in_string) {
            if (ch == '\\')
                c->at++;
            else if (ch == '"')
                in_string = 0;
        } else if (ch == '"') {
            in_string = 1;
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if ((ch == '}' || ch == ']') && --depth == 0) {
            c->at++;
            *start = first;
            *length = (size_t)(c->at - first);
            return 0;
        }
    }
    return -1;
}

static json_t *args_object(const char *start, size_t length)
{
    if (length == 2 && start[1] == '}')
        return json_object(); /* "{}": no parse */
    json_t *args = json_loadb(start, length, JSON_REJECT_DUPLICATES, NULL);
    if (args != NULL && !json_is_object(args)) {
        json_decref(args);
        return NULL;
    }
    return args;
}

/* One job of the layout into out; its args joins root. */
static int read_job(cursor_t *c, rill_submit_job_t *out, json_t *root)
{
    const char *id, *args_start;
    size_t id_length, kind_length, args_length;
    if (EXPECT(c, "{\"id\":") != 0 || plain(c, &id, &id_length) != 0 ||
        !rill_job_id_is_valid((const uint8_t *)id, id_length) || EXPECT(c, ",\"kind\":") != 0 ||
        plain(c, &out->kind, &kind_length) != 0 || kind_length == 0 || kind_length >= RILL_CONFIG_KIND_NAME_MAX ||
        EXPECT(c, ",\"source\":") != 0 || optional(c, &out->source) != 0 || EXPECT(c, ",\"args\":") != 0 ||
        object_extent(c, &args_start, &args_length) != 0 || EXPECT(c, ",\"key\":") != 0 ||
        optional(c, &out->key) != 0 || EXPECT(c, ",\"who\":") != 0 || optional(c, &out->who) != 0 ||
        EXPECT(c, ",\"detach\":") != 0)
        return -1;
    if (EXPECT(c, "true") == 0)
        out->detach = 1;
    else if (EXPECT(c, "false") != 0)
        return -1;
    if (EXPECT(c, "}") != 0)
        return -1;
    json_t *args = args_object(args_start, args_length);
    if (args == NULL)
        return -1;
    json_array_append_new(root, args);
    out->args = args;
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
    cursor_t c = {text + 1, text + length};
    size_t capacity = 4;
    rill_submit_job_t *jobs = rill_xmalloc(capacity * sizeof(*jobs));
    json_t *root = json_array();
    size_t count = 0;
    int ok = root != NULL;
    while (ok) {
        if (count == capacity) {
            capacity *= 2;
            jobs = rill_xrealloc(jobs, capacity * sizeof(*jobs));
        }
        memset(&jobs[count], 0, sizeof(*jobs));
        ok = count < FAST_JOBS_MAX && read_job(&c, &jobs[count], root) == 0 && !seen_before(jobs, count);
        if (!ok)
            break;
        count++;
        if (EXPECT(&c, "]") == 0)
            break;
        ok = EXPECT(&c, ",") == 0;
    }
    if (!ok || c.at != c.end) {
        json_decref(root);
        free(jobs);
        free(text);
        return 0;
    }
    submit->root = root;
    submit->jobs = jobs;
    submit->count = count;
    submit->text = text;
    return 1;
}
