/* SPDX-License-Identifier: Apache-2.0 */
#include "util/alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>
#endif

static atomic_long fail_countdown = -1;

static int
should_fail(void)
{
    long v = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    if (v < 0)
        return 0;
    if (v == 0)
        return 1;
    atomic_fetch_sub_explicit(&fail_countdown, 1, memory_order_relaxed);
    return 0;
}

void
st_alloc_fail_after(long n)
{
    atomic_store(&fail_countdown, n);
}

void *
st_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *
st_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *
st_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void
st_free(void *p)
{
    free(p);
}

char *
st_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = st_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void *
st_memdup(const void *p, size_t n)
{
    void *d = st_malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

void
st_alloc_return_free(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

void
st_prefault(void *p, size_t n)
{
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        return;
    uintptr_t a = ((uintptr_t)p + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t b = ((uintptr_t)p + n) & ~((uintptr_t)page - 1);
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)n;
#endif
}
