# SPDX-License-Identifier: Apache-2.0
"""Tests of the Python binding (python/strata). Run by ctest (test_python, python/CMakeLists.txt)
with STRATA_LIBRARY (the built libstrata.so), STRATA_CLI (the built strata tool) and
ST_TEST_TMPDIR set; or by hand: PYTHONPATH=python python3 -m unittest discover -s python/tests."""
import ctypes
import os
import random
import subprocess
import sys
import tempfile
import unittest

import strata
from strata import _lib

HERE = os.path.dirname(os.path.abspath(__file__))
CLI = os.environ.get("STRATA_CLI")


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(dir=os.environ.get("ST_TEST_TMPDIR"))
        self.path = os.path.join(self.tmp.name, "db")

    def tearDown(self):
        self.tmp.cleanup()


class Basics(Base):
    def test_put_get_delete(self):
        with strata.DB(self.path) as db:
            self.assertIsNone(db.get(b"k"))
            db.put(b"k", b"v")
            db.put(bytearray(b"k2"), memoryview(b"\x00\xff"))
            self.assertEqual(db.get(b"k"), b"v")
            self.assertEqual(db.get(b"k2"), b"\x00\xff")
            db.put(b"empty", b"")
            self.assertEqual(db.get(b"empty"), b"")
            db.delete(b"k")
            db.delete(b"never-there")
            self.assertIsNone(db.get(b"k"))
        with strata.DB(self.path) as db:  # reopened: the same contents
            self.assertEqual(db.get(b"k2"), b"\x00\xff")
            self.assertIsNone(db.get(b"k"))

    def test_types(self):
        with strata.DB(self.path) as db:
            for bad in ["text", 1, None]:
                with self.assertRaises(TypeError):
                    db.put(bad, b"v")
                with self.assertRaises(TypeError):
                    db.get(bad)
            with self.assertRaises(TypeError):
                db.write([(b"k", b"v")])

    def test_errors_carry_code_and_detail(self):
        with strata.DB(self.path) as db:
            with self.assertRaises(strata.InvalidError) as cm:
                db.put(b"", b"v")
            e = cm.exception
            self.assertIsInstance(e, strata.Error)
            self.assertEqual(e.code, 2)
            self.assertEqual(e.name, "STRATA_INVALID")
            self.assertIn("empty key", e.detail)
            with self.assertRaises(strata.InvalidError):
                db.put(b"x" * (64 * 1024 + 1), b"v")
            with self.assertRaises(strata.InvalidError):
                db.property("strata.nonsense")
            # one handle per database: a second open is BUSY
            with self.assertRaises(strata.BusyError) as cm:
                strata.DB(self.path)
            self.assertEqual(cm.exception.code, 7)
        with self.assertRaises(strata.NotFoundError) as cm:
            strata.DB(os.path.join(self.tmp.name, "missing"), create_if_missing=False)
        self.assertEqual(cm.exception.code, 1)
        self.assertEqual({c.code for c in strata.ERRORS.values()}, set(range(1, 11)))
        for code, cls in strata.ERRORS.items():
            name = _lib.lib.strata_errstr(code).decode().split(":")[0]
            self.assertEqual(cls(code, name).name, name)

    def test_closed_handle(self):
        db = strata.DB(self.path)
        db.close()
        db.close()  # idempotent
        with self.assertRaises(strata.InvalidError):
            db.get(b"k")
        with self.assertRaises(strata.InvalidError):
            db.put(b"k", b"v")

    def test_options(self):
        with strata.DB(self.path, memtable_kind="trie", compression="zstd",
                       write_buffer_size=1 << 20, bloom_bits_per_key=0, ucs_scaling=[-2, 2]) as db:
            db.put(b"k", b"v", sync=True)
            db.flush()
            self.assertEqual(db.get(b"k"), b"v")
            self.assertIn("trie", db.property("strata.stats"))
        with self.assertRaises(TypeError):
            strata.DB(self.path, no_such_option=1)
        with self.assertRaises(ValueError):
            strata.DB(self.path, compression="gzip")
        with self.assertRaises(strata.InvalidError):
            strata.DB(self.path, memtable_kind=7)

    def test_struct_layout_matches_the_library(self):
        for cls, init in [(_lib.Options, _lib.lib.strata_options_init),
                          (_lib.ReadOptions, _lib.lib.strata_read_options_init),
                          (_lib.WriteOptions, _lib.lib.strata_write_options_init)]:
            self.assertEqual(_lib.library_struct_size(init), ctypes.sizeof(cls), cls.__name__)
        o = _lib.init_struct(_lib.Options, _lib.lib.strata_options_init)
        self.assertEqual((o.create_if_missing, o.ucs_scaling_count, o.bloom_bits_per_key),
                         (1, 1, 10))
        self.assertEqual(strata.library_version().split(".")[0], "0")


class BatchesAndIteration(Base):
    def test_batch(self):
        with strata.DB(self.path) as db, strata.Batch() as b:
            db.put(b"gone", b"x")
            b.put(b"a", b"1").put(b"b", b"2").delete(b"gone").put(b"a", b"3")
            self.assertEqual(len(b), 4)
            db.write(b)
            self.assertEqual(list(db.items()), [(b"a", b"3"), (b"b", b"2")])
            b.clear()
            self.assertEqual(len(b), 0)

    def test_delete_range(self):
        with strata.DB(self.path) as db, strata.Batch() as b:
            for k in (b"a", b"b", b"c", b"d"):
                db.put(k, k)
            db.delete_range(b"b", b"d")  # b and c, not d
            self.assertEqual(list(db.items()), [(b"a", b"a"), (b"d", b"d")])
            b.put(b"c", b"again").delete_range(b"a", b"b").put(b"z", b"z")
            db.write(b)
            self.assertEqual(list(db.items(reverse=True)),
                             [(b"z", b"z"), (b"d", b"d"), (b"c", b"again")])
            with self.assertRaises(strata.InvalidError):
                db.delete_range(b"d", b"a")
        with strata.DB(self.path) as db:  # reopened: the WAL replays the range deletes
            self.assertEqual([k for k, _ in db.items()], [b"c", b"d", b"z"])

    def test_items_ranges(self):
        rnd = random.Random(7)
        keys = sorted({bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 5)))
                       for _ in range(400)} | {b"\xff", b"\xff\xff", b"a\xff", b"b"})
        with strata.DB(self.path, write_buffer_size=64 << 10) as db:
            for k in keys:
                db.put(k, k[::-1])
            db.flush()
            for k in keys[::3]:
                db.delete(k)
            live = [k for i, k in enumerate(keys) if i % 3 != 0]

            def want(start=None, stop=None, prefix=None, reverse=False):
                r = [(k, k[::-1]) for k in live if (start is None or k >= start) and
                     (stop is None or k < stop) and (prefix is None or k.startswith(prefix))]
                return r[::-1] if reverse else r

            cases = [{}, {"start": b"\x40"}, {"stop": b"\x80"}, {"start": b"\x10", "stop": b"\x11"},
                     {"prefix": b"a"}, {"prefix": b"\xff"}, {"prefix": b"a", "start": b"a\x80"},
                     {"prefix": b"\x00\x00\x00\x00\x00"}, {"start": b"z", "stop": b"a"}]
            for c in cases:
                for rev in (False, True):
                    self.assertEqual(list(db.items(reverse=rev, **c)), want(reverse=rev, **c),
                                     (c, rev))

    def test_open_iterators_and_snapshots_are_closed_with_the_db(self):
        db = strata.DB(self.path)
        for i in range(10):
            db.put(b"k%d" % i, b"v")
        it = db.items()
        self.assertEqual(next(it)[0], b"k0")
        snap = db.snapshot()
        db.close()  # would be STRATA_BUSY if the binding left them open
        self.assertEqual(list(it), [])
        with self.assertRaises(strata.InvalidError):
            snap.get(b"k0")

    def test_snapshot(self):
        with strata.DB(self.path) as db:
            db.put(b"a", b"old")
            with db.snapshot() as s:
                db.put(b"a", b"new")
                db.put(b"b", b"new")
                self.assertEqual(s.get(b"a"), b"old")
                self.assertIsNone(s.get(b"b"))
                self.assertEqual(list(s.items()), [(b"a", b"old")])
                self.assertEqual(s.sequence, 1)
            self.assertEqual(db.get(b"a"), b"new")

    def test_flush_compact_stats(self):
        with strata.DB(self.path, write_buffer_size=64 << 10) as db:
            for i in range(3000):
                db.put(b"key%06d" % i, b"value %d" % i)
            db.flush()
            db.compact()
            db.wait_idle()
            st = db.stats()
            self.assertEqual(st["sequence"], 3000)
            self.assertGreaterEqual(st["tables"], 1)
            self.assertEqual(st["table_entries"], 3000)
            self.assertGreater(st["table_bytes"], 0)
            self.assertIn("sequence: 3000", st["text"])
            self.assertEqual(len(list(db.items())), 3000)


@unittest.skipUnless(CLI, "STRATA_CLI (the strata tool) not set")
class WithTheTool(Base):
    def test_read_what_the_tool_wrote(self):
        rows = ["k%05d\tvalue\\t%d" % (i, i) for i in range(2000)]
        r = subprocess.run([CLI, "load", self.path], input="\n".join(rows) + "\n", text=True,
                           capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        subprocess.run([CLI, "compact", self.path], check=True, capture_output=True)
        subprocess.run([CLI, "put", self.path, "last", "x"], check=True)
        with strata.DB(self.path, create_if_missing=False) as db:
            got = list(db.items(stop=b"l"))
            self.assertEqual(got, [(b"k%05d" % i, b"value\t%d" % i) for i in range(2000)])
            self.assertEqual(db.get(b"last"), b"x")
            db.put(b"from python", b"\x01\x02")
        r = subprocess.run([CLI, "--hex", "get", self.path, b"from python".hex()],
                           capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stdout), (0, "0102\n"), r.stderr)

    def test_crash_of_the_python_process(self):
        for mode in ("kill", "exit"):
            path = os.path.join(self.tmp.name, mode)
            env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(strata.__file__)))
            r = subprocess.run([sys.executable, os.path.join(HERE, "crash_child.py"), path, "5000",
                                mode], capture_output=True, text=True, env=env, timeout=120)
            self.assertIn("written 5000", r.stdout, r.stderr)
            self.assertEqual(r.returncode, -9 if mode == "kill" else 0, r.stderr)
            with strata.DB(path, create_if_missing=False) as db:  # the lock died with it
                got = list(db.items())
                self.assertEqual(len(got), 4999, mode)
                self.assertEqual(got[0], (b"key00000001", b"value 1"))
                self.assertEqual(got[-1], (b"key00004999", b"value 4999"))
                self.assertIsNone(db.get(b"key00000000"))
            r = subprocess.run([CLI, "check", path], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
