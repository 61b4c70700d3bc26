/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_write.c -- the write path: writer queue, group commit, WAL, memtable.
 *
 * Each caller enqueues an st_writer and waits. The writer at the head of the queue becomes the
 * leader: it gathers the batches queued behind it (up to a size limit) into one commit group,
 * allocates their sequence numbers, then releases db->mu and writes the group as one WAL record
 * with a single append and at most one fdatasync (if any member asked for sync), applies it to
 * the memtable, retakes mu, publishes the last sequence number and wakes the members. While the
 * leader works, new writers queue up and form the next group: under concurrent sync load, many
 * writers share one fsync.
 *
 * A WAL failure is sticky (db->bg_error): the log may end in a partial record, so accepting more
 * writes could make later acknowledged writes unrecoverable. The database then refuses writes with
 * STRATA_READONLY until it is reopened; recovery drops the torn tail and keeps every write that
 * was acknowledged.
 */
#include "db/db_impl.h"
#include "util/alloc.h"

#include <stdio.h>
#include <string.h>

/* How long a queued writer polls for its commit before it blocks (about 10 us). */
#define WAIT_POLLS 2000

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Largest commit group, and the headroom a small first batch allows (LevelDB's numbers). */
#define GROUP_MAX_BYTES (1u << 20)
#define GROUP_SMALL_BYTES (128u << 10)

typedef struct apply_state {
    st_memtable *mem;
    uint64_t max_point_seq; /* newest put or delete of the batch */
} apply_state;

static int
apply_visit(void *arg, uint64_t seq, int kind, const uint8_t *key, size_t klen, const uint8_t *val,
            size_t vlen)
{
    apply_state *a = arg;
    if (kind == ST_KIND_RANGE_DELETE)
        return st_memtable_add_range_del(a->mem, seq, key, klen, val, vlen);
    a->max_point_seq = seq;
    return st_memtable_add(a->mem, seq, kind, key, klen, val, vlen);
}

int
st_db_apply_batch(st_memtable *mem, const uint8_t *rep, size_t len, const char *what)
{
    apply_state a = {mem, 0};
    int rc = st_batch_iterate(rep, len, apply_visit, &a, NULL, NULL, what);
    if (a.max_point_seq) /* before the group's sequence number is published */
        st_memtable_note_seq(mem, a.max_point_seq);
    return rc;
}

/* Gather the writers behind the leader into one group; returns the last member. */
static st_writer *
build_group(strata_db *db, st_writer *leader, strata_batch **out)
{
    st_writer *last = leader;
    size_t size = leader->batch->rep.len;
    size_t max = size <= GROUP_SMALL_BYTES ? size + GROUP_SMALL_BYTES : GROUP_MAX_BYTES;
    if (max > GROUP_MAX_BYTES)
        max = GROUP_MAX_BYTES;
    *out = leader->batch;
    for (st_writer *w = leader->next; w; w = w->next) {
        if (w->disable_wal != leader->disable_wal)
            break;
        size_t add = w->batch->rep.len - ST_BATCH_HEADER;
        if (size + add > max)
            break;
        if (*out == leader->batch) {
            /* switch to the scratch batch: copy the leader's entries first */
            strata_batch_clear(&db->group);
            if (st_batch_append(&db->group, leader->batch) != STRATA_OK)
                break; /* NOMEM: commit the leader alone */
            *out = &db->group;
        }
        if (st_batch_append(&db->group, w->batch) != STRATA_OK)
            break;
        size += add;
        last = w;
    }
    return last;
}

int
st_db_write(strata_db *db, const strata_write_options *wo, strata_batch *batch)
{
    strata_write_options given;
    ST_RET(st_db_write_options_from_user(wo, &given));
    wo = &given;
    st_writer w;
    memset(&w, 0, sizeof(w));
    w.batch = batch;
    w.sync = wo->sync != 0;
    w.disable_wal = wo->disable_wal != 0;
    atomic_init(&w.done, 0);
    atomic_init(&w.leads, 0);
    pthread_cond_init(&w.cv, NULL);

    if (db->opts.read_only)
        return st_err(STRATA_READONLY,
                      "%s was opened read-only: writes, flushes and compactions "
                      "are refused",
                      db->path);
    pthread_mutex_lock(&db->mu);
    if (db->bg_error != STRATA_OK) {
        int rc = st_db_readonly_error(db);
        pthread_mutex_unlock(&db->mu);
        pthread_cond_destroy(&w.cv);
        return rc;
    }
    if (db->writers_tail)
        db->writers_tail->next = &w;
    else
        db->writers_head = &w;
    db->writers_tail = &w;
    if (db->writers_head != &w) {
        /* A commit group takes a few microseconds: poll for it first, so that the common hand-off
         * costs no futex wait and wake (each a system call, and a context switch) */
        pthread_mutex_unlock(&db->mu);
        for (int i = 0; i < WAIT_POLLS && !atomic_load_explicit(&w.done, memory_order_acquire) &&
                        !atomic_load_explicit(&w.leads, memory_order_acquire);
             i++)
            cpu_relax();
        pthread_mutex_lock(&db->mu);
        w.blocked = 1;
        while (!w.done && db->writers_head != &w)
            pthread_cond_wait(&w.cv, &db->mu);
    }
    if (w.done) {
        pthread_mutex_unlock(&db->mu);
        pthread_cond_destroy(&w.cv);
        if (w.rc != STRATA_OK)
            st_err(w.rc, "%s", w.errmsg);
        return w.rc;
    }

    /* This thread leads a commit group. */
    int rc = db->bg_error != STRATA_OK ? st_db_readonly_error(db)
                                       : st_db_make_room(db, batch->count == 0);
    strata_batch *group = batch;
    st_writer *last = &w;
    uint64_t first_seq = 0;
    int sync = 0;
    if (rc == STRATA_OK) {
        last = build_group(db, &w, &group);
        for (st_writer *m = &w;; m = m->next) {
            sync |= m->sync;
            if (m == last)
                break;
        }
        first_seq = db->alloc_seq + 1;
        db->alloc_seq += group->count;
        st_batch_set_seq(group, first_seq);
    }
    st_memtable *mem = db->mem;
    st_wal_writer *wal = db->wal;
    pthread_mutex_unlock(&db->mu);

    if (rc == STRATA_OK && w.disable_wal && group->count > 0)
        atomic_store(&db->unlogged, 1);
    if (rc == STRATA_OK && group->count == 0) {
        /* an empty group (strata_flush's rotation request): nothing to log or apply */
    } else if (rc == STRATA_OK && !w.disable_wal) {
        rc = st_wal_writer_add(wal, group->rep.data, group->rep.len);
        if (rc == STRATA_OK && sync) {
            rc = st_wal_writer_sync(wal);
            atomic_fetch_add_explicit(&db->stats.wal_syncs, 1, memory_order_relaxed);
        }
        atomic_fetch_add_explicit(&db->stats.wal_records, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&db->stats.wal_bytes, group->rep.len, memory_order_relaxed);
    }
    int wal_rc = rc;
    if (rc == STRATA_OK && group->count > 0)
        rc = st_db_apply_batch(mem, group->rep.data, group->rep.len, "commit group");

    pthread_mutex_lock(&db->mu);
    if (rc == STRATA_OK && group->count > 0) {
        atomic_store_explicit(&db->last_seq, first_seq + group->count - 1, memory_order_release);
        atomic_fetch_add_explicit(&db->stats.groups, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&db->stats.user_bytes, group->kv_bytes, memory_order_relaxed);
    } else if (first_seq != 0) {
        /* The WAL may hold a partial record (or a record the memtable lacks): stop writes. */
        st_db_set_bg_error(db, wal_rc != STRATA_OK ? wal_rc : rc);
    }
    const char *msg = rc != STRATA_OK ? st_errmsg() : "";
    for (;;) {
        st_writer *m = db->writers_head;
        db->writers_head = m->next;
        if (!db->writers_head)
            db->writers_tail = NULL;
        if (rc == STRATA_OK) {
            atomic_fetch_add_explicit(&db->stats.batches, 1, memory_order_relaxed);
        }
        if (m != &w) {
            m->rc = rc;
            snprintf(m->errmsg, sizeof(m->errmsg), "%s", msg);
            atomic_store_explicit(&m->done, 1, memory_order_release);
            if (m->blocked)
                pthread_cond_signal(&m->cv);
        }
        if (m == last)
            break;
    }
    if (db->writers_head) {
        atomic_store_explicit(&db->writers_head->leads, 1, memory_order_release);
        if (db->writers_head->blocked)
            pthread_cond_signal(&db->writers_head->cv);
    }
    pthread_mutex_unlock(&db->mu);
    pthread_cond_destroy(&w.cv);
    return rc;
}
