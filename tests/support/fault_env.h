/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fault_env.h -- a fault-injecting, power-loss-simulating st_env for tests.
 *
 * An st_fault_env wraps a real env (normally st_env_posix()) and forwards every call to it,
 * wrapping each st_file the same way. On top of that it
 *
 *   (a) counts operations by kind and makes the N-th matching operation fail with an injected
 *       errno (EIO -> STRATA_IOERR, ENOSPC -> STRATA_NOSPC, ...), once or persistently from then
 *       on. A failed append may first write a prefix of the data (ST_FAULT_PARTIAL_APPEND), the
 *       way a real short write leaves the file;
 *
 *   (b) tracks, per path, the length made durable by the last st_file sync and whether the
 *       directory entry (creation or rename) was made durable by a sync_dir of its parent, and
 *       st_fault_env_crash() then simulates a power loss on the real disk:
 *         - every tracked file is truncated to its last synced length (optionally keeping a
 *           random part of the unsynced tail, ST_FAULT_CRASH_TORN, to model a torn write);
 *         - a file whose creation was never made durable by sync_dir is deleted;
 *         - a rename to a fresh name whose new entry was never made durable is undone when
 *           the source entry was durable (the file goes back to its old name, truncated to its
 *           synced length); when the source was not durable either, the file is deleted;
 *       What is NOT modelled (documented simplifications): removals and file truncations are
 *       treated as durable at once; a rename over an existing durable file is treated as
 *       durable (the replaced contents are gone, so it cannot be undone); files that existed
 *       before the env first saw them are assumed fully durable; in the EXACT and TORN modes
 *       data reaches the disk in append order, while ST_FAULT_CRASH_SECTORS keeps and drops
 *       unsynced sectors independently (reordering inside a file, lost middle sectors).
 *       ST_FAULT_CRASH_MODE=sectors in the environment makes every crash of every fault env
 *       use ST_FAULT_CRASH_SECTORS (how ctest reruns the power-loss tests under it).
 *       After a crash the env is "powered off": every operation fails with EIO (close still
 *       closes the real descriptor so locks are released) until st_fault_env_reset();
 *
 *   (c) optionally enforces a quota on one directory (st_fault_env_set_quota): a small disk.
 *
 * Debugging: with ST_FAULT_TRACE set in the environment every operation is printed to stderr
 * (kind, per-kind count, path, and "-> FAIL" for injected failures).
 *
 * Ownership: st_fault_env_new returns an env owned by the caller, freed by st_fault_env_free
 * after every file opened through it was closed. The real env must outlive it.
 * Thread safety: every entry point may be called from many threads; crash() waits for the
 * operations in flight and blocks new ones while it rewrites the disk.
 * Errors: injected failures set the thread's detail message "injected fault: <op> <path>".
 * The helpers never use st_malloc, so st_alloc_fail_after() does not affect them.
 */
#ifndef ST_TEST_FAULT_ENV_H
#define ST_TEST_FAULT_ENV_H

#include "env/env.h"

#include <stdint.h>

/* Operation kinds (bit mask). */
enum {
    ST_FAULT_OPEN = 1u << 0,
    ST_FAULT_APPEND = 1u << 1,
    ST_FAULT_SYNC = 1u << 2,
    ST_FAULT_RENAME = 1u << 3,
    ST_FAULT_REMOVE = 1u << 4,
    ST_FAULT_SYNC_DIR = 1u << 5,
    ST_FAULT_READ = 1u << 6,
    ST_FAULT_TRUNCATE = 1u << 7,
    ST_FAULT_MKDIR = 1u << 8,
    ST_FAULT_LIST = 1u << 9,
    ST_FAULT_LOCK = 1u << 10,
    ST_FAULT_SIZE = 1u << 11,
    ST_FAULT_EXISTS = 1u << 12,
    ST_FAULT_RMDIR = 1u << 13,
    ST_FAULT_CLOSE = 1u << 14, /* the real file is closed anyway; only the result is an error */
    ST_FAULT_OP_KINDS = 15,
    /* everything that changes the disk */
    ST_FAULT_WRITES = ST_FAULT_OPEN | ST_FAULT_APPEND | ST_FAULT_SYNC | ST_FAULT_RENAME |
                      ST_FAULT_REMOVE | ST_FAULT_SYNC_DIR | ST_FAULT_TRUNCATE | ST_FAULT_MKDIR,
    ST_FAULT_ALL = (1u << 15) - 1
};

/* Flags for st_fault_env_fail. */
enum {
    ST_FAULT_PERSISTENT = 1,    /* every matching op from the N-th on fails, not just the N-th */
    ST_FAULT_PARTIAL_APPEND = 2 /* an append that fails first writes half of its bytes */
};

/* Modes for st_fault_env_crash. */
enum {
    ST_FAULT_CRASH_EXACT = 0, /* drop exactly what was not synced */
    ST_FAULT_CRASH_TORN = 1,  /* keep a random prefix of each unsynced tail (torn writes) */
    /* Reordered writes, as in SQLite's crash tests: each unsynced sector (ST_FAULT_SECTOR
     * bytes, file offsets) is independently kept or dropped (reads as zeros), the last may be
     * torn; the file ends after the last surviving byte or (1 in 4) keeps its length. */
    ST_FAULT_CRASH_SECTORS = 2
};
#define ST_FAULT_SECTOR 512

typedef struct st_fault_env st_fault_env;

/* New wrapper over `real`. Returns NULL when out of memory. */
st_fault_env *st_fault_env_new(st_env *real);
void st_fault_env_free(st_fault_env *fe); /* NULL is a no-op */

/* The st_env to hand to the code under test (valid for the life of fe). */
st_env *st_fault_env_env(st_fault_env *fe);

/*
 * st_fault_env_fail --
 *     Arm a fault: counting from now, the nth (1-based) operation whose kind is in `mask` fails
 *     with `errnum`. `flags` is a mask of ST_FAULT_PERSISTENT / ST_FAULT_PARTIAL_APPEND.
 *     Replaces any previously armed fault. nth == 0 disarms.
 */
void st_fault_env_fail(st_fault_env *fe, unsigned mask, uint64_t nth, int errnum, int flags);
void st_fault_env_disarm(st_fault_env *fe);

/* Number of faults injected since creation (or the last reset). */
uint64_t st_fault_env_injected(st_fault_env *fe);

/* Number of operations of the kinds in `mask` seen since creation (or the last reset). */
uint64_t st_fault_env_count(st_fault_env *fe, unsigned mask);

/* Static name of one op kind bit ("append", ...). */
const char *st_fault_op_name(unsigned kind);

/*
 * st_fault_env_crash --
 *     Simulate a power loss now (see the header comment). `seed` drives the TORN and SECTORS
 * choices. Returns STRATA_OK or the error of a real-disk operation that failed while rewriting.
 *     Afterwards the env is powered off until st_fault_env_reset().
 */
int st_fault_env_crash(st_fault_env *fe, int mode, uint64_t seed);

/* Power on again: forget all tracking (what is on disk now counts as durable), reset counters,
 * disarm faults. */
void st_fault_env_reset(st_fault_env *fe);

/*
 * st_fault_env_skip_real_sync --
 *     skip != 0: sync and sync_dir still count, can fail, and update the crash model, but the
 *     real disk is not fsync'ed (fast tests whose power losses are all simulated by
 *     st_fault_env_crash; a real power loss would then lose data). Default 0. Set it before the
 *     env is used from other threads.
 */
void st_fault_env_skip_real_sync(st_fault_env *fe, int skip);

/*
 * st_fault_env_set_quota --
 *     A small disk: an append to a file directly inside `dir` that would make the regular files
 *     there total more than `bytes` writes what fits and fails with ENOSPC (STRATA_NOSPC), as a
 *     full file system does. Usage is measured on the real disk at each append, so removals and
 *     truncations free space at once. dir NULL removes the quota; reset() keeps it.
 */
void st_fault_env_set_quota(st_fault_env *fe, const char *dir, uint64_t bytes);
/* Total size of the regular files directly inside dir (what the quota counts). */
uint64_t st_fault_env_dir_usage(const char *dir);

/*
 * st_fault_env_set_delay --
 *     A slow disk: every later operation whose kind is in `mask` first sleeps `micros`
 *     microseconds (outside the env's locks, so other operations go on). micros <= 0 or mask 0
 *     removes the delay; reset() keeps it.
 */
void st_fault_env_set_delay(st_fault_env *fe, unsigned mask, long micros);

/*
 * st_fault_env_set_hook --
 *     Every later operation whose kind is in `mask` first calls fn(arg, kind, path) (path: the
 *     file or directory operated on; outside the env's locks, after any delay), in the calling
 *     thread: a test can hold an operation there to see what the rest of the program does
 *     meanwhile. fn NULL removes the hook; reset() keeps it.
 */
typedef void (*st_fault_hook_fn)(void *arg, unsigned kind, const char *path);
void st_fault_env_set_hook(st_fault_env *fe, unsigned mask, st_fault_hook_fn fn, void *arg);

/* 1 while powered off after a crash. */
int st_fault_env_is_dead(st_fault_env *fe);

/* Durability view of a path for tests of the env itself: -1 when untracked, else fills the last
 * synced length and whether its directory entry is durable. */
int st_fault_env_file_state(st_fault_env *fe, const char *path, uint64_t *synced_len,
                            int *entry_durable);

#endif
