/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memtable_int.h -- constructors of the two memtable representations, used only by memtable.c.
 *
 * Each returns a memtable whose common header (struct st_memtable) is fully initialised with one
 * reference, or STRATA_NOMEM (nothing allocated). The representation's ops->destroy frees it.
 * Thread safety and lifetime are those of memtable.h.
 */
#ifndef ST_MEMTABLE_MEMTABLE_INT_H
#define ST_MEMTABLE_MEMTABLE_INT_H

#include "memtable/memtable.h"

int st_memtable_skiplist_new(st_memtable **out); /* skiplist.c */
int st_memtable_trie_new(st_memtable **out);     /* trie.c */

/* Initialise the common header (used by both constructors). */
void st_memtable_init_header(st_memtable *mt, const st_memtable_ops *ops, int kind);

#endif
