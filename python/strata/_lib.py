# SPDX-License-Identifier: Apache-2.0
"""_lib -- loading libstrata.so with ctypes: the function prototypes and the options structures
of include/strata/strata.h. Nothing here is public; see strata.DB."""
import ctypes
import ctypes.util
import os

from .errors import error_for

c_size_t = ctypes.c_size_t
c_int = ctypes.c_int
c_void_p = ctypes.c_void_p
c_char_p = ctypes.c_char_p
P = ctypes.POINTER

# Return codes (strata.h: a closed set; new codes are only appended)
OK, NOTFOUND, INVALID, BUSY = 0, 1, 2, 7


class Options(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("create_if_missing", c_int),
                ("error_if_exists", c_int), ("memtable_kind", c_int),
                ("write_buffer_size", c_size_t), ("max_immutable_memtables", c_int),
                ("wal_recovery_mode", c_int), ("compression", c_int),
                ("compression_level", c_int), ("block_cache_size", c_size_t),
                ("bloom_bits_per_key", c_int), ("page_size", c_size_t),
                ("target_file_size", c_size_t), ("background_threads", c_int),
                ("ucs_scaling", c_int * 8), ("ucs_scaling_count", c_int),
                ("ucs_base_shards", c_int), ("max_open_files", c_int),
                ("bottommost_compression", c_int), ("read_only", c_int), ("reserved_", c_int),
                ("bottommost_page_size", c_size_t), ("memory_budget", c_size_t)]


class ReadOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("snapshot", c_void_p), ("verify_checksums", c_int),
                ("fill_cache", c_int), ("lower_bound", c_void_p), ("lower_bound_len", c_size_t),
                ("upper_bound", c_void_p), ("upper_bound_len", c_size_t),
                ("prefix", c_void_p), ("prefix_len", c_size_t)]


class WriteOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("sync", c_int), ("disable_wal", c_int)]


# name: (restype, argtypes)
_PROTOTYPES = {
    "strata_version": (c_char_p, [P(c_int), P(c_int), P(c_int)]),
    "strata_errstr": (c_char_p, [c_int]),
    "strata_errmsg": (c_char_p, [c_void_p]),
    "strata_options_init": (None, [c_void_p]),
    "strata_read_options_init": (None, [c_void_p]),
    "strata_write_options_init": (None, [c_void_p]),
    "strata_open": (c_int, [c_char_p, P(Options), P(c_void_p)]),
    "strata_close": (c_int, [c_void_p]),
    "strata_put": (c_int, [c_void_p, P(WriteOptions), c_void_p, c_size_t, c_void_p, c_size_t]),
    "strata_delete": (c_int, [c_void_p, P(WriteOptions), c_void_p, c_size_t]),
    "strata_delete_range": (c_int, [c_void_p, P(WriteOptions), c_void_p, c_size_t, c_void_p,
                                    c_size_t]),
    "strata_batch_new": (c_void_p, []),
    "strata_batch_put": (c_int, [c_void_p, c_void_p, c_size_t, c_void_p, c_size_t]),
    "strata_batch_delete": (c_int, [c_void_p, c_void_p, c_size_t]),
    "strata_batch_delete_range": (c_int, [c_void_p, c_void_p, c_size_t, c_void_p, c_size_t]),
    "strata_batch_clear": (None, [c_void_p]),
    "strata_batch_count": (c_size_t, [c_void_p]),
    "strata_batch_free": (None, [c_void_p]),
    "strata_write": (c_int, [c_void_p, P(WriteOptions), c_void_p]),
    "strata_get": (c_int, [c_void_p, P(ReadOptions), c_void_p, c_size_t, P(c_void_p),
                           P(c_size_t)]),
    "strata_free": (None, [c_void_p]),
    "strata_iter_open": (c_int, [c_void_p, P(ReadOptions), P(c_void_p)]),
    "strata_iter_seek": (None, [c_void_p, c_void_p, c_size_t]),
    "strata_iter_seek_for_prev": (None, [c_void_p, c_void_p, c_size_t]),
    "strata_iter_seek_first": (None, [c_void_p]),
    "strata_iter_seek_last": (None, [c_void_p]),
    "strata_iter_next": (None, [c_void_p]),
    "strata_iter_prev": (None, [c_void_p]),
    "strata_iter_valid": (c_int, [c_void_p]),
    "strata_iter_key": (c_void_p, [c_void_p, P(c_size_t)]),
    "strata_iter_value": (c_void_p, [c_void_p, P(c_size_t)]),
    "strata_iter_status": (c_int, [c_void_p]),
    "strata_iter_close": (None, [c_void_p]),
    "strata_snapshot_get": (c_void_p, [c_void_p]),
    "strata_snapshot_release": (None, [c_void_p, c_void_p]),
    "strata_snapshot_sequence": (ctypes.c_uint64, [c_void_p]),
    "strata_flush": (c_int, [c_void_p]),
    "strata_compact_range": (c_int, [c_void_p, c_void_p, c_size_t, c_void_p, c_size_t]),
    "strata_wait_idle": (c_int, [c_void_p]),
    "strata_property": (c_int, [c_void_p, c_char_p, P(c_void_p)]),
}


def _load():
    """libstrata.so from $STRATA_LIBRARY, else the one the dynamic linker finds."""
    explicit = os.environ.get("STRATA_LIBRARY")
    names = [explicit] if explicit else [ctypes.util.find_library("strata"), "libstrata.so.0"]
    errors = []
    for name in names:
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError as e:
            errors.append(str(e))
            continue
        for fn, (restype, argtypes) in _PROTOTYPES.items():
            f = getattr(lib, fn)
            f.restype = restype
            f.argtypes = argtypes
        return lib
    raise ImportError("strata: cannot load libstrata.so (install the strata package or set "
                      "STRATA_LIBRARY to its path): " + "; ".join(errors or ["not found"]))


lib = _load()


def init_struct(cls, init):
    """A cls filled by the library's init function. The library writes its own struct_size bytes,
    which may exceed ours when it is newer than this binding, so it writes into a larger buffer;
    the struct we pass then says our (smaller) size, which the library accepts."""
    buf = ctypes.create_string_buffer(ctypes.sizeof(cls) + 1024)
    init(buf)
    s = cls.from_buffer_copy(buf)
    s.struct_size = ctypes.sizeof(cls)
    return s


def library_struct_size(init):
    """The struct_size the library's init function sets (tests compare it with ours)."""
    buf = ctypes.create_string_buffer(4096)
    init(buf)
    return c_size_t.from_buffer(buf).value


def check(rc, db=None, what=None):
    """Raise the strata.Error subclass of rc (not OK) with the thread's detail message."""
    if rc == OK:
        return
    detail = (lib.strata_errmsg(db) or b"").decode("utf-8", "replace")
    text = (lib.strata_errstr(rc) or b"").decode("utf-8", "replace")
    raise error_for(rc)(rc, text, detail, what)
