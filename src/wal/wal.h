/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wal.h -- the write-ahead log: writer and reader of checksummed, block-framed records.
 * The on-disk format is doc/format_wal.md.
 *
 * A record is an opaque byte string (the database stores one encoded write batch group per
 * record). The writer frames it (fragmenting across fixed-size blocks, CRC32C per fragment) and
 * hands the whole framed record to the file layer in ONE append, so a record acknowledged without
 * sync has reached the operating system.
 *
 * The reader returns records in order and classifies damage:
 *   - a torn tail (an incomplete or bad final record with nothing valid after it) is the normal
 *     result of a crash: reported, dropped, and reading ends cleanly (unless the mode is STRICT);
 *   - damage followed by valid records is mid-log corruption: STRATA_CORRUPT naming the file and
 *     offset (unless the mode is SKIP_CORRUPT, which reports and skips it).
 *
 * Thread safety: a writer or reader is used by one thread at a time.
 */
#ifndef ST_WAL_WAL_H
#define ST_WAL_WAL_H

#include "env/env.h"

#include <stddef.h>
#include <stdint.h>

typedef struct st_wal_writer st_wal_writer;
typedef struct st_wal_reader st_wal_reader;

/* Format constants (doc/format_wal.md); exposed for tests and tools. */
#define ST_WAL_VERSION 1
#define ST_WAL_BLOCK_SIZE 32768u        /* blocks are counted from file offset 0 */
#define ST_WAL_FILE_HEADER_SIZE 32u     /* magic, version, log number, salt, header CRC */
#define ST_WAL_FRAG_HEADER_SIZE 7u      /* masked CRC (4), length (2), type (1) */
#define ST_WAL_MAX_RECORD 0xffffffffull /* larger records are refused (INVALID) */
#define ST_WAL_SECTOR 512u              /* unit of a power loss's reordering (damage rules) */

/*
 * st_wal_writer_open --
 *     Create a new log file at path (INVALID if it exists) for log number log_number.
 */
int st_wal_writer_open(st_env *env, const char *path, uint64_t log_number, st_wal_writer **out);

/*
 * st_wal_writer_open_mapped --
 *     The same, with appends copied into a mapping of space the file reserves ahead
 *     (ST_OPEN_MAPPED_APPEND): no system call per record. A crash may leave the reserve as a
 *     zero-filled tail, which readers take as the clean end of the log. For the database's
 *     log, written on every commit.
 */
int st_wal_writer_open_mapped(st_env *env, const char *path, uint64_t log_number,
                              st_wal_writer **out);

/* Append one record (n may be 0). Errors are sticky: after one, every call returns it. */
int st_wal_writer_add(st_wal_writer *w, const void *rec, size_t n);

/* Make every record added so far durable (fdatasync). */
int st_wal_writer_sync(st_wal_writer *w);

/* Bytes in the file so far. */
uint64_t st_wal_writer_size(const st_wal_writer *w);

/* Close (does not sync) and free. NULL is a no-op. */
int st_wal_writer_close(st_wal_writer *w);

/* Damage report: `bytes` bytes at `offset` were dropped for `reason`. */
typedef void (*st_wal_report_fn)(void *arg, const char *path, uint64_t offset, uint64_t bytes,
                                 const char *reason);

/*
 * st_wal_reader_open --
 *     Open path for reading; mode is a STRATA_WAL_RECOVERY_* value; report may be NULL. The
 *     header is checked here: a foreign file or unknown format version is CORRUPT / NOTSUP,
 *     except in SKIP_CORRUPT mode, where a complete header whose checksum fails but
 *     that keeps at least 6 of the 8 magic bytes and version 1 is reported
 *     (32 bytes at offset 0) and reading goes on with the log number and salt it holds: every
 *     fragment that still verifies is returned, the rest reported and skipped, and
 *     st_wal_reader_log_number() is 0 (unknown).
 */
int st_wal_reader_open(st_env *env, const char *path, int mode, st_wal_report_fn report,
                       void *report_arg, st_wal_reader **out);

/*
 * st_wal_reader_next --
 *     STRATA_OK with the next record in *rec and *n (borrowed: valid until the next call or close),
 *     STRATA_NOTFOUND at the end of the log, or STRATA_CORRUPT / STRATA_IOERR.
 */
int st_wal_reader_next(st_wal_reader *r, const uint8_t **rec, size_t *n);

/* The log number stored in the file header. */
uint64_t st_wal_reader_log_number(const st_wal_reader *r);
/* Offset just past the last good record returned. */
uint64_t st_wal_reader_good_end(const st_wal_reader *r);
/* Bytes dropped so far (torn tail or skipped damage). */
uint64_t st_wal_reader_dropped(const st_wal_reader *r);

void st_wal_reader_close(st_wal_reader *r); /* NULL is a no-op */

#endif
