/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_state.c -- small shared accessors of the database state that every other part of src/db
 * uses: the handle check, the sticky background error, file numbers, file removal and the
 * list of live snapshots. It calls nothing else in src/db.
 */
#include "db/db_impl.h"
#include "util/alloc.h"

#include <stdio.h>
#include <string.h>

int
st_db_check(const strata_db *db)
{
    if (!db)
        return st_err(STRATA_INVALID, "database handle is NULL");
    uint64_t m = atomic_load_explicit(&((strata_db *)db)->magic, memory_order_relaxed);
    if (m != ST_DB_MAGIC)
        return st_err(STRATA_INVALID, "not an open database handle (closed or invalid)");
    return STRATA_OK;
}

void
st_db_set_bg_error(strata_db *db, int rc)
{
    if (db->bg_error == STRATA_OK) {
        db->bg_error = rc;
        snprintf(db->bg_errmsg, sizeof(db->bg_errmsg), "%s", st_errmsg());
    }
    /* wake everyone waiting for background progress (flush, wait_idle, stalled writers): it
     * will not come now */
    pthread_cond_broadcast(&db->bg_cv);
}

int
st_db_readonly_error(const strata_db *db)
{
    /* "NOSPC" out of "STRATA_NOSPC: no space left on device" */
    const char *name = strata_errstr(db->bg_error);
    size_t n = strcspn(name, ":");
    if (strncmp(name, "STRATA_", 7) == 0 && n > 7) {
        name += 7;
        n -= 7;
    }
    return st_err(STRATA_READONLY,
                  "read-only after background error: %.*s: %s (reopen the database to recover)",
                  (int)n, name, db->bg_errmsg);
}

/* STRATA_OK, or the sticky background error with its message (REQUIRES mu). */
int
st_db_bg_status(strata_db *db)
{
    if (db->bg_error != STRATA_OK)
        return st_err(db->bg_error, "background error: %s", db->bg_errmsg);
    return STRATA_OK;
}

uint64_t
st_db_alloc_file_number(void *arg)
{
    strata_db *db = arg;
    pthread_mutex_lock(&db->mu);
    uint64_t n = db->next_file++;
    pthread_mutex_unlock(&db->mu);
    return n;
}

void
st_db_remove_file(strata_db *db, uint64_t num, st_file_kind kind)
{
    char *p = st_file_path(db->path, kind, num);
    if (p)
        db->env->remove(db->env, p);
    st_free(p);
}

void
st_db_snapshot_link(strata_db *db, strata_snapshot *s)
{
    /* from the newest end: a new snapshot takes the last sequence number, so it goes last */
    strata_snapshot *at = db->snapshots.prev;
    while (at != &db->snapshots && at->seq > s->seq)
        at = at->prev;
    s->prev = at;
    s->next = at->next;
    at->next->prev = s;
    at->next = s;
}

void
st_db_snapshot_unlink(strata_snapshot *s)
{
    s->prev->next = s->next;
    s->next->prev = s->prev;
    s->prev = s->next = s;
}

void
st_db_sources_changed(strata_db *db)
{
    atomic_fetch_add_explicit(&db->view_gen, 1, memory_order_relaxed);
}

/* Copy the live snapshot sequence numbers (ascending). REQUIRES mu. */
int
st_db_copy_snapshots(strata_db *db, uint64_t **out, size_t *n)
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
