/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wal.c -- write-ahead log writer and reader. The format (file header, 32 KiB blocks, fragments
 * with salted masked CRC32C, zero block tails) and the torn-tail / mid-log classification are
 * specified in doc/format_wal.md; keep the two in step.
 */
#include "wal/wal.h"

#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/random.h"
#include "util/status.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BLK ST_WAL_BLOCK_SIZE
#define FH ST_WAL_FRAG_HEADER_SIZE
#define HDR ST_WAL_FILE_HEADER_SIZE
#define READ_CHUNK (8 * BLK)       /* the reader's read size: 256 KiB, block-aligned */
#define WRITER_BUF_KEEP (8u << 20) /* framing buffers above this are released after use */
/* Every this many bytes appended, the writer starts their writeback (st_file_writeback): the
 * sync of a full log at memtable rotation had waited 12-18 ms for 16 MiB of dirty pages, in
 * the writer's path (strace of a batched fill: a seventh of the writer's time). */
#define WRITEBACK_BYTES (1u << 20)

enum { FT_FULL = 1, FT_FIRST = 2, FT_MIDDLE = 3, FT_LAST = 4 };

static const uint8_t wal_magic[8] = {'S', 'T', 'R', 'A', 'T', 'A', 'W', 'L'};

/* Header field offsets. */
enum { H_MAGIC = 0, H_VERSION = 8, H_LOGNUM = 12, H_SALT = 20, H_CRC = 28 };

/* CRC state after the 16 bytes log_number || salt: the prefix of every fragment CRC. */
static uint32_t
wal_crc_seed(const uint8_t *hdr)
{
    return st_crc32c(hdr + H_LOGNUM, 16);
}

/* Masked CRC of the fragment at p with payload length len: seed || length,type || payload. */
static uint32_t
frag_crc(uint32_t seed, const uint8_t *p, size_t len)
{
    uint32_t c = st_crc32c_extend(seed, p + 4, 3);
    return st_crc_mask(st_crc32c_extend(c, p + FH, len));
}

/* Keep the detail message of rc across calls that may overwrite it. */
static void
save_msg(char *dst)
{
    snprintf(dst, ST_ERRMSG_MAX, "%s", st_errmsg());
}

/* ---- writer ---------------------------------------------------------------------------------- */

struct st_wal_writer {
    st_file *file;
    uint64_t size; /* end of the last complete record (the file's size when no error) */
    uint32_t seed;
    int err;         /* sticky error code, STRATA_OK while healthy */
    st_buf buf;      /* framing buffer, reused across records */
    uint64_t kicked; /* the log up to here was handed to st_file_writeback */
    char errmsg[ST_ERRMSG_MAX];
};

static int
writer_fail(st_wal_writer *w, int rc)
{
    w->err = rc;
    save_msg(w->errmsg);
    return rc;
}

static int
writer_sticky(const st_wal_writer *w)
{
    return st_err(w->err, "%s", w->errmsg);
}

/* Salt: not secret, only distinct between files (time, pid, address, a process counter). */
static uint64_t
wal_salt(const void *addr)
{
    static atomic_uint_fast64_t counter;
    uint64_t x = st_wall_micros() ^ (st_now_micros() << 20) ^ ((uint64_t)getpid() << 40) ^
                 (uint64_t)(uintptr_t)addr ^ ((uint64_t)atomic_fetch_add(&counter, 1) << 52);
    return st_splitmix64(&x);
}

static int
writer_open(st_env *env, const char *path, uint64_t log_number, int flags, st_wal_writer **out)
{
    *out = NULL;
    st_wal_writer *w = st_calloc(1, sizeof(*w));
    if (!w)
        return st_err(STRATA_NOMEM, "%s: out of memory creating write-ahead log", path);
    int rc = env->open(env, path, ST_OPEN_WRITE | ST_OPEN_CREATE | ST_OPEN_EXCL | flags, &w->file);
    if (rc != STRATA_OK) {
        st_free(w);
        return rc;
    }
    uint8_t hdr[HDR];
    memcpy(hdr + H_MAGIC, wal_magic, sizeof(wal_magic));
    st_put_fixed32(hdr + H_VERSION, ST_WAL_VERSION);
    st_put_fixed64(hdr + H_LOGNUM, log_number);
    st_put_fixed64(hdr + H_SALT, wal_salt(w));
    st_put_fixed32(hdr + H_CRC, st_crc_mask(st_crc32c(hdr, H_CRC)));
    rc = st_file_append(w->file, hdr, HDR);
    /* The header is made durable before any record: a power loss may drop or reorder the
     * unsynced sectors after it, but must not leave a log whose header was lost (zeros) while
     * records after it survived. */
    if (rc == STRATA_OK)
        rc = st_file_sync(w->file);
    if (rc != STRATA_OK) {
        /* Nothing was acknowledged: remove the half-made file so it is not mistaken for a log. */
        char msg[ST_ERRMSG_MAX];
        save_msg(msg);
        st_file_close(w->file);
        env->remove(env, path);
        st_free(w);
        return st_err(rc, "%s", msg);
    }
    w->size = HDR;
    w->seed = wal_crc_seed(hdr);
    *out = w;
    return STRATA_OK;
}

int
st_wal_writer_open(st_env *env, const char *path, uint64_t log_number, st_wal_writer **out)
{
    return writer_open(env, path, log_number, 0, out);
}

int
st_wal_writer_open_mapped(st_env *env, const char *path, uint64_t log_number, st_wal_writer **out)
{
    return writer_open(env, path, log_number, ST_OPEN_MAPPED_APPEND, out);
}

/* Upper bound of the framed size of an n-byte record: headers of every fragment + a tail. */
static size_t
framed_bound(size_t n)
{
    return n + FH * (n / (BLK - FH) + 2) + FH;
}

/* Frame rec[0..n) starting at block offset boff into out; returns the bytes written. */
static size_t
frame_record(uint32_t seed, size_t boff, const uint8_t *rec, size_t n, uint8_t *out)
{
    uint8_t *p = out;
    size_t left = n;
    int first = 1;
    do {
        size_t avail = BLK - boff;
        if (avail < FH) { /* block tail: zero it, start in the next block */
            memset(p, 0, avail);
            p += avail;
            boff = 0;
            avail = BLK;
        }
        size_t frag = left < avail - FH ? left : avail - FH;
        int last = frag == left;
        uint8_t type = first ? (last ? FT_FULL : FT_FIRST) : (last ? FT_LAST : FT_MIDDLE);
        st_put_fixed16(p + 4, (uint16_t)frag);
        p[6] = type;
        if (frag)
            memcpy(p + FH, rec, frag);
        st_put_fixed32(p, frag_crc(seed, p, frag));
        p += FH + frag;
        rec += frag;
        left -= frag;
        boff += FH + frag;
        first = 0;
    } while (left > 0);
    return (size_t)(p - out);
}

int
st_wal_writer_add(st_wal_writer *w, const void *rec, size_t n)
{
    if (w->err != STRATA_OK)
        return writer_sticky(w);
    if ((unsigned long long)n > ST_WAL_MAX_RECORD) {
        st_err(STRATA_INVALID, "%s: write-ahead log record of %zu bytes is too large",
               w->file->path, n);
        return writer_fail(w, STRATA_INVALID);
    }
    st_buf_clear(&w->buf);
    if (framed_bound(n) < n || st_buf_reserve(&w->buf, framed_bound(n)) != STRATA_OK) {
        st_err(STRATA_NOMEM, "%s: out of memory framing a %zu-byte log record", w->file->path, n);
        return writer_fail(w, STRATA_NOMEM);
    }
    size_t len = frame_record(w->seed, (size_t)(w->size % BLK), rec, n, w->buf.data);
    int rc = st_file_append(w->file, w->buf.data, len); /* ONE append per record */
    if (rc != STRATA_OK) {
        /* A prefix may have reached the file: cut it off so readers see a clean end. The
         * error stays sticky either way. */
        char msg[ST_ERRMSG_MAX];
        save_msg(msg);
        int trc = st_file_truncate(w->file, w->size);
        if (trc != STRATA_OK)
            st_err(rc, "%s (and truncating back to %llu bytes failed: %s)", msg,
                   (unsigned long long)w->size, st_errmsg());
        else
            st_err(rc, "%s", msg);
        return writer_fail(w, rc);
    }
    w->size += len;
    if (w->buf.cap > WRITER_BUF_KEEP)
        st_buf_free(&w->buf);
    if (w->size - w->kicked >= WRITEBACK_BYTES) {
        st_file_writeback(w->file, w->kicked, w->size - w->kicked);
        w->kicked = w->size;
    }
    return STRATA_OK;
}

int
st_wal_writer_sync(st_wal_writer *w)
{
    if (w->err != STRATA_OK)
        return writer_sticky(w);
    int rc = st_file_sync(w->file);
    return rc == STRATA_OK ? rc : writer_fail(w, rc);
}

uint64_t
st_wal_writer_size(const st_wal_writer *w)
{
    return w->size;
}

int
st_wal_writer_close(st_wal_writer *w)
{
    if (!w)
        return STRATA_OK;
    int rc = st_file_close(w->file);
    st_buf_free(&w->buf);
    st_free(w);
    return rc;
}

/* ---- reader ---------------------------------------------------------------------------------- */

struct st_wal_reader {
    st_file *file;
    int mode;
    st_wal_report_fn report;
    void *report_arg;
    uint64_t size; /* file size (shrinks if a read comes up short) */
    uint64_t log_number;
    uint32_t seed;
    uint8_t *chunk; /* READ_CHUNK bytes: file bytes [chunk_off, chunk_off + chunk_len) */
    uint64_t chunk_off;
    size_t chunk_len;
    uint64_t pos; /* offset of the next fragment (or block tail) to parse */
    int in_rec;   /* a FIRST fragment was seen; rec holds the payload so far */
    uint64_t rec_start;
    st_buf rec;
    uint64_t good_end;
    uint64_t dropped;
    int done; /* end of log reached: NOTFOUND from now on */
    int err;  /* sticky error */
    char errmsg[ST_ERRMSG_MAX];
};

static const char *
rpath(const st_wal_reader *r)
{
    return r->file->path;
}

static int
reader_fail(st_wal_reader *r, int rc)
{
    r->err = rc;
    save_msg(r->errmsg);
    return rc;
}

static void
reader_report(st_wal_reader *r, uint64_t off, uint64_t bytes, const char *reason)
{
    r->dropped += bytes;
    if (r->report)
        r->report(r->report_arg, rpath(r), off, bytes, reason);
}

/*
 * load --
 *     Make the block starting at b (< r->size) available: *blk points at it and *blen is how
 *     many of its bytes the file holds (BLK except for the last block). Reads READ_CHUNK bytes
 *     at a time.
 */
static int
load(st_wal_reader *r, uint64_t b, const uint8_t **blk, size_t *blen)
{
    if (!(b >= r->chunk_off && b < r->chunk_off + r->chunk_len)) {
        uint64_t want = r->size - b < READ_CHUNK ? r->size - b : READ_CHUNK;
        size_t got = 0;
        r->chunk_len = 0;
        int rc = st_file_read_at(r->file, b, r->chunk, (size_t)want, &got);
        if (rc != STRATA_OK)
            return reader_fail(r, rc);
        r->chunk_off = b;
        r->chunk_len = got;
        if (got < want) /* the file shrank under us: its end is here */
            r->size = b + got;
    }
    size_t in = (size_t)(r->chunk_off + r->chunk_len - b);
    *blk = r->chunk + (b - r->chunk_off);
    *blen = in < BLK ? in : BLK;
    return STRATA_OK;
}

/* Fragment check results; reason strings indexed by them. */
enum { FRAG_OK, FRAG_TRUNC_HDR, FRAG_BAD_TYPE, FRAG_BAD_LEN, FRAG_TRUNC, FRAG_BAD_CRC };
static const char *const frag_reason[] = {
    "ok",
    "fragment header cut off by the end of the file",
    "invalid fragment type",
    "fragment length exceeds its block",
    "fragment cut off by the end of the file",
    "fragment checksum mismatch",
};

/*
 * frag_check --
 *     Check the candidate fragment at p: room bytes remain in its block (room >= FH), avail of
 *     them are in the file. *len is the stored payload length when the header is present.
 */
static int
frag_check(uint32_t seed, const uint8_t *p, size_t room, size_t avail, size_t *len)
{
    if (avail < FH)
        return FRAG_TRUNC_HDR;
    *len = st_get_fixed16(p + 4);
    if (p[6] < FT_FULL || p[6] > FT_LAST)
        return FRAG_BAD_TYPE;
    if (FH + *len > room)
        return FRAG_BAD_LEN;
    if (FH + *len > avail)
        return FRAG_TRUNC;
    if (st_get_fixed32(p) != frag_crc(seed, p, *len))
        return FRAG_BAD_CRC;
    return FRAG_OK;
}

/* *found = 1 when a valid fragment starts at any byte offset in [from, size), the first one at
 * *at. */
static int
scan_for_valid(st_wal_reader *r, uint64_t from, int *found, uint64_t *at)
{
    *found = 0;
    size_t off = (size_t)(from % BLK);
    for (uint64_t b = from - off; b < r->size; b += BLK, off = 0) {
        const uint8_t *blk;
        size_t blen, len;
        ST_RET(load(r, b, &blk, &blen));
        if (b == 0 && off < HDR)
            off = HDR;
        for (; off + FH <= blen; off++) {
            if (blk[off + 6] < FT_FULL || blk[off + 6] > FT_LAST) /* cheap filter first */
                continue;
            if (frag_check(r->seed, blk + off, BLK - off, blen - off, &len) == FRAG_OK) {
                *found = 1;
                *at = b + off;
                return STRATA_OK;
            }
        }
    }
    return STRATA_OK;
}

static int
all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/*
 * zero_tail --
 *     *yes = 1 when every byte of [from, size) is zero: space a mapped writer reserved ahead of
 *     its records (st_wal_writer_open_mapped) that a crash left in the file. It ends the log
 *     cleanly, as the end of the file would.
 */
static int
zero_tail(st_wal_reader *r, uint64_t from, int *yes)
{
    *yes = 0;
    for (uint64_t b = from - from % BLK; b < r->size; b += BLK) {
        const uint8_t *blk;
        size_t blen, off = b < from ? (size_t)(from - b) : 0;
        ST_RET(load(r, b, &blk, &blen));
        if (b >= r->size) /* the file shrank under us */
            break;
        if (!all_zero(blk + off, blen - off))
            return STRATA_OK;
    }
    *yes = 1;
    return STRATA_OK;
}

/*
 * dropped_sector --
 *     *yes = 1 when [from, to) holds a run of zero bytes that ends at a ST_WAL_SECTOR boundary
 *     and starts at one or at `from`: a sector that never reached the disk while a later one
 *     did (a power loss reorders unsynced writes; the lost sector reads as zeros). Everything
 *     from such a hole on was never synced.
 */
static int
dropped_sector(st_wal_reader *r, uint64_t from, uint64_t to, int *yes)
{
    *yes = 0;
    for (uint64_t b = from - from % ST_WAL_SECTOR + ST_WAL_SECTOR; b <= to; b += ST_WAL_SECTOR) {
        uint64_t start = b - ST_WAL_SECTOR < from ? from : b - ST_WAL_SECTOR;
        uint64_t block = start - start % BLK; /* sectors never cross blocks */
        const uint8_t *blk;
        size_t blen;
        ST_RET(load(r, block, &blk, &blen));
        if (b - block <= blen && all_zero(blk + (start - block), (size_t)(b - start))) {
            *yes = 1;
            return STRATA_OK;
        }
    }
    return STRATA_OK;
}

/* How damage was detected (see doc/format_wal.md "Reading and damage classification"). */
enum {
    DMG_FRAGMENT, /* bad bytes at dmg_off: classify by scanning; SKIP resumes at the next block */
    DMG_STRUCT,   /* a valid fragment reveals the damage: mid-log; SKIP resumes at `resume` */
    DMG_EOF       /* the file ends inside a record: nothing follows, a torn tail */
};

/*
 * damage --
 *     Handle damage at dmg_off per the mode. Returns STRATA_OK to go on reading at r->pos,
 *     STRATA_NOTFOUND at a dropped torn tail (end of log), or the error (sticky).
 */
static int
damage(st_wal_reader *r, uint64_t dmg_off, int kind, uint64_t resume, const char *reason)
{
    uint64_t start = r->in_rec ? r->rec_start : dmg_off;
    int corrupt = kind == DMG_STRUCT, hole = 0;
    uint64_t next = 0;
    if (kind == DMG_FRAGMENT)
        ST_RET(scan_for_valid(r, dmg_off + 1, &corrupt, &next));
    if (corrupt && kind == DMG_FRAGMENT && r->mode == STRATA_WAL_RECOVERY_TOLERATE_TAIL) {
        /* valid records after zeroed sectors: unsynced writes reordered by a power loss, so
         * the log ends at the damage (the records after it were never synced either) */
        ST_RET(dropped_sector(r, dmg_off, next, &hole));
        if (hole) {
            corrupt = 0;
            reason = "zeroed sectors (unsynced writes lost in a power loss)";
        }
    }
    if (!corrupt) {
        if (r->mode == STRATA_WAL_RECOVERY_STRICT)
            return reader_fail(r, st_err(STRATA_CORRUPT, "%s: torn record at offset %llu: %s",
                                         rpath(r), (unsigned long long)start, reason));
        reader_report(r, start, r->size - start, reason);
        r->in_rec = 0;
        r->pos = r->size;
        r->done = 1;
        return STRATA_NOTFOUND;
    }
    if (r->mode != STRATA_WAL_RECOVERY_SKIP_CORRUPT)
        return reader_fail(
            r, st_err(STRATA_CORRUPT, "%s: corrupt record at offset %llu: %s at offset %llu",
                      rpath(r), (unsigned long long)start, reason, (unsigned long long)dmg_off));
    if (kind == DMG_FRAGMENT) /* the length is not trusted: resume where a header must start */
        resume = dmg_off - dmg_off % BLK + BLK;
    if (resume > r->size)
        resume = r->size;
    reader_report(r, start, resume - start, reason);
    r->in_rec = 0;
    r->pos = resume;
    return STRATA_OK;
}

int
st_wal_reader_next(st_wal_reader *r, const uint8_t **rec, size_t *n)
{
    if (r->err != STRATA_OK)
        return st_err(r->err, "%s", r->errmsg);
    for (;;) {
        if (r->done)
            return STRATA_NOTFOUND;
        uint64_t pos = r->pos;
        int rc;
        if (pos >= r->size) {
            if (r->in_rec) {
                rc = damage(r, r->size, DMG_EOF, 0, "end of file inside a record");
                if (rc != STRATA_OK)
                    return rc;
            }
            r->done = 1;
            continue;
        }
        size_t off = (size_t)(pos % BLK);
        const uint8_t *blk;
        size_t blen;
        ST_RET(load(r, pos - off, &blk, &blen));
        if (pos >= r->size) /* the file shrank */
            continue;
        size_t room = BLK - off;
        if (!r->in_rec && (blk[off] == 0 || room < FH)) {
            int zeros;
            ST_RET(zero_tail(r, pos, &zeros));
            if (zeros) { /* a mapped writer's reserve: the log ends here */
                r->done = 1;
                continue;
            }
            ST_RET(load(r, pos - off, &blk, &blen)); /* zero_tail may have moved the chunk */
        }
        if (room < FH) { /* block tail: must be complete and zero */
            if (blen < BLK || !all_zero(blk + off, room)) {
                rc = damage(r, pos, DMG_FRAGMENT, 0,
                            blen < BLK ? "block tail cut off by the end of the file"
                                       : "non-zero bytes in a block tail");
                if (rc != STRATA_OK)
                    return rc;
                continue;
            }
            r->pos = pos + room;
            continue;
        }
        size_t len = 0;
        int fc = frag_check(r->seed, blk + off, room, blen - off, &len);
        if (fc != FRAG_OK) {
            rc = damage(r, pos, DMG_FRAGMENT, 0, frag_reason[fc]);
            if (rc != STRATA_OK)
                return rc;
            continue;
        }
        const uint8_t *payload = blk + off + FH;
        uint64_t next = pos + FH + len;
        uint8_t type = blk[off + 6];
        if ((type == FT_FULL || type == FT_FIRST) && r->in_rec) {
            /* The open record never got its LAST fragment; re-parse this one afterwards. */
            rc = damage(r, pos, DMG_STRUCT, pos, "record without its last fragment");
            if (rc != STRATA_OK)
                return rc;
            continue;
        }
        if ((type == FT_MIDDLE || type == FT_LAST) && !r->in_rec) {
            rc = damage(r, pos, DMG_STRUCT, next, "fragment without a first fragment");
            if (rc != STRATA_OK)
                return rc;
            continue;
        }
        r->pos = next;
        if (type == FT_FULL) {
            r->good_end = next;
            *rec = payload;
            *n = len;
            return STRATA_OK;
        }
        if (type == FT_FIRST) {
            r->in_rec = 1;
            r->rec_start = pos;
            st_buf_clear(&r->rec);
        }
        if (st_buf_append(&r->rec, payload, len) != STRATA_OK)
            return reader_fail(
                r, st_err(STRATA_NOMEM, "%s: out of memory reading a log record", rpath(r)));
        if (type == FT_LAST) {
            r->in_rec = 0;
            r->good_end = next;
            *rec = r->rec.data ? r->rec.data : payload; /* payload: a valid pointer for n == 0 */
            *n = r->rec.len;
            return STRATA_OK;
        }
    }
}

/* Check the file header (got bytes of it were read, got < HDR only at end of file). */
static int
check_header(st_wal_reader *r, const uint8_t *hdr, size_t got)
{
    int zeros = got > 0 && all_zero(hdr, got);
    if (zeros)
        ST_RET(zero_tail(r, got, &zeros));
    if (got == 0 || zeros) { /* created (and maybe reserved), crashed before the header: empty */
        r->done = 1;
        return STRATA_OK;
    }
    int magic_bytes = 0; /* how many magic bytes are right: a damaged header keeps most */
    for (size_t i = 0; i < sizeof(wal_magic) && i < got; i++)
        magic_bytes += hdr[H_MAGIC + i] == wal_magic[i];
    if (got == HDR && r->mode == STRATA_WAL_RECOVERY_SKIP_CORRUPT && magic_bytes >= 6 &&
        st_get_fixed32(hdr + H_VERSION) == ST_WAL_VERSION &&
        st_get_fixed32(hdr + H_CRC) != st_crc_mask(st_crc32c(hdr, H_CRC))) {
        /* Salvage: the header is damaged, but its log number and salt may not be. Use them as
         * they are; when they are intact every fragment still verifies, else every fragment is
         * reported and dropped. The log number is unknown (0). A file with fewer than 6 of the
         * 8 magic bytes is foreign, not damaged; another version may place its CRC elsewhere,
         * so it stays NOTSUP. */
        reader_report(r, 0, HDR, "file header checksum mismatch (header damaged)");
        r->seed = wal_crc_seed(hdr);
        r->pos = HDR;
        r->good_end = HDR;
        return STRATA_OK;
    }
    size_t m = got < sizeof(wal_magic) ? got : sizeof(wal_magic);
    if (memcmp(hdr, wal_magic, m) != 0)
        return st_err(STRATA_CORRUPT, "%s: not a write-ahead log (bad magic)", rpath(r));
    if (got >= H_VERSION + 4 && st_get_fixed32(hdr + H_VERSION) != ST_WAL_VERSION)
        return st_err(STRATA_NOTSUP,
                      "%s: unsupported write-ahead log format version %u (this build reads %u)",
                      rpath(r), (unsigned)st_get_fixed32(hdr + H_VERSION), ST_WAL_VERSION);
    if (got < HDR) {
        if (r->mode == STRATA_WAL_RECOVERY_STRICT)
            return st_err(STRATA_CORRUPT,
                          "%s: torn record at offset 0: file header cut off after %zu bytes",
                          rpath(r), got);
        reader_report(r, 0, got, "file header cut off by the end of the file");
        r->done = 1;
        return STRATA_OK;
    }
    if (st_get_fixed32(hdr + H_CRC) != st_crc_mask(st_crc32c(hdr, H_CRC)))
        return st_err(STRATA_CORRUPT, "%s: write-ahead log header checksum mismatch", rpath(r));
    r->log_number = st_get_fixed64(hdr + H_LOGNUM);
    r->seed = wal_crc_seed(hdr);
    r->pos = HDR;
    r->good_end = HDR;
    return STRATA_OK;
}

int
st_wal_reader_open(st_env *env, const char *path, int mode, st_wal_report_fn report,
                   void *report_arg, st_wal_reader **out)
{
    *out = NULL;
    if (mode != STRATA_WAL_RECOVERY_TOLERATE_TAIL && mode != STRATA_WAL_RECOVERY_STRICT &&
        mode != STRATA_WAL_RECOVERY_SKIP_CORRUPT)
        return st_err(STRATA_INVALID, "%s: unknown WAL recovery mode %d", path, mode);
    st_wal_reader *r = st_calloc(1, sizeof(*r));
    if (!r)
        return st_err(STRATA_NOMEM, "%s: out of memory opening write-ahead log", path);
    r->mode = mode;
    r->report = report;
    r->report_arg = report_arg;
    int rc = env->open(env, path, ST_OPEN_READ, &r->file);
    if (rc != STRATA_OK) {
        st_free(r);
        return rc;
    }
    rc = st_file_size(r->file, &r->size);
    if (rc == STRATA_OK) {
        r->chunk = st_malloc(READ_CHUNK);
        if (!r->chunk)
            rc = st_err(STRATA_NOMEM, "%s: out of memory opening write-ahead log", path);
    }
    if (rc == STRATA_OK) {
        uint8_t hdr[HDR];
        size_t want = r->size < HDR ? (size_t)r->size : HDR, got = 0;
        rc = st_file_read_at(r->file, 0, hdr, want, &got);
        if (rc == STRATA_OK) {
            if (got < want)
                r->size = got;
            rc = check_header(r, hdr, got);
        }
    }
    if (rc != STRATA_OK) {
        char msg[ST_ERRMSG_MAX];
        save_msg(msg);
        st_wal_reader_close(r);
        return st_err(rc, "%s", msg);
    }
    *out = r;
    return STRATA_OK;
}

uint64_t
st_wal_reader_log_number(const st_wal_reader *r)
{
    return r->log_number;
}

uint64_t
st_wal_reader_good_end(const st_wal_reader *r)
{
    return r->good_end;
}

uint64_t
st_wal_reader_dropped(const st_wal_reader *r)
{
    return r->dropped;
}

void
st_wal_reader_close(st_wal_reader *r)
{
    if (!r)
        return;
    st_file_close(r->file);
    st_buf_free(&r->rec);
    st_free(r->chunk);
    st_free(r);
}
