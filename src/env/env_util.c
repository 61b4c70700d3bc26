/* SPDX-License-Identifier: Apache-2.0 */
/* env_util.c -- helpers built only on the st_env vtable (so they work over any env). */
#include "env/env.h"
#include "util/alloc.h"
#include "util/crc32c.h"

#include <stdio.h>
#include <string.h>

int
st_file_read_exact(st_file *f, uint64_t off, void *buf, size_t n)
{
    size_t got = 0;
    ST_RET(st_file_read_at(f, off, buf, n, &got));
    if (got != n)
        return st_err(STRATA_CORRUPT, "%s: short read at offset %llu (wanted %zu bytes, got %zu)",
                      f->path, (unsigned long long)off, n, got);
    return STRATA_OK;
}

void
st_env_free_list(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        st_free(names[i]);
    st_free(names);
}

int
st_env_read_file(st_env *env, const char *path, st_buf *b)
{
    st_file *f = NULL;
    st_buf_clear(b);
    ST_RET(env->open(env, path, ST_OPEN_READ, &f));
    uint64_t size = 0;
    int rc = st_file_size(f, &size);
    if (rc == STRATA_OK)
        rc = st_buf_reserve(b, (size_t)size);
    if (rc == STRATA_OK) {
        size_t got = 0;
        rc = st_file_read_at(f, 0, b->data, (size_t)size, &got);
        b->len = got;
    }
    int crc = st_file_close(f);
    return rc != STRATA_OK ? rc : crc;
}

int
st_env_file_crc32c(st_env *env, const char *path, uint64_t *size, uint32_t *crc)
{
    enum { STEP = 1 << 20 };
    st_file *f = NULL;
    *size = 0;
    *crc = 0;
    ST_RET(env->open(env, path, ST_OPEN_READ, &f));
    uint8_t *buf = st_malloc(STEP);
    int rc = buf ? STRATA_OK : st_err(STRATA_NOMEM, "checksum of %s", path);
    uint64_t off = 0;
    while (rc == STRATA_OK) {
        size_t got = 0;
        rc = st_file_read_at(f, off, buf, STEP, &got);
        if (rc != STRATA_OK || got == 0)
            break;
        *crc = st_crc32c_extend(*crc, buf, got);
        off += got;
    }
    *size = off;
    st_free(buf);
    int crc_rc = st_file_close(f);
    return rc != STRATA_OK ? rc : crc_rc;
}

char *
st_path_join(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    char *p = st_malloc(dl + nl + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, dl);
    p[dl] = '/';
    memcpy(p + dl + 1, name, nl + 1);
    return p;
}

int
st_env_write_file_atomic(st_env *env, const char *dir, const char *name, const void *data, size_t n)
{
    char tmpname[256];
    snprintf(tmpname, sizeof(tmpname), "%s.tmp", name);
    char *tmp = st_path_join(dir, tmpname);
    char *dst = st_path_join(dir, name);
    st_file *f = NULL;
    int rc = STRATA_OK;
    if (!tmp || !dst) {
        rc = st_err(STRATA_NOMEM, "out of memory");
        goto err;
    }
    ST_ERR(env->open(env, tmp, ST_OPEN_WRITE | ST_OPEN_CREATE | ST_OPEN_TRUNC, &f));
    ST_ERR(st_file_append(f, data, n));
    ST_ERR(st_file_sync(f));
    rc = st_file_close(f);
    f = NULL;
    if (rc != STRATA_OK)
        goto err;
    ST_ERR(env->rename(env, tmp, dst));
    ST_ERR(env->sync_dir(env, dir));
err:
    if (f)
        st_file_close(f);
    if (rc != STRATA_OK && tmp)
        env->remove(env, tmp); /* best effort; the error that matters is already set */
    st_free(tmp);
    st_free(dst);
    return rc;
}

static int
copy_file(st_env *env, const char *from, const char *to)
{
    enum { STEP = 1 << 20 };
    st_file *in = NULL, *out = NULL;
    uint8_t *buf = st_malloc(STEP);
    int rc = STRATA_OK;
    if (!buf)
        return st_err(STRATA_NOMEM, "out of memory copying %s", from);
    ST_ERR(env->open(env, from, ST_OPEN_READ, &in));
    ST_ERR(env->open(env, to, ST_OPEN_WRITE | ST_OPEN_CREATE | ST_OPEN_EXCL, &out));
    for (uint64_t off = 0;;) {
        size_t got = 0;
        ST_ERR(st_file_read_at(in, off, buf, STEP, &got));
        if (got == 0)
            break;
        ST_ERR(st_file_append(out, buf, got));
        off += got;
    }
    ST_ERR(st_file_sync(out));
    rc = st_file_close(out);
    out = NULL;
err:
    st_file_close(in);
    if (out)
        st_file_close(out);
    if (rc != STRATA_OK)
        env->remove(env, to); /* best effort: the copy is incomplete */
    st_free(buf);
    return rc;
}

int
st_env_link_or_copy(st_env *env, const char *from, const char *to)
{
    if (env->version >= 2 && env->link) {
        int rc = env->link(env, from, to);
        if (rc != STRATA_NOTSUP)
            return rc;
    }
    return copy_file(env, from, to);
}
