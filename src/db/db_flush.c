/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_flush.c -- memtable rotation and backpressure, background workers, flushes, version
 * installation and manual compaction.
 *
 * Life of a memtable: it fills while active; when it reaches write_buffer_size the commit
 * leader rotates it (the old WAL is fsync'ed, a new WAL and memtable take over) and it joins the
 * immutable queue. A background worker writes the oldest immutable memtable to a Parquet table,
 * appends the edit (table added, log_number advanced) to the manifest and syncs it, installs the
 * new version, and only then deletes the memtable's WAL. When flushes fall behind, writers first
 * slow down (one 1 ms pause per commit group) and then stop until a flush completes; the time
 * spent is reported in strata.stats.
 */
#include "db/db_impl.h"
#include "util/alloc.h"
#include "util/clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MANIFEST_ROLL_BYTES (64u << 20)

/* Write backpressure from compaction debt, in tables a point read may have to consult (the UCS
 * total overlap). With the default T4 a settled tree keeps at most 3 per level, so 24 means
 * compaction is several flushes behind and 48 that reads are degrading badly. */
#define OVERLAP_SLOWDOWN 24
#define OVERLAP_STOP 48

/* A compaction whose inputs total at most this many bytes is cheap: close lets a running one
 * finish rather than cancel it, then runs due ones itself, up to this many input bytes in all.
 * Sessions too short for a background compaction (one `strata put` per process) therefore
 * cannot pile up tables (doc/compaction.md section 4). */
#define CLOSE_COMPACT_BYTES (4u << 20)

/* Floor of UCS's m. m is also the smallest table the picker shards outputs into; below 64 KiB a
 * table's fixed costs (footer, descriptor, mapping) would be a sizeable part of it. */
#define UCS_MIN_FLUSH_SIZE (64u << 10)
/* Read-triggered compaction: once seeks and scans have positioned in more than one sorted run
 * this many times per READ_DEBT_BYTES of tables (at least READ_DEBT_MIN times), the picker is
 * asked to merge any level's overlapping runs (read_threshold 2). LevelDB's seek compaction
 * allows one wasted seek per 16 KiB of a file: merging that much data costs about one seek. */
#define READ_DEBT_BYTES (16u << 10)
#define READ_DEBT_MIN 1024u
/* When no level has overlapping runs and nothing was flushed while the debt built up (the
 * database is being read, not written), the runs of different levels are merged into one, as
 * a full strata_compact_range would: only while the tables total at most this. */
#define READ_MERGE_MAX_BYTES (256ull << 20)

static void
sleep_micros(unsigned us)
{
    struct timespec ts = {0, (long)us * 1000};
    nanosleep(&ts, NULL);
}

/* Wait for background progress (REQUIRES mu): a condition wait for a stop, a 1 ms pause
 * without the mutex for a slowdown. The time goes to strata.stats. */
static void
stall(strata_db *db, int slowdown)
{
    uint64_t t0 = st_now_micros();
    if (slowdown) {
        pthread_mutex_unlock(&db->mu);
        sleep_micros(1000);
        pthread_mutex_lock(&db->mu);
        atomic_fetch_add(&db->stats.slowdowns, 1);
    } else {
        atomic_fetch_add(&db->stats.stalls, 1);
        pthread_cond_wait(&db->bg_cv, &db->mu);
    }
    atomic_fetch_add(&db->stats.stall_micros, st_now_micros() - t0);
}

int
st_db_make_room(strata_db *db, int force)
{
    int slowed = 0;
    for (;;) {
        if (db->bg_error != STRATA_OK)
            return st_db_readonly_error(db);
        int max = db->opts.max_immutable_memtables;
        int full = st_memtable_entries(db->mem) > 0 &&
                   (force || st_memtable_memory(db->mem) >= db->opts.write_buffer_size);
        /* stop: compaction far behind (while it runs), or no room to queue a full memtable */
        if ((db->read_overlap >= OVERLAP_STOP && (db->compacting > 0 || db->flushing)) ||
            (full && (int)db->nimm >= max)) {
            stall(db, 0);
            continue;
        }
        /* slowdown: compaction behind, or one queue slot left: give background work a head
         * start, once per commit group */
        if (!slowed && ((db->read_overlap >= OVERLAP_SLOWDOWN && db->compacting > 0) ||
                        (full && max > 1 && (int)db->nimm >= max - 1))) {
            stall(db, 1);
            slowed = 1;
            continue;
        }
        if (!full)
            return STRATA_OK;
        /* rotate */
        st_memtable *fresh = NULL;
        ST_RET(st_memtable_new_sized(db->opts.memtable_kind, db->opts.write_buffer_size, &fresh));
        int rc = db->wal ? st_wal_writer_sync(db->wal) : STRATA_OK;
        uint64_t old_log = db->log_number;
        if (rc == STRATA_OK)
            rc = st_db_new_wal(db);
        if (rc != STRATA_OK) {
            st_memtable_unref(fresh);
            st_db_set_bg_error(db, rc);
            return rc;
        }
        db->imm[db->nimm] = db->mem;
        db->imm_log[db->nimm] = old_log;
        db->nimm++;
        db->mem = fresh;
        pthread_cond_broadcast(&db->bg_cv);
        return STRATA_OK;
    }
}

static uint64_t
alloc_file_number(void *arg)
{
    strata_db *db = arg;
    pthread_mutex_lock(&db->mu);
    uint64_t n = db->next_file++;
    pthread_mutex_unlock(&db->mu);
    return n;
}

/* bottommost: the outputs have no older data under them (see bottommost_inputs). */
static void
sst_options_from(const strata_options *o, int bottommost, st_sst_options *s)
{
    st_sst_options_init(s);
    s->compression = bottommost ? o->bottommost_compression : o->compression;
    s->compression_level = o->compression_level;
    s->page_size = bottommost && o->bottommost_page_size ? o->bottommost_page_size : o->page_size;
    s->bloom_bits_per_key = o->bloom_bits_per_key;
}

/* Copy the live snapshot sequence numbers (ascending). REQUIRES mu. */
static int
copy_snapshots(strata_db *db, uint64_t **out, size_t *n)
{
    size_t count = 0;
    for (strata_snapshot *s = db->snapshots.next; s != &db->snapshots; s = s->next)
        count++;
    *out = NULL;
    *n = 0;
    if (count == 0)
        return STRATA_OK;
    uint64_t *a = st_malloc(count * sizeof(*a));
    if (!a)
        return st_err(STRATA_NOMEM, "out of memory");
    size_t i = 0;
    for (strata_snapshot *s = db->snapshots.next; s != &db->snapshots; s = s->next)
        a[i++] = s->seq;
    *out = a;
    *n = count;
    return STRATA_OK;
}

int
st_db_write_level0(strata_db *db, st_memtable *mem, uint64_t max_wal, st_compact_job *job)
{
    memset(job, 0, sizeof(*job));
    uint64_t *snaps = NULL;
    size_t nsnaps = 0;
    pthread_mutex_lock(&db->mu);
    int rc = copy_snapshots(db, &snaps, &nsnaps);
    pthread_mutex_unlock(&db->mu);
    if (rc != STRATA_OK)
        return rc;
    job->env = db->env;
    job->dir = db->path;
    sst_options_from(&db->opts, 0, &job->sst);
    job->target_file_size = UINT64_MAX; /* one table per flush */
    job->snapshots = snaps;
    job->nsnapshots = nsnaps;
    job->new_file_number = alloc_file_number;
    job->fnum_arg = db;
    job->producer_note = "flush";
    job->max_wal = max_wal;
    st_rdel_set *rdels = NULL;
    if ((rc = st_memtable_range_del_set(mem, &rdels)) != STRATA_OK) {
        st_free(snaps);
        return rc;
    }
    job->rdels = rdels;
    job->input = st_memtable_iter(mem);
    if (!job->input) {
        st_free(snaps);
        st_rdel_set_unref(rdels);
        return st_err(STRATA_NOMEM, "out of memory");
    }
    uint64_t t0 = st_now_micros();
    rc = st_compact_run(job);
    st_free(snaps);
    st_rdel_set_unref(rdels);
    job->rdels = NULL;
    job->snapshots = NULL;
    if (rc == STRATA_OK) {
        atomic_fetch_add(&db->stats.flushes, 1);
        atomic_fetch_add(&db->stats.flush_bytes, job->bytes_out);
        atomic_fetch_add(&db->stats.flush_micros, st_now_micros() - t0);
    }
    return rc;
}

/* Build the full manifest state of version v (for a manifest roll). REQUIRES manifest_mu. */
static int
state_of(strata_db *db, st_version *v, st_manifest_state *s)
{
    memset(s, 0, sizeof(*s));
    s->tables = st_calloc(v->n ? v->n : 1, sizeof(*s->tables));
    if (!s->tables)
        return st_err(STRATA_NOMEM, "out of memory");
    for (size_t i = 0; i < v->n; i++) {
        ST_RET(st_table_meta_copy(&s->tables[i], &v->t[i]->m));
        s->ntables++;
    }
    pthread_mutex_lock(&db->mu);
    s->log_number = db->imm_log && db->nimm ? db->imm_log[0] : db->log_number;
    s->next_file = db->next_file;
    s->last_seq = atomic_load(&db->last_seq);
    pthread_mutex_unlock(&db->mu);
    return STRATA_OK;
}

/* Start a new manifest holding the state of v, switch CURRENT, drop the old one. */
static int
roll_manifest(strata_db *db, st_version *v)
{
    st_manifest_state s;
    int rc = state_of(db, v, &s);
    uint64_t number = alloc_file_number(db);
    st_manifest *nm = NULL;
    if (rc == STRATA_OK) {
        s.next_file = number + 1 > s.next_file ? number + 1 : s.next_file;
        rc = st_manifest_create(db->env, db->path, number, &s, &nm);
    }
    st_manifest_state_free(&s);
    if (rc != STRATA_OK)
        return rc;
    char *old = st_file_path(db->path, ST_FILE_MANIFEST, st_manifest_number(db->manifest));
    st_manifest_close(db->manifest);
    db->manifest = nm;
    if (old)
        db->env->remove(db->env, old); /* best effort: removed at the next open otherwise */
    st_free(old);
    return STRATA_OK;
}

static void
remove_file(strata_db *db, uint64_t num, st_file_kind kind)
{
    char *p = st_file_path(db->path, kind, num);
    if (p)
        db->env->remove(db->env, p);
    st_free(p);
}

static int
is_removed(const st_version_edit *e, uint64_t fnum)
{
    for (size_t i = 0; i < e->nremoved; i++)
        if (e->removed[i] == fnum)
            return 1;
    return 0;
}

static void
ucs_options_from(strata_db *db, st_ucs_options *u)
{
    st_ucs_options_init(u);
    u->nscaling = db->opts.ucs_scaling_count;
    for (int i = 0; i < u->nscaling; i++)
        u->scaling[i] = db->opts.ucs_scaling[i];
    u->base_shards = db->opts.ucs_base_shards;
    u->target_size = db->opts.target_file_size;
    uint64_t flushes = atomic_load(&db->stats.flushes);
    uint64_t fb = atomic_load(&db->stats.flush_bytes);
    /* m: the observed average flush output, else a guess from the write buffer */
    u->flush_size = flushes ? fb / flushes : db->opts.write_buffer_size / 2;
    if (u->flush_size < UCS_MIN_FLUSH_SIZE)
        u->flush_size = UCS_MIN_FLUSH_SIZE;
}

/* Describe v's tables for the picker (keys borrowed from v). REQUIRES mu. */
static st_ucs_table *
ucs_tables(st_version *v)
{
    st_ucs_table *a = st_calloc(v->n ? v->n : 1, sizeof(*a));
    if (!a)
        return NULL;
    for (size_t i = 0; i < v->n; i++) {
        const st_table *t = v->t[i];
        a[i].id = t->m.fnum;
        a[i].size = t->m.file_size;
        a[i].min_seq = t->m.min_seq;
        a[i].max_seq = t->m.max_seq;
        a[i].smallest = t->m.smallest;
        a[i].smallest_len = t->m.smallest_len;
        a[i].largest = t->m.largest;
        a[i].largest_len = t->m.largest_len;
        a[i].compacting = t->compacting;
        a[i].entries = t->m.entries;
        a[i].tombstones = t->m.tombstones;
    }
    return a;
}

int
st_db_level_stats(strata_db *db, st_version *v, st_ucs_level_stats *levels, size_t max,
                  size_t *nlevels, size_t *overlap)
{
    st_ucs_options u;
    pthread_mutex_lock(&db->mu);
    ucs_options_from(db, &u);
    st_ucs_table *a = ucs_tables(v);
    pthread_mutex_unlock(&db->mu);
    if (!a)
        return st_err(STRATA_NOMEM, "out of memory");
    int rc = st_ucs_stats(&u, a, v->n, levels, max, nlevels, overlap);
    st_free(a);
    return rc;
}

void
st_db_update_overlap(strata_db *db)
{
    st_ucs_options u;
    ucs_options_from(db, &u);
    st_ucs_table *a = ucs_tables(db->current);
    size_t nlevels = 0, overlap = db->current->n;
    if (a && st_ucs_stats(&u, a, db->current->n, NULL, 0, &nlevels, &overlap) != STRATA_OK)
        overlap = db->current->n;
    db->read_overlap = overlap;
    db->bg_recheck = 1; /* a new version: some compaction may be due */
    st_free(a);
    uint64_t limit = db->current->bytes / READ_DEBT_BYTES;
    atomic_store(&db->read_debt_limit, limit > READ_DEBT_MIN ? limit : READ_DEBT_MIN);
}

void
st_db_charge_reads(strata_db *db, uint64_t extra_runs)
{
    if (!extra_runs || db->opts.read_only) /* read-only: nothing may be rewritten */
        return;
    uint64_t debt = atomic_fetch_add_explicit(&db->read_debt, extra_runs, memory_order_relaxed);
    if (debt == 0) /* a new debt: read_merge_all asks whether anything was flushed since */
        atomic_store(&db->read_debt_flushes, atomic_load(&db->stats.flushes));
    if (debt + extra_runs < atomic_load_explicit(&db->read_debt_limit, memory_order_relaxed) ||
        atomic_load_explicit(&db->read_due, memory_order_relaxed) ||
        atomic_exchange(&db->read_due, 1))
        return;
    pthread_mutex_lock(&db->mu);
    pthread_cond_broadcast(&db->bg_cv);
    pthread_mutex_unlock(&db->mu);
}

int
st_db_log_and_apply(strata_db *db, st_version_edit *e)
{
    int rc = STRATA_OK;
    st_table **added = st_calloc(e->nadded ? e->nadded : 1, sizeof(*added));
    st_table **list = NULL;
    st_version *nv = NULL, *old = NULL, *cur = NULL;
    size_t nlist = 0;
    if (!added)
        return st_err(STRATA_NOMEM, "out of memory");
    pthread_mutex_lock(&db->manifest_mu);
    for (size_t i = 0; i < e->nadded && rc == STRATA_OK; i++)
        rc = st_table_open(&db->tctx, &e->added[i], &added[i]);
    if (rc != STRATA_OK) {
        /* not logged anywhere yet: the new files can go */
        for (size_t i = 0; i < e->nadded; i++)
            remove_file(db, e->added[i].fnum, ST_FILE_TABLE);
        goto err;
    }
    pthread_mutex_lock(&db->mu);
    e->has_next_file = 1;
    e->next_file = db->next_file;
    cur = db->current;
    list = st_calloc(cur->n + e->nadded + 1, sizeof(*list));
    if (list) {
        for (size_t i = 0; i < cur->n; i++)
            if (!is_removed(e, cur->t[i]->m.fnum))
                list[nlist++] = cur->t[i];
        for (size_t i = 0; i < e->nadded; i++)
            list[nlist++] = added[i];
    }
    pthread_mutex_unlock(&db->mu);
    if (!list) {
        rc = st_err(STRATA_NOMEM, "out of memory");
        goto err;
    }
    ST_ERR(st_version_new(list, nlist, &nv));
    nv->last_seq = cur->last_seq; /* stable: versions are installed under manifest_mu */
    if (e->has_last_seq && e->last_seq > nv->last_seq)
        nv->last_seq = e->last_seq;
    /* From here on the edit may become durable even if a call fails (a record written whose
     * sync failed): the new files must stay; the next open removes them if they are not live. */
    rc = st_manifest_append(db->manifest, e);
    if (rc != STRATA_OK) {
        /* The manifest may end in a partial record: refuse further changes. */
        pthread_mutex_lock(&db->mu);
        st_db_set_bg_error(db, rc);
        pthread_mutex_unlock(&db->mu);
        goto err;
    }
    if (st_manifest_size(db->manifest) > MANIFEST_ROLL_BYTES &&
        (rc = roll_manifest(db, nv)) != STRATA_OK) {
        pthread_mutex_lock(&db->mu);
        st_db_set_bg_error(db, rc);
        pthread_mutex_unlock(&db->mu);
        goto err;
    }
    pthread_mutex_lock(&db->mu);
    old = db->current;
    for (size_t i = 0; i < old->n; i++)
        if (is_removed(e, old->t[i]->m.fnum))
            atomic_store(&old->t[i]->obsolete, 1);
    db->current = nv;
    nv = NULL;
    st_db_update_overlap(db);
    pthread_cond_broadcast(&db->bg_cv);
    pthread_mutex_unlock(&db->mu);
err:
    pthread_mutex_unlock(&db->manifest_mu);
    st_version_unref(old);
    st_version_unref(nv);
    for (size_t i = 0; i < e->nadded; i++)
        st_table_unref(added[i]); /* the version holds its own references */
    st_free(added);
    st_free(list);
    return rc;
}

/* Flush the oldest immutable memtable. Called by a worker without mu. */
static int
flush_one(strata_db *db)
{
    pthread_mutex_lock(&db->mu);
    st_memtable *mem = db->imm[0];
    uint64_t wal = db->imm_log[0];
    uint64_t log_after = db->nimm > 1 ? db->imm_log[1] : db->log_number;
    st_memtable_ref(mem);
    pthread_mutex_unlock(&db->mu);

    st_compact_job job;
    st_version_edit e;
    st_edit_init(&e);
    int rc = st_db_write_level0(db, mem, wal, &job);
    if (rc == STRATA_OK) {
        e.has_log_number = 1;
        e.log_number = log_after;
        for (size_t i = 0; i < job.noutputs && rc == STRATA_OK; i++) {
            rc = st_edit_add_table(&e, &job.outputs[i]);
            if (!e.has_last_seq || job.outputs[i].max_seq > e.last_seq) {
                e.has_last_seq = 1;
                e.last_seq = job.outputs[i].max_seq;
            }
        }
        if (rc == STRATA_OK)
            rc = st_db_log_and_apply(db, &e); /* owns the output files from here on */
        else
            for (size_t i = 0; i < job.noutputs; i++)
                remove_file(db, job.outputs[i].fnum, ST_FILE_TABLE);
        st_compact_job_free(&job);
    }
    st_edit_free(&e);
    pthread_mutex_lock(&db->mu);
    if (rc == STRATA_OK) {
        /* the version now holds the data: drop the memtable and its log */
        db->nimm--;
        memmove(db->imm, db->imm + 1, db->nimm * sizeof(*db->imm));
        memmove(db->imm_log, db->imm_log + 1, db->nimm * sizeof(*db->imm_log));
        st_memtable_unref(mem); /* the queue's reference */
    }
    pthread_cond_broadcast(&db->bg_cv);
    pthread_mutex_unlock(&db->mu);
    st_memtable_unref(mem);
    if (rc == STRATA_OK)
        remove_file(db, wal, ST_FILE_WAL);
    return rc;
}

static int compact_tables(strata_db *db, st_version *v, st_table **inputs, size_t n,
                          const st_ucs_pick *pick, const _Atomic int *cancel);

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
    int rc = compact_tables(db, v, inputs, n, pick, cancel);
    pthread_mutex_lock(&db->mu);
    for (size_t i = 0; i < n; i++)
        inputs[i]->compacting = 0;
    if (rc != STRATA_OK && !db->shutting_down)
        st_db_set_bg_error(db, rc);
    pthread_mutex_unlock(&db->mu);
    st_version_unref(v); /* may close and remove the inputs: not under mu */
    pthread_mutex_lock(&db->mu);
    /* mu stays held from here until the caller's next pick, so strata_wait_idle never sees
     * "nothing compacting" while a compaction this one made due is about to start */
    db->compacting--;
    db->bg_recheck = 1;
    pthread_cond_broadcast(&db->bg_cv);
    return rc;
}

/*
 * run_picked --
 *     Ask the UCS picker for due work on the current version, skipping candidates of more than
 *     max_bytes input bytes (0: no limit), with st_ucs_options.read_threshold read_threshold,
 *     and run it. REQUIRES mu (released while the compaction runs). Returns 1 when a compaction
 *     ran, with its status in *status and its input bytes in *bytes; a failure becomes the
 *     background error unless the database is closing.
 */
static int
run_picked(strata_db *db, uint64_t max_bytes, int read_threshold, int *status, uint64_t *bytes)
{
    st_version *v = db->current;
    if (v->n < 2)
        return 0;
    st_ucs_options u;
    ucs_options_from(db, &u);
    u.max_input_bytes = max_bytes;
    u.read_threshold = read_threshold;
    st_ucs_table *a = ucs_tables(v);
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
static int
read_merge_all(strata_db *db, uint64_t flushes_before)
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

/* Run due work when a worker may take a compaction (REQUIRES mu). Returns 1 when one ran. */
static int
try_compaction(strata_db *db)
{
    int n = db->opts.background_threads;
    int limit = n > 1 ? n - 1 : 1; /* keep a worker free for flushes */
    int rc;
    uint64_t bytes;
    if (db->compacting >= limit)
        return 0;
    if (run_picked(db, 0, 0, &rc, &bytes))
        return 1;
    if (!atomic_load(&db->read_due))
        return 0;
    /* reads are due a merge of overlapping runs (st_db_charge_reads); the debt starts over
     * whether or not there is any */
    atomic_store(&db->read_debt, 0);
    atomic_store(&db->read_due, 0);
    pthread_cond_broadcast(&db->bg_cv); /* strata_wait_idle waits for it too */
    uint64_t flushes_before = atomic_load(&db->read_debt_flushes);
    if (!run_picked(db, 0, 2, &rc, &bytes) && !read_merge_all(db, flushes_before))
        return 0;
    atomic_fetch_add(&db->stats.read_compactions, 1);
    return 1;
}

void
st_db_compact_before_close(strata_db *db)
{
    uint64_t budget = CLOSE_COMPACT_BYTES, bytes = 0;
    int rc = STRATA_OK;
    pthread_mutex_lock(&db->mu);
    while (db->bg_error == STRATA_OK && rc == STRATA_OK && budget > 0 &&
           run_picked(db, budget, 0, &rc, &bytes))
        budget = bytes < budget ? budget - bytes : 0;
    pthread_mutex_unlock(&db->mu);
}

static void *
worker_main(void *arg)
{
    strata_db *db = arg;
    pthread_mutex_lock(&db->mu);
    while (!db->shutting_down) {
        if (!db->flushing && db->nimm > 0 && db->bg_error == STRATA_OK) {
            db->flushing = 1;
            pthread_mutex_unlock(&db->mu);
            int rc = flush_one(db);
            pthread_mutex_lock(&db->mu);
            db->flushing = 0;
            if (rc != STRATA_OK)
                st_db_set_bg_error(db, rc);
            pthread_cond_broadcast(&db->bg_cv);
            continue;
        }
        if (db->bg_error == STRATA_OK && try_compaction(db))
            continue;
        if (db->bg_recheck) {
            db->bg_recheck = 0; /* looked: nothing this worker may take is due */
            pthread_cond_broadcast(&db->bg_cv);
        }
        pthread_cond_wait(&db->bg_cv, &db->mu);
    }
    pthread_mutex_unlock(&db->mu);
    return NULL;
}

int
st_db_start_workers(strata_db *db)
{
    int n = db->opts.background_threads;
    db->workers = st_calloc((size_t)n, sizeof(*db->workers));
    if (!db->workers)
        return st_err(STRATA_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        int e = pthread_create(&db->workers[i], NULL, worker_main, db);
        if (e != 0) {
            st_db_stop_workers(db);
            return st_err_errno(e, "starting background thread");
        }
        db->nworkers++;
    }
    return STRATA_OK;
}

void
st_db_stop_workers(strata_db *db)
{
    pthread_mutex_lock(&db->mu);
    db->shutting_down = 1;
    atomic_store(&db->cancel_bg, 1);
    pthread_cond_broadcast(&db->bg_cv);
    pthread_mutex_unlock(&db->mu);
    for (int i = 0; i < db->nworkers; i++)
        pthread_join(db->workers[i], NULL);
    db->nworkers = 0;
    st_free(db->workers);
    db->workers = NULL;
}

/* STRATA_OK, or the sticky background error with its message (REQUIRES mu). */
static int
bg_status(strata_db *db)
{
    if (db->bg_error != STRATA_OK)
        return st_err(db->bg_error, "background error: %s", db->bg_errmsg);
    return STRATA_OK;
}

/* Wait (REQUIRES mu) until no flush is queued or running and (unless flush_only) no
 * compaction is running, due from reads, or possibly due and not yet looked for by a worker
 * (bg_recheck), or a background error appears. */
static int
wait_until_idle(strata_db *db, int flush_only)
{
    while (
        db->bg_error == STRATA_OK &&
        (db->nimm > 0 || db->flushing ||
         (!flush_only && (db->compacting > 0 ||
                          (db->nworkers > 0 && (db->bg_recheck || atomic_load(&db->read_due)))))))
        pthread_cond_wait(&db->bg_cv, &db->mu);
    return bg_status(db);
}

static int
in_imm(const strata_db *db, const st_memtable *mt)
{
    for (size_t i = 0; i < db->nimm; i++)
        if (db->imm[i] == mt)
            return 1;
    return 0;
}

/* Rotate the active memtable, then wait until every memtable queued now is flushed (all of
 * them, with later ones too, when `all`). */
static int
flush_and_wait(strata_db *db, int all)
{
    strata_batch empty;
    ST_RET(st_batch_init(&empty));
    int rc = st_db_write(db, NULL, &empty); /* rotates the active memtable if it has data */
    st_batch_release(&empty);
    if (rc != STRATA_OK)
        return rc;
    pthread_mutex_lock(&db->mu);
    if (all) {
        rc = wait_until_idle(db, 1);
    } else {
        /* memtables are flushed oldest first: the newest queued now is the last to go */
        const st_memtable *last = db->nimm ? db->imm[db->nimm - 1] : NULL;
        while (db->bg_error == STRATA_OK && last && in_imm(db, last))
            pthread_cond_wait(&db->bg_cv, &db->mu);
        rc = bg_status(db);
    }
    pthread_mutex_unlock(&db->mu);
    return rc;
}

int
st_db_flush_now(strata_db *db)
{
    return flush_and_wait(db, 0);
}

int
strata_flush(strata_db *db)
{
    ST_RET(st_db_check(db));
    return flush_and_wait(db, 1);
}

int
strata_wait_idle(strata_db *db)
{
    ST_RET(st_db_check(db));
    pthread_mutex_lock(&db->mu);
    int rc = wait_until_idle(db, 0);
    pthread_mutex_unlock(&db->mu);
    return rc;
}

/* ---- manual compaction ----------------------------------------------------------------- */

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

/*
 * compact_tables --
 *     Merge `inputs` (tables of v, marked compacting by the caller) into new tables of
 *     target_file_size and install the result. The run stops with STRATA_BUSY when *cancel
 *     becomes non-zero (cancel may be NULL).
 */
static int
compact_tables(strata_db *db, st_version *v, st_table **inputs, size_t n, const st_ucs_pick *pick,
               const _Atomic int *cancel)
{
    st_compact_job job;
    memset(&job, 0, sizeof(job));
    st_version_edit e;
    st_edit_init(&e);
    drop_ctx dc = {v, inputs, n};
    uint64_t *snaps = NULL;
    size_t nsnaps = 0;
    st_iter **its = st_calloc(n ? n : 1, sizeof(*its));
    uint64_t bytes_in = 0, t0 = st_now_micros();
    int rc = STRATA_OK;
    size_t nits = 0;
    st_buf lineage;
    st_buf_init(&lineage);
    if (!its)
        return st_err(STRATA_NOMEM, "out of memory");
    pthread_mutex_lock(&db->mu);
    rc = copy_snapshots(db, &snaps, &nsnaps);
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
        st_sst_reader *rd;
        rc = st_table_reader(inputs[i], &rd);
        if (rc != STRATA_OK)
            break;
        /* lineage: the newest WAL the input's data came from */
        const char *w = st_sst_meta_prop(st_sst_reader_meta(rd), "strata-max-wal");
        uint64_t wn = w ? strtoull(w, NULL, 10) : 0;
        if (wn > job.max_wal)
            job.max_wal = wn;
        rc = st_sst_reader_iter(rd, NULL, 0, NULL, 0, 0, &its[i]);
        st_sst_reader_unref(rd); /* the iterator holds its own reference */
        if (rc == STRATA_OK)
            nits++;
        bytes_in += inputs[i]->m.file_size;
    }
    if (rc != STRATA_OK) {
        st_iters_close(its, nits);
        goto err;
    }
    job.input = st_merge_iter_new(its, n);
    if (!job.input) {
        rc = st_err(STRATA_NOMEM, "out of memory");
        goto err;
    }
    job.env = db->env;
    job.dir = db->path;
    sst_options_from(&db->opts, n > 0 && bottommost_inputs(&dc), &job.sst);
    job.target_file_size = db->opts.target_file_size;
    job.snapshots = snaps;
    job.nsnapshots = nsnaps;
    job.may_drop_tombstone = may_drop_tombstone;
    job.may_drop_range = may_drop_range;
    job.drop_arg = &dc;
    job.new_file_number = alloc_file_number;
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
    ST_ERR(st_compact_run(&job));
    for (size_t i = 0; i < n && rc == STRATA_OK; i++)
        rc = st_edit_remove_table(&e, inputs[i]->m.fnum);
    for (size_t i = 0; i < job.noutputs && rc == STRATA_OK; i++)
        rc = st_edit_add_table(&e, &job.outputs[i]);
    if (rc != STRATA_OK) {
        for (size_t i = 0; i < job.noutputs; i++)
            remove_file(db, job.outputs[i].fnum, ST_FILE_TABLE);
        goto err;
    }
    rc = st_db_log_and_apply(db, &e); /* owns the output files from here on */
    if (rc == STRATA_OK) {
        atomic_fetch_add(&db->stats.compactions, 1);
        atomic_fetch_add(&db->stats.compact_bytes_in, bytes_in);
        atomic_fetch_add(&db->stats.compact_bytes_out, job.bytes_out);
        atomic_fetch_add(&db->stats.compact_micros, st_now_micros() - t0);
    }
err:
    st_iter_close(job.input); /* only still set when the run never started */
    st_compact_job_free(&job);
    st_edit_free(&e);
    st_buf_free(&lineage);
    st_free(its);
    st_free(snaps);
    st_rdel_set_unref(rdels);
    return rc;
}

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
strata_compact_range(strata_db *db, const void *begin, size_t blen, const void *end, size_t elen)
{
    ST_RET(st_db_check(db));
    if ((!begin && blen) || (!end && elen))
        return st_err(STRATA_INVALID, "strata_compact_range: NULL bound with a non-zero length");
    if (begin && end && st_bytes_cmp(begin, blen, end, elen) > 0)
        return st_err(STRATA_INVALID, "strata_compact_range: begin is after end (reversed range)");
    ST_RET(strata_flush(db));
    pthread_mutex_lock(&db->mu);
    /* A background compaction holding tables of the range would make us skip them and leave
     * the range partly uncompacted: wait for those to finish (their outputs join the current
     * version, and their inputs are gone by then). */
    while (db->bg_error == STRATA_OK && range_busy(db->current, begin, blen, end, elen))
        pthread_cond_wait(&db->bg_cv, &db->mu);
    int rc = bg_status(db);
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
        rc = compact_tables(db, v, inputs, n, NULL, &db->cancel_bg);
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
