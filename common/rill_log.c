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
static uint64_t log_offset_ms; /* from the system's start to this process's */
static int log_colour;

static const char *level_names[] = {"error", "warn", "info", "debug"};

/* Ms since the epoch, all digits, at most 15 of them (year 33658): 0, else -1. */
static int parse_epoch_ms(const char *text, uint64_t *epoch_ms)
{
    uint64_t value = 0;
    size_t length = 0;
    for (; text[length] != '\0'; length++) {
        if (text[length] < '0' || text[length] > '9' || length == 15)
            return -1;
        value = value * 10 + (uint64_t)(text[length] - '0');
    }
    if (length == 0)
        return -1;
    *epoch_ms = value;
    return 0;
}

void rill_log_init(const char *role)
{
    log_role = role;
    log_start_ns = rill_clock_monotonic_ns();
    log_offset_ms = 0;
    const char *no_colour = getenv("NO_COLOR");
    const char *forced = getenv("RILL_LOG_COLOR");
    int wanted = isatty(STDERR_FILENO) || (forced != NULL && strcmp(forced, "always") == 0);
    log_colour = wanted && (no_colour == NULL || no_colour[0] == '\0');
    /* One time base: the wall clock gives how long ago the system started,
     * the monotonic clock counts on from here (a wall clock step later does
     * not move the lines). */
    const char *start = getenv(RILL_LOG_START_ENV);
    uint64_t epoch_ms;
    if (start == NULL || start[0] == '\0')
        return;
    if (parse_epoch_ms(start, &epoch_ms) != 0) {
        rill_log(RILL_LOG_WARN, NULL, "%s=\"%.32s\" is not a number of ms since the epoch: ms count from this "
                 "process's start", RILL_LOG_START_ENV, start);
        return;
    }
    uint64_t now_ms = rill_clock_wall_ms();
    log_offset_ms = now_ms > epoch_ms ? now_ms - epoch_ms : 0;
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
    uint64_t elapsed_ms = log_offset_ms + (rill_clock_monotonic_ns() - log_start_ns) / 1000000;
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
