/*
 * job_life.h - every change of a job's state, and only here.
 *
 *   submit  -> queued (held for its barrier, debouncing, buffered, or in
 *              the ready queue), or joined to an identical job
 *   start   queued -> running on a worker (dispatch.c chose it)
 *   part    a running job's worker sends a part with the seq it gave it
 *   end     -> done, failed or cancelled: by its worker, a request, its
 *              deadline, or its last subscriber leaving (at once when a
 *              frontend RELEASEd it, else after its orphan grace)
 *   retry   running -> queued again (its worker died or handed it back);
 *           its retry event is published when the next attempt starts
 *   adopt   queued again (or not known, after a broker restart) -> running
 *           on the worker that reports it still runs it (HELLO)
 *
 * Each publishes its event (events.h), counts, and logs with the job's who,
 * the same way whatever path led there. The channels call these with what
 * they decoded and encode what comes back; nothing here knows a socket.
 */
#ifndef RILL_BROKER_JOB_LIFE_H
#define RILL_BROKER_JOB_LIFE_H

#include "broker.h"
#include "rill_json_check.h"
#include "rill_messages.h"

/* Why a request was refused: a code of docs/PROTOCOL.md and a message. */
typedef struct {
    const char *code;
    char message[256];
} rill_broker_error_t;

/* Fills error with code and the formatted message; returns -1, so a
 * refusal is one statement: return rill_broker_refuse(error, ...). */
__attribute__((format(printf, 3, 4))) int rill_broker_refuse(rill_broker_error_t *error, const char *code,
                                                             const char *format, ...);

/* A new job in the table, with the settings it runs under: its pipeline's
 * (when one matched), else the config's. identity (may be NULL) is
 * consumed. For SUBMIT (job_submit.c) and a recovered job. */
rill_job_t *rill_broker_insert_job(rill_broker_t *self, rill_job_spec_t *spec, const rill_pipeline_config_t *pipeline,
                                   char *identity, uint64_t now, uint64_t wall);

/* SUBMIT (job_submit.c): registers every job or none. Refused (-1, error filled, nothing
 * changed) when the request has 0 or more than max_jobs_per_request jobs,
 * or a job's kind is not declared (unknown_kind), or its id is known
 * already or given twice (conflict). Else each job is queued (held until
 * token's subscription shows, when token is not "" and not seen yet), or
 * joins an identical one (pipeline debounce or dedup); ids[i] and
 * flush_ms[i] (count entries each, the caller's) say what job i became. */
int rill_broker_submit(rill_broker_t *self, const rill_submit_job_t *jobs, size_t count, const char *token,
                       char (*ids)[RILL_ID_TEXT_SIZE], uint64_t *flush_ms, rill_broker_error_t *error);
/* rill_broker_submit with a follow subject (rill/4, followers.h; "" =
 * none): every job the request became (its own or the one it joined) is
 * followed by it, and the request is held until that subscription shows
 * at the XPUB if it has not yet (as for a barrier token). */
int rill_broker_submit_followed(rill_broker_t *self, const rill_submit_job_t *jobs, size_t count,
                                const char *token, const char *follow, char (*ids)[RILL_ID_TEXT_SIZE],
                                uint64_t *flush_ms, rill_broker_error_t *error);
/* CANCEL by a client. The job's status JSON after (caller frees), or NULL
 * with error: not_found, or conflict when it has ended. */
char *rill_broker_cancel(rill_broker_t *self, rill_frame_t id, rill_broker_error_t *error);
/* STATUS: the job's status JSON (caller frees), or NULL with not_found. */
char *rill_broker_status(rill_broker_t *self, rill_frame_t id, rill_broker_error_t *error);

/* The job named by id if it runs on worker; else NULL, counted in
 * parts_ignored (a late or stray DONE, FAIL or RETURN). */
rill_job_t *rill_broker_running_job(rill_broker_t *self, rill_worker_t *worker, rill_frame_t id,
                                    rill_command_t command);
/* PART id seq data from worker (docs/PROTOCOL.md, "Parts carry their
 * seq"). Only the job's current worker is heard: a part from any other is
 * stale (dropped, counted, and that worker told to CANCEL the job, at most
 * once per job per heartbeat). A seq the job has is a duplicate (dropped,
 * counted); the next one is published; one further on is published after
 * a gap event for the seqs between (whose own seq is seq - 1). data (size
 * bytes, a checked part) is copied into the event. */
void rill_broker_part(rill_broker_t *self, rill_worker_t *worker, rill_frame_t id, uint64_t seq, const void *data,
                      size_t size);
/* A part that must reach no one (docs/PROTOCOL.md, "Parts are checked";
 * docs/CONFIG.md, max_part_bytes): stale and duplicate parts are ignored as
 * above; else the job fails with code (bad_part: not one JSON value in
 * valid UTF-8, counted in bad_parts; part_too_large: over max_part_bytes)
 * and message, and is cancelled on its worker. */
void rill_broker_refuse_part(rill_broker_t *self, rill_worker_t *worker, rill_frame_t id, uint64_t seq,
                             const char *code, const char *message);
/* The seq the job's next attempt starts after (the BATCH entry's seq): its
 * last seq, and one more when its retry event is still to be published. */
uint64_t rill_broker_attempt_seq(const rill_job_t *job);
/* The job went to worker in batch batch_id: it runs there now (a pending
 * retry event is published first; with owe_retry, a job after the first of
 * an ordered batch, only before its first part or its end, so that it comes
 * after the events of the jobs before it: docs/CONFIG.md "Pipelines"). */
void rill_broker_start_job(rill_broker_t *self, rill_job_t *job, rill_worker_t *worker, const char *batch_id,
                           uint64_t now_wall_ms, int owe_retry);
/* A joining worker reports it runs this job (HELLO "jobs"). Returns 1 when
 * it goes on with it, with *last_seq the job's last seq here (the worker
 * re-sends its held parts after it): a job running on that worker already,
 * or queued again after that very attempt was lost (no retry event was
 * published yet: the attempt just goes on, and its loss does not count), or
 * during the recovery window a job this broker does not know (it is
 * created, running there, its last seq the one before the worker's oldest
 * held part). Returns 0 when the worker must stop it: it ended, runs
 * elsewhere, was dispatched again, or is unknown after the recovery. The
 * job is marked with the broker's hello_serial. */
int rill_broker_adopt_job(rill_broker_t *self, rill_worker_t *worker, const rill_hello_job_t *reported,
                          uint64_t *last_seq);
/* Ends a job that has not ended: state is DONE, FAILED or CANCELLED; code and
 * message are for the error event (ignored for DONE). If a worker runs it and
 * tell_worker, the worker gets CANCEL; the credit comes back either way. */
void rill_broker_end_job(rill_broker_t *self, rill_job_t *job, rill_job_state_t state,
                         const char *code, const char *message, int tell_worker);
/* Its worker is gone (reason "worker_lost") or handed it back ("worker_left"):
 * re-queue it with attempt + 1 (its retry event goes out when that attempt
 * is dispatched), or, when the loss counts, fail it with code worker_lost
 * if no retries remain. A lost job waits retry_backoff_ms before its next
 * dispatch, doubled for each loss of it, at most
 * RILL_BROKER_RETRY_BACKOFF_MAX_MS. counted: 0 for a loss that is not the
 * job's (handed back; lost while the broker heard no worker at all). */
#define RILL_BROKER_RETRY_BACKOFF_MAX_MS 10000
void rill_broker_retry_job(rill_broker_t *self, rill_job_t *job, const char *reason, int counted);
/* Detaches a job from its worker (credit back if give_credit). */
void rill_broker_unassign(rill_broker_t *self, rill_job_t *job, int give_credit);
/* Fails every job whose deadline passed by now_ms (code timeout). */
void rill_broker_end_overdue(rill_broker_t *self, uint64_t now_ms);
/* A job's listening frontends (rill_broker_listeners) went from previous to
 * count; subscribe: one came, else one left. A subscribe stops its orphan
 * grace; its last listener leaving cancels it (released) or starts the
 * grace; flow is updated (a listener leaving clears the pausers). */
void rill_broker_listeners_changed(rill_broker_t *self, rill_job_t *job, int subscribe, uint64_t previous,
                                   uint64_t count);

/* FLOW id 0|1 from the frontend with this routing id: all its clients of
 * the job are behind (1) or not any more (0). The job is paused while
 * every listening frontend (its interest count) paused it, and its worker
 * is sent PAUSE on each change, and again when the job starts on another
 * worker or is adopted. A listener leaving clears the pausers (the XPUB
 * does not say which frontend left): frontends still behind re-assert.
 * Unknown or ended jobs: nothing. (docs/PROTOCOL.md, "Flow") */
void rill_broker_flow(rill_broker_t *self, const rill_frame_t *routing, rill_frame_t id, int paused);
/* RELEASE: the last client of the job left a live frontend. During the
 * job's orphan grace it is cancelled at once; else it is marked, and the
 * loss of its last subscriber cancels it at once. Unknown, detached or
 * ended jobs: nothing. */
void rill_broker_release(rill_broker_t *self, rill_frame_t id);
/* A job nobody may listen to any more (its last subscriber left, or a
 * restarted broker adopted it from a worker): when no frontend subscribes
 * to it now, its orphan grace (orphan_grace_ms) starts; it is cancelled
 * with "no subscriber left" when the grace passes with nobody subscribed. */
void rill_broker_watch_orphan(rill_broker_t *self, rill_job_t *job, uint64_t now_ms);
/* Cancels every job whose orphan grace passed by now_ms with nobody
 * subscribed (tick.c). */
void rill_broker_end_orphans(rill_broker_t *self, uint64_t now_ms);

#endif
