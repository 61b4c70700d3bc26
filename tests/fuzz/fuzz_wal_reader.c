/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_wal_reader.c -- libFuzzer target for the write-ahead log reader (src/wal).
 *
 * The input is written to a temporary file (the reader only reads through an st_env) and read in
 * all three recovery modes. Besides "no crash, no sanitizer report", it checks the invariants the
 * modes promise relative to each other (doc/format_wal.md):
 *   - only STRATA_NOTFOUND / CORRUPT / NOTSUP (or NOMEM) come out, never IOERR or INTERNAL;
 *   - every mode returns the same records up to the first damage: STRICT's records are a prefix
 *     of TOLERATE_TAIL's, which are a prefix of SKIP_CORRUPT's;
 *   - a clean STRICT read means no damage: all three modes return the same records, none dropped;
 *   - TOLERATE_TAIL ending cleanly (torn tail or none) means SKIP_CORRUPT reads the same;
 *   - the report callback's bytes add up to st_wal_reader_dropped(), records + dropped bytes fit
 *     in the file, good_end never passes the end of the file.
 * Seeds: tests/fuzz/corpus/wal_reader/.
 */
#include "util/crc32c.h"
#include "util/status.h"
#include "wal/wal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_wal_reader: %s:%d: check failed: %s (%s)\n", __FILE__, __LINE__, \
                    #cond, st_errmsg());                                                           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct mode_result {
    int open_rc, rc;
    size_t count;
    uint64_t dropped, reported, record_bytes, good_end;
} mode_result;

/* Per-record fingerprints (length + CRC) of the TOLERATE_TAIL read, compared with the others. */
static uint64_t *g_prints;
static size_t g_nprints, g_capprints;

static void
on_report(void *arg, const char *path, uint64_t off, uint64_t bytes, const char *reason)
{
    uint64_t *sum = arg;
    CHECK(path != NULL && reason != NULL);
    CHECK(bytes > 0);
    *sum += bytes;
    (void)off;
}

static uint64_t
fingerprint(const uint8_t *rec, size_t n)
{
    return ((uint64_t)n << 32) ^ st_crc32c(rec, n);
}

static void
read_mode(const char *path, int mode, uint64_t size, int record_prints, mode_result *o)
{
    memset(o, 0, sizeof(*o));
    st_wal_reader *r = NULL;
    o->open_rc = st_wal_reader_open(st_env_posix(), path, mode, on_report, &o->reported, &r);
    if (o->open_rc != STRATA_OK) {
        CHECK(r == NULL);
        CHECK(o->open_rc == STRATA_CORRUPT || o->open_rc == STRATA_NOTSUP ||
              o->open_rc == STRATA_NOMEM);
        return;
    }
    const uint8_t *rec;
    size_t n;
    while ((o->rc = st_wal_reader_next(r, &rec, &n)) == STRATA_OK) {
        CHECK(rec != NULL && n <= size);
        uint64_t fp = fingerprint(rec, n);
        if (record_prints) {
            if (g_nprints == g_capprints) {
                g_capprints = g_capprints ? 2 * g_capprints : 64;
                g_prints = realloc(g_prints, g_capprints * sizeof(*g_prints));
                CHECK(g_prints != NULL);
            }
            g_prints[g_nprints++] = fp;
        } else if (o->count < g_nprints) {
            CHECK(g_prints[o->count] == fp); /* same records as TOLERATE_TAIL up to here */
        }
        o->count++;
        o->record_bytes += n;
    }
    CHECK(o->rc == STRATA_NOTFOUND || o->rc == STRATA_CORRUPT || o->rc == STRATA_NOMEM);
    CHECK(st_wal_reader_next(r, &rec, &n) == o->rc); /* sticky */
    o->dropped = st_wal_reader_dropped(r);
    o->good_end = st_wal_reader_good_end(r);
    st_wal_reader_close(r);
    CHECK(o->dropped == o->reported);
    CHECK(o->good_end <= size);
    CHECK(o->record_bytes + o->dropped <= size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[4096];
    if (!path[0]) {
        const char *dir = getenv("ST_TEST_TMPDIR");
        if (!dir || !*dir)
            dir = getenv("TMPDIR");
        if (!dir || !*dir)
            dir = "/tmp";
        snprintf(path, sizeof(path), "%s/fuzz_wal_reader.%d.log", dir, (int)getpid());
    }
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(size == 0 || fwrite(data, 1, size, f) == size);
    CHECK(fclose(f) == 0);

    mode_result tol, strict, skip;
    g_nprints = 0;
    read_mode(path, STRATA_WAL_RECOVERY_TOLERATE_TAIL, size, 1, &tol);
    read_mode(path, STRATA_WAL_RECOVERY_STRICT, size, 0, &strict);
    read_mode(path, STRATA_WAL_RECOVERY_SKIP_CORRUPT, size, 0, &skip);
    unlink(path);

    /* SKIP_CORRUPT reads on past a damaged header (checksum mismatch, version 1, most of the
     * magic right): reported, and reading ends cleanly. */
    if (tol.open_rc == STRATA_CORRUPT && skip.open_rc == STRATA_OK && size >= 32) {
        CHECK(strict.open_rc == STRATA_CORRUPT);
        CHECK(skip.dropped >= 32 && (skip.rc == STRATA_NOTFOUND || skip.rc == STRATA_NOMEM));
        return 0;
    }
    /* A foreign file or unknown version is refused the same way in every mode; a short header
     * is refused only by STRICT. */
    if (tol.open_rc != STRATA_OK || skip.open_rc != STRATA_OK) {
        CHECK(tol.open_rc == skip.open_rc);
        CHECK(strict.open_rc == tol.open_rc);
        return 0;
    }
    if (strict.open_rc != STRATA_OK)
        return 0;
    if (tol.rc == STRATA_NOMEM || strict.rc == STRATA_NOMEM || skip.rc == STRATA_NOMEM)
        return 0;
    CHECK(strict.count <= tol.count && tol.count <= skip.count);
    if (strict.rc == STRATA_NOTFOUND) { /* no damage at all */
        CHECK(tol.rc == STRATA_NOTFOUND && skip.rc == STRATA_NOTFOUND);
        CHECK(tol.count == strict.count && skip.count == strict.count);
        CHECK(strict.dropped == 0 && tol.dropped == 0 && skip.dropped == 0);
    }
    if (tol.rc == STRATA_NOTFOUND) { /* at most a torn tail: SKIP_CORRUPT sees the same */
        CHECK(skip.rc == STRATA_NOTFOUND);
        CHECK(skip.count == tol.count && skip.dropped == tol.dropped);
        CHECK(skip.good_end == tol.good_end);
    } else {
        CHECK(tol.rc == STRATA_CORRUPT);
        CHECK(strict.rc == STRATA_CORRUPT && strict.count == tol.count);
        CHECK(skip.rc == STRATA_NOTFOUND);
    }
    return 0;
}
