/*
 * listeners.c - who listens to a job, and what a change of it does: the
 * XPUB's subscribe and unsubscribe messages (a job's subject, a barrier
 * token, a topic, and, rill/4, a frontend's follow subject), SUBMIT's follow
 * subject and UNFOLLOW (docs/PROTOCOL.md, "Interest" and "Direct
 * delivery"). Each change of a job's listeners ends in
 * rill_broker_listeners_changed (job_life.c: orphan grace, release, flow).
 * followers.c keeps the lists of followers; interest.c the XPUB's counts.
 */
#include "listeners.h"
#include "job_life.h"
#include "events.h"
#include "held.h"
#include "rill_clock.h"
#include "rill_log.h"

#include <string.h>

void rill_broker_follow(rill_broker_t *self, rill_job_t *job, const char *follow)
{
    if (!rill_followers_add(&job->followers, follow, strlen(follow)))
        return;
    rill_mirror_mark_job(self->mirror, job, 1);
    if (rill_interest_count(self->interest, follow) == 0)
        return; /* not live yet: its subscription's arrival counts it */
    /* Its one follower is live (a new job's case: no second lookup). */
    uint64_t count = job->followers.count == 1 ? job->subscribed + 1 : rill_broker_listeners(self, job);
    rill_broker_listeners_changed(self, job, 1, count - 1, count);
}

void rill_broker_unfollow(rill_broker_t *self, rill_frame_t id, rill_frame_t follow, int release)
{
    rill_job_t *job = rill_job_table_find_frame(self->jobs, id.data, id.size);
    if (job == NULL || !rill_followers_remove(&job->followers, (const char *)follow.data, follow.size))
        return;
    rill_mirror_mark_job(self->mirror, job, 1);
    char subject[RILL_FOLLOW_SUBJECT_MAX + 1];
    if (follow.size >= sizeof(subject))
        return;
    memcpy(subject, follow.data, follow.size);
    subject[follow.size] = '\0';
    if (rill_interest_count(self->interest, subject) == 0)
        return; /* it did not count */
    uint64_t count = rill_broker_listeners(self, job);
    rill_log_debug(job->who, "job %s unfollowed by %s%s: %llu listening", job->id, subject,
                   release ? " (its last client left)" : "", (unsigned long long)count);
    /* Unlike RELEASE, the leaving and the release arrive together: a
     * release counts only when it takes the last listener. */
    if (release && count == 0 && !job->detached && !rill_job_is_ended(job))
        job->released = 1;
    rill_broker_listeners_changed(self, job, 0, count + 1, count);
}

typedef struct {
    rill_broker_t *broker;
    const char *follow;
    int subscribe;
} follow_change_t;

static void follow_changed(void *argument, rill_job_t *job)
{
    follow_change_t *change = argument;
    if (job->followers.count == 0 ||
        !rill_followers_has(&job->followers, change->follow, strlen(change->follow)))
        return;
    uint64_t count = rill_broker_listeners(change->broker, job);
    /* Back after a broken link: what was published meanwhile missed it, and
     * the syncs of the window tell it what it lacks (events.c). */
    if (change->subscribe)
        change->broker->events_at_risk_ms = rill_clock_monotonic_ms();
    rill_broker_listeners_changed(change->broker, job, change->subscribe, change->subscribe ? count - 1 : count + 1, count);
}

/* Rare (a frontend's start, stop, death or reconnect), so a walk over the
 * table is fine. */
static void follow_subscription(rill_broker_t *self, const rill_interest_change_t *change)
{
    if (change->subscribe) {
        rill_barrier_seen(self->barrier, change->subject, rill_clock_monotonic_ms(), rill_held_release, self);
        if (change->previous != 0)
            return;
    } else if (change->count != 0 || change->previous == 0) {
        return;
    }
    rill_log_info(NULL, "frontend follow subject %s %s", change->subject,
                  change->subscribe ? "subscribed" : "gone");
    follow_change_t pass = {self, change->subject, change->subscribe};
    rill_job_table_foreach(self->jobs, follow_changed, &pass);
}

void rill_broker_subscription(rill_broker_t *self, const uint8_t *message, size_t size)
{
    rill_interest_change_t change;
    self->counters->subscription_messages++;
    rill_interest_apply(self->interest, message, size, &change);
    switch (change.kind) {
    case RILL_INTEREST_BARRIER:
        if (change.subscribe)
            rill_barrier_seen(self->barrier, change.subject + 1, rill_clock_monotonic_ms(), rill_held_release,
                              self);
        break;
    case RILL_INTEREST_JOB: {
        rill_job_t *job = rill_job_table_find(self->jobs, change.subject + 1);
        if (job != NULL)
            job->subscribed = change.count;
        rill_log_debug(job != NULL ? job->who : NULL, "%s %s: %llu subscribers",
                       change.subscribe ? "subscribe" : "unsubscribe", change.subject,
                       (unsigned long long)change.count);
        /* A frontend whose events link broke and came back subscribes
         * again by itself (libzmq) and thinks it missed nothing, while
         * events published in between matched no subscription: the job's
         * end among them, it would wait for ever (a job nobody listened to
         * left the sync list, events.c). A sync now shows it what it has
         * not; for a new subscriber, which FETCHes anyway, it is one more
         * small message. */
        if (job != NULL && change.subscribe)
            rill_events_sync_job(self, job);
        /* Listed as only followed: now on the list every heartbeat reads. */
        if (job != NULL && change.subscribe && rill_link_is_linked(&job->active_link))
            rill_events_list_recent(self, job);
        if (job != NULL && job->followers.count > 0) {
            /* Followed too: the XPUB's count is only a part of it. */
            uint64_t count = rill_broker_listeners(self, job);
            rill_broker_listeners_changed(self, job, change.subscribe,
                                 change.subscribe ? count - (change.count - change.previous)
                                                  : count + (change.previous - change.count),
                                 count);
        } else {
            rill_broker_listeners_changed(self, job, change.subscribe, change.previous, change.count);
        }
        break;
    }
    case RILL_INTEREST_FOLLOW:
        follow_subscription(self, &change);
        break;
    case RILL_INTEREST_TOPIC: case RILL_INTEREST_PATTERN: /* rill/3: a wildcard prefix */
        rill_log_debug(NULL, "%s %s: %llu subscribers", change.subscribe ? "subscribe" : "unsubscribe",
                       change.subject, (unsigned long long)change.count);
        break;
    case RILL_INTEREST_IGNORED:
        if (size > 0)
            rill_log_debug(NULL, "ignored a subscription message of %zu bytes", size);
        break;
    }
}
