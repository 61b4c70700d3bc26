/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_fs.h -- file-system helpers for tests that work on the real disk directly (POSIX, not
 * through an st_env): copying a database directory to reuse one prepared state in many runs.
 *
 * Errors fail the test (ST_FAIL). Memory: none retained. Thread safety: as the underlying
 * POSIX calls (independent paths are fine).
 */
#ifndef ST_TEST_FS_H
#define ST_TEST_FS_H

#include <stddef.h>

/* Replace directory `to` with a copy of the regular files directly inside `from`. */
void st_test_copy_dir(const char *from, const char *to);

/* Create (or replace) the file at path with the n bytes at p (a damaged copy of a file). */
void st_test_write_file(const char *path, const void *p, size_t n);

#endif
