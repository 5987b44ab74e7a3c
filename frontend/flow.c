/*
 * flow.c - a job paused at its source while all of this frontend's clients
 * of it are behind (flow.h; docs/PROTOCOL.md, "Flow").
 */
#include "flow.h"
#include "rill_log.h"

void rill_flow_update(rill_broker_link_t *broker, rill_subject_t *subject, rill_flow_behind_fn behind)
{
    if (broker == NULL || subject == NULL || subject->topic_length != 1 + RILL_JOB_ID_LENGTH ||
        subject->topic[0] != RILL_SUBJECT_JOB)
        return;
    size_t voters = 0, behind_count = 0;
    for (const rill_subscription_t *s = subject->head; s != NULL; s = s->next) {
        int where = behind(s);
        voters += where != RILL_FLOW_LEAVING;
        behind_count += where == RILL_FLOW_BEHIND;
    }
    /* Only streams that go on decide; when none does, this frontend's
     * unsubscribe is what the broker will hear (it clears the pauses). */
    int paused = voters > 0 && behind_count == voters;
    if (voters == 0 || paused == (int)subject->flow_paused)
        return;
    rill_frame_t arguments[2] = {{(const uint8_t *)subject->topic + 1, RILL_JOB_ID_LENGTH},
                                 rill_frame_from_string(paused ? "1" : "0")};
    if (rill_broker_link_tell(broker, RILL_COMMAND_FLOW, arguments, 2) != 0) {
        rill_log_debug(NULL, "cannot send FLOW for %s: it is tried again on the next change", subject->topic);
        return;
    }
    subject->flow_paused = (unsigned)paused;
    rill_log_debug(NULL, "job %s %s: %zu local stream(s) %s", subject->topic + 1,
                   paused ? "paused" : "resumed", subject->count, paused ? "all behind" : "reading");
}
