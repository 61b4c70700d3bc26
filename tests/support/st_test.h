/* SPDX-License-Identifier: Apache-2.0 */
/*
 * st_test.h -- the minimal test harness (in the spirit of libuv's task.h).
 *
 *   static void test_something(void) { ST_ASSERT(x == 1); ST_ASSERT_OK(rc); }
 *   int main(int argc, char **argv) { ST_RUN(test_something); return st_test_done(); }
 *
 * A failed assertion prints file:line, the expression, and for return codes strata_errstr plus
 * this thread's detail message, then exits 1 (ctest counts the test as failed). st_test_done()
 * prints "N passed, 0 failed". ST_RUN(fn) may be filtered with ST_TEST_FILTER=substring.
 * Randomised tests take their seed from st_test_seed(): ST_SEED=<n> in the environment, else
 * the time; the seed is printed so a failure can be replayed.
 */
#ifndef ST_TEST_H
#define ST_TEST_H

#include "strata/strata.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int st_test_passed;
const char *st_test_errmsg(void);

#define ST_FAIL(...)                                                                               \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: FAILED: ", __FILE__, __LINE__);                                    \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        fflush(stderr);                                                                            \
        exit(1);                                                                                   \
    } while (0)

#define ST_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ST_FAIL("%s", #cond);                                                                  \
    } while (0)

#define ST_ASSERT_RC(expr, want)                                                                   \
    do {                                                                                           \
        int st_rc_ = (expr);                                                                       \
        int st_want_ = (want);                                                                     \
        if (st_rc_ != st_want_)                                                                    \
            ST_FAIL("%s returned %s, expected %s (detail: %s)", #expr, strata_errstr(st_rc_),      \
                    strata_errstr(st_want_), st_test_errmsg());                                    \
    } while (0)

#define ST_ASSERT_OK(expr) ST_ASSERT_RC(expr, STRATA_OK)

#define ST_ASSERT_EQ(a, b)                                                                         \
    do {                                                                                           \
        long long st_a_ = (long long)(a), st_b_ = (long long)(b);                                  \
        if (st_a_ != st_b_)                                                                        \
            ST_FAIL("%s == %s (%lld != %lld)", #a, #b, st_a_, st_b_);                              \
    } while (0)

#define ST_ASSERT_MEM_EQ(a, alen, b, blen)                                                         \
    do {                                                                                           \
        size_t st_al_ = (alen), st_bl_ = (blen);                                                   \
        if (st_al_ != st_bl_ || (st_al_ && memcmp((a), (b), st_al_) != 0))                         \
            ST_FAIL("%s (%zu bytes) != %s (%zu bytes)", #a, st_al_, #b, st_bl_);                   \
    } while (0)

#define ST_RUN(fn)                                                                                 \
    do {                                                                                           \
        const char *st_f_ = getenv("ST_TEST_FILTER");                                              \
        if (!st_f_ || strstr(#fn, st_f_)) {                                                        \
            fprintf(stderr, "[ RUN  ] %s\n", #fn);                                                 \
            fn();                                                                                  \
            fprintf(stderr, "[  OK  ] %s\n", #fn);                                                 \
            st_test_passed++;                                                                      \
        }                                                                                          \
    } while (0)

int st_test_done(void);

/* Seed for randomised tests (ST_SEED env or time), printed once. */
uint64_t st_test_seed(void);

/* A new empty directory for this test (under $ST_TEST_TMPDIR or /tmp); static storage per call
 * site is not needed: the returned string is st_malloc'ed and owned by the caller. */
char *st_test_tmpdir(const char *name);

/* Read one 8-byte acknowledgement a crash-test child wrote to a pipe (retrying short reads and
 * EINTR): 1 when read, 0 at EOF or on error (the child died). */
int st_test_read_ack(int fd, uint64_t *id);

/* Crash-test cycle count: $ST_CRASH_CYCLES, else base x st_test_scale(); at least 4. */
int st_test_crash_cycles(int base);

/* Sleep us microseconds (resuming after signals). */
void st_test_sleep_micros(long us);

/* rm -rf path (best effort). */
void st_test_rmrf(const char *path);

/* Flip bits of the byte at offset off of file path (damage for corruption tests). */
void st_test_flip_byte(const char *path, long off);

/* Scale factor for test sizes: ST_TEST_SCALE env (default 1). Sanitizer builds use smaller. */
double st_test_scale(void);

#endif
