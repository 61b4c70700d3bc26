/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compaction_rangedel.c -- range tombstones in flushes and compactions (compaction.h): which
 * versions they delete for good, which of them survive, and their pieces in each output.
 */
#include "compaction/compaction.h"
#include "util/alloc.h"

int
st_compact_rdels_init(st_compact_rdels *r, st_compact_job *job)
{
    r->set = job->rdels;
    r->keep = NULL;
    if (!r->set || r->set->nraw == 0)
        return STRATA_OK;
    if (!(r->keep = st_malloc(r->set->nraw)))
        return st_err(STRATA_NOMEM, "out of memory compacting range tombstones");
    for (size_t i = 0; i < r->set->nraw; i++) {
        const st_rdel *t = &r->set->raw[i];
        /* the oldest stripe, and nothing older outside the inputs under it: every version it
         * deletes is in the inputs and goes with it */
        int drop = st_compact_stripe_of(job, t->seq) == 0 && job->may_drop_range &&
                   job->may_drop_range(job->drop_arg, t->begin, t->blen, t->end, t->elen, t->seq);
        r->keep[i] = !drop;
        job->range_dels_dropped += drop;
    }
    return STRATA_OK;
}

void
st_compact_rdels_free(st_compact_rdels *r)
{
    st_free(r->keep);
    r->keep = NULL;
}

int
st_compact_rdels_covers(const st_compact_rdels *r, const st_compact_job *job, const uint8_t *key,
                        size_t klen, uint64_t seq)
{
    if (!r->set || r->set->nfrags == 0)
        return 0;
    const st_rdel_frag *f = st_rdel_set_find(r->set, key, klen);
    if (!f || f->seqs[0] <= seq)
        return 0;
    /* the oldest tombstone newer than seq: if any newer one shares seq's stripe, it does */
    uint64_t t = f->seqs[st_rdel_frag_newer(f, seq) - 1];
    return st_compact_stripe_of(job, t) == st_compact_stripe_of(job, seq);
}

/* The piece of t inside [lo, hi), or 0 when empty. */
static int
clip(const st_rdel *t, const uint8_t *lo, size_t lolen, const uint8_t *hi, size_t hilen,
     st_rdel *out)
{
    *out = *t;
    if (lo && st_bytes_cmp(out->begin, out->blen, lo, lolen) < 0) {
        out->begin = lo;
        out->blen = lolen;
    }
    if (hi && st_bytes_cmp(out->end, out->elen, hi, hilen) > 0) {
        out->end = hi;
        out->elen = hilen;
    }
    return st_bytes_cmp(out->begin, out->blen, out->end, out->elen) < 0;
}

int
st_compact_rdels_any(const st_compact_rdels *r, const uint8_t *lo, size_t lolen, const uint8_t *hi,
                     size_t hilen)
{
    st_rdel piece;
    for (size_t i = 0; r->keep && i < r->set->nraw; i++)
        if (r->keep[i] && clip(&r->set->raw[i], lo, lolen, hi, hilen, &piece))
            return 1;
    return 0;
}

int
st_compact_rdels_emit(const st_compact_rdels *r, st_sst_builder *b, const uint8_t *lo, size_t lolen,
                      const uint8_t *hi, size_t hilen)
{
    st_rdel piece;
    for (size_t i = 0; r->keep && i < r->set->nraw; i++) {
        if (!r->keep[i] || !clip(&r->set->raw[i], lo, lolen, hi, hilen, &piece))
            continue;
        ST_RET(st_sst_builder_add_range_del(b, piece.begin, piece.blen, piece.end, piece.elen,
                                            piece.seq));
    }
    return st_sst_builder_status(b);
}
