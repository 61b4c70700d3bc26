/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alloc.h -- the library's allocator entry points.
 *
 * All heap memory of libstrata goes through st_malloc/st_calloc/st_realloc/st_free so that tests
 * can make the N-th allocation fail (st_alloc_fail_after) and check that every path propagates
 * STRATA_NOMEM instead of crashing. Memory handed to users is allocated with st_malloc and freed
 * by strata_free (which is st_free).
 */
#ifndef ST_UTIL_ALLOC_H
#define ST_UTIL_ALLOC_H

#include <stddef.h>

void *st_malloc(size_t n);
void *st_calloc(size_t count, size_t size);
void *st_realloc(void *p, size_t n);
void st_free(void *p);
char *st_strdup(const char *s);
void *st_memdup(const void *p, size_t n); /* n may be 0: returns a valid 1-byte allocation */

/*
 * st_alloc_return_free --
 *     Give memory the C library holds free back to the operating system (glibc's malloc_trim;
 *     a no-op elsewhere). The library calls it after it dropped much memory at once (a flushed
 *     memtable, a shrunk cache, a finished compaction's buffers): many small freed blocks
 *     otherwise stay resident in the allocator's heaps. Costs a walk of the free lists.
 */
void st_alloc_return_free(void);

/*
 * st_prefault --
 *     Make the whole pages inside [p, p + n) present and writable now, with one system call
 *     (Linux's MADV_POPULATE_WRITE; a no-op elsewhere or on older kernels), instead of one page
 *     fault at the first store into each: in a VM every fault is an exception round trip of a
 *     few microseconds. For memory about to be filled (a fresh memtable arena block, a mapped
 *     log window inside space reserved on disk). Only a hint: errors are ignored.
 */
void st_prefault(void *p, size_t n);

/*
 * st_alloc_fail_after --
 *     Test hook: after `n` more successful allocations every allocation fails (n < 0 disables).
 *     Process-wide; only for single-threaded fault tests.
 */
void st_alloc_fail_after(long n);

#endif
