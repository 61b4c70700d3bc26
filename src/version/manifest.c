/* SPDX-License-Identifier: Apache-2.0 */
/* manifest.c -- the manifest log and CURRENT (doc/format_manifest.md). */
#include "util/alloc.h"
#include "version/filename.h"
#include "version/version.h"
#include "wal/wal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct st_manifest {
    st_wal_writer *w;
    uint64_t number;
    st_buf scratch;
};

void
st_manifest_state_free(st_manifest_state *s)
{
    for (size_t i = 0; i < s->ntables; i++)
        st_table_meta_free(&s->tables[i]);
    st_free(s->tables);
    memset(s, 0, sizeof(*s));
}

static ptrdiff_t
find_table(const st_manifest_state *s, uint64_t fnum)
{
    for (size_t i = 0; i < s->ntables; i++)
        if (s->tables[i].fnum == fnum)
            return (ptrdiff_t)i;
    return -1;
}

int
st_manifest_state_apply(st_manifest_state *s, const st_version_edit *e, const char *what)
{
    if (e->snapshot) {
        for (size_t i = 0; i < s->ntables; i++)
            st_table_meta_free(&s->tables[i]);
        s->ntables = 0;
    }
    for (size_t i = 0; i < e->nremoved; i++) {
        ptrdiff_t at = find_table(s, e->removed[i]);
        if (at < 0)
            return st_err(STRATA_CORRUPT, "%s: edit removes table %" PRIu64 " which is not live",
                          what, e->removed[i]);
        st_table_meta_free(&s->tables[at]);
        s->tables[at] = s->tables[--s->ntables];
    }
    if (e->nadded) {
        st_table_meta *t = st_realloc(s->tables, (s->ntables + e->nadded) * sizeof(*t));
        if (!t)
            return st_err(STRATA_NOMEM, "out of memory applying a version edit");
        s->tables = t;
        for (size_t i = 0; i < e->nadded; i++) {
            if (find_table(s, e->added[i].fnum) >= 0)
                return st_err(STRATA_CORRUPT, "%s: edit adds table %" PRIu64 " twice", what,
                              e->added[i].fnum);
            ST_RET(st_table_meta_copy(&s->tables[s->ntables], &e->added[i]));
            s->ntables++;
        }
    }
    if (e->has_log_number)
        s->log_number = e->log_number;
    if (e->has_next_file)
        s->next_file = e->next_file;
    if (e->has_last_seq)
        s->last_seq = e->last_seq;
    for (size_t i = 0; i < s->ntables; i++)
        if (s->tables[i].fnum >= s->next_file)
            s->next_file = s->tables[i].fnum + 1;
    return STRATA_OK;
}

int
st_manifest_append(st_manifest *m, const st_version_edit *e)
{
    ST_RET(st_edit_encode(e, 0, &m->scratch));
    ST_RET(st_wal_writer_add(m->w, m->scratch.data, m->scratch.len));
    return st_wal_writer_sync(m->w);
}

int
st_manifest_create(st_env *env, const char *dir, uint64_t number, const st_manifest_state *state,
                   st_manifest **out)
{
    *out = NULL;
    char *path = st_file_path(dir, ST_FILE_MANIFEST, number);
    st_manifest *m = st_calloc(1, sizeof(*m));
    st_version_edit e;
    st_edit_init(&e);
    int rc = STRATA_OK;
    if (!path || !m) {
        rc = st_err(STRATA_NOMEM, "out of memory creating a manifest");
        goto err;
    }
    m->number = number;
    e.snapshot = 1;
    e.has_log_number = e.has_next_file = e.has_last_seq = 1;
    e.log_number = state->log_number;
    e.next_file = state->next_file;
    e.last_seq = state->last_seq;
    for (size_t i = 0; i < state->ntables; i++)
        ST_ERR(st_edit_add_table(&e, &state->tables[i]));
    ST_ERR(st_edit_encode(&e, 1, &m->scratch));
    ST_ERR(st_wal_writer_open(env, path, number, &m->w));
    ST_ERR(st_wal_writer_add(m->w, m->scratch.data, m->scratch.len));
    ST_ERR(st_wal_writer_sync(m->w));
    /* the new manifest's directory entry must be durable before CURRENT can name it */
    ST_ERR(env->sync_dir(env, dir));
    {
        char name[ST_FILE_NAME_MAX], cur[ST_FILE_NAME_MAX + 1];
        int n = snprintf(cur, sizeof(cur), "%s\n",
                         st_file_name(ST_FILE_MANIFEST, number, name, sizeof(name)));
        rc = st_env_write_file_atomic(env, dir, ST_FILE_CURRENT_NAME, cur, (size_t)n);
        if (rc != STRATA_OK) {
            /* CURRENT may already name the new manifest (the rename happened, a later sync
             * failed): keep the file; the next open removes whichever manifest is not live. */
            st_wal_writer_close(m->w);
            m->w = NULL;
            goto err;
        }
    }
    *out = m;
    m = NULL;
err:
    if (rc != STRATA_OK && m && m->w) {
        st_wal_writer_close(m->w);
        m->w = NULL;
        env->remove(env, path); /* never named by CURRENT: safe to drop */
    }
    if (m) {
        st_buf_free(&m->scratch);
        st_free(m);
    }
    st_edit_free(&e);
    st_free(path);
    return rc;
}

uint64_t
st_manifest_size(const st_manifest *m)
{
    return st_wal_writer_size(m->w);
}

uint64_t
st_manifest_number(const st_manifest *m)
{
    return m->number;
}

int
st_manifest_close(st_manifest *m)
{
    if (!m)
        return STRATA_OK;
    int rc = st_wal_writer_close(m->w);
    st_buf_free(&m->scratch);
    st_free(m);
    return rc;
}

typedef struct drop_ctx {
    uint64_t bytes;
} drop_ctx;

static void
on_drop(void *arg, const char *path, uint64_t offset, uint64_t bytes, const char *reason)
{
    (void)path;
    (void)offset;
    (void)reason;
    ((drop_ctx *)arg)->bytes += bytes;
}

/* Parse CURRENT's contents: a manifest's name and "\n". */
static int
parse_current(const st_buf *b, uint64_t *number, const char *path)
{
    char name[ST_FILE_NAME_MAX];
    if (b->len < 2 || b->len > sizeof(name) || b->data[b->len - 1] != '\n')
        return st_err(STRATA_CORRUPT, "%s: does not name a manifest (run strata repair)", path);
    memcpy(name, b->data, b->len - 1);
    name[b->len - 1] = '\0';
    if (strlen(name) != b->len - 1 || st_file_parse(name, number) != ST_FILE_MANIFEST)
        return st_err(STRATA_CORRUPT, "%s: does not name a manifest (run strata repair)", path);
    return STRATA_OK;
}

int
st_manifest_recover(st_env *env, const char *dir, st_manifest_state *state)
{
    memset(state, 0, sizeof(*state));
    char *cur = st_file_path(dir, ST_FILE_CURRENT, 0);
    char *path = NULL;
    st_buf b;
    st_buf_init(&b);
    st_wal_reader *r = NULL;
    st_version_edit e;
    st_edit_init(&e);
    drop_ctx drops = {0};
    int rc = STRATA_OK, records = 0;
    if (!cur) {
        rc = st_err(STRATA_NOMEM, "out of memory");
        goto err;
    }
    rc = st_env_read_file(env, cur, &b);
    if (rc == STRATA_NOTFOUND)
        goto err; /* no manifest yet */
    if (rc != STRATA_OK)
        goto err;
    ST_ERR(parse_current(&b, &state->manifest_number, cur));
    if (!(path = st_file_path(dir, ST_FILE_MANIFEST, state->manifest_number))) {
        rc = st_err(STRATA_NOMEM, "out of memory");
        goto err;
    }
    rc = st_wal_reader_open(env, path, STRATA_WAL_RECOVERY_TOLERATE_TAIL, on_drop, &drops, &r);
    if (rc == STRATA_NOTFOUND) {
        rc = st_err(STRATA_CORRUPT, "CURRENT names %s, which is missing (run strata repair)", path);
        goto err;
    }
    if (rc != STRATA_OK)
        goto err;
    for (;;) {
        const uint8_t *rec;
        size_t n;
        rc = st_wal_reader_next(r, &rec, &n);
        if (rc == STRATA_NOTFOUND) {
            rc = STRATA_OK;
            break;
        }
        if (rc != STRATA_OK)
            goto err;
        char what[512];
        snprintf(what, sizeof(what), "%s record %d", path, records);
        int had_header;
        st_edit_free(&e);
        ST_ERR(st_edit_decode(rec, n, &e, &had_header, what));
        if ((records == 0) != (had_header != 0)) {
            rc = st_err(STRATA_CORRUPT, "%s: manifest header %s", what,
                        records == 0 ? "missing" : "repeated");
            goto err;
        }
        ST_ERR(st_manifest_state_apply(state, &e, what));
        records++;
    }
    if (records == 0) {
        rc = st_err(STRATA_CORRUPT, "%s: manifest holds no complete record (run strata repair)",
                    path);
        goto err;
    }
    state->dropped_bytes = drops.bytes;
err:
    if (rc != STRATA_OK) {
        uint64_t num = state->manifest_number;
        st_manifest_state_free(state);
        state->manifest_number = num;
    }
    st_edit_free(&e);
    st_wal_reader_close(r);
    st_buf_free(&b);
    st_free(path);
    st_free(cur);
    return rc;
}
