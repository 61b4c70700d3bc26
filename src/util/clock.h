/* SPDX-License-Identifier: Apache-2.0 */
/* clock.h -- monotonic and wall clocks in microseconds. */
#ifndef ST_UTIL_CLOCK_H
#define ST_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
st_now_micros(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline uint64_t
st_wall_micros(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#endif
