/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_salvage_walk.c -- salvage of a table without its footer (st_sst_salvage_walk), in the
 * spirit of SQLite's .recover: the rows are rebuilt from the pages alone.
 *
 * st_pq_page_walk finds the pages from offset 4 on, checking every page's CRC and skipping
 * over damaged or missing bytes (gaps). What the footer would say is inferred from strata's
 * layout (doc/format_sst.md): per row group the value chunk and the key chunk (in either order:
 * earlier releases wrote the key chunk first), the seqno chunk and the kind chunk, all cut at
 * the same rows but a constant seqno or kind chunk, which is one page of the whole row group, v1
 * data pages without dictionary. A page's column follows from its encoding: DELTA_BYTE_ARRAY =
 * key, PLAIN = value, DELTA_BINARY_PACKED = seqno, then kind. So the pages form runs (value and
 * key, integers), and a value or key page after an integer page starts the next row group.
 *
 * A gap breaks the chain: the pages after it may belong to any row group, so a row group is
 * only the pages between two gaps, and a run is positioned (which rows its pages hold) only
 * when one of its ends is anchored -- it follows the file's head or the run before it with no
 * gap between (start), or the run after it follows it (end) -- and the row group's row count T
 * is known from a whole run: anchored at both ends, every page decoded. The integer run holds
 * 2T rows: seqnos, then kinds.
 *
 * The CRC covers a page's payload, not its header, so a header's value count can be wrong on a
 * page that verifies. Every page is therefore decoded (with whichever codec reproduces the
 * page's uncompressed size: the chunk codec is in the lost footer) and checked (keys sorted and
 * of 1..64 KiB, seqnos below 2^56, kinds 0..2, no bytes after a value page's last value; the
 * key and integer encodings carry their own value counts) before any page is positioned, and a
 * run is positioned from each anchored end only as far as its pages decoded and, when the key
 * run is whole, hold as many rows as the key page at the same place (or the whole row group, in
 * the integer run). A row is salvaged only when its key, value, seqno and kind pages are all
 * positioned, decoded, and start and end at the same rows (or an integer page holds the whole
 * row group); the sink then applies the row rules and the entry order. Everything else is
 * lost: rows of a known page with their keys when the key page decoded, gaps as an unknown
 * number of rows between the salvaged keys around them.
 *
 * Only the end of the file is special: the bloom filters, page indexes and footer after the
 * last page form a gap too, so whether rows were lost there is known only from the damaged
 * footer's own strata.entries / smallest / largest pairs, when they can still be found in those
 * bytes and agree exactly with what was salvaged; otherwise the rows after the last salvaged
 * key are reported as possibly lost.
 */
#include "parquet/page_walk.h"
#include "sst/sst_internal.h"
#include "sst/sst_salvage.h"
#include "util/alloc.h"
#include "util/coding.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RUN_KEY, RUN_VALUE, RUN_INT, NRUNS }; /* the integer run: seqno pages, then kind pages */

typedef struct slot {
    st_pq_page_header h;
    const uint8_t *payload;
    uint64_t off;
    int crc_ok;
    int64_t first;  /* first row of the page in its run, -1 when not positioned */
    st_pq_page *pg; /* decoded (and checked), or NULL */
    char *why;      /* why pg is NULL, once decoding was tried */
} slot;

typedef struct col_run {
    slot *s;
    uint32_t n, cap;
    int start_anch, end_anch;
    int64_t rows; /* sum of the pages' value counts */
} col_run;

typedef struct walker {
    const char *path;
    const uint8_t *file;
    size_t size;
    st_sst_sink sink;
    col_run runs[NRUNS];
    int cur;     /* run of the last page, -1 after a gap (no open row group) */
    int at_head; /* nothing was seen yet: the first page follows "PAR1" */
    int gap;     /* a gap (or a page that is not strata's) is pending */
    uint64_t gap_off;
    char gap_why[ST_ERRMSG_MAX];
    int codec[NRUNS]; /* the codec that last decoded a page of the run, -1 = none yet */
} walker;

/* ---- decoding one page ----------------------------------------------------------------------- */

static void slot_fail(slot *sl, const char *fmt, ...) ST_PRINTF(2, 3);

static void
slot_fail(slot *sl, const char *fmt, ...)
{
    char buf[ST_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    st_pq_page_free(sl->pg);
    sl->pg = NULL;
    st_free(sl->why);
    sl->why = st_strdup(buf); /* NULL (no memory): a generic reason is used */
}

/* What is wrong with a decoded page of column col, or NULL. */
static const char *
page_problem(int col, const st_pq_page *pg)
{
    if (col == ST_SST_COL_VALUE && pg->unread)
        return "bytes after its last value (its header's value count is wrong)";
    for (uint32_t i = 0; i < pg->n; i++) {
        if (col == ST_SST_COL_KEY) {
            size_t a = pg->offs[i], b = pg->offs[i + 1];
            if (b == a || b - a > ST_SST_MAX_KEY)
                return "a key of 0 or more than 65536 bytes";
            if (i > 0 && st_bytes_cmp(pg->data + pg->offs[i - 1], a - pg->offs[i - 1], pg->data + a,
                                      b - a) > 0)
                return "keys out of order";
        } else if (col == ST_SST_COL_SEQNO &&
                   (pg->ints[i] < 0 || pg->ints[i] > (int64_t)ST_SEQ_MAX)) {
            return "a seqno outside 0..2^56-1";
        } else if (col == ST_SST_COL_KIND && pg->ints[i] != ST_KIND_DELETE &&
                   pg->ints[i] != ST_KIND_PUT && pg->ints[i] != ST_KIND_RANGE_DELETE) {
            return "a kind that is not 0, 1 or 2 (range delete)";
        }
    }
    return NULL;
}

/*
 * Decode the page in slot sl as column col. The chunk's codec is unknown: the codecs are tried
 * (the run's last one first), and the first that reproduces the page's uncompressed size, decodes
 * and passes the page checks wins. Only NOMEM is an error.
 */
static int
decode_slot(walker *w, int run, slot *sl, int col)
{
    if (sl->pg || sl->why)
        return STRATA_OK;
    if (!sl->crc_ok) {
        slot_fail(sl, "%s: page at offset %llu: checksum mismatch", w->path,
                  (unsigned long long)sl->off);
        return STRATA_OK;
    }
    int cand[6], nc = 0;
    if (w->codec[run] >= 0)
        cand[nc++] = w->codec[run];
    if (sl->h.compressed_size == sl->h.uncompressed_size)
        cand[nc++] = ST_PQ_UNCOMPRESSED;
    cand[nc++] = ST_PQ_ZSTD;
    cand[nc++] = ST_PQ_LZ4_RAW;
    cand[nc++] = ST_PQ_SNAPPY;
    st_pq_column_desc d = {col <= ST_SST_COL_VALUE ? ST_PQ_BYTE_ARRAY : ST_PQ_INT64,
                           col == ST_SST_COL_VALUE, 0, 0};
    char first_why[ST_ERRMSG_MAX] = "";
    for (int i = 0; i < nc; i++) {
        if ((i > 0 && cand[i] == cand[0]) ||
            (cand[i] == ST_PQ_UNCOMPRESSED && sl->h.compressed_size != sl->h.uncompressed_size))
            continue;
        d.codec = cand[i];
        st_pq_page *pg = NULL;
        int rc = st_pq_page_decode(&d, &sl->h, sl->payload, NULL, w->path, sl->off, &pg);
        if (rc == STRATA_NOMEM)
            return rc;
        const char *bad = rc == STRATA_OK ? page_problem(col, pg) : NULL;
        if (rc == STRATA_OK && !bad) {
            sl->pg = pg;
            w->codec[run] = cand[i];
            return STRATA_OK;
        }
        st_pq_page_free(pg);
        if (!first_why[0]) {
            if (bad)
                snprintf(first_why, sizeof(first_why), "%s: %s page at offset %llu holds %s",
                         w->path, st_sst_col_names[col], (unsigned long long)sl->off, bad);
            else
                snprintf(first_why, sizeof(first_why), "%s", st_errmsg());
        }
    }
    slot_fail(sl, "%s", first_why);
    return STRATA_OK;
}

/* ---- one row group --------------------------------------------------------------------------- */

/* The pages of one column: those of s[0..n) positioned wholly inside the run's rows
 * [lo, lo + t); row r of the row group is the run's row lo + r. */
typedef struct view {
    slot *s;
    uint32_t n, i;
    int64_t lo, t;
} view;

static int
in_view(const view *v, const slot *sl)
{
    return sl->first >= v->lo && sl->first + sl->h.num_values <= v->lo + v->t;
}

/* The page of v holding row r (rows asked in increasing order), or NULL. */
static slot *
cover(view *v, int64_t r)
{
    int64_t at = v->lo + r;
    while (v->i < v->n &&
           (!in_view(v, &v->s[v->i]) || v->s[v->i].first + v->s[v->i].h.num_values <= at))
        v->i++;
    if (v->i < v->n && v->s[v->i].first <= at)
        return &v->s[v->i];
    return NULL;
}

/* The run is anchored at both ends and all its pages decoded: its page counts are its rows. */
static int
whole(const col_run *ru)
{
    int ok = ru->n && ru->start_anch && ru->end_anch;
    for (uint32_t i = 0; ok && i < ru->n; i++)
        ok = ru->s[i].pg != NULL;
    return ok;
}

/*
 * Page i of run ru may be counted when placing it at row `row` of the run (rows repeat every t,
 * the row group's row count: twice in the integer run): it decoded, and when the row group's key
 * run is whole (tm), a key page of the same value count starts at the same place (all columns
 * are cut at the same rows), or, in the integer run (whole_chunk), the page holds a whole chunk:
 * a seqno or kind column with one value throughout is a single page (doc/format_sst.md,
 * "Constant columns"). The key, seqno and kind encodings carry their own value counts, but a
 * value page's count can be off and still decode (a null row in the padding of its levels).
 */
static int
countable(const col_run *ru, uint32_t i, const col_run *tm, const int64_t *kstart, int64_t t,
          int64_t row, int whole_chunk)
{
    if (!ru->s[i].pg)
        return 0;
    if (!tm)
        return 1;
    int64_t n = ru->s[i].h.num_values;
    if (row < 0 || t <= 0)
        return 0;
    int64_t r0 = row % t;
    if (whole_chunk && r0 == 0 && n == t)
        return 1;
    /* the key page starting at r0 (kstart: the key pages' first rows, ascending) */
    uint32_t lo = 0, hi = tm->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (kstart[mid] < r0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < tm->n && kstart[lo] == r0 && tm->s[lo].h.num_values == n;
}

/*
 * Position the pages of run ru on its `total` rows (total < 0: unknown; reps: how many times
 * the row group's rows the run holds): from each anchored end, page by page, as far as the pages
 * are countable. A page that did not decode ends the count there: its header's value count may
 * be the damaged part. When the counts from both ends meet, they must agree, or nothing of the
 * run is positioned.
 */
static void
position(col_run *ru, int64_t total, const col_run *tm, const int64_t *kstart, int64_t reps)
{
    uint32_t a = 0, b = ru->n; /* s[0..a) from the start, s[b..n) from the end */
    int64_t at = 0, back = total, t = reps > 0 && total > 0 ? total / reps : 0;
    for (uint32_t i = 0; i < ru->n; i++)
        ru->s[i].first = -1;
    if (ru->start_anch)
        for (; a < ru->n && countable(ru, a, tm, kstart, t, at, reps == 2); a++) {
            ru->s[a].first = at;
            at += ru->s[a].h.num_values;
        }
    if (ru->end_anch && total >= 0)
        for (; b > 0 &&
               countable(ru, b - 1, tm, kstart, t, back - ru->s[b - 1].h.num_values, reps == 2);
             b--)
            back -= ru->s[b - 1].h.num_values;
    int ok = (total < 0 || at <= total) && (!ru->end_anch || total < 0 || back >= 0);
    if (ok && a > b) /* both counts cover s[b..a): they must put it at the same rows */
        ok = a == ru->n && b == 0 && at == total;
    else if (ok && ru->start_anch && ru->end_anch && total >= 0)
        ok = at <= back;
    if (!ok) {
        for (uint32_t i = 0; i < ru->n; i++)
            ru->s[i].first = -1;
        return;
    }
    if (ru->end_anch && total >= 0)
        for (uint32_t i = b; i < ru->n; i++) {
            ru->s[i].first = back;
            back += ru->s[i].h.num_values;
        }
}

/*
 * The row count of the row group from its whole runs: -1 unknown, -2 they disagree. The key
 * and integer runs' counts are carried by their encodings; a whole value run that disagrees
 * with them is placed page by page against the key run instead.
 */
static int64_t
group_rows(const walker *w)
{
    const col_run *k = &w->runs[RUN_KEY], *v = &w->runs[RUN_VALUE], *ir = &w->runs[RUN_INT];
    int64_t t = -1;
    if (whole(k))
        t = k->rows;
    if (whole(ir)) {
        if (ir->rows % 2 || (t >= 0 && ir->rows / 2 != t))
            return -2;
        if (t < 0 && whole(v) && v->rows != ir->rows / 2)
            return -2;
        t = ir->rows / 2;
    }
    if (t < 0 && whole(v))
        t = v->rows;
    return t;
}

/* The row group's rows cannot be lined up: report its keys (when its key pages decode). */
static int
lose_group(walker *w, const char *why)
{
    col_run *k = &w->runs[RUN_KEY];
    if (!k->n)
        return st_sst_sink_lose_unknown(&w->sink, why);
    for (uint32_t i = 0; i < k->n; i++) {
        slot *sl = &k->s[i];
        ST_RET(decode_slot(w, RUN_KEY, sl, ST_SST_COL_KEY));
        for (int32_t j = 0; j < sl->h.num_values; j++)
            ST_RET(st_sst_sink_lose(&w->sink, sl->pg ? sl->pg->data + sl->pg->offs[j] : NULL,
                                    sl->pg ? sl->pg->offs[j + 1] - sl->pg->offs[j] : 0, why));
    }
    return STRATA_OK;
}

/* Why a row is not salvaged (p: its pages per column, NULL where none is positioned; v: the
 * views they came from), or NULL. */
static const char *
row_missing(slot *const p[ST_SST_NCOLS], const view v[ST_SST_NCOLS], char *buf, size_t n)
{
    for (int c = 0; c < ST_SST_NCOLS; c++) {
        if (!p[c]) {
            snprintf(buf, n,
                     "no %s page of the row was found (its bytes are damaged or missing, or "
                     "the pages around them could not be lined up)",
                     st_sst_col_names[c]);
            return buf;
        }
        if (!p[c]->pg)
            return p[c]->why ? p[c]->why : "a page could not be decoded";
    }
    for (int c = 1; c < ST_SST_NCOLS; c++) {
        /* a seqno or kind page may hold the whole chunk (a constant column) */
        if (c >= ST_SST_COL_SEQNO && p[c]->first == v[c].lo && p[c]->h.num_values == v[c].t)
            continue;
        if (p[c]->h.num_values != p[0]->h.num_values ||
            p[c]->first - v[c].lo != p[0]->first - v[0].lo)
            return "the row's key, value, seqno and kind pages do not hold the same rows";
    }
    return NULL;
}

static int
salvage_group(walker *w)
{
    /* decode first: where a page does not decode, its header's value count is not trusted */
    static const int first_col[NRUNS] = {ST_SST_COL_KEY, ST_SST_COL_VALUE, ST_SST_COL_SEQNO};
    for (int c = 0; c < NRUNS; c++)
        for (uint32_t i = 0; i < w->runs[c].n; i++)
            ST_RET(decode_slot(w, c, &w->runs[c].s[i], first_col[c]));
    int64_t t = group_rows(w);
    if (t == -2)
        return lose_group(w, "the columns of a row group disagree on its row count (page headers "
                             "misread or pages missing)");
    if (t < 0) { /* no whole run bounded on both sides: the row count is unknown */
        const char *why = w->runs[RUN_INT].n ? "the key pages of a row group are damaged or missing"
                          : w->runs[RUN_VALUE].n
                              ? "the seqno and kind pages of a row group are damaged or missing"
                              : "the value, seqno and kind pages of a row group are damaged or "
                                "missing";
        return lose_group(w, why);
    }
    const col_run *tm = whole(&w->runs[RUN_KEY]) ? &w->runs[RUN_KEY] : NULL;
    /* the whole key run's page starts, for countable (a scan per page was quadratic) */
    int64_t *kstart = tm ? st_malloc(tm->n * sizeof(*kstart)) : NULL;
    if (tm && !kstart)
        return st_err(STRATA_NOMEM, "%s: salvage", w->path);
    int64_t at = 0;
    for (uint32_t k = 0; tm && k < tm->n; k++) {
        kstart[k] = at;
        at += tm->s[k].h.num_values;
    }
    position(&w->runs[RUN_KEY], t, NULL, NULL, 0);
    position(&w->runs[RUN_VALUE], t, tm, kstart, 1);
    position(&w->runs[RUN_INT], 2 * t, tm, kstart, 2);
    st_free(kstart);
    /* the integer run: seqno pages hold its rows [0, t), kind pages [t, 2t) */
    col_run *ir = &w->runs[RUN_INT];
    for (uint32_t i = 0; i < ir->n; i++) {
        slot *sl = &ir->s[i];
        const char *bad;
        if (sl->first >= t && sl->pg && (bad = page_problem(ST_SST_COL_KIND, sl->pg)))
            slot_fail(sl, "%s: kind page at offset %llu holds %s", w->path,
                      (unsigned long long)sl->off, bad);
    }
    view v[ST_SST_NCOLS] = {
        {w->runs[RUN_KEY].s, w->runs[RUN_KEY].n, 0, 0, t},
        {w->runs[RUN_VALUE].s, w->runs[RUN_VALUE].n, 0, 0, t},
        {ir->s, ir->n, 0, 0, t},
        {ir->s, ir->n, 0, t, t},
    };
    char buf[ST_ERRMSG_MAX];
    for (int64_t r = 0; r < t; r++) {
        slot *p[ST_SST_NCOLS];
        for (int c = 0; c < ST_SST_NCOLS; c++)
            p[c] = cover(&v[c], r);
        const st_pq_page *kp = p[0] && p[0]->pg ? p[0]->pg : NULL;
        size_t ki = kp ? (size_t)(r - p[0]->first) : 0;
        const uint8_t *key = kp ? kp->data + kp->offs[ki] : NULL;
        size_t klen = kp ? kp->offs[ki + 1] - kp->offs[ki] : 0;
        const char *why = row_missing(p, v, buf, sizeof(buf));
        if (why) {
            ST_RET(st_sst_sink_lose(&w->sink, key, klen, why));
            continue;
        }
        const st_pq_page *vp = p[1]->pg;
        size_t vi = (size_t)(r - p[1]->first);
        ST_RET(st_sst_sink_row(&w->sink, key, klen, p[2]->pg->ints[r - p[2]->first],
                               p[3]->pg->ints[r + t - p[3]->first],
                               vp->data ? vp->data + vp->offs[vi] : NULL,
                               vp->offs[vi + 1] - vp->offs[vi], vp->nulls ? vp->nulls[vi] : 0));
    }
    return STRATA_OK;
}

/* Salvage what the open row group holds and empty it. */
static int
close_group(walker *w)
{
    int rc = STRATA_OK;
    if (w->cur >= 0)
        rc = salvage_group(w);
    for (int c = 0; c < NRUNS; c++) {
        col_run *ru = &w->runs[c];
        for (uint32_t i = 0; i < ru->n; i++) {
            st_pq_page_free(ru->s[i].pg);
            st_free(ru->s[i].why);
        }
        ru->n = 0;
        ru->rows = 0;
        ru->start_anch = ru->end_anch = 0;
    }
    w->cur = -1;
    return rc;
}

/* ---- the walk -------------------------------------------------------------------------------- */

/* The run a page belongs to, or -1 when it is not a page strata writes. */
static int
classify(const st_pq_walk_item *it)
{
    if (it->kind == ST_PQ_WALK_GAP || (it->kind == ST_PQ_WALK_PAGE && !it->verified) ||
        it->h.type != ST_PQ_DATA_PAGE || it->h.num_values <= 0 ||
        (size_t)it->h.num_values > ST_PQ_MAX_PAGE_VALUES)
        return -1;
    switch (it->h.encoding) {
    case ST_PQ_DELTA_BYTE_ARRAY:
        return RUN_KEY;
    case ST_PQ_PLAIN:
        return RUN_VALUE;
    case ST_PQ_DELTA_BINARY_PACKED:
        return RUN_INT;
    default:
        return -1;
    }
}

static int
add_slot(walker *w, int c, const st_pq_walk_item *it)
{
    col_run *ru = &w->runs[c];
    if (ru->n == ru->cap) {
        uint32_t cap = ru->cap ? 2 * ru->cap : 64;
        slot *ns = st_realloc(ru->s, cap * sizeof(*ns));
        if (!ns)
            return st_err(STRATA_NOMEM, "%s: salvage", w->path);
        ru->s = ns;
        ru->cap = cap;
    }
    slot *sl = &ru->s[ru->n++];
    memset(sl, 0, sizeof(*sl));
    sl->h = it->h;
    sl->payload = it->payload;
    sl->off = it->off;
    sl->crc_ok = it->kind == ST_PQ_WALK_PAGE;
    sl->first = -1;
    ru->rows += it->h.num_values;
    w->cur = c;
    return STRATA_OK;
}

static int
on_item(void *arg, const st_pq_walk_item *it)
{
    walker *w = arg;
    int c = classify(it), head = w->at_head;
    w->at_head = 0;
    if (c < 0) {
        ST_RET(close_group(w));
        if (!w->gap) {
            w->gap = 1;
            w->gap_off = it->off;
            if (it->kind == ST_PQ_WALK_GAP)
                snprintf(w->gap_why, sizeof(w->gap_why),
                         "%s: bytes %llu..%llu hold no page that passes its checksum", w->path,
                         (unsigned long long)it->off, (unsigned long long)it->end);
            else
                snprintf(w->gap_why, sizeof(w->gap_why),
                         "%s: the page at offset %llu is not one strata writes (type %d, "
                         "encoding %d)",
                         w->path, (unsigned long long)it->off, it->h.type, it->h.encoding);
        }
        return STRATA_OK;
    }
    if (w->gap) {
        ST_RET(st_sst_sink_lose_unknown(&w->sink, w->gap_why));
        w->gap = 0;
    }
    int cur = w->cur;
    if (cur >= 0 && c == cur)
        return add_slot(w, c, it);
    /* in one row group: the value and key runs in either order (strata writes the value chunk
     * first; tables of earlier releases have the key chunk first), then the integers */
    int other = cur == RUN_KEY ? RUN_VALUE : RUN_KEY;
    if ((cur == RUN_KEY || cur == RUN_VALUE) &&
        (c == other ? w->runs[c].n == 0 : c == RUN_INT && w->runs[other].n > 0)) {
        w->runs[cur].end_anch = 1;
        ST_RET(add_slot(w, c, it));
        w->runs[c].start_anch = 1;
        return STRATA_OK;
    }
    /* the previous row group ended here */
    int next_group = cur == RUN_INT && (c == RUN_KEY || c == RUN_VALUE);
    if (next_group)
        w->runs[cur].end_anch = 1;
    ST_RET(close_group(w));
    if (cur >= 0 && !next_group) /* a run is missing without a gap: not strata's layout */
        ST_RET(st_sst_sink_lose_unknown(&w->sink, "pages out of strata's column order"));
    ST_RET(add_slot(w, c, it));
    w->runs[c].start_anch = (c == RUN_KEY || c == RUN_VALUE) && (next_group || head);
    return STRATA_OK;
}

/* ---- the end of the file --------------------------------------------------------------------- */

/* The value of the footer pair `key` in p[0..n) when it is there exactly once (compact thrift
 * KeyValue: field 1 binary key, field 2 binary value, each header 0x18: delta 1, binary). */
static int
tail_value(const uint8_t *p, size_t n, const char *key, const uint8_t **val, size_t *vlen)
{
    size_t kl = strlen(key);
    int found = 0;
    for (size_t at = 2; at + kl < n; at++) {
        size_t j = at + kl;
        uint64_t len = 0;
        const uint8_t *v;
        if (p[at - 2] != 0x18 || p[at - 1] != kl || p[at] != (uint8_t)key[0] ||
            memcmp(p + at, key, kl) != 0 || p[j] != 0x18 ||
            !(v = st_get_varint64(p + j + 1, p + n, &len)) || len > (uint64_t)(p + n - v))
            continue;
        *val = v;
        *vlen = (size_t)len;
        found++;
    }
    return found == 1;
}

/* 1 when the footer bytes after the last page still say how many rows the table had and its
 * key bounds, and the salvage read exactly those rows with nothing lost. */
static int
tail_confirms(walker *w, const uint8_t *p, size_t n)
{
    const st_sst_sink *s = &w->sink;
    const uint8_t *ev, *sv, *lv;
    size_t el, sl, ll;
    if (s->lost || s->more || s->lost_rows || s->lost_more ||
        !tail_value(p, n, ST_SST_KV_ENTRIES, &ev, &el) ||
        !tail_value(p, n, ST_SST_KV_SMALLEST, &sv, &sl) ||
        !tail_value(p, n, ST_SST_KV_LARGEST, &lv, &ll) || el == 0 || el > 19)
        return 0;
    uint64_t entries = 0;
    for (size_t i = 0; i < el; i++) {
        if (ev[i] < '0' || ev[i] > '9')
            return 0;
        entries = entries * 10 + (uint64_t)(ev[i] - '0');
    }
    if (entries != s->rows)
        return 0;
    if (entries == 0)
        return sl == 0 && ll == 0;
    uint8_t *k = st_malloc(sl / 2 + ll / 2 + 2);
    if (!k)
        return 0;
    long a = st_sst_unhex(sv, sl, k), b = a < 0 ? -1 : st_sst_unhex(lv, ll, k + a);
    int ok = a >= 0 && b >= 0 && st_bytes_cmp(k, (size_t)a, s->first.data, s->first.len) == 0 &&
             st_bytes_cmp(k + a, (size_t)b, s->prev.data, s->prev.len) == 0;
    st_free(k);
    return ok;
}

static int
finish(walker *w)
{
    ST_RET(close_group(w));
    if (w->gap && tail_confirms(w, w->file + w->gap_off, w->size - w->gap_off))
        return STRATA_OK;
    char why[ST_ERRMSG_MAX];
    snprintf(why, sizeof(why),
             "%s: the table's end is lost or damaged (its footer cannot be read), so rows after "
             "the last salvaged key may be lost",
             w->path);
    return st_sst_sink_lose_unknown(&w->sink, why);
}

int
st_sst_salvage_walk(st_env *env, const char *path, const st_sst_salvage_ops *ops)
{
    st_file *f = NULL;
    uint64_t size = 0;
    const uint8_t *base = NULL;
    uint8_t *owned = NULL;
    int rc = env->open(env, path, ST_OPEN_READ, &f);
    if (rc == STRATA_OK)
        rc = st_file_size(f, &size);
    if (rc == STRATA_OK && size > SIZE_MAX / 2)
        rc = st_err(STRATA_NOTSUP, "%s: too large to salvage", path);
    if (rc == STRATA_OK) {
        uint64_t len = 0;
        if (size == 0 || st_file_map(f, &base, &len) != STRATA_OK || len != size) {
            st_err_clear();
            base = owned = st_malloc(size ? (size_t)size : 1);
            rc = owned ? st_file_read_exact(f, 0, owned, (size_t)size)
                       : st_err(STRATA_NOMEM, "%s: salvage", path);
        }
    }
    walker w;
    memset(&w, 0, sizeof(w));
    w.path = path;
    w.file = base;
    w.size = (size_t)size;
    w.cur = -1;
    w.at_head = 1;
    for (int c = 0; c < NRUNS; c++)
        w.codec[c] = -1;
    st_sst_sink_init(&w.sink, ops, NULL, 0, NULL, 0);
    if (rc == STRATA_OK && size > 4)
        rc = st_pq_page_walk(base, (size_t)size, 4, 1, on_item, &w);
    if (rc == STRATA_OK)
        rc = finish(&w);
    if (rc == STRATA_OK)
        st_sst_sink_finish(&w.sink);
    close_group(&w);
    for (int c = 0; c < NRUNS; c++)
        st_free(w.runs[c].s);
    st_sst_sink_free(&w.sink);
    st_free(owned);
    st_file_close(f);
    return rc;
}
