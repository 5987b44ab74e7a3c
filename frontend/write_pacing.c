/* write_pacing.c - when the frontend is busy, its streams write less often. See write_pacing.h. */
#include "write_pacing.h"

#include "rill_cpus.h"
#include "rill_log.h"

#include <time.h>

void rill_write_pacing_init(rill_write_pacing_t *self, uint64_t window_ms)
{
    *self = (rill_write_pacing_t){.window_ms = window_ms};
    rill_write_pacing_set_busy_percent(self, RILL_WRITE_PACING_DEFAULT_BUSY_PERCENT);
}

void rill_write_pacing_set_busy_percent(rill_write_pacing_t *self, uint64_t busy_percent)
{
    self->busy_percent = busy_percent;
}

int rill_write_pacing_percent_from_environment(uint64_t *busy_percent, char *error, size_t error_size)
{
    return rill_cpus_rate_from_environment("RILL_BUSY_PERCENT", RILL_WRITE_PACING_DEFAULT_BUSY_PERCENT,
                                           "always busy", busy_percent, error, error_size);
}

void rill_write_pacing_set_window_ms(rill_write_pacing_t *self, uint64_t window_ms)
{
    self->window_ms = window_ms;
    if (window_ms == 0)
        self->busy = 0;
}

void rill_write_pacing_observe(rill_write_pacing_t *self, uint64_t now_ms, uint64_t cpu_ns)
{
    if (self->sample_start_ms == 0 || now_ms < self->sample_start_ms || cpu_ns < self->sample_cpu_ns) {
        self->sample_start_ms = now_ms;
        self->sample_cpu_ns = cpu_ns;
        return;
    }
    uint64_t wall_ms = now_ms - self->sample_start_ms;
    if (wall_ms < RILL_WRITE_PACING_SAMPLE_MS)
        return;
    /* The share in percent of one CPU: cpu_ns / (wall_ms * 1e6) * 100. */
    uint64_t share = (cpu_ns - self->sample_cpu_ns) / (wall_ms * 10000);
    if (!self->busy && share >= self->busy_percent) {
        self->busy = 1;
        self->busy_episodes++;
        rill_log_debug(NULL, "busy (%llu %% of a CPU): streams write at most every %llu ms",
                       (unsigned long long)share, (unsigned long long)self->window_ms);
    } else if (self->busy && share < self->busy_percent * 5 / 8) {
        self->busy = 0;
        rill_log_debug(NULL, "no longer busy (%llu %% of a CPU): streams write at once", (unsigned long long)share);
    }
    self->sample_start_ms = now_ms;
    self->sample_cpu_ns = cpu_ns;
}

uint64_t rill_write_pacing_window(rill_write_pacing_t *self, uint64_t now_ms)
{
    if (self->window_ms == 0)
        return 0;
    /* Unsigned: no sample yet (0) and a clock gone back both read as due. */
    if (now_ms - self->sample_start_ms >= RILL_WRITE_PACING_SAMPLE_MS) {
        struct timespec cpu;
        if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0)
            rill_write_pacing_observe(self, now_ms, (uint64_t)cpu.tv_sec * 1000000000u + (uint64_t)cpu.tv_nsec);
    }
    return self->busy ? self->window_ms : 0;
}
