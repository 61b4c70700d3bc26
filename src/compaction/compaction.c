/* SPDX-License-Identifier: Apache-2.0 */
/* compaction.c -- the flush/compaction output writer (see compaction.h). */
#include "compaction/compaction.h"

#include "util/alloc.h"
#include "version/filename.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

int
st_table_meta_from_sst(st_table_meta *m, uint64_t fnum, const st_sst_meta *sm)
{
    memset(m, 0, sizeof(*m));
    m->fnum = fnum;
    m->file_size = sm->file_size;
    m->entries = sm->entries;
    m->tombstones = sm->tombstones;
    m->min_seq = sm->min_seq;
    m->max_seq = sm->max_seq;
    m->created_us = sm->created_us;
    m->smallest = st_memdup(sm->smallest, sm->smallest_len);
    m->largest = st_memdup(sm->largest, sm->largest_len);
    m->smallest_len = sm->smallest_len;
    m->largest_len = sm->largest_len;
    m->file_crc = sm->file_crc32c;
    m->has_file_crc = sm->has_file_crc32c;
    if (!m->smallest || !m->largest) {
        st_table_meta_free(m);
        return st_err(STRATA_NOMEM, "out of memory");
    }
    return STRATA_OK;
}

void
st_compact_job_free(st_compact_job *job)
{
    for (size_t i = 0; i < job->noutputs; i++)
        st_table_meta_free(&job->outputs[i]);
    st_free(job->outputs);
    job->outputs = NULL;
    job->noutputs = 0;
}

size_t
st_compact_stripe_of(const st_compact_job *job, uint64_t seq)
{
    size_t lo = 0, hi = job->nsnapshots;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (job->snapshots[mid] >= seq)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

typedef struct out_state {
    st_compact_job *job;
    st_sst_builder *b;
    uint64_t fnum;
    uint64_t *made; /* file numbers of finished outputs (to remove on failure) */
    size_t nmade;
    st_compact_rdels rd; /* the range tombstones that survive */
    st_buf lo;           /* the current output's key interval starts here (has_lo) */
    int has_lo;
} out_state;

static int
finish_output(out_state *o)
{
    st_compact_job *job = o->job;
    st_sst_meta sm;
    memset(&sm, 0, sizeof(sm));
    st_sst_builder *b = o->b;
    o->b = NULL;
    ST_RET(st_sst_builder_finish(b, &sm));
    uint64_t *made = st_realloc(o->made, (o->nmade + 1) * sizeof(*made));
    st_table_meta *outs = st_realloc(job->outputs, (job->noutputs + 1) * sizeof(*outs));
    int rc = STRATA_OK;
    if (made)
        o->made = made;
    if (outs)
        job->outputs = outs;
    if (!made || !outs) {
        rc = st_err(STRATA_NOMEM, "out of memory");
        st_compact_remove_table(job, o->fnum); /* the file exists: make sure it is removed */
    } else {
        o->made[o->nmade++] = o->fnum;
        rc = st_table_meta_from_sst(&job->outputs[job->noutputs], o->fnum, &sm);
        if (rc == STRATA_OK) {
            job->noutputs++;
            job->bytes_out += sm.file_size;
        }
    }
    st_sst_meta_free(&sm);
    return rc;
}

static int
start_output(out_state *o)
{
    st_compact_job *job = o->job;
    o->fnum = job->new_file_number(job->fnum_arg);
    char *path = st_file_path(job->dir, ST_FILE_TABLE, o->fnum);
    if (!path)
        return st_err(STRATA_NOMEM, "out of memory");
    int rc = st_sst_builder_new(job->env, path, &job->sst, &o->b);
    st_free(path);
    if (rc == STRATA_OK && job->producer_note)
        rc = st_sst_builder_set_meta(o->b, "strata-job", job->producer_note);
    if (rc == STRATA_OK && job->max_wal) {
        char num[24];
        snprintf(num, sizeof(num), "%llu", (unsigned long long)job->max_wal);
        rc = st_sst_builder_set_meta(o->b, "strata-max-wal", num);
    }
    if (rc == STRATA_OK && job->replaces && *job->replaces)
        rc = st_sst_builder_set_meta(o->b, "strata-replaces", job->replaces);
    return rc;
}

/*
 * End the current output's key interval at hi (NULL = the end of the key space): its pieces of
 * the surviving range tombstones go into it (an output is started for them when none is open),
 * then it is finished if it holds anything. The next interval starts at hi.
 */
static int
close_segment(out_state *o, const uint8_t *hi, size_t hilen)
{
    const uint8_t *lo = o->has_lo ? o->lo.data : NULL;
    if (!o->b && st_compact_rdels_any(&o->rd, lo, o->lo.len, hi, hilen))
        ST_RET(start_output(o));
    if (o->b)
        ST_RET(st_compact_rdels_emit(&o->rd, o->b, lo, o->lo.len, hi, hilen));
    if (o->b && st_sst_builder_entries(o->b) > 0)
        ST_RET(finish_output(o));
    if (hi) {
        st_buf_clear(&o->lo);
        ST_RET(st_buf_append(&o->lo, hi, hilen));
        o->has_lo = 1;
    }
    return STRATA_OK;
}

void
st_compact_remove_table(const st_compact_job *job, uint64_t fnum)
{
    char *p = st_file_path(job->dir, ST_FILE_TABLE, fnum);
    if (p)
        job->env->remove(job->env, p);
    st_free(p);
}

int
st_compact_run(st_compact_job *job)
{
    out_state o;
    memset(&o, 0, sizeof(o));
    o.job = job;
    st_iter *it = job->input;
    st_buf last_key;
    st_buf_init(&last_key);
    int have_key = 0;
    size_t last_stripe = 0, next_bound = 0;
    int rc = STRATA_OK;
    job->entries_in = job->entries_out = job->bytes_out = 0;
    job->range_dels_dropped = job->covered_dropped = 0;
    st_buf_init(&o.lo);
    ST_ERR(st_compact_rdels_init(&o.rd, job));

    for (st_iter_seek_first(it); it->valid; st_iter_next(it)) {
        job->entries_in++;
        if (job->cancel && (job->entries_in & 1023) == 0 && atomic_load(job->cancel)) {
            rc = st_err(
                STRATA_BUSY,
                "compaction cancelled (the database is closing or compacts the range itself)");
            goto err;
        }
        int same = have_key && st_bytes_cmp(it->key, it->klen, last_key.data, last_key.len) == 0;
        size_t stripe = st_compact_stripe_of(job, it->seq);
        if (same && stripe == last_stripe)
            continue; /* shadowed by a newer version every reader of this stripe sees */
        if (!same) {
            st_buf_clear(&last_key);
            ST_ERR(st_buf_append(&last_key, it->key, it->klen));
            have_key = 1;
            /* A key boundary: a shard boundary or a full output cuts here (range tombstones
             * are cut at the shard boundary, or at this key). */
            while (next_bound < job->nbounds &&
                   st_bytes_cmp(it->key, it->klen, job->bounds[next_bound],
                                job->bound_lens[next_bound]) >= 0) {
                ST_ERR(close_segment(&o, job->bounds[next_bound], job->bound_lens[next_bound]));
                next_bound++;
            }
            if (o.b && st_sst_builder_estimated_size(o.b) >= job->target_file_size)
                ST_ERR(close_segment(&o, it->key, it->klen));
        }
        last_stripe = stripe;
        if (o.rd.keep && st_compact_rdels_covers(&o.rd, job, it->key, it->klen, it->seq)) {
            /* a range tombstone every reader of this stripe sees deletes it (and with it the
             * older versions of the stripe, skipped above as shadowed) */
            job->covered_dropped++;
            continue;
        }
        if (it->kind == ST_KIND_DELETE && stripe == 0 && job->may_drop_tombstone &&
            job->may_drop_tombstone(job->drop_arg, it->key, it->klen, it->seq)) {
            /* Nothing older survives anywhere: the tombstone and all older versions of the key
             * in this stripe (all of them, stripe 0 being the oldest) go. */
            continue;
        }
        if (!o.b)
            ST_ERR(start_output(&o));
        /* at the bottom, a put every reader sees needs no sequence number: every other version
         * of its key is newer (older ones are shadowed, and a tombstone older than it was
         * applied or would make the outputs not the bottom) */
        uint64_t seq = job->zero_seqs && stripe == 0 && it->kind == ST_KIND_PUT ? 0 : it->seq;
        st_sst_builder_add(o.b, it->key, it->klen, seq, it->kind, it->val, it->vlen);
        job->entries_out++;
    }
    ST_ERR(it->status);
    for (; next_bound < job->nbounds; next_bound++) /* tombstones past the last key */
        ST_ERR(close_segment(&o, job->bounds[next_bound], job->bound_lens[next_bound]));
    ST_ERR(close_segment(&o, NULL, 0));
    if (o.nmade > 0)
        ST_ERR(job->env->sync_dir(job->env, job->dir));
err:
    if (o.b)
        st_sst_builder_abandon(o.b);
    if (rc != STRATA_OK) {
        char saved[ST_ERRMSG_MAX];
        memcpy(saved, st_errmsg(), sizeof(saved));
        for (size_t i = 0; i < o.nmade; i++)
            st_compact_remove_table(job, o.made[i]);
        st_compact_job_free(job);
        st_err(rc, "%s", saved);
    }
    st_free(o.made);
    st_compact_rdels_free(&o.rd);
    st_buf_free(&o.lo);
    st_buf_free(&last_key);
    st_iter_close(it);
    job->input = NULL;
    return rc;
}
