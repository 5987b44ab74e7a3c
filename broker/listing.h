/*
 * listing.h - the answers of LIST (docs/PROTOCOL.md, "Lists"): the jobs,
 * workers and topics the broker knows, newest first, filtered and paged,
 * for GET /v1/jobs, /v1/workers, /v1/topics and /v1/topics/{name}?info
 * (docs/API.md, "Lists").
 *
 * Queries only: nothing here changes a job, a worker or a topic (it does
 * drop a topic's aged messages, as a FETCH would). Each item of a job list
 * is the job's status JSON (job_life.h, the one status builder), so a list
 * and GET /v1/jobs/{id} always say the same. Pages are cut by serial: every
 * job, worker and topic gets one from a counter when the broker first
 * knows it, a list goes from the highest serial down, and its "next" token
 * is the serial of the last item it holds: the next page takes the serials
 * below it. New items never shift a page (they have higher serials), items
 * that go only leave it: no duplicate, and nothing that stayed is missed.
 */
#ifndef RILL_BROKER_LISTING_H
#define RILL_BROKER_LISTING_H

#include "job_life.h"

#define RILL_LISTING_DEFAULT_LIMIT 100
#define RILL_LISTING_MAX_LIMIT 1000

/* LIST what query: what is jobs, workers, topics or topic; query the JSON
 * object of docs/PROTOCOL.md. The answer's JSON text (caller frees; at most
 * max_message_bytes less a margin: a page that would be larger ends early,
 * its next token saying where the rest starts), or NULL with error:
 * bad_request (an unknown what, a malformed query, an unknown key or a bad
 * value), not_found (topic: a topic the broker never saw). */
char *rill_listing_answer(rill_broker_t *broker, const char *what, size_t what_length, const char *query,
                          size_t query_length, rill_broker_error_t *error);

#endif
