/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_version_edit.c -- libFuzzer target for the manifest's version-edit decoder
 * (src/version/edit.c) and the manifest state it feeds (manifest.c).
 *
 * Input: a sequence of edits, each a 2-byte little-endian length then that many bytes (the
 * payload of one manifest record). Each is decoded and applied to a manifest state, as manifest
 * recovery does. Checks: only OK / CORRUPT / NOTSUP / NOMEM with a detail message; a decoded
 * edit re-encodes and decodes to the same edit; a state never holds a table twice, and its
 * next file number is above every table's.
 * Seeds: tests/fuzz/corpus/version_edit/ (edits made by st_edit_encode).
 */
#include "util/buf.h"
#include "util/status.h"
#include "version/version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_version_edit: %s:%d: check failed: %s (%s)\n", __FILE__,         \
                    __LINE__, #cond, st_errmsg());                                                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void
check_same(const st_version_edit *a, const st_version_edit *b)
{
    CHECK(a->snapshot == b->snapshot && a->nadded == b->nadded && a->nremoved == b->nremoved);
    CHECK(a->has_log_number == b->has_log_number && a->has_next_file == b->has_next_file &&
          a->has_last_seq == b->has_last_seq);
    CHECK(!a->has_log_number || a->log_number == b->log_number);
    CHECK(!a->has_next_file || a->next_file == b->next_file);
    CHECK(!a->has_last_seq || a->last_seq == b->last_seq);
    for (size_t i = 0; i < a->nremoved; i++)
        CHECK(a->removed[i] == b->removed[i]);
    for (size_t i = 0; i < a->nadded; i++) {
        const st_table_meta *x = &a->added[i], *y = &b->added[i];
        CHECK(x->fnum == y->fnum && x->file_size == y->file_size && x->entries == y->entries &&
              x->min_seq == y->min_seq && x->max_seq == y->max_seq);
        CHECK(x->smallest_len == y->smallest_len && x->largest_len == y->largest_len);
        CHECK(x->smallest_len == 0 || memcmp(x->smallest, y->smallest, x->smallest_len) == 0);
        CHECK(x->largest_len == 0 || memcmp(x->largest, y->largest, x->largest_len) == 0);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_manifest_state s;
    memset(&s, 0, sizeof(s));
    size_t off = 0;
    int first = 1;
    while (size - off >= 2) {
        size_t len = (size_t)data[off] | (size_t)data[off + 1] << 8;
        off += 2;
        if (len > size - off)
            len = size - off;
        st_version_edit e, e2;
        st_edit_init(&e);
        int had_header = 0;
        int rc = st_edit_decode(data + off, len, &e, &had_header, "fuzz");
        off += len;
        CHECK(rc == STRATA_OK || rc == STRATA_CORRUPT || rc == STRATA_NOTSUP || rc == STRATA_NOMEM);
        CHECK(rc == STRATA_OK || st_errmsg()[0] != '\0');
        if (rc == STRATA_OK) {
            st_buf b;
            st_buf_init(&b);
            if (st_edit_encode(&e, had_header, &b) == STRATA_OK) {
                int h2 = 0;
                st_edit_init(&e2);
                CHECK(st_edit_decode(b.data, b.len, &e2, &h2, "again") == STRATA_OK);
                CHECK(h2 == had_header);
                check_same(&e, &e2);
                st_edit_free(&e2);
            }
            st_buf_free(&b);
            if (first || !had_header) {
                rc = st_manifest_state_apply(&s, &e, "fuzz");
                CHECK(rc == STRATA_OK || rc == STRATA_CORRUPT || rc == STRATA_NOMEM);
                for (size_t i = 0; rc == STRATA_OK && i < s.ntables; i++) {
                    CHECK(s.tables[i].fnum < s.next_file);
                    for (size_t j = i + 1; j < s.ntables; j++)
                        CHECK(s.tables[i].fnum != s.tables[j].fnum);
                }
            }
        }
        first = 0;
        st_edit_free(&e);
        if (rc != STRATA_OK)
            break;
    }
    st_manifest_state_free(&s);
    return 0;
}
