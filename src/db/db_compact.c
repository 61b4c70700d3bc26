/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_compact.c -- running compactions: merging input tables into new ones of target_file_size
 * (sharded at the picker's boundaries), deciding which tombstones may be dropped and whether the
 * outputs are the bottom of their key range, and installing the result. The UCS picker's due
 * work, read-triggered merges, the cheap compactions close runs and manual compaction of a key
 * range all come through here; db_sched.c decides when.
 */
#include "db/db_impl.h"
#include "util/alloc.h"
#include "util/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A compaction whose inputs total at most this many bytes is cheap: close lets a running one
 * finish rather than cancel it, then runs due ones itself, up to this many input bytes in all.
 * Sessions too short for a background compaction (one `strata put` per process) therefore
 * cannot pile up tables (doc/compaction.md section 4). */
#define CLOSE_COMPACT_BYTES (4u << 20)

/* When no level has overlapping runs and nothing was flushed while the debt built up (the
 * database is being read, not written), the runs of different levels are merged into one, as
 * a full strata_compact_range would: only while the tables total at most this. */
#define READ_MERGE_MAX_BYTES (256ull << 20)

/* ---- what a compaction may drop, and whether its outputs are bottommost ------------------ */

typedef struct drop_ctx {
    st_version *v; /* the version the compaction started from */
    st_table **inputs;
    size_t ninputs;
} drop_ctx;

static int
is_input(const drop_ctx *c, const st_table *t)
{
    for (size_t i = 0; i < c->ninputs; i++)
        if (c->inputs[i] == t)
            return 1;
    return 0;
}

static int
may_drop_tombstone(void *arg, const uint8_t *key, size_t klen, uint64_t seq)
{
    const drop_ctx *c = arg;
    for (size_t i = 0; i < c->v->n; i++) {
        const st_table *t = c->v->t[i];
        if (t->m.min_seq >= seq || is_input(c, t))
            continue;
        if (st_bytes_cmp(key, klen, t->m.smallest, t->m.smallest_len) >= 0 &&
            st_bytes_cmp(key, klen, t->m.largest, t->m.largest_len) <= 0)
            return 0; /* an older version may live there */
    }
    return 1;
}

/* Range tombstone [begin, end) at seq: the same question for every key of the range. */
static int
may_drop_range(void *arg, const uint8_t *begin, size_t blen, const uint8_t *end, size_t elen,
               uint64_t seq)
{
    const drop_ctx *c = arg;
    for (size_t i = 0; i < c->v->n; i++) {
        const st_table *t = c->v->t[i];
        if (t->m.min_seq >= seq || is_input(c, t))
            continue;
        if (st_bytes_cmp(t->m.largest, t->m.largest_len, begin, blen) >= 0 &&
            st_bytes_cmp(t->m.smallest, t->m.smallest_len, end, elen) < 0)
            return 0; /* an older version may live there */
    }
    return 1;
}

static int
overlaps(const st_table *t, const void *b, size_t bl, const void *e, size_t el)
{
    if (b && st_bytes_cmp(t->m.largest, t->m.largest_len, b, bl) < 0)
        return 0;
    if (e && st_bytes_cmp(t->m.smallest, t->m.smallest_len, e, el) > 0)
        return 0;
    return 1;
}

/*
 * bottommost_inputs --
 *     1 when no table of c->v outside the inputs may hold data older than theirs within the
 *     inputs' key range: the outputs are then the bottom of that range and get
 *     bottommost_compression. Tables holding only newer data do not count.
 */
static int
bottommost_inputs(const drop_ctx *c)
{
    const st_table *lo = c->inputs[0], *hi = c->inputs[0];
    uint64_t max_seq = 0;
    for (size_t i = 0; i < c->ninputs; i++) {
        const st_table *t = c->inputs[i];
        if (st_bytes_cmp(t->m.smallest, t->m.smallest_len, lo->m.smallest, lo->m.smallest_len) < 0)
            lo = t;
        if (st_bytes_cmp(t->m.largest, t->m.largest_len, hi->m.largest, hi->m.largest_len) > 0)
            hi = t;
        if (t->m.max_seq > max_seq)
            max_seq = t->m.max_seq;
    }
    for (size_t i = 0; i < c->v->n; i++) {
        const st_table *t = c->v->t[i];
        if (t->m.min_seq > max_seq || is_input(c, t))
            continue;
        if (overlaps(t, lo->m.smallest, lo->m.smallest_len, hi->m.largest, hi->m.largest_len))
            return 0;
    }
    return 1;
}

/* Parts a manual compaction (strata_compact_range) is split into, each merged on a thread of its
 * own: one per online core, at most MAX_PARTS, each with at least PART_MIN_BYTES of input.
 * Background compactions stay whole: they share the cores with the writers. */
#define MAX_PARTS 4
#define PART_MIN_BYTES (8u << 20)

/* Candidate cuts per input table (st_sst_reader_split_keys into this many parts). */
#define CUT_CANDIDATES 16

typedef struct cut_key {
    const uint8_t *k; /* borrowed from an input's reader */
    size_t kl;
    uint64_t below; /* estimated input bytes of keys < k, over every input */
} cut_key;

static int
cut_key_cmp(const void *a, const void *b)
{
    const cut_key *x = a, *y = b;
    return st_bytes_cmp(x->k, x->kl, y->k, y->kl);
}

/*
 * plan_parts --
 *     How many key-range parts to merge at once, with the keys that cut them in cut[] (copies,
 *     the caller frees them). The candidates are page boundaries of every input where its rows
 *     divide evenly; each is weighed by the input bytes below it over all inputs (the tables of
 *     a sharded run each hold a slice of the key space, so no single input shows the middle),
 *     and the first candidate past each part's share of the bytes cuts. 1 (no cut) when the
 *     merge is small or the machine has one core.
 */
static size_t
plan_parts(st_sst_reader **rds, size_t n, uint64_t bytes_in, uint8_t **cut, size_t *cutlen)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t parts = cpus > MAX_PARTS ? MAX_PARTS : cpus > 1 ? (size_t)cpus : 1;
    while (parts > 1 && bytes_in / parts < PART_MIN_BYTES)
        parts--;
    if (parts < 2)
        return 1;
    cut_key *c = st_calloc(n * (CUT_CANDIDATES - 1) + 1, sizeof(*c));
    if (!c)
        return 1;
    size_t nc = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *k[CUT_CANDIDATES - 1];
        size_t kl[CUT_CANDIDATES - 1];
        int got = st_sst_reader_split_keys(rds[i], CUT_CANDIDATES, k, kl);
        for (int j = 0; j < got; j++, nc++) {
            c[nc].k = k[j];
            c[nc].kl = kl[j];
        }
    }
    for (size_t j = 0; j < nc; j++)
        for (size_t i = 0; i < n; i++) {
            uint64_t b = 0;
            if (st_sst_reader_approximate_size(rds[i], NULL, 0, c[j].k, c[j].kl, &b) == STRATA_OK)
                c[j].below += b;
        }
    qsort(c, nc, sizeof(*c), cut_key_cmp);
    size_t got = 0;
    for (size_t j = 0; j < nc && got + 1 < parts; j++) {
        if (c[j].below < bytes_in / parts * (got + 1) ||
            (got > 0 && st_bytes_cmp(cut[got - 1], cutlen[got - 1], c[j].k, c[j].kl) >= 0))
            continue;
        cut[got] = st_malloc(c[j].kl ? c[j].kl : 1);
        if (!cut[got])
            break;
        memcpy(cut[got], c[j].k, c[j].kl);
        cutlen[got] = c[j].kl;
        got++;
    }
    st_free(c);
    return got + 1;
}

/* Open part p's input: every input table's entries in [cut[p-1], cut[p]), merged. */
static int
open_part(st_sst_reader **rds, size_t n, uint8_t **cut, const size_t *cutlen, size_t p,
          size_t parts, st_iter **out)
{
    st_iter **its = st_calloc(n ? n : 1, sizeof(*its));
    if (!its)
        return st_err(STRATA_NOMEM, "out of memory");
    int rc = STRATA_OK;
    size_t nits = 0;
    for (size_t i = 0; i < n && rc == STRATA_OK; i++) {
        rc = st_sst_reader_iter(rds[i], p > 0 ? cut[p - 1] : NULL, p > 0 ? cutlen[p - 1] : 0,
                                p + 1 < parts ? cut[p] : NULL, p + 1 < parts ? cutlen[p] : 0,
                                ST_SST_CHECK_ALWAYS, &its[i]);
        if (rc == STRATA_OK)
            nits++;
    }
    if (rc == STRATA_OK) {
        *out = st_merge_iter_new(its, n); /* closes the children on failure */
        if (!*out)
            rc = st_err(STRATA_NOMEM, "out of memory");
    } else {
        st_iters_close(its, nits);
    }
    st_free(its);
    return rc;
}

/*
 * compact_tables --
 *     Merge `inputs` (tables of v, marked compacting by the caller) into new tables of
 *     target_file_size and install the result; with `parallel`, in key-range parts at once
 *     (plan_parts). The run stops with STRATA_BUSY when *cancel becomes non-zero (cancel may be
 *     NULL).
 */
static int
compact_tables(strata_db *db, st_version *v, st_table **inputs, size_t n, const st_ucs_pick *pick,
               int parallel, const _Atomic int *cancel)
{
    st_compact_job job, *jobs = NULL;
    memset(&job, 0, sizeof(job));
    st_version_edit e;
    st_edit_init(&e);
    drop_ctx dc = {v, inputs, n};
    uint64_t *snaps = NULL;
    size_t nsnaps = 0, parts = 1, nrds = 0;
    st_sst_reader **rds = st_calloc(n ? n : 1, sizeof(*rds));
    uint8_t *cut[MAX_PARTS - 1] = {0};
    size_t cutlen[MAX_PARTS - 1] = {0};
    uint64_t bytes_in = 0, bytes_out = 0, t0 = st_now_micros();
    int rc = STRATA_OK;
    st_buf lineage;
    st_buf_init(&lineage);
    if (!rds)
        return st_err(STRATA_NOMEM, "out of memory");
    pthread_mutex_lock(&db->mu);
    rc = st_db_copy_snapshots(db, &snaps, &nsnaps);
    pthread_mutex_unlock(&db->mu);
    st_rdel_set **rsets = st_calloc(n ? n : 1, sizeof(*rsets));
    st_rdel_set *rdels = NULL;
    size_t nrsets = 0;
    if (!rsets)
        rc = st_err(STRATA_NOMEM, "out of memory");
    for (size_t i = 0; i < n && rc == STRATA_OK; i++) {
        rc = st_table_range_del_set(inputs[i], &rsets[nrsets]);
        if (rc == STRATA_OK && rsets[nrsets])
            nrsets++;
    }
    if (rc == STRATA_OK && nrsets > 0)
        rc = st_rdel_set_merge(rsets, nrsets, ST_SEQ_MAX, &rdels);
    for (size_t i = 0; i < nrsets; i++)
        st_rdel_set_unref(rsets[i]);
    st_free(rsets);
    job.rdels = rdels;
    for (size_t i = 0; i < n && rc == STRATA_OK; i++) {
        rc = st_table_reader(inputs[i], &rds[i]);
        if (rc != STRATA_OK)
            break;
        nrds++;
        /* lineage: the newest WAL the input's data came from */
        const char *w = st_sst_meta_prop(st_sst_reader_meta(rds[i]), "strata-max-wal");
        uint64_t wn = w ? strtoull(w, NULL, 10) : 0;
        if (wn > job.max_wal)
            job.max_wal = wn;
        bytes_in += inputs[i]->m.file_size;
    }
    /* range tombstones are clipped to the output intervals by one job: no parts */
    if (rc == STRATA_OK && parallel && !rdels)
        parts = plan_parts(rds, n, bytes_in, cut, cutlen);
    jobs = rc == STRATA_OK ? st_calloc(parts, sizeof(*jobs)) : NULL;
    if (rc == STRATA_OK && !jobs)
        rc = st_err(STRATA_NOMEM, "out of memory");
    if (rc != STRATA_OK)
        goto err;
    job.env = db->env;
    job.dir = db->path;
    job.zero_seqs = n > 0 && bottommost_inputs(&dc);
    st_db_sst_options(&db->opts, job.zero_seqs, &job.sst);
    job.target_file_size = db->opts.target_file_size;
    job.snapshots = snaps;
    job.nsnapshots = nsnaps;
    job.may_drop_tombstone = may_drop_tombstone;
    job.may_drop_range = may_drop_range;
    job.drop_arg = &dc;
    job.new_file_number = st_db_alloc_file_number;
    job.fnum_arg = db;
    job.producer_note = "compaction";
    /* lineage: the inputs this output replaces */
    for (size_t i = 0; i < n && rc == STRATA_OK; i++) {
        char num[24];
        snprintf(num, sizeof(num), "%s%llu", i ? "," : "", (unsigned long long)inputs[i]->m.fnum);
        rc = st_buf_append(&lineage, num, strlen(num));
    }
    if (rc == STRATA_OK)
        rc = st_buf_put_u8(&lineage, 0);
    if (rc != STRATA_OK)
        goto err;
    job.replaces = (const char *)lineage.data;
    job.cancel = cancel;
    if (pick) {
        job.bounds = pick->bounds;
        job.bound_lens = pick->bound_lens;
        job.nbounds = pick->nbounds;
    }
    for (size_t p = 0; p < parts; p++)
        jobs[p] = job;
    for (size_t p = 0; p < parts && rc == STRATA_OK; p++)
        rc = open_part(rds, n, cut, cutlen, p, parts, &jobs[p].input);
    if (rc != STRATA_OK)
        goto err;
    ST_ERR(parts > 1 ? st_compact_run_parts(jobs, parts) : st_compact_run(&jobs[0]));
    for (size_t i = 0; i < n && rc == STRATA_OK; i++)
        rc = st_edit_remove_table(&e, inputs[i]->m.fnum);
    for (size_t p = 0; p < parts; p++) {
        for (size_t i = 0; i < jobs[p].noutputs && rc == STRATA_OK; i++)
            rc = st_edit_add_table(&e, &jobs[p].outputs[i]);
        bytes_out += jobs[p].bytes_out;
    }
    if (rc != STRATA_OK) {
        for (size_t p = 0; p < parts; p++)
            for (size_t i = 0; i < jobs[p].noutputs; i++)
                st_db_remove_file(db, jobs[p].outputs[i].fnum, ST_FILE_TABLE);
        goto err;
    }
    rc = st_db_log_and_apply(db, &e); /* owns the output files from here on */
    if (rc == STRATA_OK) {
        atomic_fetch_add(&db->stats.compactions, 1);
        atomic_fetch_add(&db->stats.compact_bytes_in, bytes_in);
        atomic_fetch_add(&db->stats.compact_bytes_out, bytes_out);
        atomic_fetch_add(&db->stats.compact_micros, st_now_micros() - t0);
    }
err:
    for (size_t p = 0; jobs && p < parts; p++) {
        st_iter_close(jobs[p].input); /* only still set when the run never started */
        st_compact_job_free(&jobs[p]);
    }
    for (size_t i = 0; i < nrds; i++)
        st_sst_reader_unref(rds[i]); /* the iterators hold their own references */
    for (size_t j = 0; j + 1 < parts; j++)
        st_free(cut[j]);
    st_free(jobs);
    st_free(rds);
    st_edit_free(&e);
    st_buf_free(&lineage);
    st_free(snaps);
    st_rdel_set_unref(rdels);
    return rc;
}

/*
 * run_inputs --
 *     Compact inputs[0..n) of version v (none of them compacting) as a background job:
 *     REQUIRES mu, released while the compaction runs; the inputs are marked compacting until
 *     it ends. A failure becomes the background error unless the database is closing. Returns
 *     its status.
 */
static int
run_inputs(strata_db *db, st_version *v, st_table **inputs, size_t n, const st_ucs_pick *pick,
           const _Atomic int *cancel)
{
    for (size_t i = 0; i < n; i++)
        inputs[i]->compacting = 1;
    st_version_ref(v);
    db->compacting++;
    pthread_mutex_unlock(&db->mu);
    int rc = compact_tables(db, v, inputs, n, pick, 0, cancel);
    pthread_mutex_lock(&db->mu);
    for (size_t i = 0; i < n; i++)
        inputs[i]->compacting = 0;
    /* BUSY: cancelled, by close or for a strata_compact_range that takes the inputs over */
    if (rc != STRATA_OK && rc != STRATA_BUSY && !db->shutting_down)
        st_db_set_bg_error(db, rc);
    pthread_mutex_unlock(&db->mu);
    st_version_unref(v);   /* may close and remove the inputs: not under mu */
    st_db_return_free(db); /* the merge's and the builder's buffers */
    pthread_mutex_lock(&db->mu);
    /* mu stays held from here until the caller's next pick, so strata_wait_idle never sees
     * "nothing compacting" while a compaction this one made due is about to start */
    db->compacting--;
    db->bg_recheck = 1;
    pthread_cond_broadcast(&db->bg_cv);
    return rc;
}

/*
 * st_db_run_picked --
 *     Ask the UCS picker for due work on the current version, skipping candidates of more than
 *     max_bytes input bytes (0: no limit), with st_ucs_options.read_threshold read_threshold,
 *     and run it. REQUIRES mu (released while the compaction runs). Returns 1 when a compaction
 *     ran, with its status in *status and its input bytes in *bytes; a failure becomes the
 *     background error unless the database is closing.
 */
int
st_db_run_picked(strata_db *db, uint64_t max_bytes, int read_threshold, int *status,
                 uint64_t *bytes)
{
    st_version *v = db->current;
    if (v->n < 2)
        return 0;
    st_ucs_options u;
    st_db_ucs_options(db, &u);
    u.max_input_bytes = max_bytes;
    u.read_threshold = read_threshold;
    st_ucs_table *a = st_db_ucs_tables(v);
    st_ucs_pick pick;
    memset(&pick, 0, sizeof(pick));
    int rc = a ? st_ucs_pick_compaction(&u, a, v->n, &pick) : STRATA_NOMEM;
    st_free(a);
    st_table **inputs = rc == STRATA_OK ? st_calloc(pick.ninputs, sizeof(*inputs)) : NULL;
    if (!inputs) {
        st_ucs_pick_free(&pick);
        return 0;
    }
    for (size_t i = 0; i < pick.ninputs; i++)
        inputs[i] = v->t[pick.inputs[i]];
    *bytes = pick.input_bytes;
    /* close cancels background work, but waits for a cheap compaction (CLOSE_COMPACT_BYTES) */
    *status = run_inputs(db, v, inputs, pick.ninputs, &pick,
                         pick.input_bytes <= CLOSE_COMPACT_BYTES ? NULL : &db->cancel_bg);
    st_ucs_pick_free(&pick);
    st_free(inputs);
    return 1;
}

/*
 * Merge every table of the current version into one sorted run when reads are due a merge that
 * no level's overlap offers (see READ_MERGE_MAX_BYTES). REQUIRES mu (released while it runs).
 * Returns 1 when it ran; flushes_before: the flushes done when the debt started.
 */
int
st_db_read_merge_all(strata_db *db, uint64_t flushes_before)
{
    st_version *v = db->current;
    if (v->nruns < 2 || v->bytes > READ_MERGE_MAX_BYTES || db->nimm > 0 || db->flushing ||
        atomic_load(&db->stats.flushes) != flushes_before)
        return 0;
    for (size_t i = 0; i < v->n; i++)
        if (v->t[i]->compacting)
            return 0;
    st_table **inputs = st_calloc(v->n, sizeof(*inputs));
    if (!inputs)
        return 0;
    memcpy(inputs, v->t, v->n * sizeof(*inputs));
    run_inputs(db, v, inputs, v->n, NULL, &db->cancel_bg);
    st_free(inputs);
    return 1;
}

void
st_db_compact_before_close(strata_db *db)
{
    uint64_t budget = CLOSE_COMPACT_BYTES, bytes = 0;
    int rc = STRATA_OK;
    pthread_mutex_lock(&db->mu);
    while (db->bg_error == STRATA_OK && rc == STRATA_OK && budget > 0 &&
           st_db_run_picked(db, budget, 0, &rc, &bytes))
        budget = bytes < budget ? budget - bytes : 0;
    pthread_mutex_unlock(&db->mu);
}

/* ---- manual compaction ----------------------------------------------------------------- */

/* Some table of v overlapping the range is an input of a running compaction (REQUIRES mu). */
static int
range_busy(const st_version *v, const void *begin, size_t blen, const void *end, size_t elen)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->t[i]->compacting && overlaps(v->t[i], begin, blen, end, elen))
            return 1;
    return 0;
}

int
st_db_compact_range(strata_db *db, const void *begin, size_t blen, const void *end, size_t elen)
{
    pthread_mutex_lock(&db->mu);
    /* A background compaction holding tables of the range would make us skip them and leave
     * the range partly uncompacted: wait for those to finish (their outputs join the current
     * version, and their inputs are gone by then). */
    while (db->bg_error == STRATA_OK && range_busy(db->current, begin, blen, end, elen))
        pthread_cond_wait(&db->bg_cv, &db->mu);
    int rc = st_db_bg_status(db);
    if (rc != STRATA_OK) {
        pthread_mutex_unlock(&db->mu);
        return rc;
    }
    st_version *v = db->current;
    st_version_ref(v);
    st_table **inputs = st_calloc(v->n ? v->n : 1, sizeof(*inputs));
    size_t n = 0;
    if (inputs)
        for (size_t i = 0; i < v->n; i++)
            if (!v->t[i]->compacting && overlaps(v->t[i], begin, blen, end, elen)) {
                v->t[i]->compacting = 1;
                inputs[n++] = v->t[i];
            }
    if (n > 0)
        db->compacting++;
    pthread_mutex_unlock(&db->mu);
    rc = inputs ? STRATA_OK : st_err(STRATA_NOMEM, "out of memory");
    if (rc == STRATA_OK && n > 0)
        rc = compact_tables(db, v, inputs, n, NULL, 1, &db->cancel_close);
    pthread_mutex_lock(&db->mu);
    for (size_t i = 0; i < n; i++)
        inputs[i]->compacting = 0;
    if (n > 0) {
        db->compacting--;
        db->bg_recheck = 1;
    }
    pthread_cond_broadcast(&db->bg_cv);
    pthread_mutex_unlock(&db->mu);
    st_free(inputs);
    st_version_unref(v);
    return rc;
}
