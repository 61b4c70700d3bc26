/* SPDX-License-Identifier: Apache-2.0 */
/*
 * batch.h -- the write batch: the unit of atomicity, and the payload of a WAL record.
 *
 * Encoding (doc/format_wal.md, "Write batch"), little-endian:
 *   seq   fixed64  sequence number of the first entry (entries get seq, seq+1, ...)
 *   count fixed32  number of entries
 *   entries, each: kind u8 (ST_KIND_PUT = 1, ST_KIND_DELETE = 0, ST_KIND_RANGE_DELETE = 2),
 *                  varint klen, key bytes, and for PUT: varint vlen, value bytes; for
 *                  RANGE_DELETE: varint elen, end bytes (the key is the inclusive begin)
 * Several batches of one commit group are concatenated into one batch (one WAL record), so a
 * group is also atomic across a crash.
 */
#ifndef ST_DB_BATCH_H
#define ST_DB_BATCH_H

#include "iter/iter.h"
#include "strata/strata.h"
#include "util/buf.h"

#include <stdint.h>

#define ST_BATCH_HEADER 12

struct strata_batch {
    st_buf rep;      /* header + entries; header filled at commit time */
    uint32_t count;  /* entries */
    size_t kv_bytes; /* sum of key and value bytes (user bytes, for stats) */
};

/* Upper bound of one encoded entry's size. */
static inline size_t
st_batch_entry_max(int kind, size_t klen, size_t vlen)
{
    return 1 + 2 * ST_MAX_VARINT64 + klen + (kind != ST_KIND_DELETE ? vlen : 0);
}

/* Encode one entry at p (room for st_batch_entry_max bytes); returns the end. Arguments must
 * already be validated (st_check_kv, st_check_range). For a range delete val/vlen is the end. */
uint8_t *st_batch_encode_entry(uint8_t *p, int kind, const void *key, size_t klen, const void *val,
                               size_t vlen);

/* Initialise an empty batch in place (for stack batches of single puts). */
int st_batch_init(strata_batch *b);
void st_batch_release(strata_batch *b);

/* Append every entry of src to dst. */
int st_batch_append(strata_batch *dst, const strata_batch *src);

static inline void
st_batch_set_seq(strata_batch *b, uint64_t seq)
{
    st_put_fixed64(b->rep.data, seq);
    st_put_fixed32(b->rep.data + 8, b->count);
}

/* Visit every entry of an encoded batch; CORRUPT (with `what` in the message) on damage.
 * The callback returns STRATA_OK to continue. */
typedef int (*st_batch_visit_fn)(void *arg, uint64_t seq, int kind, const uint8_t *key, size_t klen,
                                 const uint8_t *val, size_t vlen);
int st_batch_iterate(const uint8_t *rep, size_t len, st_batch_visit_fn fn, void *arg,
                     uint64_t *first_seq, uint32_t *count, const char *what);

/* Validate a key/value pair against the public limits (INVALID with a message). */
int st_check_kv(const void *key, size_t klen, const void *val, size_t vlen, int is_put);
/* Validate a range [begin, end): both keys within the key limits and begin < end. */
int st_check_range(const void *begin, size_t blen, const void *end, size_t elen);

#endif
