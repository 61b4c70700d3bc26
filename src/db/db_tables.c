/* SPDX-License-Identifier: Apache-2.0 */
/* db_tables.c -- the table side of a read view: the pinned version. */
#include "db/read_view.h"
#include "util/alloc.h"

void
st_view_pin_tables(strata_db *db, st_read_view *v)
{
    v->version = db->current;
    if (v->version)
        st_version_ref(v->version);
}

void
st_view_unpin_tables(strata_db *db, st_read_view *v)
{
    (void)db;
    st_version_unref(v->version);
    v->version = NULL;
}

int
st_view_read_flags(const strata_read_options *ro)
{
    return (ro->fill_cache ? ST_SST_ITER_FILL_CACHE : 0) |
           (ro->verify_checksums ? 0 : ST_SST_SKIP_CRC);
}

int
st_view_get_tables(strata_db *db, st_read_view *v, const strata_read_options *ro, const void *key,
                   size_t klen, void **val, size_t *vlen)
{
    return st_view_get_tables_seq(db, v, ro, key, klen, val, vlen, NULL);
}

int
st_view_get_tables_seq(strata_db *db, st_read_view *v, const strata_read_options *ro,
                       const void *key, size_t klen, void **val, size_t *vlen, uint64_t *seq_out)
{
    if (!v->version || v->version->n == 0)
        return STRATA_NOTFOUND;
    st_buf b;
    st_buf_init(&b);
    int kind = ST_KIND_DELETE;
    uint64_t seq;
    size_t consulted = 0;
    int rc = st_version_get(v->version, key, klen, v->seq, st_view_read_flags(ro), &kind, &b, &seq,
                            &consulted);
    if (consulted > 1) /* reads pay for the overlap of runs: see st_db_charge_reads */
        st_db_charge_reads(db, consulted - 1);
    if (rc == STRATA_OK && kind != ST_KIND_PUT)
        rc = STRATA_NOTFOUND;
    if (rc == STRATA_OK && b.data == NULL)
        rc = st_buf_reserve(&b, 1); /* a 0-byte value still gets a pointer */
    if (rc != STRATA_OK) {
        st_buf_free(&b);
        return rc;
    }
    *val = st_buf_detach(&b, vlen);
    if (seq_out)
        *seq_out = seq;
    return STRATA_OK;
}

int
st_view_table_iters(strata_db *db, st_read_view *v, const strata_read_options *ro, st_iter ***its,
                    size_t *n)
{
    (void)db;
    *its = NULL;
    *n = 0;
    if (!v->version || v->version->n == 0)
        return STRATA_OK;
    return st_version_iters(v->version, ro->lower_bound, ro->lower_bound_len, ro->upper_bound,
                            ro->upper_bound_len, st_view_read_flags(ro), its, n);
}
