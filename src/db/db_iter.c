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
 *
 * Fresh sources at each seek: the iterator's sequence number is linked into the database's
 * snapshot list for its whole life, so flushes and compactions keep every version it can see.
 * When the sources changed since the view was pinned (a flush, a compaction, a memtable switch:
 * db->view_gen), a seek first moves the iterator to the current memtables and tables at the same
 * sequence number. What it shows is unchanged; it stops holding obsolete tables and memtables,
 * and positions in the sorted runs compaction has merged since, not in all the runs there were
 * when it was opened. Steps (next/prev) never switch sources.
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
    strata_snapshot pin;    /* seq in the snapshot list (see the top of this file) */
    strata_read_options ro; /* the caller's options, with our bound copies and no snapshot */
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

/* Open the merged internal iterator over view v: memtables, then one iterator per table source
 * (each wrapped in a range tombstone filter when the view has range tombstones). *runs: the
 * sorted runs of tables merged. */
static int
build_merge(strata_iter *i, st_read_view *v, st_iter **out, size_t *runs)
{
    int rc = STRATA_OK;
    st_iter **children = NULL;
    size_t n = 0;
    *out = NULL;
    if (st_view_has_range_dels(v)) {
        ST_RET(st_db_range_del_iters(i->db, v, &i->ro, &children, &n));
        *runs = n > v->nmem ? n - v->nmem : 0;
        *out = st_merge_iter_new(children, n);
        st_free(children);
        return *out ? STRATA_OK : st_err(STRATA_NOMEM, "out of memory");
    }
    ST_RET(st_view_table_iters(i->db, v, &i->ro, &children, &n));
    *runs = n;
    size_t total = v->nmem + n, k = 0;
    st_iter **all = st_calloc(total ? total : 1, sizeof(*all));
    if (!all) {
        st_iters_close(children, n);
        st_free(children);
        return st_err(STRATA_NOMEM, "out of memory");
    }
    for (size_t j = 0; j < v->nmem; j++) {
        if (!(all[k] = st_memtable_iter(v->mem[j]))) {
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
    if (rc == STRATA_OK && !(*out = st_merge_iter_new(all, k)))
        rc = st_err(STRATA_NOMEM, "out of memory");
    if (rc != STRATA_OK)
        st_iters_close(all, k);
    st_free(all);
    return rc;
}

/*
 * Before a seek: if the database's sources changed since the view was pinned, pin the current
 * ones at the same sequence number and rebuild the merge over them. The old internal iterator
 * is closed, so *key (which may point into it) is copied first. A failure keeps the old view,
 * which is still correct.
 */
static void
refresh(strata_iter *i, const void **key, size_t klen)
{
    if (atomic_load_explicit(&i->db->view_gen, memory_order_relaxed) == i->view.gen)
        return;
    if (*key && klen) {
        if (*key != i->skey.data) {
            st_buf_clear(&i->skey);
            if (st_buf_append(&i->skey, *key, klen) != STRATA_OK) {
                st_err_clear();
                return;
            }
        }
        *key = i->skey.data;
    }
    st_read_view v;
    st_iter *it;
    size_t runs = 0;
    st_view_pin_at(i->db, i->seq, NULL, &v);
    if (build_merge(i, &v, &it, &runs) != STRATA_OK) {
        st_view_unpin(i->db, &v);
        st_err_clear();
        return;
    }
    st_iter_close(i->it);
    st_view_unpin(i->db, &i->view);
    i->view = v;
    i->it = it;
    i->runs = runs;
    i->valid = 0;
}

void
strata_iter_seek(strata_iter *i, const void *key, size_t klen)
{
    if (!iter_check(i) || i->status != STRATA_OK)
        return;
    if (!key && klen)
        klen = 0;
    refresh(i, &key, klen);
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
    const void *none = NULL;
    refresh(i, &none, 0);
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
    const void *none = NULL;
    refresh(i, &none, 0);
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
    refresh(i, &key, klen);
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
    st_view_unpin_at(i->db, &i->pin, &i->view);
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
    i->db = db;
    ST_ERR(iter_bounds(i, ro));
    /* tables read the bounds for the iterator's whole life: give them our copies */
    i->ro = *ro;
    i->ro.snapshot = NULL;
    i->ro.prefix = NULL; /* the bounds hold it now */
    i->ro.prefix_len = 0;
    i->ro.lower_bound = i->lower;
    i->ro.lower_bound_len = i->llen;
    i->ro.upper_bound = i->upper;
    i->ro.upper_bound_len = i->ulen;
    st_view_pin_at(db, ro->snapshot ? ro->snapshot->seq : UINT64_MAX, &i->pin, &i->view);
    i->seq = i->view.seq;
    if ((rc = build_merge(i, &i->view, &i->it, &i->runs)) != STRATA_OK) {
        st_view_unpin_at(db, &i->pin, &i->view);
        goto err;
    }
    i->magic = ST_ITER_MAGIC;
    i->dir = 1;
    atomic_fetch_add(&db->open_iters, 1);
    *out = i;
    return STRATA_OK;
err:
    st_free(i->lower);
    st_free(i->upper);
    st_free(i);
    return rc;
}
