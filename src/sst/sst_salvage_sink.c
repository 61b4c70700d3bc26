/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_salvage_sink.c -- where salvaged and lost rows go (sst_salvage.h): the row rules, the
 * entry order, and runs of lost rows with their key bounds.
 */
#include "sst/sst_internal.h"
#include "sst/sst_salvage.h"

#include <stdio.h>
#include <string.h>

void
st_sst_sink_init(st_sst_sink *s, const st_sst_salvage_ops *ops, const uint8_t *lo, size_t lolen,
                 const uint8_t *hi, size_t hilen)
{
    memset(s, 0, sizeof(*s));
    s->ops = ops;
    s->lo_bound = lo;
    s->lo_bound_len = lolen;
    s->hi_bound = hi;
    s->hi_bound_len = hilen;
}

void
st_sst_sink_free(st_sst_sink *s)
{
    st_buf_free(&s->first);
    st_buf_free(&s->prev);
    st_buf_free(&s->lo);
    st_buf_free(&s->hi);
}

/* Report the pending run of lost rows; next_key (may be NULL) is the salvaged row after it. */
static void
flush_lost(st_sst_sink *s, const uint8_t *next_key, size_t next_len)
{
    if (s->lost == 0 && !s->more)
        return;
    const uint8_t *lo = s->lo_open ? s->lo_bound : s->lo.data;
    size_t lol = s->lo_open ? s->lo_bound_len : s->lo.len;
    const uint8_t *hi = s->hi_known ? s->hi.data : next_key ? next_key : s->hi_bound;
    size_t hil = s->hi_known ? s->hi.len : next_key ? next_len : s->hi_bound_len;
    if (s->run_ranges) { /* a lost range tombstone deleted keys up to its unknown end */
        hi = s->hi_bound;
        hil = s->hi_bound_len;
    }
    s->ops->lost(s->ops->arg, lo, lol, hi, hil, s->lost, s->more, s->why);
    s->lost_rows += s->lost;
    s->lost_more |= s->more;
    s->lost = 0;
    s->more = 0;
    s->run_ranges = 0;
}

/* Open a run of lost rows if none is pending; key (may be NULL) is its first row's key. */
static int
start_run(st_sst_sink *s, const uint8_t *key, size_t klen, const char *why)
{
    s->run_ranges |= s->ranges;
    if (s->lost > 0 || s->more)
        return STRATA_OK;
    st_buf_clear(&s->lo);
    s->lo_open = 0;
    snprintf(s->why, sizeof(s->why), "%s", why);
    if (key)
        return st_buf_append(&s->lo, key, klen);
    if (s->have_prev)
        return st_buf_append(&s->lo, s->prev.data, s->prev.len);
    s->lo_open = 1;
    return STRATA_OK;
}

int
st_sst_sink_lose(st_sst_sink *s, const uint8_t *key, size_t klen, const char *why)
{
    ST_RET(start_run(s, key, klen, why));
    s->lost++;
    st_buf_clear(&s->hi);
    s->hi_known = key != NULL;
    return key ? st_buf_append(&s->hi, key, klen) : STRATA_OK;
}

int
st_sst_sink_lose_unknown(st_sst_sink *s, const char *why)
{
    ST_RET(start_run(s, NULL, 0, why));
    s->more = 1;
    s->hi_known = 0; /* the unknown rows may follow the run's last known key */
    return STRATA_OK;
}

int
st_sst_sink_row(st_sst_sink *s, const uint8_t *key, size_t klen, int64_t seq, int64_t kind,
                const uint8_t *val, size_t vlen, int is_null)
{
    char why[ST_ERRMSG_MAX];
    if (kind == ST_KIND_RANGE_DELETE && !s->ranges) {
        /* the range tombstones begin: their own order, after every put and delete */
        flush_lost(s, NULL, 0);
        s->ranges = 1;
        s->have_prev = 0;
    }
    if (s->ranges) {
        if (kind != ST_KIND_RANGE_DELETE)
            return st_sst_sink_lose(s, key, klen, "a put or delete after the range tombstones");
        /* a range tombstone obeys the rules of a put (its value is its end), and more */
        if (st_sst_row_problem(why, sizeof(why), seq, ST_KIND_PUT, klen, is_null))
            return st_sst_sink_lose(s, key, klen, why);
        if (vlen == 0 || vlen > ST_SST_MAX_KEY || !val || st_bytes_cmp(key, klen, val, vlen) >= 0)
            return st_sst_sink_lose(s, key, klen,
                                    "range tombstone whose end is not a key after its begin");
    } else if (st_sst_row_problem(why, sizeof(why), seq, kind, klen, is_null)) {
        return st_sst_sink_lose(s, key, klen, why);
    }
    if (s->have_prev &&
        st_entry_cmp(s->prev.data, s->prev.len, s->prevseq, key, klen, (uint64_t)seq) >= 0)
        return st_sst_sink_lose(s, key, klen,
                                "row out of order (rows are sorted by key, then newest first)");
    flush_lost(s, key, klen);
    ST_RET(s->ops->entry(s->ops->arg, key, klen, (uint64_t)seq, (int)kind,
                         is_null || !val ? (const uint8_t *)"" : val, is_null ? 0 : vlen));
    if (s->rows++ == 0)
        ST_RET(st_buf_append(&s->first, key, klen));
    st_buf_clear(&s->prev);
    s->prevseq = (uint64_t)seq;
    s->have_prev = 1;
    return st_buf_append(&s->prev, key, klen);
}

void
st_sst_sink_finish(st_sst_sink *s)
{
    flush_lost(s, NULL, 0);
}
