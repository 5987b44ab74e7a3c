/* rill_clock.c - see rill_clock.h. */
#include "rill_clock.h"

#include <time.h>

uint64_t rill_clock_monotonic_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

uint64_t rill_clock_monotonic_ms(void)
{
    return rill_clock_monotonic_ns() / 1000000u;
}

uint64_t rill_clock_wall_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}
