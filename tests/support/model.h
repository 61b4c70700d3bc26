/* SPDX-License-Identifier: Apache-2.0 */
/*
 * model.h -- an obviously-correct in-memory oracle for database tests: a sorted array of
 * (key, value) byte strings, ordered bytewise like strata (memcmp, shorter prefix first).
 *
 * Positions are indexes 0..count-1; seek functions return an index, or count / -1 style
 * sentinels documented below, so callers can walk forwards and backwards like an iterator.
 *
 * Ownership: a model owns copies of every key and value; pointers from st_model_at are borrowed
 * and valid until the next change of the model. st_model_clone makes an independent copy (a
 * snapshot view). Memory comes from malloc (not st_malloc), so allocation-failure tests do not
 * disturb the oracle; out of memory aborts the test process.
 * Thread safety: none; guard a shared model with a lock.
 */
#ifndef ST_TEST_MODEL_H
#define ST_TEST_MODEL_H

#include <stddef.h>
#include <stdint.h>

typedef struct st_model st_model;

st_model *st_model_new(void);
void st_model_free(st_model *m); /* NULL is a no-op */
st_model *st_model_clone(const st_model *m);

void st_model_put(st_model *m, const void *key, size_t klen, const void *val, size_t vlen);
void st_model_delete(st_model *m, const void *key, size_t klen);
/* Delete every key in [begin, end) (nothing when begin >= end), like strata_delete_range. */
void st_model_delete_range(st_model *m, const void *begin, size_t blen, const void *end,
                           size_t elen);
void st_model_clear(st_model *m);

/* 1 and the borrowed value when present, else 0. */
int st_model_get(const st_model *m, const void *key, size_t klen, const void **val, size_t *vlen);

size_t st_model_count(const st_model *m);

/* Entry i (0 <= i < count); borrowed pointers. */
void st_model_at(const st_model *m, size_t i, const void **key, size_t *klen, const void **val,
                 size_t *vlen);

/* Index of the first key >= key (count when none). */
size_t st_model_lower_bound(const st_model *m, const void *key, size_t klen);

/* Index of the last key <= key, or -1 when none. */
long st_model_seek_for_prev(const st_model *m, const void *key, size_t klen);

/* Bytewise key order used by strata: memcmp, then the shorter first. */
int st_model_keycmp(const void *a, size_t alen, const void *b, size_t blen);

#endif
