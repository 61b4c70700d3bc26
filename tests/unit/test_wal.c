/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/wal: round trips at every interesting size, the documented layout (checked
 * by an independent encoder written from doc/format_wal.md), torn tails at every byte offset,
 * torn-tail vs mid-log classification in the three recovery modes, header checks, writer
 * failures (sticky error, truncate back), allocation failures and the I/O pattern (one append
 * per record, chunked reads).
 */
#include "st_test.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/random.h"
#include "util/status.h"
#include "wal/wal.h"

#include <stdio.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define B ST_WAL_BLOCK_SIZE
#define FH ST_WAL_FRAG_HEADER_SIZE
#define HDR ST_WAL_FILE_HEADER_SIZE

static const int all_modes[3] = {STRATA_WAL_RECOVERY_TOLERATE_TAIL, STRATA_WAL_RECOVERY_STRICT,
                                 STRATA_WAL_RECOVERY_SKIP_CORRUPT};

static char *g_dir;

static const char *
tpath(const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof(buf), "%s/%s", g_dir, name);
    return buf;
}

/* ---- plain file helpers (test side, not through the env under test) ------------------------ */

static void
file_put(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ST_ASSERT(f != NULL);
    ST_ASSERT(n == 0 || fwrite(data, 1, n, f) == n);
    ST_ASSERT(fclose(f) == 0);
}

static uint8_t *
file_get(const char *path, size_t *n)
{
    struct stat st;
    ST_ASSERT(stat(path, &st) == 0);
    *n = (size_t)st.st_size;
    uint8_t *p = malloc(*n + 1);
    FILE *f = fopen(path, "rb");
    ST_ASSERT(p != NULL && f != NULL);
    ST_ASSERT(fread(p, 1, *n, f) == *n);
    fclose(f);
    return p;
}

static uint64_t
file_size(const char *path)
{
    struct stat st;
    ST_ASSERT(stat(path, &st) == 0);
    return (uint64_t)st.st_size;
}

/* ---- a set of records, written with the writer ----------------------------------------------- */

typedef struct recset {
    size_t n;
    uint8_t **data;
    size_t *len;
    uint64_t *start; /* writer size before the record */
    uint64_t *end;   /* writer size after it */
} recset;

static void
recset_init(recset *s, const size_t *lens, size_t n, uint64_t seed)
{
    st_rng rng;
    st_rng_seed(&rng, seed);
    s->n = n;
    s->data = calloc(n, sizeof(*s->data));
    s->len = calloc(n, sizeof(*s->len));
    s->start = calloc(n, sizeof(*s->start));
    s->end = calloc(n, sizeof(*s->end));
    ST_ASSERT(s->data && s->len && s->start && s->end);
    for (size_t i = 0; i < n; i++) {
        s->len[i] = lens[i];
        s->data[i] = malloc(lens[i] + 1);
        ST_ASSERT(s->data[i] != NULL);
        for (size_t j = 0; j < lens[i]; j++)
            s->data[i][j] = (uint8_t)st_rng_next(&rng);
    }
}

static void
recset_free(recset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->data[i]);
    free(s->data);
    free(s->len);
    free(s->start);
    free(s->end);
}

static void
write_log(const char *path, uint64_t lognum, recset *s)
{
    unlink(path);
    st_wal_writer *w = NULL;
    ST_ASSERT_OK(st_wal_writer_open(st_env_posix(), path, lognum, &w));
    ST_ASSERT_EQ(st_wal_writer_size(w), HDR);
    for (size_t i = 0; i < s->n; i++) {
        s->start[i] = st_wal_writer_size(w);
        ST_ASSERT_OK(st_wal_writer_add(w, s->data[i], s->len[i]));
        s->end[i] = st_wal_writer_size(w);
    }
    ST_ASSERT_OK(st_wal_writer_sync(w));
    ST_ASSERT_OK(st_wal_writer_close(w));
    ST_ASSERT_EQ(file_size(path), s->n ? s->end[s->n - 1] : HDR);
}

/* Write count records of the given lengths (content from seed) and read the file back. */
static uint8_t *
make_log(const char *path, uint64_t lognum, recset *s, const size_t *lens, size_t count,
         uint64_t seed, size_t *n)
{
    recset_init(s, lens, count, seed);
    write_log(path, lognum, s);
    return file_get(path, n);
}

/* Offset of the first fragment of record i (the writer may first have zero-filled a tail). */
static uint64_t
first_frag(const recset *s, size_t i)
{
    uint64_t o = s->start[i];
    return B - o % B < FH ? o + (B - o % B) : o;
}

/* ---- reading --------------------------------------------------------------------------------- */

typedef struct reports {
    int n;
    uint64_t first_off, first_bytes, total;
    char first_reason[160];
} reports;

static void
on_report(void *arg, const char *path, uint64_t off, uint64_t bytes, const char *reason)
{
    reports *r = arg;
    ST_ASSERT(path != NULL && reason != NULL && bytes > 0);
    if (r->n++ == 0) {
        r->first_off = off;
        r->first_bytes = bytes;
        snprintf(r->first_reason, sizeof(r->first_reason), "%s", reason);
    }
    r->total += bytes;
}

typedef struct readout {
    int rc;            /* final rc of next (NOTFOUND at a clean end) */
    size_t count;      /* records returned */
    uint64_t good_end; /* st_wal_reader_good_end at the end */
    uint64_t dropped;
    reports rep;
    char msg[ST_ERRMSG_MAX];
} readout;

/*
 * read_log --
 *     Open path in mode (must succeed) and read to the end or an error, checking that the k-th
 *     record returned equals s record want[k] (want NULL: records 0, 1, 2, ...).
 */
static void
read_log(const char *path, int mode, const recset *s, const size_t *want, size_t nwant, readout *o)
{
    memset(o, 0, sizeof(*o));
    st_wal_reader *r = NULL;
    ST_ASSERT_OK(st_wal_reader_open(st_env_posix(), path, mode, on_report, &o->rep, &r));
    const uint8_t *rec;
    size_t n;
    while ((o->rc = st_wal_reader_next(r, &rec, &n)) == STRATA_OK) {
        ST_ASSERT(o->count < nwant);
        size_t i = want ? want[o->count] : o->count;
        ST_ASSERT(rec != NULL);
        ST_ASSERT_MEM_EQ(rec, n, s->data[i], s->len[i]);
        o->count++;
    }
    snprintf(o->msg, sizeof(o->msg), "%s", st_errmsg());
    o->good_end = st_wal_reader_good_end(r);
    o->dropped = st_wal_reader_dropped(r);
    /* errors and the end are sticky */
    ST_ASSERT_EQ(st_wal_reader_next(r, &rec, &n), o->rc);
    st_wal_reader_close(r);
}

/* Read a log expected to be intact: every record, clean end, nothing dropped. */
static void
check_intact(const char *path, const recset *s)
{
    for (int m = 0; m < 3; m++) {
        readout o;
        read_log(path, all_modes[m], s, NULL, s->n, &o);
        ST_ASSERT_RC(o.rc, STRATA_NOTFOUND);
        ST_ASSERT_EQ(o.count, s->n);
        ST_ASSERT_EQ(o.rep.n, 0);
        ST_ASSERT_EQ(o.dropped, 0);
        ST_ASSERT_EQ(o.good_end, s->n ? s->end[s->n - 1] : HDR);
    }
}

/* ---- an independent encoder of the documented format --------------------------------------- */

/* Expected framed size of an n-byte record written at file offset off (doc: "Fragments"). */
static uint64_t
model_framed(uint64_t off, size_t n)
{
    uint64_t start = off;
    size_t left = n;
    int first = 1;
    while (first || left > 0) {
        uint64_t room = B - off % B;
        if (room < FH)
            off += room;
        room = B - off % B;
        size_t take = left < room - FH ? left : (size_t)(room - FH);
        off += FH + take;
        left -= take;
        first = 0;
    }
    return off - start;
}

static void
model_header(uint8_t *h, uint32_t version, uint64_t lognum, uint64_t salt)
{
    memcpy(h, "STRATAWL", 8);
    st_put_fixed32(h + 8, version);
    st_put_fixed64(h + 12, lognum);
    st_put_fixed64(h + 20, salt);
    st_put_fixed32(h + 28, st_crc_mask(st_crc32c(h, 28)));
}

/* Append one fragment (header computed from the documented CRC coverage) to b. */
static void
model_frag(st_buf *b, const uint8_t *hdr, uint8_t type, const void *payload, size_t len)
{
    uint8_t pre[19];
    memcpy(pre, hdr + 12, 16);
    st_put_fixed16(pre + 16, (uint16_t)len);
    pre[18] = type;
    uint32_t crc = st_crc_mask(st_crc32c_extend(st_crc32c(pre, 19), payload, len));
    ST_ASSERT_OK(st_buf_put_fixed32(b, crc));
    ST_ASSERT_OK(st_buf_append(b, pre + 16, 3));
    ST_ASSERT_OK(st_buf_append(b, payload, len));
}

/* ---- round trips ----------------------------------------------------------------------------- */

static void
test_roundtrip_sizes(void)
{
    const size_t b0 = B - HDR - FH; /* payload that exactly fills block 0 */
    size_t sizes[] = {0,      1,          2,           100,       b0 - 8,     b0 - 7,
                      b0 - 6, b0 - 1,     b0,          b0 + 1,    b0 + 6,     b0 + 7,
                      B - FH, B - FH + 1, B,           B + 1,     2 * B - 14, 2 * B - 13,
                      2 * B,  2 * B + 7,  5 * B + 123, 17 * B + 5};
    const char *path = tpath("sizes.log");
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        /* alone, then preceded by a small record (shifts the block offset), then with records
         * after it that start in whatever space it left */
        size_t lens[5] = {sizes[i], 3, sizes[i], 0, sizes[(i + 7) % 22]};
        recset s;
        recset_init(&s, lens, 5, 100 + i);
        write_log(path, 7, &s);
        for (size_t k = 0; k < 5; k++)
            ST_ASSERT_EQ(s.end[k] - s.start[k], model_framed(s.start[k], s.len[k]));
        check_intact(path, &s);
        recset_free(&s);
    }
}

static void
test_block_boundaries(void)
{
    const char *path = tpath("bound.log");
    const size_t b0 = B - HDR - FH;
    /* exactly filling block 0: the file is exactly one block */
    size_t l1[2] = {b0, 10};
    recset s;
    recset_init(&s, l1, 2, 1);
    write_log(path, 1, &s);
    ST_ASSERT_EQ(s.end[0], B);
    ST_ASSERT_EQ(s.end[1], B + FH + 10);
    check_intact(path, &s);
    recset_free(&s);

    /* leaving 6 bytes: the next record starts after a zero tail in block 1 */
    size_t l2[2] = {b0 - 6, 10};
    recset_init(&s, l2, 2, 2);
    write_log(path, 1, &s);
    ST_ASSERT_EQ(s.end[0], B - 6);
    ST_ASSERT_EQ(s.end[1], B + FH + 10);
    size_t n;
    uint8_t *bytes = file_get(path, &n);
    for (size_t k = B - 6; k < B; k++)
        ST_ASSERT_EQ(bytes[k], 0);
    ST_ASSERT_EQ(bytes[B + 6], 1); /* FULL at the start of block 1 */
    free(bytes);
    check_intact(path, &s);
    recset_free(&s);

    /* leaving exactly 7 bytes: an empty FIRST fragment there, the rest in block 1 */
    size_t l3[2] = {b0 - 7, 10};
    recset_init(&s, l3, 2, 3);
    write_log(path, 1, &s);
    ST_ASSERT_EQ(s.end[1], B + FH + 10);
    bytes = file_get(path, &n);
    ST_ASSERT_EQ(st_get_fixed16(bytes + B - 7 + 4), 0);
    ST_ASSERT_EQ(bytes[B - 7 + 6], 2); /* FIRST */
    ST_ASSERT_EQ(bytes[B + 6], 4);     /* LAST */
    free(bytes);
    check_intact(path, &s);
    recset_free(&s);

    /* an empty record in the last 7 bytes is a FULL of length 0 */
    size_t l4[3] = {b0 - 7, 0, 5};
    recset_init(&s, l4, 3, 4);
    write_log(path, 1, &s);
    ST_ASSERT_EQ(s.end[1], B);
    check_intact(path, &s);
    recset_free(&s);
}

/* The writer's output matches a file built by the independent encoder, byte for byte except
 * for the salt, which the reader must accept through the CRC seed. */
static void
test_layout_matches_doc(void)
{
    const char *path = tpath("layout.log");
    size_t lens[3] = {5, B, 0};
    recset s;
    recset_init(&s, lens, 3, 9);
    write_log(path, 0x1122334455667788ull, &s);
    size_t n;
    uint8_t *got = file_get(path, &n);
    uint64_t salt = st_get_fixed64(got + 20);

    st_buf b;
    st_buf_init(&b);
    uint8_t hdr[HDR];
    model_header(hdr, 1, 0x1122334455667788ull, salt);
    ST_ASSERT_OK(st_buf_append(&b, hdr, HDR));
    model_frag(&b, hdr, 1, s.data[0], 5);
    size_t first = B - b.len - FH;
    model_frag(&b, hdr, 2, s.data[1], first);
    model_frag(&b, hdr, 4, s.data[1] + first, B - first);
    model_frag(&b, hdr, 1, "", 0);
    ST_ASSERT_MEM_EQ(got, n, b.data, b.len);
    free(got);

    /* and the reader accepts a file from the encoder with a different salt */
    b.len = 0;
    model_header(hdr, 1, 99, 12345);
    ST_ASSERT_OK(st_buf_append(&b, hdr, HDR));
    model_frag(&b, hdr, 1, s.data[0], 5);
    file_put(path, b.data, b.len);
    st_wal_reader *r;
    ST_ASSERT_OK(st_wal_reader_open(st_env_posix(), path, 0, NULL, NULL, &r));
    ST_ASSERT_EQ(st_wal_reader_log_number(r), 99);
    const uint8_t *rec;
    ST_ASSERT_OK(st_wal_reader_next(r, &rec, &n));
    ST_ASSERT_MEM_EQ(rec, n, s.data[0], 5);
    ST_ASSERT_RC(st_wal_reader_next(r, &rec, &n), STRATA_NOTFOUND);
    st_wal_reader_close(r);
    st_buf_free(&b);
    recset_free(&s);
}

static void
test_random_many(void)
{
    uint64_t seed = st_test_seed();
    st_rng rng;
    st_rng_seed(&rng, seed);
    size_t count = (size_t)(4000 * st_test_scale());
    if (count < 100)
        count = 100;
    size_t *lens = malloc(count * sizeof(*lens));
    ST_ASSERT(lens != NULL);
    for (size_t i = 0; i < count; i++) {
        uint64_t k = st_rng_uniform(&rng, 100);
        lens[i] = k < 70 ? st_rng_uniform(&rng, 200)
                         : (k < 97 ? st_rng_uniform(&rng, 5000) : st_rng_uniform(&rng, 3 * B));
    }
    recset s;
    recset_init(&s, lens, count, seed);
    const char *path = tpath("random.log");
    write_log(path, 42, &s);
    for (size_t i = 0; i < count; i++)
        ST_ASSERT_EQ(s.end[i] - s.start[i], model_framed(s.start[i], s.len[i]));
    check_intact(path, &s);
    recset_free(&s);
    free(lens);
}

static void
test_large_record(void)
{
    /* bigger than the writer keeps its framing buffer for, then small ones again */
    size_t lens[4] = {9u << 20, 10, (9u << 20) + 3, 1};
    recset s;
    recset_init(&s, lens, 4, 5);
    const char *path = tpath("large.log");
    write_log(path, 3, &s);
    check_intact(path, &s);
    recset_free(&s);
}

/* ---- torn tails ------------------------------------------------------------------------------ */

/* Truncate a copy of the log at cut (inside the last record) and check every mode. */
static void
check_cut(const char *path, const uint8_t *full, uint64_t cut, const recset *s)
{
    size_t last = s->n - 1;
    /* When only zero bytes of the last record remain (its first header byte, a CRC byte, is 0
     * once in 256 logs: the CRC covers the log's random salt), the file reads as a mapped
     * writer's zero reserve, which ends the log cleanly (doc/format_wal.md, "zero-filled
     * tail"). The record was never complete, so nothing acknowledged is lost. */
    int clean = 1;
    for (uint64_t b = s->start[last]; b < cut && clean; b++)
        clean = full[b] == 0;
    file_put(path, full, (size_t)cut);
    readout o;
    read_log(path, STRATA_WAL_RECOVERY_TOLERATE_TAIL, s, NULL, last, &o);
    ST_ASSERT_RC(o.rc, STRATA_NOTFOUND);
    ST_ASSERT_EQ(o.count, last);
    ST_ASSERT_EQ(o.good_end, s->start[last]);
    if (clean) {
        ST_ASSERT_EQ(o.rep.n, 0);
        ST_ASSERT_EQ(o.dropped, 0);
    } else {
        ST_ASSERT_EQ(o.rep.n, 1);
        ST_ASSERT_EQ(o.rep.first_off, s->start[last]);
        ST_ASSERT_EQ(o.rep.first_bytes, cut - s->start[last]);
        ST_ASSERT_EQ(o.dropped, cut - s->start[last]);
    }
    readout k;
    read_log(path, STRATA_WAL_RECOVERY_SKIP_CORRUPT, s, NULL, last, &k);
    ST_ASSERT_RC(k.rc, STRATA_NOTFOUND);
    ST_ASSERT_EQ(k.count, last);
    ST_ASSERT_EQ(k.dropped, o.dropped);
    readout t;
    read_log(path, STRATA_WAL_RECOVERY_STRICT, s, NULL, last, &t);
    ST_ASSERT_RC(t.rc, clean ? STRATA_NOTFOUND : STRATA_CORRUPT);
    if (t.rc == STRATA_CORRUPT) {
        ST_ASSERT_EQ(t.count, last);
        ST_ASSERT(strstr(t.msg, path) != NULL);
    }
}

/*
 * torn_cuts --
 *     Write records of lens, then cut the file inside the last record: at every byte offset
 *     (all != 0), or around every block boundary and in strides (for a long record).
 */
static void
torn_cuts(const char *name, const size_t *lens, size_t count, int all)
{
    const char *path = tpath(name);
    recset s;
    size_t n;
    uint8_t *full = make_log(path, 5, &s, lens, count, count, &n);
    uint64_t a = s.start[count - 1], e = s.end[count - 1];
    for (uint64_t cut = a; cut < e; cut++) {
        uint64_t in = cut % B;
        if (all || cut - a < 16 || in < 16 || in > B - 16 || (cut - a) % 997 == 0)
            check_cut(path, full, cut, &s);
    }
    /* what a salt whose CRC starts with a zero byte gives: one zero byte of the last record */
    full[a] = 0;
    check_cut(path, full, a + 1, &s);
    free(full);
    recset_free(&s);
}

static void
test_torn_tail_every_offset(void)
{
    size_t lens[5] = {10, 0, 300, 1, 77};
    torn_cuts("torn.log", lens, 5, 1);
}

static void
test_torn_tail_spanning(void)
{
    /* the last record spans three blocks */
    size_t lens[3] = {1000, 20, 2 * B + 500};
    torn_cuts("torn2.log", lens, 3, 0);
}

/* A record whose FIRST fragment is complete and the file then ends: torn tail. */
static void
test_eof_inside_record(void)
{
    const char *path = tpath("eofrec.log");
    size_t lens[2] = {50, 2 * B};
    recset s;
    size_t n;
    uint8_t *full = make_log(path, 8, &s, lens, 2, 13, &n);
    /* cut exactly at the end of block 0 (after the complete FIRST) and of block 1 (MIDDLE) */
    check_cut(path, full, B, &s);
    check_cut(path, full, 2 * B, &s);
    free(full);
    recset_free(&s);
}

/* ---- damage in the last record vs in the middle ------------------------------------------ */

static void
flip_and_put(const char *path, const uint8_t *full, size_t n, uint64_t at)
{
    uint8_t *c = malloc(n);
    ST_ASSERT(c != NULL);
    memcpy(c, full, n);
    c[at] ^= 0x40;
    file_put(path, c, n);
    free(c);
}

static void
test_bad_crc_last_record(void)
{
    const char *path = tpath("badlast.log");
    size_t lens[6] = {100, 2000, 30, 5, 400, 60};
    recset s;
    size_t n;
    uint8_t *full = make_log(path, 9, &s, lens, 6, 21, &n);
    /* any byte of the last record: header or payload */
    for (uint64_t at = s.start[5]; at < s.end[5]; at += 7) {
        flip_and_put(path, full, n, at);
        for (int m = 0; m < 3; m++) {
            readout o;
            read_log(path, all_modes[m], &s, NULL, 5, &o);
            ST_ASSERT_EQ(o.count, 5);
            if (all_modes[m] == STRATA_WAL_RECOVERY_STRICT) {
                ST_ASSERT_RC(o.rc, STRATA_CORRUPT);
                continue;
            }
            ST_ASSERT_RC(o.rc, STRATA_NOTFOUND);
            ST_ASSERT_EQ(o.rep.n, 1);
            ST_ASSERT_EQ(o.rep.first_off, s.start[5]);
            ST_ASSERT_EQ(o.rep.first_bytes, n - s.start[5]);
            ST_ASSERT_EQ(o.good_end, s.start[5]);
        }
    }
    free(full);
    recset_free(&s);
}

/* Damage inside record d (byte at): mid-log corruption. Checks all three modes. */
static void
check_mid_damage(const char *path, const uint8_t *full, size_t n, const recset *s, size_t d,
                 uint64_t at)
{
    flip_and_put(path, full, n, at);
    char want_msg[128];
    snprintf(want_msg, sizeof(want_msg), "corrupt record at offset %llu",
             (unsigned long long)first_frag(s, d));
    for (int m = 0; m < 2; m++) { /* TOLERATE_TAIL and STRICT */
        readout o;
        read_log(path, all_modes[m], s, NULL, d, &o);
        ST_ASSERT_RC(o.rc, STRATA_CORRUPT);
        ST_ASSERT_EQ(o.count, d);
        ST_ASSERT_EQ(o.rep.n, 0);
        if (!strstr(o.msg, want_msg) || !strstr(o.msg, path))
            ST_FAIL("message '%s' lacks '%s'", o.msg, want_msg);
    }
    /* SKIP_CORRUPT: the rest of the damaged block is dropped; reading resumes at the next
     * block; records whose first fragment is before the damage are kept, records that start
     * at or after the resume point are kept, everything in between is lost and reported. */
    uint64_t resume = (at / B + 1) * B;
    size_t want[4096], nwant = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->end[i] <= first_frag(s, d) || first_frag(s, i) >= resume)
            want[nwant++] = i;
    readout k;
    read_log(path, STRATA_WAL_RECOVERY_SKIP_CORRUPT, s, want, nwant, &k);
    ST_ASSERT_RC(k.rc, STRATA_NOTFOUND);
    ST_ASSERT_EQ(k.count, nwant);
    ST_ASSERT(k.rep.n >= 1);
    ST_ASSERT_EQ(k.rep.first_off, first_frag(s, d));
    ST_ASSERT_EQ(k.rep.first_bytes, resume - first_frag(s, d));
    /* bytes dropped: the ranges of the lost records, minus the tail before d's first
     * fragment (not dropped), plus a tail before the resume point that belongs to the first
     * record kept after it (dropped with the damaged block) */
    uint64_t expect = 0;
    for (size_t i = 0, j = 0; i < s->n; i++) {
        if (j < nwant && want[j] == i) {
            j++;
            if (s->start[i] < resume && first_frag(s, i) >= resume)
                expect += resume - s->start[i];
        } else {
            expect += s->end[i] - s->start[i];
        }
    }
    expect -= first_frag(s, d) - s->start[d];
    ST_ASSERT_EQ(k.dropped, expect);
}

static void
test_bad_crc_middle(void)
{
    const char *path = tpath("badmid.log");
    st_rng rng;
    st_rng_seed(&rng, 31);
    size_t lens[40];
    for (size_t i = 0; i < 40; i++)
        lens[i] = (size_t)st_rng_uniform(&rng, 12000);
    lens[5] = 5000;   /* damaged in the payload: must have one */
    lens[10] = 3 * B; /* one record spanning blocks */
    recset s;
    size_t n;
    uint8_t *full = make_log(path, 10, &s, lens, 40, 32, &n);
    /* a payload byte of a small record, the header CRC of another, a MIDDLE of the big one */
    size_t ds[3] = {5, 20, 10};
    for (size_t j = 0; j < 3; j++) {
        size_t d = ds[j];
        uint64_t at;
        if (j == 0) /* a payload byte */
            at = first_frag(&s, d) + FH + s.len[d] / 2;
        else if (j == 1) /* a CRC byte */
            at = first_frag(&s, d) + 1;
        else /* a payload byte of the MIDDLE fragment, in the block after the FIRST */
            at = (first_frag(&s, d) / B + 1) * B + FH + 100;
        check_mid_damage(path, full, n, &s, d, at);
    }
    free(full);
    recset_free(&s);
}

/* Damage followed by a valid fragment later in the same block is mid-log, not a torn tail. */
static void
test_damage_in_last_block_is_midlog(void)
{
    const char *path = tpath("lastblock.log");
    size_t lens[5] = {10, 20, 30, 40, 50};
    recset s;
    size_t n;
    uint8_t *full = make_log(path, 2, &s, lens, 5, 41, &n);
    /* the length field of record 2: the chain is lost, but record 3 and 4 are still there */
    uint8_t *c = malloc(n);
    memcpy(c, full, n);
    st_put_fixed16(c + s.start[2] + 4, 0x7fff);
    file_put(path, c, n);
    readout o;
    read_log(path, STRATA_WAL_RECOVERY_TOLERATE_TAIL, &s, NULL, 2, &o);
    ST_ASSERT_RC(o.rc, STRATA_CORRUPT);
    ST_ASSERT_EQ(o.count, 2);
    /* the type byte */
    memcpy(c, full, n);
    c[s.start[1] + 6] = 9;
    file_put(path, c, n);
    read_log(path, STRATA_WAL_RECOVERY_TOLERATE_TAIL, &s, NULL, 1, &o);
    ST_ASSERT_RC(o.rc, STRATA_CORRUPT);
    ST_ASSERT_EQ(o.count, 1);
    ST_ASSERT(strstr(o.msg, "type") != NULL);
    free(c);
    free(full);
    recset_free(&s);
}

/* Non-zero bytes in a block tail with records after them: mid-log corruption. */
static void
test_nonzero_tail(void)
{
    const char *path = tpath("tail.log");
    size_t lens[3] = {B - HDR - FH - 3, 10, 20};
    recset s;
    size_t n;
    uint8_t *full = make_log(path, 2, &s, lens, 3, 51, &n);
    ST_ASSERT_EQ(s.end[0], B - 3);
    flip_and_put(path, full, n, B - 2);
    readout o;
    read_log(path, STRATA_WAL_RECOVERY_TOLERATE_TAIL, &s, NULL, 1, &o);
    ST_ASSERT_RC(o.rc, STRATA_CORRUPT);
    ST_ASSERT_EQ(o.count, 1);
    size_t want[3] = {0, 1, 2};
    read_log(path, STRATA_WAL_RECOVERY_SKIP_CORRUPT, &s, want, 3, &o);
    ST_ASSERT_RC(o.rc, STRATA_NOTFOUND);
    ST_ASSERT_EQ(o.count, 3);
    ST_ASSERT_EQ(o.rep.n, 1);
    ST_ASSERT_EQ(o.dropped, 3);
    /* a zero block tail cut off by the end of the file: zeros up to the end of the file end the
     * log cleanly (a mapped writer's reserve), even in strict mode */
    file_put(path, full, B - 1);
    read_log(path, STRATA_WAL_RECOVERY_STRICT, &s, NULL, 1, &o);
    ST_ASSERT_RC(o.rc, STRATA_NOTFOUND);
    ST_ASSERT_EQ(o.count, 1);
    ST_ASSERT_EQ(o.dropped, 0);
    /* cut off inside the record after it: torn */
    file_put(path, full, B + FH + 4);
    read_log(path, STRATA_WAL_RECOVERY_TOLERATE_TAIL, &s, NULL, 1, &o);
    ST_ASSERT_RC(o.rc, STRATA_NOTFOUND);
    ST_ASSERT_EQ(o.count, 1);
    ST_ASSERT_EQ(o.dropped, FH + 4);
    free(full);
    recset_free(&s);
}

/* Structural damage built with the independent encoder: orphan and incomplete records. */
static void
test_structural_damage(void)
{
    const char *path = tpath("struct.log");
    size_t lens[2] = {40, 60};
    recset s;
    recset_init(&s, lens, 2, 61);
    uint8_t hdr[HDR];
    model_header(hdr, 1, 4, 777);
    st_buf b;
    st_buf_init(&b);
    for (int kind = 0; kind < 3; kind++) {
        b.len = 0;
        ST_ASSERT_OK(st_buf_append(&b, hdr, HDR));
        model_frag(&b, hdr, 1, s.data[0], s.len[0]); /* record 0 */
        uint64_t bad = b.len;
        if (kind == 0) { /* FIRST then FULL: the first record never ended */
            model_frag(&b, hdr, 2, "abc", 3);
        } else if (kind == 1) { /* an orphan LAST */
            model_frag(&b, hdr, 4, "xyz", 3);
        } else { /* an orphan MIDDLE, then an orphan LAST */
            model_frag(&b, hdr, 3, "x", 1);
            model_frag(&b, hdr, 4, "yz", 2);
        }
        uint64_t good = b.len;
        model_frag(&b, hdr, 1, s.data[1], s.len[1]); /* record 1 */
        file_put(path, b.data, b.len);
        readout o;
        read_log(path, STRATA_WAL_RECOVERY_TOLERATE_TAIL, &s, NULL, 1, &o);
        ST_ASSERT_RC(o.rc, STRATA_CORRUPT);
        ST_ASSERT_EQ(o.count, 1);
        read_log(path, STRATA_WAL_RECOVERY_STRICT, &s, NULL, 1, &o);
        ST_ASSERT_RC(o.rc, STRATA_CORRUPT);
        read_log(path, STRATA_WAL_RECOVERY_SKIP_CORRUPT, &s, NULL, 2, &o);
        ST_ASSERT_RC(o.rc, STRATA_NOTFOUND);
        ST_ASSERT_EQ(o.count, 2);
        ST_ASSERT_EQ(o.rep.first_off, bad);
        ST_ASSERT_EQ(o.dropped, good - bad);
        ST_ASSERT_EQ(o.good_end, b.len);
    }
    st_buf_free(&b);
    recset_free(&s);
}

/* Fragments bound to another log number never verify: a stale body behind a new header. */
static void
test_stale_fragments(void)
{
    size_t lens[3] = {10, 20, 30};
    recset s;
    recset_init(&s, lens, 3, 71);
    const char *pa = tpath("stale_a.log");
    write_log(pa, 100, &s);
    size_t n;
    uint8_t *a = file_get(pa, &n);
    /* header of log 101 in front of the body of log 100 */
    model_header(a, 1, 101, st_get_fixed64(a + 20));
    file_put(pa, a, n);
    readout o;
    read_log(pa, STRATA_WAL_RECOVERY_TOLERATE_TAIL, &s, NULL, 0, &o);
    ST_ASSERT_RC(o.rc, STRATA_NOTFOUND); /* nothing valid anywhere: a torn tail */
    ST_ASSERT_EQ(o.count, 0);
    ST_ASSERT_EQ(o.dropped, n - HDR);
    /* same log number, another file's salt: same result */
    model_header(a, 1, 100, st_get_fixed64(a + 20) + 1);
    file_put(pa, a, n);
    read_log(pa, STRATA_WAL_RECOVERY_TOLERATE_TAIL, &s, NULL, 0, &o);
    ST_ASSERT_EQ(o.count, 0);
    ST_ASSERT_EQ(o.dropped, n - HDR);
    free(a);
    recset_free(&s);
}

/* ---- headers and short files ----------------------------------------------------------------- */

static void
test_foreign_file(void)
{
    const char *path = tpath("foreign.log");
    const char *texts[2] = {"this is not a write-ahead log, it is a text file", "STRB"};
    for (int t = 0; t < 2; t++) {
        file_put(path, texts[t], strlen(texts[t]));
        for (int m = 0; m < 3; m++) {
            st_wal_reader *r = (st_wal_reader *)1;
            ST_ASSERT_RC(st_wal_reader_open(st_env_posix(), path, all_modes[m], NULL, NULL, &r),
                         STRATA_CORRUPT);
            ST_ASSERT(r == NULL);
            ST_ASSERT(strstr(st_errmsg(), path) != NULL);
        }
    }
    st_wal_reader *r;
    ST_ASSERT_RC(st_wal_reader_open(st_env_posix(), tpath("missing.log"), 0, NULL, NULL, &r),
                 STRATA_NOTFOUND);
    ST_ASSERT_RC(st_wal_reader_open(st_env_posix(), path, 7, NULL, NULL, &r), STRATA_INVALID);
}

static void
test_header_checks(void)
{
    const char *path = tpath("hdr.log");
    size_t lens[1] = {10};
    recset s;
    size_t n;
    uint8_t *full = make_log(path, 12345, &s, lens, 1, 81, &n);
    st_wal_reader *r;
    ST_ASSERT_OK(st_wal_reader_open(st_env_posix(), path, 0, NULL, NULL, &r));
    ST_ASSERT_EQ(st_wal_reader_log_number(r), 12345);
    ST_ASSERT_EQ(st_wal_reader_good_end(r), HDR);
    st_wal_reader_close(r);

    /* a newer version, with a consistent header CRC or not */
    uint8_t *c = malloc(n);
    memcpy(c, full, n);
    model_header(c, 2, 12345, st_get_fixed64(full + 20));
    file_put(path, c, n);
    for (int m = 0; m < 3; m++)
        ST_ASSERT_RC(st_wal_reader_open(st_env_posix(), path, all_modes[m], NULL, NULL, &r),
                     STRATA_NOTSUP);
    st_put_fixed32(c + 8, 0xffffffffu);
    file_put(path, c, n);
    ST_ASSERT_RC(st_wal_reader_open(st_env_posix(), path, 0, NULL, NULL, &r), STRATA_NOTSUP);
    /* a flipped bit in the log number: header checksum (SKIP_CORRUPT salvages, below) */
    memcpy(c, full, n);
    c[13] ^= 1;
    file_put(path, c, n);
    for (int m = 0; m < 2; m++)
        ST_ASSERT_RC(st_wal_reader_open(st_env_posix(), path, all_modes[m], NULL, NULL, &r),
                     STRATA_CORRUPT);
    /* SKIP_CORRUPT reads on with the damaged seed: no fragment verifies, everything dropped */
    readout o;
    read_log(path, STRATA_WAL_RECOVERY_SKIP_CORRUPT, &s, NULL, 0, &o);
    ST_ASSERT_RC(o.rc, STRATA_NOTFOUND);
    ST_ASSERT_EQ(o.count, 0);
    ST_ASSERT_EQ(o.rep.first_off, 0);
    ST_ASSERT_EQ(o.dropped, n);
    free(c);

    /* a header-only file is an empty log in every mode */
    file_put(path, full, HDR);
    recset e = {0};
    check_intact(path, &e);
    free(full);
    recset_free(&s);
}

/* Issue 12: SKIP_CORRUPT copes with a damaged header (a magic or header CRC byte) that
 * spared the log number and salt: every record is read, the header reported, log number 0. */
static void
test_damaged_header_skip(void)
{
    const char *path = tpath("dhdr.log");
    size_t lens[3] = {10, 40000, 7};
    recset s;
    size_t n;
    uint8_t *full = make_log(path, 77, &s, lens, 3, 83, &n);
    /* magic, magic, header CRC (a damaged log number: test_header_checks, all dropped) */
    const size_t offs[3] = {0, 5, 29};
    for (size_t i = 0; i < 3; i++) {
        full[offs[i]] ^= 0x40;
        file_put(path, full, n);
        st_wal_reader *r;
        for (int m = 0; m < 2; m++) {
            int rc = st_wal_reader_open(st_env_posix(), path, all_modes[m], NULL, NULL, &r);
            ST_ASSERT(rc == STRATA_CORRUPT || rc == STRATA_NOTSUP);
        }
        readout o;
        read_log(path, STRATA_WAL_RECOVERY_SKIP_CORRUPT, &s, NULL, 3, &o);
        ST_ASSERT_RC(o.rc, STRATA_NOTFOUND);
        ST_ASSERT_EQ(o.count, 3);
        ST_ASSERT_EQ(o.rep.n, 1);
        ST_ASSERT_EQ(o.rep.first_off, 0);
        ST_ASSERT_EQ(o.rep.first_bytes, HDR);
        ST_ASSERT_OK(st_wal_reader_open(st_env_posix(), path, STRATA_WAL_RECOVERY_SKIP_CORRUPT,
                                        NULL, NULL, &r));
        ST_ASSERT_EQ(st_wal_reader_log_number(r), 0);
        st_wal_reader_close(r);
        full[offs[i]] ^= 0x40;
    }
    free(full);
    recset_free(&s);
}

static void
test_short_files(void)
{
    const char *path = tpath("short.log");
    size_t lens[1] = {10};
    recset s;
    size_t n;
    uint8_t *full = make_log(path, 1, &s, lens, 1, 91, &n);
    for (size_t len = 0; len < HDR; len++) {
        file_put(path, full, len);
        for (int m = 0; m < 3; m++) {
            reports rep = {0};
            st_wal_reader *r = NULL;
            int rc = st_wal_reader_open(st_env_posix(), path, all_modes[m], on_report, &rep, &r);
            if (all_modes[m] == STRATA_WAL_RECOVERY_STRICT && len > 0) {
                ST_ASSERT_RC(rc, STRATA_CORRUPT);
                continue;
            }
            ST_ASSERT_OK(rc);
            const uint8_t *rec;
            size_t rn;
            ST_ASSERT_RC(st_wal_reader_next(r, &rec, &rn), STRATA_NOTFOUND);
            ST_ASSERT_EQ(rep.n, len > 0);
            ST_ASSERT_EQ(st_wal_reader_dropped(r), len);
            st_wal_reader_close(r);
        }
    }
    free(full);
    recset_free(&s);
}

/* ---- a test env: counts operations, fails the N-th append -------------------------------- */

typedef struct test_env {
    st_env base;
    st_env *real;
    int appends, reads;
    int fail_append_at;  /* 1-based; 0: never */
    int fail_truncate;   /* truncate fails too */
    size_t partial_keep; /* bytes of the failing append that reach the file */
    int writebacks;      /* st_file_writeback calls, each starting where the last one ended */
    uint64_t wb_end;
} test_env;

typedef struct test_file {
    st_file base;
    st_file *real;
    test_env *env;
} test_file;

static int
tf_read_at(st_file *f, uint64_t off, void *buf, size_t n, size_t *nread)
{
    test_file *t = (test_file *)f;
    t->env->reads++;
    return st_file_read_at(t->real, off, buf, n, nread);
}

static int
tf_append(st_file *f, const void *data, size_t n)
{
    test_file *t = (test_file *)f;
    if (++t->env->appends == t->env->fail_append_at) {
        size_t keep = t->env->partial_keep < n ? t->env->partial_keep : n;
        if (keep)
            ST_ASSERT_OK(st_file_append(t->real, data, keep));
        return st_err(STRATA_IOERR, "injected append failure on %s", f->path);
    }
    return st_file_append(t->real, data, n);
}

static int
tf_sync(st_file *f)
{
    return st_file_sync(((test_file *)f)->real);
}

static int
tf_size(st_file *f, uint64_t *size)
{
    return st_file_size(((test_file *)f)->real, size);
}

static int
tf_truncate(st_file *f, uint64_t size)
{
    test_file *t = (test_file *)f;
    if (t->env->fail_truncate)
        return st_err(STRATA_IOERR, "injected truncate failure on %s", f->path);
    return st_file_truncate(t->real, size);
}

static int
tf_close(st_file *f)
{
    test_file *t = (test_file *)f;
    int rc = st_file_close(t->real);
    free(t->base.path);
    free(t);
    return rc;
}

static void
tf_writeback(st_file *f, uint64_t off, uint64_t n)
{
    test_file *t = (test_file *)f;
    ST_ASSERT_EQ(off, t->env->wb_end);
    ST_ASSERT(n > 0);
    t->env->wb_end = off + n;
    t->env->writebacks++;
    st_file_writeback(t->real, off, n);
}

static const st_file_ops tf_ops = {tf_read_at,  tf_append, tf_sync, tf_size,
                                   tf_truncate, tf_close,  NULL,    tf_writeback};

static int
te_open(st_env *env, const char *path, int flags, st_file **out)
{
    test_env *e = (test_env *)env;
    st_file *real = NULL;
    ST_RET(e->real->open(e->real, path, flags, &real));
    test_file *t = calloc(1, sizeof(*t));
    ST_ASSERT(t != NULL);
    t->base.ops = &tf_ops;
    t->base.env = env;
    t->base.path = strdup(path);
    t->real = real;
    t->env = e;
    *out = &t->base;
    return STRATA_OK;
}

static int
te_remove(st_env *env, const char *path)
{
    test_env *e = (test_env *)env;
    return e->real->remove(e->real, path);
}

static void
test_env_init(test_env *e)
{
    memset(e, 0, sizeof(*e));
    e->real = st_env_posix();
    e->base = *e->real;
    e->base.open = te_open;
    e->base.remove = te_remove;
}

static void
test_writer_append_failure(void)
{
    const char *path = tpath("fail.log");
    size_t lens[8] = {10, 500, 3 * B, 7, 20, 30, 40, 50};
    recset s;
    recset_init(&s, lens, 8, 101);
    for (int trunc_fails = 0; trunc_fails < 2; trunc_fails++) {
        /* the 5th append (after the header and 3 records) fails after writing part of it */
        test_env e;
        test_env_init(&e);
        e.fail_append_at = 5;
        e.partial_keep = 5;
        e.fail_truncate = trunc_fails;
        unlink(path);
        st_wal_writer *w;
        ST_ASSERT_OK(st_wal_writer_open(&e.base, path, 1, &w));
        for (size_t i = 0; i < 3; i++) {
            s.start[i] = st_wal_writer_size(w);
            ST_ASSERT_OK(st_wal_writer_add(w, s.data[i], s.len[i]));
            s.end[i] = st_wal_writer_size(w);
        }
        uint64_t good = st_wal_writer_size(w);
        ST_ASSERT_RC(st_wal_writer_add(w, s.data[3], s.len[3]), STRATA_IOERR);
        ST_ASSERT(strstr(st_errmsg(), "injected append failure") != NULL);
        /* sticky: no more appends reach the file, sync fails too */
        ST_ASSERT_RC(st_wal_writer_add(w, s.data[4], s.len[4]), STRATA_IOERR);
        ST_ASSERT(strstr(st_errmsg(), "injected append failure") != NULL);
        ST_ASSERT_RC(st_wal_writer_sync(w), STRATA_IOERR);
        ST_ASSERT_RC(st_wal_writer_add(w, NULL, 0), STRATA_IOERR);
        ST_ASSERT_EQ(e.appends, 5);
        ST_ASSERT_EQ(st_wal_writer_size(w), good);
        ST_ASSERT_OK(st_wal_writer_close(w));
        /* the reader sees exactly the three good records */
        readout o;
        read_log(path, STRATA_WAL_RECOVERY_TOLERATE_TAIL, &s, NULL, 3, &o);
        ST_ASSERT_RC(o.rc, STRATA_NOTFOUND);
        ST_ASSERT_EQ(o.count, 3);
        if (!trunc_fails) {
            ST_ASSERT_EQ(file_size(path), good);
            ST_ASSERT_EQ(o.rep.n, 0);
        } else {
            /* the partial append stayed: a torn tail, dropped and reported */
            ST_ASSERT_EQ(file_size(path), good + 5);
            ST_ASSERT_EQ(o.rep.n, 1);
            ST_ASSERT_EQ(o.dropped, 5);
        }
    }
    /* failing the header append: open fails and leaves no file behind */
    test_env e;
    test_env_init(&e);
    e.fail_append_at = 1;
    unlink(path);
    st_wal_writer *w = (st_wal_writer *)1;
    ST_ASSERT_RC(st_wal_writer_open(&e.base, path, 1, &w), STRATA_IOERR);
    ST_ASSERT(w == NULL);
    ST_ASSERT(access(path, F_OK) != 0);
    /* an existing file is refused */
    file_put(path, "x", 1);
    ST_ASSERT_RC(st_wal_writer_open(st_env_posix(), path, 1, &w), STRATA_INVALID);
    ST_ASSERT_OK(st_wal_writer_close(NULL));
    st_wal_reader_close(NULL);
    recset_free(&s);
}

/* One append per record; the reader reads in large chunks, not per fragment. */
static void
test_io_pattern(void)
{
    const char *path = tpath("io.log");
    size_t count = 20000;
    size_t *lens = malloc(count * sizeof(*lens));
    for (size_t i = 0; i < count; i++)
        lens[i] = i % 13 == 0 ? 2000 : 40 + i % 50;
    recset s;
    recset_init(&s, lens, count, 111);
    test_env e;
    test_env_init(&e);
    unlink(path);
    st_wal_writer *w;
    ST_ASSERT_OK(st_wal_writer_open(&e.base, path, 1, &w));
    for (size_t i = 0; i < count; i++)
        ST_ASSERT_OK(st_wal_writer_add(w, s.data[i], s.len[i]));
    ST_ASSERT_EQ(e.appends, 1 + (int)count);
    uint64_t size = st_wal_writer_size(w);
    ST_ASSERT_OK(st_wal_writer_close(w));
    ST_ASSERT(size > 8 * B); /* several read chunks */
    /* the writer hands every MiB it wrote to writeback, in order, as it goes */
    ST_ASSERT(size > 3 * (1u << 20));
    ST_ASSERT(e.writebacks >= (int)(size / (1u << 20)) - 1 &&
              e.writebacks <= (int)(size / (1u << 20)));
    ST_ASSERT(e.wb_end <= size && size - e.wb_end < (1u << 20));

    st_wal_reader *r;
    ST_ASSERT_OK(st_wal_reader_open(&e.base, path, 0, NULL, NULL, &r));
    const uint8_t *rec;
    size_t n, got = 0;
    while (st_wal_reader_next(r, &rec, &n) == STRATA_OK) {
        ST_ASSERT_MEM_EQ(rec, n, s.data[got], s.len[got]);
        got++;
    }
    ST_ASSERT_EQ(got, count);
    st_wal_reader_close(r);
    /* the header read, then one read per 256 KiB chunk */
    ST_ASSERT(e.reads <= 1 + (int)(size / (8 * B)) + 1);
    recset_free(&s);
    free(lens);
}

/*
 * The mapped writer (the database's log): while it is open the file holds the records and then
 * a reserve that reads as zeros. A copy taken then is what a process kill leaves: every record,
 * a clean end, nothing dropped. A record cut short before the zeros is still a torn tail, a
 * file holding only zeros is an empty log, a truncate (the writer's error path) drops the
 * reserve with the bytes after it, and close cuts the file to its records.
 */
static void
test_mapped_writer(void)
{
    const char *p = tpath("mapped.log");
    char path[4096], copy[4096];
    snprintf(path, sizeof(path), "%s", p);
    snprintf(copy, sizeof(copy), "%s", tpath("mapped-kill.log"));
    size_t count = 3000;
    size_t *lens = malloc(count * sizeof(*lens));
    for (size_t i = 0; i < count; i++) /* about 2.7 MiB: crosses the 1 MiB mapping windows */
        lens[i] = i % 7 == 0 ? 2 * B + 11 : 40 + i % 300;
    recset s;
    recset_init(&s, lens, count, 77);
    unlink(path);
    st_wal_writer *w = NULL;
    ST_ASSERT_OK(st_wal_writer_open_mapped(st_env_posix(), path, 9, &w));
    int saw_reserve = 0;
    for (size_t i = 0; i < count; i++) {
        s.start[i] = st_wal_writer_size(w);
        ST_ASSERT_OK(st_wal_writer_add(w, s.data[i], s.len[i]));
        s.end[i] = st_wal_writer_size(w);
        uint64_t disk = file_size(path);
        ST_ASSERT(disk >= s.end[i]);
        ST_ASSERT(disk <= s.end[i] + (1u << 20) + 4096);
        saw_reserve |= disk > s.end[i];
    }
    /* the file systems that overwrite reserved space in place keep a reserve; others (btrfs,
     * overlayfs, network ones) get write() appends and none */
    struct statfs sf;
    ST_ASSERT(statfs(g_dir, &sf) == 0);
    unsigned long fs = (unsigned long)sf.f_type;
    ST_ASSERT_EQ(saw_reserve, fs == 0xEF53UL || fs == 0x58465342UL || fs == 0x01021994UL);
    ST_ASSERT(s.end[count - 1] > (2u << 20));
    /* what a kill leaves: the records, then the reserve's zeros (made here when there is none) */
    size_t n = 0;
    uint8_t *got = file_get(path, &n);
    ST_ASSERT(n >= s.end[count - 1]);
    n = s.end[count - 1] + 300000;
    uint8_t *killed = calloc(1, n);
    ST_ASSERT(killed != NULL);
    memcpy(killed, got, s.end[count - 1]);
    free(got);
    file_put(copy, killed, n);
    check_intact(copy, &s);
    /* the last record cut short, zeros after it: torn (the append never returned) */
    uint64_t cut = s.start[count - 1] + FH + 5;
    memset(killed + cut, 0, n - cut);
    file_put(copy, killed, n);
    readout o;
    read_log(copy, STRATA_WAL_RECOVERY_TOLERATE_TAIL, &s, NULL, count, &o);
    ST_ASSERT_RC(o.rc, STRATA_NOTFOUND);
    ST_ASSERT_EQ(o.count, count - 1);
    ST_ASSERT_EQ(o.rep.n, 1);
    ST_ASSERT_EQ(o.good_end, s.end[count - 2]);
    read_log(copy, STRATA_WAL_RECOVERY_STRICT, &s, NULL, count, &o);
    ST_ASSERT_RC(o.rc, STRATA_CORRUPT);
    /* created and reserved, killed before the header reached the file: an empty log */
    memset(killed, 0, 8192);
    file_put(copy, killed, 8192);
    for (int m = 0; m < 3; m++) {
        read_log(copy, all_modes[m], &s, NULL, 0, &o);
        ST_ASSERT_RC(o.rc, STRATA_NOTFOUND);
        ST_ASSERT_EQ(o.count, 0);
        ST_ASSERT_EQ(o.rep.n, 0);
    }
    free(killed);
    /* close cuts the reserve off */
    ST_ASSERT_OK(st_wal_writer_close(w));
    ST_ASSERT_EQ(file_size(path), s.end[count - 1]);
    check_intact(path, &s);
    recset_free(&s);
    free(lens);
    /* the file layer: a truncate drops what follows, reserve included; appends go on after it */
    st_env *env = st_env_posix();
    st_file *f = NULL;
    ST_ASSERT_OK(env->open(env, path, ST_OPEN_WRITE | ST_OPEN_TRUNC | ST_OPEN_MAPPED_APPEND, &f));
    ST_ASSERT_OK(st_file_append(f, "hello, world", 12));
    ST_ASSERT(saw_reserve ? file_size(path) > 12 : file_size(path) == 12);
    ST_ASSERT_OK(st_file_truncate(f, 5));
    ST_ASSERT_EQ(file_size(path), 5);
    ST_ASSERT_OK(st_file_append(f, "XY", 2));
    uint64_t size = 0;
    ST_ASSERT_OK(st_file_size(f, &size));
    ST_ASSERT_EQ(size, 7);
    ST_ASSERT_OK(st_file_sync(f));
    ST_ASSERT_OK(st_file_close(f));
    uint8_t *back = file_get(path, &n);
    ST_ASSERT_MEM_EQ(back, n, "helloXY", 7);
    free(back);
}

/* Every allocation failure surfaces as NOMEM (or succeeds), never a crash or a wrong record. */
static void
test_alloc_failures(void)
{
    const char *path = tpath("nomem.log");
    size_t lens[3] = {10, 2 * B, 5};
    recset s;
    recset_init(&s, lens, 3, 121);
    write_log(path, 1, &s);
    int saw_nomem = 0;
    for (long k = 0; k < 20; k++) {
        st_alloc_fail_after(k);
        st_wal_reader *r = NULL;
        int rc = st_wal_reader_open(st_env_posix(), path, 0, NULL, NULL, &r);
        size_t got = 0;
        if (rc == STRATA_OK) {
            const uint8_t *rec;
            size_t n;
            while ((rc = st_wal_reader_next(r, &rec, &n)) == STRATA_OK) {
                ST_ASSERT_MEM_EQ(rec, n, s.data[got], s.len[got]);
                got++;
            }
            st_wal_reader_close(r);
        }
        st_alloc_fail_after(-1);
        ST_ASSERT(rc == STRATA_NOTFOUND || rc == STRATA_NOMEM);
        saw_nomem |= rc == STRATA_NOMEM;
        if (rc == STRATA_NOTFOUND)
            ST_ASSERT_EQ(got, 3);
    }
    ST_ASSERT(saw_nomem);
    const char *wpath = tpath("nomem_w.log");
    saw_nomem = 0;
    for (long k = 0; k < 20; k++) {
        unlink(wpath);
        st_alloc_fail_after(k);
        st_wal_writer *w = NULL;
        int rc = st_wal_writer_open(st_env_posix(), wpath, 1, &w);
        for (size_t i = 0; rc == STRATA_OK && i < 3; i++)
            rc = st_wal_writer_add(w, s.data[i], s.len[i]);
        st_alloc_fail_after(-1);
        ST_ASSERT(rc == STRATA_OK || rc == STRATA_NOMEM);
        saw_nomem |= rc == STRATA_NOMEM;
        if (w && rc == STRATA_NOMEM) /* sticky */
            ST_ASSERT_RC(st_wal_writer_add(w, "a", 1), STRATA_NOMEM);
        ST_ASSERT_OK(st_wal_writer_close(w));
        if (rc == STRATA_OK)
            check_intact(wpath, &s);
    }
    ST_ASSERT(saw_nomem);
    recset_free(&s);
}

int
main(void)
{
    g_dir = st_test_tmpdir("test_wal");
    ST_RUN(test_roundtrip_sizes);
    ST_RUN(test_block_boundaries);
    ST_RUN(test_layout_matches_doc);
    ST_RUN(test_random_many);
    ST_RUN(test_large_record);
    ST_RUN(test_torn_tail_every_offset);
    ST_RUN(test_torn_tail_spanning);
    ST_RUN(test_eof_inside_record);
    ST_RUN(test_bad_crc_last_record);
    ST_RUN(test_bad_crc_middle);
    ST_RUN(test_damage_in_last_block_is_midlog);
    ST_RUN(test_nonzero_tail);
    ST_RUN(test_structural_damage);
    ST_RUN(test_stale_fragments);
    ST_RUN(test_foreign_file);
    ST_RUN(test_header_checks);
    ST_RUN(test_damaged_header_skip);
    ST_RUN(test_short_files);
    ST_RUN(test_writer_append_failure);
    ST_RUN(test_io_pattern);
    ST_RUN(test_mapped_writer);
    ST_RUN(test_alloc_failures);
    st_test_rmrf(g_dir);
    st_free(g_dir);
    return st_test_done();
}
