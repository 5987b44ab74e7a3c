/* rill_scheduler.c - the CPU scheduling policy of rill's processes. See
 * rill_scheduler.h for what SCHED_BATCH buys and costs. */
#include "rill_scheduler.h"
#include "rill_log.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rill_scheduler_parse(const char *text, rill_scheduler_policy_t *policy)
{
    if (text == NULL)
        return -1;
    if (strcmp(text, "batch") == 0)
        *policy = RILL_SCHEDULER_BATCH;
    else if (strcmp(text, "normal") == 0)
        *policy = RILL_SCHEDULER_NORMAL;
    else
        return -1;
    return 0;
}

const char *rill_scheduler_name(rill_scheduler_policy_t policy)
{
    return policy == RILL_SCHEDULER_BATCH ? "batch" : "normal";
}

int rill_scheduler_apply(rill_scheduler_policy_t policy)
{
    struct sched_param parameters = {.sched_priority = 0};
    /* Linux applies sched_setscheduler(0, ...) to the calling thread. */
    return sched_setscheduler(0, policy == RILL_SCHEDULER_BATCH ? SCHED_BATCH : SCHED_OTHER, &parameters);
}

int rill_scheduler_apply_from_environment(rill_scheduler_policy_t fallback, char *error, size_t error_size)
{
    const char *text = getenv("RILL_SCHEDULER");
    rill_scheduler_policy_t policy = fallback;
    int chosen = text != NULL && text[0] != '\0';
    if (chosen && rill_scheduler_parse(text, &policy) != 0) {
        snprintf(error, error_size, "RILL_SCHEDULER must be \"batch\" or \"normal\", not \"%s\"", text);
        return -1;
    }
    /* Unset: a policy the process was started with stands (an operator's
     * chrt, systemd's CPUSchedulingPolicy=); only Linux's default gives
     * way to the process's own. */
    if (!chosen && sched_getscheduler(0) != SCHED_OTHER)
        return 0;
    if (rill_scheduler_apply(policy) != 0) {
        if (chosen)
            rill_log_warn(NULL, "could not run under the %s CPU scheduling policy: %s (running as before)",
                          rill_scheduler_name(policy), strerror(errno));
        else
            rill_log_info(NULL, "the %s CPU scheduling policy was refused (%s): running as started",
                          rill_scheduler_name(policy), strerror(errno));
    }
    return 0;
}
