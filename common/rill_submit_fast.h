/*
 * rill_submit_fast.h - the SUBMIT frame written, and read without a JSON
 * parser when it is in the exact layout rill_submit_encode writes (what
 * every rill frontend sends); SUBMITTED read likewise. One SUBMIT job is
 *
 *   {"id":"<32 hex>","kind":"k","source":"s"|null,"args":{...},"key":"k"|null,
 *    "who":"w"|null,"detach":true|false}
 *
 * in an array, no whitespace, strings of printable ASCII without escapes.
 * A SUBMIT comes with every request, and jansson's parse of it was the
 * broker's largest cost per job; here nothing is parsed: the args object
 * is kept as the text it is when that is what jansson's compact dump of it
 * would be (rill_json_compact.h), and sent on as it is. Anything else
 * (another key order, whitespace, an escape, non-ASCII text, args jansson
 * would write otherwise, a limit passed, an id given twice) is left to the
 * full decoder (rill_messages.c), which decides and names what is wrong:
 * so the two accept the same frames and give the same values.
 */
#ifndef RILL_SUBMIT_FAST_H
#define RILL_SUBMIT_FAST_H

#include "rill_submit.h"

#include <stddef.h>

/* Written straight into a buffer (the caller frees the text), the bytes a
 * jansson tree's compact dump gave: strings escaped as jansson does, each
 * job's args (compact text, rill_submit.h) copied as they are. */
char *rill_submit_encode(const rill_submit_job_t *jobs, size_t count);

/* 1 with submit filled (release it as any decoded SUBMIT: rill_submit_release),
 * or 0 when the frame is not in that layout (submit left empty). */
int rill_submit_decode_fast(const void *bytes, size_t length, rill_submit_t *submit);

/* SUBMITTED in the layout rill_submitted_encode writes,
 * {"jobs":["<32 hex>",...],"flush_ms":[N,...]} with as many counts as ids:
 * 1 with submitted filled (rill_submitted_release), or 0 (submitted left
 * empty) for the full decoder to read. */
int rill_submitted_decode_fast(const void *bytes, size_t length, rill_submitted_t *submitted);

#endif
