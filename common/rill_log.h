/*
 * rill_log.h - one line per event worth knowing (docs/LOGGING.md).
 *
 * Every line carries milliseconds since the system's start, the process role and
 * pid, and the *who*: the client that started the chain of work the line is
 * about. On a terminal the who is coloured, so one client's chain can be
 * followed across the interleaved output of several processes.
 */
#ifndef RILL_LOG_H
#define RILL_LOG_H

#include <stdarg.h>

typedef enum { RILL_LOG_ERROR = 0, RILL_LOG_WARN, RILL_LOG_INFO, RILL_LOG_DEBUG } rill_log_level_t;

/* role: "broker", "frontend", "worker"... (kept by pointer: pass a literal).
 * The milliseconds of every line count from the system's start: the wall
 * clock instant in RILL_START_EPOCH_MS (ms since the Unix epoch; `./rill up`
 * hands every process the same one), or this call when it is unset. A value
 * that is not a number is reported (warn) and ignored; one in the future
 * counts as now. */
void rill_log_init(const char *role);
/* The name of the environment variable rill_log_init reads. */
#define RILL_LOG_START_ENV "RILL_START_EPOCH_MS"
int rill_log_set_level_name(const char *name); /* 0, or -1 for an unknown name */
void rill_log_set_level(rill_log_level_t level);
/* The level in force; read through rill_log_enabled, set through the setters. */
extern rill_log_level_t rill_log_threshold;
/* Inline: a debug line on a hot path costs one compare when debug is off. */
static inline int rill_log_enabled(rill_log_level_t level)
{
    return __builtin_expect(level <= rill_log_threshold, 0);
}
void rill_log(rill_log_level_t level, const char *who, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

#define rill_log_error(who, ...) rill_log(RILL_LOG_ERROR, who, __VA_ARGS__)
#define rill_log_warn(who, ...) rill_log(RILL_LOG_WARN, who, __VA_ARGS__)
#define rill_log_info(who, ...) rill_log(RILL_LOG_INFO, who, __VA_ARGS__)
/* Debug lines are on the hot path: test the level before formatting. */
#define rill_log_debug(who, ...)                                                                   \
    do {                                                                                           \
        if (rill_log_enabled(RILL_LOG_DEBUG))                                                      \
            rill_log(RILL_LOG_DEBUG, who, __VA_ARGS__);                                            \
    } while (0)

#endif
