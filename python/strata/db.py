# SPDX-License-Identifier: Apache-2.0
"""db -- strata.DB, strata.Batch, strata.Snapshot and the items() iterator over libstrata."""
import ctypes
import os
import weakref

from . import _lib
from ._lib import lib, check
from .errors import InvalidError, Error

_MEMTABLES = {"skiplist": 0, "trie": 1}
_CODECS = {"none": 0, "snappy": 1, "zstd": 2, "lz4": 3}
_WAL_RECOVERY = {"tolerate_tail": 0, "strict": 1, "skip_corrupt": 2}
_NAMED = {"memtable_kind": _MEMTABLES, "compression": _CODECS, "bottommost_compression": _CODECS,
          "wal_recovery_mode": _WAL_RECOVERY}


def _bytes(x, what):
    if isinstance(x, bytes):
        return x
    if isinstance(x, (bytearray, memoryview)):
        return bytes(x)
    raise TypeError("%s must be bytes, bytearray or memoryview, not %s" % (what, type(x).__name__))


def _make_options(options):
    o = _lib.init_struct(_lib.Options, lib.strata_options_init)
    names = {f[0] for f in _lib.Options._fields_} - {"struct_size"}
    for name, value in options.items():
        if name not in names:
            raise TypeError("unknown strata option %r (known: %s)" % (name, ", ".join(sorted(names))))
        if name in _NAMED and isinstance(value, str):
            if value not in _NAMED[name]:
                raise ValueError("%s must be one of %s, not %r" % (name, ", ".join(_NAMED[name]), value))
            value = _NAMED[name][value]
        if name == "ucs_scaling":
            value = list(value)
            if not 1 <= len(value) <= 8:
                raise ValueError("ucs_scaling takes 1 to 8 values")
            o.ucs_scaling_count = len(value)
            value = (ctypes.c_int * 8)(*value)
        elif isinstance(value, bool):
            value = int(value)
        elif not isinstance(value, int):
            raise TypeError("option %s wants an int, not %s" % (name, type(value).__name__))
        setattr(o, name, value)
    return o


def _write_options(sync):
    w = _lib.init_struct(_lib.WriteOptions, lib.strata_write_options_init)
    w.sync = 1 if sync else 0
    return w


def _prefix_end(p):
    """The smallest key above every key starting with p, or None (p is all 0xff)."""
    p = p.rstrip(b"\xff")
    return p[:-1] + bytes([p[-1] + 1]) if p else None


class Batch:
    """An ordered list of puts and deletes that DB.write() applies atomically."""

    def __init__(self):
        self._b = lib.strata_batch_new()
        if not self._b:
            raise MemoryError("strata_batch_new")

    def _handle(self):
        if not self._b:
            raise InvalidError(2, "STRATA_INVALID", "the batch is closed", "batch")
        return self._b

    def put(self, key, value):
        key, value = _bytes(key, "key"), _bytes(value, "value")
        check(lib.strata_batch_put(self._handle(), key, len(key), value, len(value)), None,
              "batch put")
        return self

    def delete(self, key):
        key = _bytes(key, "key")
        check(lib.strata_batch_delete(self._handle(), key, len(key)), None, "batch delete")
        return self

    def delete_range(self, begin, end):
        """Delete every key in [begin, end) (end exclusive) when the batch is written."""
        begin, end = _bytes(begin, "begin"), _bytes(end, "end")
        check(lib.strata_batch_delete_range(self._handle(), begin, len(begin), end, len(end)),
              None, "batch delete_range")
        return self

    def clear(self):
        lib.strata_batch_clear(self._handle())

    def __len__(self):
        return lib.strata_batch_count(self._handle())

    def close(self):
        if self._b:
            lib.strata_batch_free(self._b)
            self._b = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


class Iterator:
    """Entries (key, value) of a key range in order, from a point-in-time view; returned by
    DB.items(). Closed when exhausted, by close(), or when its database closes."""

    def __init__(self, db, start, stop, prefix, reverse, snapshot):
        lo = None if start is None else _bytes(start, "start")
        hi = None if stop is None else _bytes(stop, "stop")
        if prefix is not None:
            prefix = _bytes(prefix, "prefix")
            if lo is None or prefix > lo:
                lo = prefix
            pend = _prefix_end(prefix)
            if pend is not None and (hi is None or pend < hi):
                hi = pend
        self._lo, self._hi, self._reverse = lo, hi, reverse
        r = _lib.init_struct(_lib.ReadOptions, lib.strata_read_options_init)
        if snapshot is not None:
            r.snapshot = snapshot._handle()
        # the bound buffers must live as long as the iterator: they are attributes of self
        self._lo_buf = ctypes.create_string_buffer(lo or b"", len(lo or b"") or 1)
        self._hi_buf = ctypes.create_string_buffer(hi or b"", len(hi or b"") or 1)
        if lo is not None:
            r.lower_bound, r.lower_bound_len = ctypes.addressof(self._lo_buf), len(lo)
        if hi is not None:
            r.upper_bound, r.upper_bound_len = ctypes.addressof(self._hi_buf), len(hi)
        self._ropts = r
        it = ctypes.c_void_p()
        dbh = db._handle()
        check(lib.strata_iter_open(dbh, ctypes.byref(r), ctypes.byref(it)), dbh, "items")
        self._it, self._db, self._started = it, db, False
        db._iters.add(self)

    def _position(self):
        it, lo, hi = self._it, self._lo, self._hi
        if not self._reverse:
            if lo is not None:
                lib.strata_iter_seek(it, lo, len(lo))
            else:
                lib.strata_iter_seek_first(it)
        elif hi is not None:
            lib.strata_iter_seek_for_prev(it, hi, len(hi))
            if lib.strata_iter_valid(it) and self._key() >= hi:
                lib.strata_iter_prev(it)
        else:
            lib.strata_iter_seek_last(it)

    def _key(self):
        n = ctypes.c_size_t()
        p = lib.strata_iter_key(self._it, ctypes.byref(n))
        return ctypes.string_at(p, n.value)

    def __iter__(self):
        return self

    def __next__(self):
        if self._it is None:
            raise StopIteration
        if self._started:
            (lib.strata_iter_prev if self._reverse else lib.strata_iter_next)(self._it)
        else:
            self._started = True
            self._position()
        if not lib.strata_iter_valid(self._it):
            rc = lib.strata_iter_status(self._it)
            self.close()
            check(rc, None, "items")
            raise StopIteration
        key = self._key()
        if (not self._reverse and self._hi is not None and key >= self._hi) or \
                (self._reverse and self._lo is not None and key < self._lo):
            self.close()
            raise StopIteration
        n = ctypes.c_size_t()
        p = lib.strata_iter_value(self._it, ctypes.byref(n))
        return key, ctypes.string_at(p, n.value)

    def close(self):
        if self._it is not None:
            lib.strata_iter_close(self._it)
            self._it = None
            self._db._iters.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_it", None) is not None:
            self.close()


class Snapshot:
    """A frozen view of a database (DB.snapshot()); release() it, or use it as a context
    manager. Released automatically when its database closes."""

    def __init__(self, db):
        self._db = db
        self._s = lib.strata_snapshot_get(db._handle())
        if not self._s:
            check(_lib.INVALID, db._db, "snapshot")
        db._snaps.add(self)

    def _handle(self):
        if not self._s:
            raise InvalidError(2, "STRATA_INVALID", "the snapshot is released", "snapshot")
        return self._s

    @property
    def sequence(self):
        return lib.strata_snapshot_sequence(self._handle())

    def get(self, key):
        return self._db.get(key, snapshot=self)

    def items(self, start=None, stop=None, prefix=None, reverse=False):
        return self._db.items(start, stop, prefix, reverse, snapshot=self)

    def release(self):
        if self._s:
            lib.strata_snapshot_release(self._db._db, self._s)
            self._s = None
            self._db._snaps.discard(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


class DB:
    """An open strata database: DB(path, **options), a context manager.

    options are the fields of strata_options (create_if_missing, write_buffer_size,
    memtable_kind='skiplist'|'trie', compression='lz4'|'zstd'|'snappy'|'none', ...).
    Keys and values are bytes; get() returns None for an absent key. Failures raise a
    strata.Error subclass carrying the return code and the library's detail message."""

    def __init__(self, path, **options):
        self._db = None
        opts = _make_options(options)
        handle = ctypes.c_void_p()
        self._iters = weakref.WeakSet()
        self._snaps = set()
        self.path = os.fspath(path)
        check(lib.strata_open(os.fsencode(self.path), ctypes.byref(opts), ctypes.byref(handle)),
              None, "open %s" % self.path)
        self._db = handle.value

    def _handle(self):
        if not self._db:
            raise InvalidError(2, "STRATA_INVALID", "the database is closed", "db")
        return self._db

    def close(self):
        """Close open iterators, release snapshots, then close the database."""
        if not self._db:
            return
        for it in list(self._iters):
            it.close()
        for s in list(self._snaps):
            s.release()
        db, self._db = self._db, None
        check(lib.strata_close(db), None, "close")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except (Error, AttributeError):
            pass

    def get(self, key, snapshot=None):
        key = _bytes(key, "key")
        r = None
        if snapshot is not None:
            r = _lib.init_struct(_lib.ReadOptions, lib.strata_read_options_init)
            r.snapshot = snapshot._handle()
        val, n = ctypes.c_void_p(), ctypes.c_size_t()
        db = self._handle()
        rc = lib.strata_get(db, ctypes.byref(r) if r is not None else None, key, len(key),
                            ctypes.byref(val), ctypes.byref(n))
        if rc == _lib.NOTFOUND:
            return None
        check(rc, db, "get")
        try:
            return ctypes.string_at(val, n.value)
        finally:
            lib.strata_free(val)

    def put(self, key, value, sync=False):
        key, value = _bytes(key, "key"), _bytes(value, "value")
        db = self._handle()
        check(lib.strata_put(db, ctypes.byref(_write_options(sync)), key, len(key), value,
                             len(value)), db, "put")

    def delete(self, key, sync=False):
        key = _bytes(key, "key")
        db = self._handle()
        check(lib.strata_delete(db, ctypes.byref(_write_options(sync)), key, len(key)), db,
              "delete")

    def delete_range(self, begin, end, sync=False):
        """Delete every key in [begin, end) (end exclusive) with one range tombstone."""
        begin, end = _bytes(begin, "begin"), _bytes(end, "end")
        db = self._handle()
        check(lib.strata_delete_range(db, ctypes.byref(_write_options(sync)), begin, len(begin),
                                      end, len(end)), db, "delete_range")

    def write(self, batch, sync=False):
        """Apply every entry of the Batch or none of them, even across a crash."""
        if not isinstance(batch, Batch):
            raise TypeError("write() wants a strata.Batch")
        db = self._handle()
        check(lib.strata_write(db, ctypes.byref(_write_options(sync)), batch._handle()), db,
              "write")

    def items(self, start=None, stop=None, prefix=None, reverse=False, snapshot=None):
        """(key, value) pairs with start <= key < stop and key starting with prefix, in key
        order (reverse=True: backwards). start > stop is an empty range, as in a slice (the C
        library calls it a reversed range and returns STRATA_INVALID)."""
        if start is not None and stop is not None and bytes(start) > bytes(stop):
            return iter(())
        return Iterator(self, start, stop, prefix, reverse, snapshot)

    def snapshot(self):
        return Snapshot(self)

    def flush(self):
        db = self._handle()
        check(lib.strata_flush(db), db, "flush")

    def compact(self, start=None, end=None):
        """Compact the keys in [start, end] (both inclusive; None: open end) and wait."""
        s = None if start is None else _bytes(start, "start")
        e = None if end is None else _bytes(end, "end")
        db = self._handle()
        check(lib.strata_compact_range(db, s, len(s or b""), e, len(e or b"")), db, "compact")

    def wait_idle(self):
        db = self._handle()
        check(lib.strata_wait_idle(db), db, "wait_idle")

    def property(self, name):
        """The text of a strata_property name (strata.stats, strata.tables, ...)."""
        out = ctypes.c_void_p()
        db = self._handle()
        check(lib.strata_property(db, name.encode(), ctypes.byref(out)), db, "property " + name)
        try:
            return ctypes.string_at(out).decode("utf-8", "replace")
        finally:
            lib.strata_free(out)

    def stats(self):
        """Numbers about the database as a dict: sequence, memtable_bytes, wal_bytes, tables,
        table_bytes, table_entries, table_tombstones, and 'text' (strata.stats for people)."""
        d = {"sequence": int(self.property("strata.sequence")),
             "memtable_bytes": int(self.property("strata.memtable-bytes")),
             "wal_bytes": int(self.property("strata.wal-bytes")),
             "tables": 0, "table_bytes": 0, "table_entries": 0, "table_tombstones": 0}
        for line in self.property("strata.tables").splitlines():
            fields = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
            d["tables"] += 1
            d["table_bytes"] += int(fields.get("size", 0))
            d["table_entries"] += int(fields.get("entries", 0))
            d["table_tombstones"] += int(fields.get("tombstones", 0))
        d["text"] = self.property("strata.stats")
        return d
