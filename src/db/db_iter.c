/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_iter.c -- strata_iter: the user's view over the merged internal entries.
 *
 * The internal merging iterator yields every version of every key (key asc, seq desc). This
 * iterator shows, for each user key, only the newest version with seq <= the view's sequence,
 * and hides keys whose newest visible version is a tombstone. Bounds: lower inclusive, upper
 * exclusive.
 *
 * Direction (as in LevelDB's DBIter):
 *   forward:  the internal iterator sits ON the entry being shown; key/value point into it.
 *   backward: the internal iterator sits BEFORE every entry of the key being shown (on the
 *             previous key's entries), and key/value are copies in skey/sval.
 */
#include "db/db_impl.h"
#include "db/db_rangedel.h"
#include "db/read_view.h"
#include "util/alloc.h"

#include <string.h>

struct strata_iter {
    uint64_t magic;
    strata_db *db;
    st_read_view view;
    st_iter *it;
    uint64_t seq;
    int dir;
    int valid;
    int status;
    st_buf skey, sval; /* saved key/value (backward), or the key being skipped (forward) */
    const uint8_t *k, *v;
    size_t kl, vl;
    uint8_t *lower, *upper; /* owned copies of the bounds (NULL = unbounded) */
    size_t llen, ulen;
    size_t runs;    /* sorted runs of tables merged (read debt: st_db_charge_reads) */
    size_t scanned; /* key and value bytes stepped over since the last scan sample */
};

/* A scan is sampled once per this many bytes (as LevelDB's iterators sample reads). */
#define SCAN_SAMPLE_BYTES (1u << 20)

/* The iterator is about to position in every run: reads pay for the runs beyond the first. */
static void
charge_seek(strata_iter *i)
{
    if (i->runs > 1)
        st_db_charge_reads(i->db, i->runs - 1);
}

/* The iterator stepped to an entry: every SCAN_SAMPLE_BYTES, charge as for a seek. */
static void
charge_step(strata_iter *i)
{
    if (!i->valid)
        return;
    i->scanned += i->kl + i->vl;
    if (i->scanned >= SCAN_SAMPLE_BYTES) {
        i->scanned = 0;
        charge_seek(i);
    }
}

static int
iter_check(const strata_iter *i)
{
    return i && i->magic == ST_ITER_MAGIC;
}

static int
below_lower(const strata_iter *i, const uint8_t *k, size_t kl)
{
    return i->lower && st_bytes_cmp(k, kl, i->lower, i->llen) < 0;
}

static int
at_or_above_upper(const strata_iter *i, const uint8_t *k, size_t kl)
{
    return i->upper && st_bytes_cmp(k, kl, i->upper, i->ulen) >= 0;
}

static void
set_invalid(strata_iter *i)
{
    i->valid = 0;
    if (i->status == STRATA_OK && i->it->status != STRATA_OK)
        i->status = i->it->status;
}

/* Forward: from the internal position, find the next visible user entry. When skipping, entries
 * with key <= skey are passed over (they are older versions of a key already handled). */
static void
find_next(strata_iter *i, int skipping)
{
    st_iter *it = i->it;
    while (it->valid) {
        if (it->seq <= i->seq) {
            if (skipping && st_bytes_cmp(it->key, it->klen, i->skey.data, i->skey.len) <= 0) {
                /* older version of a key already shown or deleted */
            } else if (at_or_above_upper(i, it->key, it->klen)) {
                break;
            } else if (it->kind == ST_KIND_DELETE) {
                st_buf_clear(&i->skey);
                if ((i->status = st_buf_append(&i->skey, it->key, it->klen)) != STRATA_OK)
                    break;
                skipping = 1;
            } else {
                if ((i->status = st_iter_value(it)) != STRATA_OK)
                    break;
                i->valid = 1;
                i->k = it->key;
                i->kl = it->klen;
                i->v = it->val;
                i->vl = it->vlen;
                return;
            }
        }
        st_iter_next(it);
    }
    set_invalid(i);
}

/* Backward: from the internal position, find the previous visible user entry (the newest
 * visible version of the largest key below the position that is not deleted). */
static void
find_prev(strata_iter *i)
{
    st_iter *it = i->it;
    int kind = ST_KIND_DELETE;
    int rc = STRATA_OK;
    while (it->valid) {
        if (it->seq <= i->seq) {
            if (kind != ST_KIND_DELETE &&
                st_bytes_cmp(it->key, it->klen, i->skey.data, i->skey.len) < 0)
                break; /* passed every version of skey: skey/sval is the answer */
            if (below_lower(i, it->key, it->klen))
                break;
            kind = it->kind;
            st_buf_clear(&i->skey);
            st_buf_clear(&i->sval);
            if (kind == ST_KIND_PUT) {
                rc = st_buf_append(&i->skey, it->key, it->klen);
                if (rc == STRATA_OK)
                    rc = st_iter_value(it);
                if (rc == STRATA_OK)
                    rc = st_buf_append(&i->sval, it->val, it->vlen);
                if (rc != STRATA_OK)
                    break;
            }
        }
        st_iter_prev(it);
    }
    if (rc != STRATA_OK) {
        i->status = rc;
        kind = ST_KIND_DELETE;
    }
    if (kind == ST_KIND_DELETE) {
        set_invalid(i);
        return;
    }
    if (it->status != STRATA_OK) {
        set_invalid(i);
        return;
    }
    i->valid = 1;
    i->k = i->skey.data;
    i->kl = i->skey.len;
    i->v = i->sval.data ? i->sval.data : (const uint8_t *)"";
    i->vl = i->sval.len;
}

void
strata_iter_seek(strata_iter *i, const void *key, size_t klen)
{
    if (!iter_check(i) || i->status != STRATA_OK)
        return;
    if (!key && klen)
        klen = 0;
    const uint8_t *k = key;
    if (below_lower(i, k, klen) || !key) {
        k = i->lower;
        klen = i->llen;
    }
    i->dir = 1;
    charge_seek(i);
    if (k)
        st_iter_seek(i->it, k, klen, i->seq);
    else
        st_iter_seek_first(i->it);
    find_next(i, 0);
}

void
strata_iter_seek_first(strata_iter *i)
{
    if (!iter_check(i) || i->status != STRATA_OK)
        return;
    i->dir = 1;
    charge_seek(i);
    if (i->lower)
        st_iter_seek(i->it, i->lower, i->llen, i->seq);
    else
        st_iter_seek_first(i->it);
    find_next(i, 0);
}

void
strata_iter_seek_last(strata_iter *i)
{
    if (!iter_check(i) || i->status != STRATA_OK)
        return;
    i->dir = -1;
    charge_seek(i);
    if (i->upper) {
        /* last entry < (upper, newest): every version of keys below upper */
        st_iter_seek_for_prev(i->it, i->upper, i->ulen, ST_SEQ_MAX);
        while (i->it->valid && at_or_above_upper(i, i->it->key, i->it->klen))
            st_iter_prev(i->it);
    } else {
        st_iter_seek_last(i->it);
    }
    find_prev(i);
}

void
strata_iter_seek_for_prev(strata_iter *i, const void *key, size_t klen)
{
    if (!iter_check(i) || i->status != STRATA_OK)
        return;
    if (!key || at_or_above_upper(i, key, klen)) {
        strata_iter_seek_last(i);
        return;
    }
    i->dir = -1;
    charge_seek(i);
    st_iter_seek_for_prev(i->it, key, klen, 0);
    find_prev(i);
}

/* Save the current key in skey (it may point into a child iterator's buffers). */
static int
save_key(strata_iter *i)
{
    if (i->k == i->skey.data)
        return STRATA_OK; /* backward state: already saved */
    st_buf_clear(&i->skey);
    int rc = st_buf_append(&i->skey, i->k, i->kl);
    if (rc != STRATA_OK) {
        i->status = rc;
        i->valid = 0;
    }
    return rc;
}

void
strata_iter_next(strata_iter *i)
{
    if (!iter_check(i) || !i->valid)
        return;
    if (save_key(i) != STRATA_OK)
        return;
    if (i->dir < 0) {
        /* The internal position is before the current key: go to the first entry after all of
         * its versions ((key, 0) sorts after every real version, sequence numbers start at 1). */
        i->dir = 1;
        st_iter_seek(i->it, i->skey.data, i->skey.len, 0);
    } else {
        st_iter_next(i->it);
    }
    find_next(i, 1);
    charge_step(i);
}

void
strata_iter_prev(strata_iter *i)
{
    if (!iter_check(i) || !i->valid)
        return;
    if (i->dir > 0) {
        /* Move the internal iterator before every version of the current key. */
        if (save_key(i) != STRATA_OK)
            return;
        st_iter_seek_for_prev(i->it, i->skey.data, i->skey.len, ST_SEQ_MAX);
        i->dir = -1;
    }
    find_prev(i);
    charge_step(i);
}

int
strata_iter_valid(const strata_iter *i)
{
    return iter_check(i) && i->valid;
}

const void *
strata_iter_key(const strata_iter *i, size_t *klen)
{
    if (!iter_check(i) || !i->valid) {
        if (klen)
            *klen = 0;
        return NULL;
    }
    if (klen)
        *klen = i->kl;
    return i->k;
}

const void *
strata_iter_value(const strata_iter *i, size_t *vlen)
{
    if (!iter_check(i) || !i->valid) {
        if (vlen)
            *vlen = 0;
        return NULL;
    }
    if (vlen)
        *vlen = i->vl;
    return i->v ? i->v : (const void *)"";
}

int
strata_iter_status(const strata_iter *i)
{
    if (!iter_check(i))
        return st_err(STRATA_INVALID, "iterator is NULL or closed");
    return i->status;
}

void
strata_iter_close(strata_iter *i)
{
    if (!iter_check(i))
        return;
    i->magic = 0;
    st_iter_close(i->it);
    st_view_unpin(i->db, &i->view);
    st_buf_free(&i->skey);
    st_buf_free(&i->sval);
    st_free(i->lower);
    st_free(i->upper);
    atomic_fetch_sub(&i->db->open_iters, 1);
    st_free(i);
}

/* *dst = an owned copy of the n bytes at p (NULL stays NULL). */
static int
copy_bound(const void *p, size_t n, uint8_t **dst, size_t *dlen)
{
    *dst = NULL;
    *dlen = 0;
    if (!p)
        return STRATA_OK;
    if (!(*dst = st_memdup(p, n)))
        return st_err(STRATA_NOMEM, "out of memory copying an iterator bound");
    *dlen = n;
    return STRATA_OK;
}

/*
 * The bounds of the iterator: the caller's bounds narrowed by the prefix, whose keys are
 * [prefix, successor(prefix)), the successor being the prefix without its trailing 0xff bytes
 * with the last byte incremented (none for an all-0xff prefix: no upper bound).
 */
static int
iter_bounds(strata_iter *i, const strata_read_options *ro)
{
    const uint8_t *lo = ro->lower_bound, *up = ro->upper_bound, *pfx = ro->prefix;
    size_t llen = ro->lower_bound_len, ulen = ro->upper_bound_len, plen = ro->prefix_len;
    ST_RET(copy_bound(lo, llen, &i->lower, &i->llen));
    ST_RET(copy_bound(up, ulen, &i->upper, &i->ulen));
    if (!pfx || plen == 0)
        return STRATA_OK;
    if (!lo || st_bytes_cmp(pfx, plen, lo, llen) > 0) {
        st_free(i->lower);
        ST_RET(copy_bound(pfx, plen, &i->lower, &i->llen));
    }
    size_t n = plen;
    while (n > 0 && pfx[n - 1] == 0xff)
        n--;
    if (n == 0)
        return STRATA_OK;
    uint8_t *succ = st_memdup(pfx, n);
    if (!succ)
        return st_err(STRATA_NOMEM, "out of memory copying an iterator bound");
    succ[n - 1]++;
    if (!up || st_bytes_cmp(succ, n, up, ulen) < 0) {
        st_free(i->upper);
        i->upper = succ;
        i->ulen = n;
    } else {
        st_free(succ);
    }
    return STRATA_OK;
}

int
st_db_iter_open(strata_db *db, const strata_read_options *ro, strata_iter **out)
{
    strata_read_options defaults;
    if (!ro) {
        strata_read_options_init(&defaults);
        ro = &defaults;
    }
    if ((ro->lower_bound == NULL && ro->lower_bound_len > 0) ||
        (ro->upper_bound == NULL && ro->upper_bound_len > 0) ||
        (ro->prefix == NULL && ro->prefix_len > 0))
        return st_err(STRATA_INVALID,
                      "iterator bound or prefix pointer is NULL but its length is not 0");
    if (ro->lower_bound && ro->upper_bound &&
        st_bytes_cmp(ro->lower_bound, ro->lower_bound_len, ro->upper_bound, ro->upper_bound_len) >
            0)
        return st_err(STRATA_INVALID, "iterator lower bound is after its upper bound (reversed "
                                      "range)");
    strata_iter *i = st_calloc(1, sizeof(*i));
    if (!i)
        return st_err(STRATA_NOMEM, "out of memory opening an iterator");
    int rc = STRATA_OK;
    st_iter **children = NULL;
    size_t n = 0;
    strata_read_options tro;
    i->db = db;
    ST_ERR(st_view_pin(db, ro, &i->view));
    i->seq = i->view.seq;
    ST_ERR(iter_bounds(i, ro));
    /* tables read the bounds for the iterator's whole life: give them our copies */
    tro = *ro;
    tro.lower_bound = i->lower;
    tro.lower_bound_len = i->llen;
    tro.upper_bound = i->upper;
    tro.upper_bound_len = i->ulen;
    if (st_view_has_range_dels(&i->view)) {
        /* every child wrapped in a range tombstone filter (db_rangedel.c) */
        ST_ERR(st_db_range_del_iters(db, &i->view, &tro, &children, &n));
        i->runs = n > i->view.nmem ? n - i->view.nmem : 0;
        i->it = st_merge_iter_new(children, n);
        st_free(children);
        if (!i->it) {
            rc = st_err(STRATA_NOMEM, "out of memory");
            goto err;
        }
    } else {
        ST_ERR(st_view_table_iters(db, &i->view, &tro, &children, &n));
        i->runs = n;
    }
    if (!i->it) { /* no range tombstones: memtable iterators plus the tables' */
        size_t total = i->view.nmem + n;
        st_iter **all = st_calloc(total ? total : 1, sizeof(*all));
        if (!all) {
            st_iters_close(children, n);
            st_free(children);
            rc = st_err(STRATA_NOMEM, "out of memory");
            goto err;
        }
        size_t k = 0;
        for (size_t j = 0; j < i->view.nmem; j++) {
            if (!(all[k] = st_memtable_iter(i->view.mem[j]))) {
                rc = st_err(STRATA_NOMEM, "out of memory");
                break;
            }
            k++;
        }
        for (size_t j = 0; j < n; j++) {
            if (rc == STRATA_OK)
                all[k++] = children[j];
            else
                st_iter_close(children[j]);
        }
        st_free(children);
        if (rc != STRATA_OK) {
            st_iters_close(all, k);
            st_free(all);
            goto err;
        }
        i->it = st_merge_iter_new(all, k);
        st_free(all);
        if (!i->it) {
            rc = st_err(STRATA_NOMEM, "out of memory");
            goto err;
        }
    }
    i->magic = ST_ITER_MAGIC;
    i->dir = 1;
    atomic_fetch_add(&db->open_iters, 1);
    *out = i;
    return STRATA_OK;
err:
    st_view_unpin(db, &i->view);
    st_free(i->lower);
    st_free(i->upper);
    st_free(i);
    return rc;
}
