/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_parquet_footer.c -- libFuzzer target for the Parquet metadata decoders (src/parquet).
 *
 * The input is fed to every metadata decoder (FileMetaData, OffsetIndex, ColumnIndex,
 * BloomFilterHeader, PageHeader). Besides "no crash, no sanitizer report" it checks:
 *   - only STRATA_OK, STRATA_CORRUPT or STRATA_NOMEM come out;
 *   - decoders never report consuming more bytes than they were given;
 *   - a FileMetaData / OffsetIndex that decodes re-encodes to bytes that decode to the same
 *     counts (the encoder and decoder agree on everything they both know).
 * Seeds: tests/fuzz/corpus/parquet_footer/ (footers and indexes of real strata tables).
 */
#include "parquet/parquet.h"
#include "util/arena.h"
#include "util/status.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_parquet_footer: %s:%d: check failed: %s (%s)\n", __FILE__,       \
                    __LINE__, #cond, st_errmsg());                                                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define CLEAN(rc) ((rc) == STRATA_OK || (rc) == STRATA_CORRUPT || (rc) == STRATA_NOMEM)

static void
footer_roundtrip(const st_pq_file_meta *m)
{
    st_buf b = {0};
    st_arena *a = st_arena_new(0);
    st_pq_file_meta m2;
    CHECK(a != NULL);
    /* The encoder writes only what the profile knows; re-decoding must keep the shape. */
    if (st_pq_encode_file_meta(&b, m) == STRATA_OK) {
        int rc = st_pq_decode_file_meta(b.data, b.len, a, "re", 0, &m2);
        CHECK(rc == STRATA_OK || rc == STRATA_NOMEM);
        if (rc == STRATA_OK) {
            CHECK(m2.num_rows == m->num_rows && m2.nrow_groups == m->nrow_groups);
            CHECK(m2.nschema == m->nschema && m2.nkv == m->nkv);
            for (uint32_t g = 0; g < m->nrow_groups; g++)
                CHECK(m2.row_groups[g].ncolumns == m->row_groups[g].ncolumns);
        }
    }
    st_buf_free(&b);
    st_arena_free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_arena *a = st_arena_new(0);
    if (!a)
        return 0;
    st_pq_file_meta m;
    int rc = st_pq_decode_file_meta(data, size, a, "fuzz", 0, &m);
    CHECK(CLEAN(rc));
    if (rc == STRATA_OK)
        footer_roundtrip(&m);

    st_pq_offset_index oi;
    rc = st_pq_decode_offset_index(data, size, a, "fuzz", 0, &oi);
    CHECK(CLEAN(rc));
    if (rc == STRATA_OK) {
        st_buf b = {0};
        st_pq_offset_index oi2;
        if (st_pq_encode_offset_index(&b, &oi) == STRATA_OK &&
            st_pq_decode_offset_index(b.data, b.len, a, "re", 0, &oi2) == STRATA_OK) {
            CHECK(oi2.npages == oi.npages);
            for (uint32_t i = 0; i < oi.npages; i++)
                CHECK(oi2.pages[i].offset == oi.pages[i].offset &&
                      oi2.pages[i].first_row == oi.pages[i].first_row);
        }
        st_buf_free(&b);
    }

    st_pq_column_index ci;
    rc = st_pq_decode_column_index(data, size, a, "fuzz", 0, &ci);
    CHECK(CLEAN(rc));

    st_pq_bloom_header bh;
    size_t used = 0;
    rc = st_pq_decode_bloom_header(data, size, "fuzz", 0, &bh, &used);
    CHECK(CLEAN(rc));
    CHECK(rc != STRATA_OK || used <= size);

    st_pq_page_header ph;
    rc = st_pq_decode_page_header(data, size, "fuzz", 0, &ph, &used);
    CHECK(CLEAN(rc));
    CHECK(rc != STRATA_OK || (used <= size && ph.compressed_size >= 0));

    st_arena_free(a);
    return 0;
}
