/*
 * rill_log.c - the log line format and its colours. See rill_log.h.
 */
#include "rill_log.h"
#include "rill_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *log_role = "rill";
rill_log_level_t rill_log_threshold = RILL_LOG_INFO;
static uint64_t log_start_ns;
static int log_colour;

static const char *level_names[] = {"error", "warn", "info", "debug"};

void rill_log_init(const char *role)
{
    log_role = role;
    log_start_ns = rill_clock_monotonic_ns();
    const char *no_colour = getenv("NO_COLOR");
    log_colour = isatty(STDERR_FILENO) && (no_colour == NULL || no_colour[0] == '\0');
}

int rill_log_set_level_name(const char *name)
{
    for (int i = 0; i <= RILL_LOG_DEBUG; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            rill_log_threshold = (rill_log_level_t)i;
            return 0;
        }
    }
    return -1;
}

void rill_log_set_level(rill_log_level_t level)
{
    rill_log_threshold = level;
}

/* A stable colour per who, so one client's chain reads as one colour. */
static int colour_of(const char *who)
{
    static const int palette[] = {31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96};
    uint32_t hash = 2166136261u;
    for (const char *c = who; *c != '\0'; c++)
        hash = (hash ^ (uint8_t)*c) * 16777619u;
    return palette[hash % (sizeof(palette) / sizeof(palette[0]))];
}

void rill_log(rill_log_level_t level, const char *who, const char *format, ...)
{
    if (!rill_log_enabled(level))
        return;
    char message[2048];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(message, sizeof(message), format, arguments);
    va_end(arguments);
    uint64_t elapsed_ms = (rill_clock_monotonic_ns() - log_start_ns) / 1000000;
    int anonymous = who == NULL || who[0] == '\0';
    if (anonymous)
        who = "-";
    /* One fprintf per line: lines of concurrent processes do not interleave.
     * Only a real who is coloured: "-" lines are the process's own. */
    if (log_colour && !anonymous)
        fprintf(stderr, "%8llums %s[%d] %-5s \033[%dm%s\033[0m %s\n", (unsigned long long)elapsed_ms,
                log_role, (int)getpid(), level_names[level], colour_of(who), who, message);
    else
        fprintf(stderr, "%8llums %s[%d] %-5s %s %s\n", (unsigned long long)elapsed_ms, log_role,
                (int)getpid(), level_names[level], who, message);
}
