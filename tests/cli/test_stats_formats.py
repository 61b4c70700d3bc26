#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""test_stats_formats.py STRATA -- `strata stats --json` parses as JSON and `--prometheus` passes
a check of the Prometheus text exposition format (0.0.4), both carry every metric the tool
derives from strata.stats (tools/cli_stats.c) with the values the database really has.
Registered as ctest test `test_cli_stats_formats` from tools/CMakeLists.txt."""
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import unittest

STRATA = None

# Every metric of tools/cli_stats.c: a change of the strata.stats text that loses one fails here.
METRICS = """sequence memtable_bytes memtable_entries immutable_memtables immutable_memtable_bytes
wal_number wal_bytes wal_records_total wal_syncs_total commit_groups_total write_batches_total
user_bytes_total gets_total gets_found_total recovered_records recovered_entries
recovery_dropped_bytes recovery_seconds open_iterators open_snapshots running_flushes
running_compactions tables table_bytes table_entries table_tombstones sorted_runs table_cache_open
table_cache_limit table_cache_opens_total table_cache_evictions_total level_overlap flushes_total
flush_bytes_total flush_seconds_total compactions_total compaction_bytes_in_total
compaction_bytes_out_total compaction_seconds_total write_amplification stalls_total
slowdowns_total stall_seconds_total cache_bytes cache_capacity_bytes cache_hits_total
cache_misses_total""".split()

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(\{(%s=%s(?:,%s=%s)*)?\})? (\S+)$" % (NAME, NAME, LABEL_VALUE, NAME,
                                                                 LABEL_VALUE))
HELP = re.compile(r"^# HELP (%s) (.*)$" % NAME)
TYPE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % NAME)


def parse_prometheus(text):
    """Check the exposition format; return {metric: (type, value, labels text)}."""
    if not text.endswith("\n"):
        raise ValueError("output does not end with a newline")
    types, helps, samples = {}, {}, {}
    for n, line in enumerate(text.splitlines(), 1):
        where = "line %d: %r" % (n, line)
        if line.startswith("#"):
            m = HELP.match(line) or TYPE.match(line)
            if not m:
                raise ValueError("bad comment, " + where)
            table = helps if line.startswith("# HELP") else types
            if m.group(1) in table:
                raise ValueError("second HELP/TYPE for %s, %s" % (m.group(1), where))
            if m.group(1) in samples:
                raise ValueError("HELP/TYPE after the samples of %s, %s" % (m.group(1), where))
            table[m.group(1)] = m.group(2)
            continue
        m = SAMPLE.match(line)
        if not m:
            raise ValueError("bad sample, " + where)
        name, value = m.group(1), m.group(4)
        if name not in types:
            raise ValueError("sample without a TYPE, " + where)
        if name in samples:
            raise ValueError("second sample of %s, %s" % (name, where))
        if types[name] == "counter" and not name.endswith("_total"):
            raise ValueError("counter not named *_total, " + where)
        v = float(value)
        if math.isnan(v) or v < 0:
            raise ValueError("value out of range, " + where)
        samples[name] = (types[name], v, m.group(3) or "")
    return samples


def run(*args, check=True):
    r = subprocess.run([STRATA] + list(args), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError("strata %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return r


class StatsFormats(unittest.TestCase):
    N = 3000

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(dir=os.environ.get("ST_TEST_TMPDIR"))
        # a path JSON and Prometheus must escape
        cls.db = os.path.join(cls.tmp.name, 'we"ird\\db')
        lines = "".join("k%06d\tvalue %d\n" % (i, i) for i in range(cls.N))
        r = subprocess.run([STRATA, "load", cls.db], input=lines, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        run("compact", cls.db)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_json(self):
        doc = json.loads(run("stats", "--json", self.db).stdout)
        self.assertIsInstance(doc, dict)
        self.assertEqual(doc["path"], os.path.abspath(self.db))
        self.assertEqual(doc["version"], run("--version").stdout.split()[1])
        self.assertIsNone(doc["background_error"])
        missing = [m for m in METRICS if m not in doc]
        self.assertEqual(missing, [])
        for m in METRICS:
            self.assertIsInstance(doc[m], (int, float), m)
            self.assertGreaterEqual(doc[m], 0, m)
        self.assertEqual(doc["sequence"], self.N)
        self.assertEqual(doc["table_entries"], self.N)
        self.assertEqual(doc["sequence"], int(run("property", self.db, "strata.sequence").stdout))
        self.assertGreaterEqual(doc["tables"], 1)
        self.assertEqual(doc["open_iterators"], 0)

    def test_prometheus(self):
        samples = parse_prometheus(run("stats", "--prometheus", self.db).stdout)
        doc = json.loads(run("stats", "--json", self.db).stdout)
        for m in METRICS:
            self.assertIn("strata_" + m, samples)
            kind, value, _ = samples["strata_" + m]
            self.assertEqual(kind, "counter" if m.endswith("_total") else "gauge", m)
        # what one run (one open of the database) leaves unchanged for the next
        for m in ["sequence", "tables", "table_bytes", "table_entries", "table_tombstones",
                  "sorted_runs", "table_cache_limit", "cache_capacity_bytes"]:
            self.assertEqual(samples["strata_" + m][1], doc[m], m)
        self.assertEqual(samples["strata_info"][1], 1)
        self.assertIn('version="%s"' % doc["version"], samples["strata_info"][2])
        self.assertIn('path="%s"' % doc["path"].replace("\\", "\\\\").replace('"', '\\"'),
                      samples["strata_info"][2])
        self.assertEqual(samples["strata_background_error"][1], 0)

    def test_parser_rejects_bad_text(self):
        good = "# TYPE a_total counter\na_total 1\n"
        parse_prometheus(good)
        for bad in ["a_total 1\n", "# TYPE a counter\na 1\n", "# TYPE a gauge\na one\n",
                    "# TYPE a gauge\na{x=\"\\q\"} 1\n", "# TYPE a gauge\na 1",
                    "# TYPE a gauge\na 1\na 2\n", "# HELP\n"]:
            with self.assertRaises(ValueError, msg=bad):
                parse_prometheus(bad)


if __name__ == "__main__":
    STRATA = sys.argv.pop(1)
    unittest.main(verbosity=2)
