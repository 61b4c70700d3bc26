/* SPDX-License-Identifier: Apache-2.0 */
/* trie.c -- ST_MEMTABLE_TRIE (placeholder until the trie lands). */
#include "memtable/memtable_int.h"
#include "util/status.h"

int
st_memtable_trie_new(st_memtable **out)
{
    *out = NULL;
    return st_err(STRATA_NOTSUP, "memtable: the trie representation is not built yet");
}
