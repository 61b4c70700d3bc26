/* SPDX-License-Identifier: Apache-2.0 */
/* sst_verify.c -- full consistency check of one table. */
#include "sst/sst_internal.h"
#include "util/alloc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void say(st_buf *report, const char *fmt, ...) ST_PRINTF(2, 3);

static void
say(st_buf *report, const char *fmt, ...)
{
    if (!report)
        return;
    char line[ST_ERRMSG_MAX + 128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n > 0)
        (void)st_buf_append(report, line, strlen(line));
}

/* Walk every page of chunk (g, c) in file order: CRC, decode, row count. */
static int
verify_chunk(st_sst_reader *r, uint32_t g, int c, uint64_t *pages)
{
    st_sst_rg *rg = &r->rgs[g];
    int64_t off = rg->dict_off[c] >= 0 ? rg->dict_off[c] : rg->cm[c]->data_page_offset;
    int64_t rows = 0;
    st_pq_page *dict = NULL;
    int rc = STRATA_OK;
    while (off < rg->chunk_end[c]) {
        st_pq_page *pg = NULL;
        int type = -1;
        int64_t next = 0;
        rc = st_sst_read_page(r, g, c, off, 0, rg->chunk_end[c], dict, 1, &pg, &type, &next);
        if (rc != STRATA_OK)
            break;
        (*pages)++;
        if (type == ST_PQ_DICTIONARY_PAGE) {
            st_pq_page_free(dict);
            dict = pg;
        } else if (pg) {
            if (c != ST_SST_COL_VALUE && pg->nulls)
                rc = st_err(STRATA_CORRUPT, "%s: null in column %s at offset %lld", r->path,
                            st_sst_col_names[c], (long long)off);
            /* readers take a known column's values from its chunk statistics: they must agree */
            for (uint32_t i = 0; rc == STRATA_OK && rg->known[c] && i < pg->n; i++)
                if (pg->ints[i] != rg->known_val[c])
                    rc = st_err(STRATA_CORRUPT,
                                "%s: row group %u column %s holds %lld at offset %lld, its "
                                "statistics say every row holds %lld",
                                r->path, g, st_sst_col_names[c], (long long)pg->ints[i],
                                (long long)off, (long long)rg->known_val[c]);
            rows += pg->n;
            st_pq_page_free(pg);
        }
        if (rc != STRATA_OK)
            break;
        off = next;
    }
    st_pq_page_free(dict);
    if (rc == STRATA_OK && rows != rg->num_rows)
        rc = st_err(STRATA_CORRUPT, "%s: row group %u column %s has %lld rows, expected %lld",
                    r->path, g, st_sst_col_names[c], (long long)rows, (long long)rg->num_rows);
    return rc;
}

/* Read every entry in order and compare with the footer metadata. */
static int
verify_entries(st_sst_reader *r, st_buf *report)
{
    st_sst_cursor cur;
    st_sst_cursor_init(&cur, r, 0);
    cur.readahead = 1;
    st_buf prev = {0};
    uint64_t prevseq = 0, n = 0, tomb = 0, mins = UINT64_MAX, maxs = 0;
    int rc = st_sst_cursor_first(&cur);
    while (rc == STRATA_OK && cur.valid) {
        const uint8_t *k, *v;
        size_t kl, vl;
        uint64_t s;
        int kind;
        rc = st_sst_cursor_entry(&cur, &k, &kl, &s, &kind, &v, &vl);
        if (rc != STRATA_OK)
            break;
        if (n > 0 && st_entry_cmp(prev.data, prev.len, prevseq, k, kl, s) >= 0) {
            rc = st_err(STRATA_CORRUPT,
                        "%s: row %" PRIu64 " (row group %u row %lld) is out of order: rows must "
                        "be sorted by key ascending, then seqno descending, with no duplicate",
                        r->path, n, cur.g, (long long)cur.row);
            break;
        }
        st_buf_clear(&prev);
        if ((rc = st_buf_append(&prev, k, kl)) != STRATA_OK)
            break;
        /* with range tombstones the bounds may be a tombstone's begin / end instead */
        int c0 = st_bytes_cmp(k, kl, r->meta.smallest, r->meta.smallest_len);
        if (n == 0 && (r->meta.range_tombstones ? c0 < 0 : c0 != 0)) {
            rc = st_err(STRATA_CORRUPT,
                        "%s: row 0: its key differs from the smallest key of the footer (key "
                        "bounds)",
                        r->path);
            break;
        }
        prevseq = s;
        n++;
        tomb += kind == ST_KIND_DELETE;
        mins = s < mins ? s : mins;
        maxs = s > maxs ? s : maxs;
        rc = st_sst_cursor_next(&cur);
    }
    st_sst_cursor_release(&cur);
    int cl = n > 0 ? st_bytes_cmp(prev.data, prev.len, r->meta.largest, r->meta.largest_len) : 0;
    if (rc == STRATA_OK && (r->meta.range_tombstones ? cl > 0 : cl != 0))
        rc = st_err(STRATA_CORRUPT,
                    "%s: row %" PRIu64 ": its key differs from the largest key of the footer (key "
                    "bounds)",
                    r->path, n - 1);
    st_buf_free(&prev);
    if (rc == STRATA_OK && (n != r->meta.entries - r->meta.range_tombstones ||
                            (r->strata_meta && tomb != r->meta.tombstones) ||
                            (n && (mins < r->meta.min_seq || maxs > r->meta.max_seq))))
        rc = st_err(STRATA_CORRUPT,
                    "%s: the rows' count (%" PRIu64 "), tombstones (%" PRIu64
                    ") or seqno range (%" PRIu64 "..%" PRIu64 ") differ from the footer's",
                    r->path, n, tomb, n ? mins : 0, maxs);
    if (rc == STRATA_OK)
        say(report,
            "entries: %" PRIu64 " (%" PRIu64 " tombstones), seqno %" PRIu64 "..%" PRIu64
            ", order ok\n",
            n, tomb, n ? mins : 0, maxs);
    if (rc == STRATA_OK && r->meta.range_tombstones) {
        rc = st_sst_range_dels_read(r, NULL, NULL);
        if (rc == STRATA_OK)
            say(report, "range tombstones: %" PRIu64 " (last row group), order ok\n",
                r->meta.range_tombstones);
    }
    return rc;
}

int
st_sst_verify(st_env *env, const char *path, st_buf *report)
{
    st_sst_reader *r = NULL;
    int rc = st_sst_reader_open_flags(env, path, NULL, ST_SST_OPEN_RAW, &r);
    if (rc != STRATA_OK) {
        say(report, "%s: open failed: %s\n", path, st_errmsg());
        return rc;
    }
    say(report, "%s: %" PRIu64 " bytes, %u row groups\n", path, r->file_size, r->nrgs);
    uint64_t pages = 0;
    uint32_t ngroups = r->nrgs + (r->meta.range_tombstones ? 1 : 0);
    for (uint32_t g = 0; g < ngroups && rc == STRATA_OK; g++)
        for (int c = 0; c < ST_SST_NCOLS && rc == STRATA_OK; c++)
            rc = verify_chunk(r, g, c, &pages);
    if (rc == STRATA_OK) {
        say(report, "pages: %" PRIu64 ", all checksums and encodings ok\n", pages);
        rc = verify_entries(r, report);
    }
    if (rc != STRATA_OK)
        say(report, "FAILED: %s\n", st_errmsg());
    st_sst_reader_unref(r);
    return rc;
}
