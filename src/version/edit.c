/* SPDX-License-Identifier: Apache-2.0 */
/* edit.c -- version edit encoding (doc/format_manifest.md, "Version edit encoding"). */
#include "util/alloc.h"
#include "version/version.h"

#include <string.h>

enum {
    TAG_HEADER = 1,
    TAG_SNAPSHOT = 2,
    TAG_LOG_NUMBER = 3,
    TAG_NEXT_FILE = 4,
    TAG_LAST_SEQ = 5,
    TAG_ADD_TABLE = 6,
    TAG_REMOVE_TABLE = 7,
    TAG_FIRST_OPTIONAL = 64,
    TAG_TABLE_CRC = 64 /* optional: fnum (varint), fixed32 CRC-32C of the whole table file */
};

#define MANIFEST_MAGIC "STRATAMF"
#define MANIFEST_VERSION 1

void
st_table_meta_free(st_table_meta *m)
{
    if (!m)
        return;
    st_free(m->smallest);
    st_free(m->largest);
    m->smallest = m->largest = NULL;
}

int
st_table_meta_copy(st_table_meta *dst, const st_table_meta *src)
{
    *dst = *src;
    dst->smallest = st_memdup(src->smallest, src->smallest_len);
    dst->largest = st_memdup(src->largest, src->largest_len);
    if (!dst->smallest || !dst->largest) {
        st_table_meta_free(dst);
        return st_err(STRATA_NOMEM, "out of memory copying table metadata");
    }
    return STRATA_OK;
}

void
st_edit_init(st_version_edit *e)
{
    memset(e, 0, sizeof(*e));
}

void
st_edit_free(st_version_edit *e)
{
    for (size_t i = 0; i < e->nadded; i++)
        st_table_meta_free(&e->added[i]);
    st_free(e->added);
    st_free(e->removed);
    st_edit_init(e);
}

int
st_edit_add_table(st_version_edit *e, const st_table_meta *m)
{
    st_table_meta *a = st_realloc(e->added, (e->nadded + 1) * sizeof(*a));
    if (!a)
        return st_err(STRATA_NOMEM, "out of memory building a version edit");
    e->added = a;
    ST_RET(st_table_meta_copy(&a[e->nadded], m));
    e->nadded++;
    return STRATA_OK;
}

int
st_edit_remove_table(st_version_edit *e, uint64_t fnum)
{
    uint64_t *r = st_realloc(e->removed, (e->nremoved + 1) * sizeof(*r));
    if (!r)
        return st_err(STRATA_NOMEM, "out of memory building a version edit");
    e->removed = r;
    r[e->nremoved++] = fnum;
    return STRATA_OK;
}

/* Append a field: tag, length, payload. */
static int
put_field(st_buf *out, uint32_t tag, const st_buf *payload)
{
    ST_RET(st_buf_put_varint64(out, tag));
    return st_buf_put_lenprefixed(out, payload->data, payload->len);
}

static int
put_u64_field(st_buf *out, uint32_t tag, uint64_t v)
{
    uint8_t tmp[ST_MAX_VARINT64];
    size_t n = (size_t)(st_put_varint64(tmp, v) - tmp);
    ST_RET(st_buf_put_varint64(out, tag));
    return st_buf_put_lenprefixed(out, tmp, n);
}

int
st_edit_encode(const st_version_edit *e, int with_header, st_buf *out)
{
    st_buf f;
    st_buf_init(&f);
    int rc = STRATA_OK;
    st_buf_clear(out);
    if (with_header) {
        ST_ERR(st_buf_append(&f, MANIFEST_MAGIC, 8));
        ST_ERR(st_buf_put_fixed32(&f, MANIFEST_VERSION));
        ST_ERR(put_field(out, TAG_HEADER, &f));
    }
    if (e->snapshot) {
        st_buf_clear(&f);
        ST_ERR(put_field(out, TAG_SNAPSHOT, &f));
    }
    if (e->has_log_number)
        ST_ERR(put_u64_field(out, TAG_LOG_NUMBER, e->log_number));
    if (e->has_next_file)
        ST_ERR(put_u64_field(out, TAG_NEXT_FILE, e->next_file));
    if (e->has_last_seq)
        ST_ERR(put_u64_field(out, TAG_LAST_SEQ, e->last_seq));
    for (size_t i = 0; i < e->nremoved; i++)
        ST_ERR(put_u64_field(out, TAG_REMOVE_TABLE, e->removed[i]));
    for (size_t i = 0; i < e->nadded; i++) {
        const st_table_meta *m = &e->added[i];
        st_buf_clear(&f);
        uint64_t nums[7] = {m->fnum,    m->file_size, m->entries,   m->tombstones,
                            m->min_seq, m->max_seq,   m->created_us};
        for (int j = 0; j < 7; j++)
            ST_ERR(st_buf_put_varint64(&f, nums[j]));
        ST_ERR(st_buf_put_lenprefixed(&f, m->smallest, m->smallest_len));
        ST_ERR(st_buf_put_lenprefixed(&f, m->largest, m->largest_len));
        ST_ERR(put_field(out, TAG_ADD_TABLE, &f));
        if (m->has_file_crc) {
            st_buf_clear(&f);
            ST_ERR(st_buf_put_varint64(&f, m->fnum));
            ST_ERR(st_buf_put_fixed32(&f, m->file_crc));
            ST_ERR(put_field(out, TAG_TABLE_CRC, &f));
        }
    }
err:
    st_buf_free(&f);
    return rc;
}

static int
corrupt(const char *what, const char *why)
{
    return st_err(STRATA_CORRUPT, "%s: bad version edit: %s", what, why);
}

static const uint8_t *
get_bytes(const uint8_t *p, const uint8_t *end, uint8_t **out, size_t *len)
{
    uint64_t n;
    p = st_get_varint64(p, end, &n);
    if (!p || n > (uint64_t)(end - p) || n > STRATA_MAX_KEY_SIZE)
        return NULL;
    *out = st_memdup(p, (size_t)n);
    if (!*out)
        return NULL;
    *len = (size_t)n;
    return p + n;
}

static int
decode_table(const uint8_t *p, const uint8_t *end, st_table_meta *m, const char *what)
{
    memset(m, 0, sizeof(*m));
    uint64_t *nums[7] = {&m->fnum,    &m->file_size, &m->entries,   &m->tombstones,
                         &m->min_seq, &m->max_seq,   &m->created_us};
    for (int j = 0; j < 7; j++)
        if (!(p = st_get_varint64(p, end, nums[j])))
            return corrupt(what, "truncated add_table");
    if (!(p = get_bytes(p, end, &m->smallest, &m->smallest_len)) ||
        !(p = get_bytes(p, end, &m->largest, &m->largest_len))) {
        st_table_meta_free(m);
        return corrupt(what, "bad key range in add_table");
    }
    if (p != end || m->fnum == 0 || m->min_seq > m->max_seq || m->tombstones > m->entries ||
        st_bytes_cmp(m->smallest, m->smallest_len, m->largest, m->largest_len) > 0) {
        st_table_meta_free(m);
        return corrupt(what, "inconsistent add_table");
    }
    return STRATA_OK;
}

static int
decode_u64(const uint8_t *p, const uint8_t *end, uint64_t *v, const char *what)
{
    if (!(p = st_get_varint64(p, end, v)) || p != end)
        return corrupt(what, "bad integer field");
    return STRATA_OK;
}

int
st_edit_decode(const uint8_t *p, size_t n, st_version_edit *e, int *had_header, const char *what)
{
    const uint8_t *end = p + n;
    int rc = STRATA_OK;
    *had_header = 0;
    int first = 1;
    while (p < end) {
        uint64_t tag, len;
        if (!(p = st_get_varint64(p, end, &tag)) || !(p = st_get_varint64(p, end, &len)) ||
            len > (uint64_t)(end - p))
            return corrupt(what, "truncated field");
        const uint8_t *f = p, *fend = p + len;
        p = fend;
        switch (tag) {
        case TAG_HEADER:
            if (!first)
                return corrupt(what, "header field not first");
            if (len != 12 || memcmp(f, MANIFEST_MAGIC, 8) != 0)
                return st_err(STRATA_CORRUPT, "%s: not a strata manifest (bad magic)", what);
            if (st_get_fixed32(f + 8) != MANIFEST_VERSION)
                return st_err(STRATA_NOTSUP, "%s: manifest format version %u is not supported",
                              what, st_get_fixed32(f + 8));
            *had_header = 1;
            break;
        case TAG_SNAPSHOT:
            if (len != 0)
                return corrupt(what, "snapshot field has a payload");
            e->snapshot = 1;
            break;
        case TAG_LOG_NUMBER:
            ST_RET(decode_u64(f, fend, &e->log_number, what));
            e->has_log_number = 1;
            break;
        case TAG_NEXT_FILE:
            ST_RET(decode_u64(f, fend, &e->next_file, what));
            e->has_next_file = 1;
            break;
        case TAG_LAST_SEQ:
            ST_RET(decode_u64(f, fend, &e->last_seq, what));
            e->has_last_seq = 1;
            break;
        case TAG_REMOVE_TABLE: {
            uint64_t fnum = 0;
            ST_RET(decode_u64(f, fend, &fnum, what));
            ST_RET(st_edit_remove_table(e, fnum));
            break;
        }
        case TAG_ADD_TABLE: {
            st_table_meta m;
            ST_RET(decode_table(f, fend, &m, what));
            rc = st_edit_add_table(e, &m);
            st_table_meta_free(&m);
            ST_RET(rc);
            break;
        }
        case TAG_TABLE_CRC: {
            /* follows the add_table of the same edit that it describes */
            uint64_t fnum = 0;
            const uint8_t *q = st_get_varint64(f, fend, &fnum);
            if (!q || fend - q != 4 || e->nadded == 0 || e->added[e->nadded - 1].fnum != fnum)
                return corrupt(what, "table checksum field without its add_table");
            e->added[e->nadded - 1].file_crc = st_get_fixed32(q);
            e->added[e->nadded - 1].has_file_crc = 1;
            break;
        }
        default:
            if (tag < TAG_FIRST_OPTIONAL)
                return st_err(STRATA_NOTSUP, "%s: version edit field %llu is not supported", what,
                              (unsigned long long)tag);
            break; /* optional field from a newer writer: skip */
        }
        first = 0;
    }
    return STRATA_OK;
}
