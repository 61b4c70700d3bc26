// SPDX-License-Identifier: Apache-2.0
// The reverse direction: DuckDB WRITES Parquet tables in strata's schema (key BLOB or VARCHAR,
// value BLOB, seqno BIGINT, kind INTEGER; sorted by key, seqno desc) with several codecs, page
// formats and row-group sizes, and strata's own reader (the sst_check program: st_sst_reader_open
// + iterator + get) must return exactly the rows this script generated.
//
// usage: node strata_reads_duckdb.mjs <sst_check executable> <work dir>
//        node strata_reads_duckdb.mjs --write-only <work dir>   (only write + self-check files)
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { Checker, compareBytes, toHex } from './lib.mjs'

const [checkExe, work] = process.argv.slice(2)
if (!checkExe || !work) {
  console.error('usage: node strata_reads_duckdb.mjs <sst_check|--write-only> <work dir>')
  process.exit(2)
}
const writeOnly = checkExe === '--write-only'
fs.rmSync(work, { recursive: true, force: true })
fs.mkdirSync(work, { recursive: true })

const ck = new Checker('strata-reads-duckdb')
const db = await DuckDBInstance.create(':memory:')
const con = await db.connect()

// Deterministic byte generator (xorshift32), so a failure reproduces exactly.
function rng(seed) {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x
  }
}

function bytes(r, n, alphabet) {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = alphabet ? alphabet.charCodeAt(r() % alphabet.length) : r() & 0xff
  return b
}

// Table specs: each yields rows { key: Buffer, value: Buffer|null, seqno: bigint, kind }.
const specs = [
  {
    name: 'blob_zstd_v1_small_groups_plain', keyType: 'BLOB',
    options: 'COMPRESSION zstd, ROW_GROUP_SIZE 2048, DICTIONARY_SIZE_LIMIT 1', // no dictionary pages
    rows: () => {
      const r = rng(1)
      const out = []
      let seq = 1n
      for (let i = 0; i < 3000; i++) {
        const key = Buffer.concat([Buffer.from(`user:${String(i * 7).padStart(6, '0')}:`), bytes(r, r() % 6)])
        const versions = 1 + (r() % 3)
        for (let v = 0; v < versions; v++) {
          const del = r() % 5 === 0
          out.push({ key, value: del ? null : bytes(r, r() % 40), seqno: seq++, kind: del ? 0 : 1 })
        }
      }
      return out
    },
  },
  {
    name: 'varchar_snappy_v2', keyType: 'VARCHAR', options: "COMPRESSION snappy, PARQUET_VERSION 'V2', ROW_GROUP_SIZE 2048",
    rows: () => {
      const r = rng(2)
      const out = []
      for (let i = 0; i < 12000; i++) {
        const key = Buffer.from(`k${bytes(r, 3 + (r() % 10), 'abcdefghijklmnopqrstuvwxyz0123456789').toString('latin1')}`)
        out.push({ key, value: bytes(r, r() % 100, 'xyz'), seqno: BigInt(1000000 + i), kind: 1 })
      }
      return out
    },
  },
  {
    name: 'blob_uncompressed_dict_binary_keys', keyType: 'BLOB', options: 'COMPRESSION uncompressed',
    rows: () => {
      const r = rng(3)
      const out = []
      const vals = [Buffer.alloc(0), Buffer.from('same'), Buffer.from([0, 0xff, 0])]
      for (let i = 0; i < 2500; i++) {
        const key = Buffer.concat([Buffer.from([r() & 0xff, 0x00, 0xff]), bytes(r, r() % 4)])
        const del = r() % 4 === 0
        out.push({ key, value: del ? null : vals[r() % vals.length], seqno: BigInt(r() % 100000) + (1n << 40n), kind: del ? 0 : 1 })
      }
      return out
    },
  },
  {
    name: 'blob_zstd_large_values', keyType: 'BLOB', options: 'COMPRESSION zstd',
    rows: () => {
      const r = rng(4)
      const out = []
      const sizes = [0, 1 << 20, 150000, 300000, 5, 70000]
      sizes.forEach((n, i) => out.push({ key: Buffer.from(`big${i}`), value: bytes(r, n), seqno: BigInt(10 + i), kind: 1 }))
      return out
    },
  },
  {
    name: 'blob_zstd_v2_plain', keyType: 'BLOB',
    options: "COMPRESSION zstd, PARQUET_VERSION 'V2', ROW_GROUP_SIZE 2048, DICTIONARY_SIZE_LIMIT 1",
    rows: () => {
      // data page v2 with delta encodings and no dictionary; keys share long prefixes
      const r = rng(6)
      const out = []
      for (let i = 0; i < 7000; i++) {
        const key = Buffer.concat([Buffer.from('tenant/0042/object/'), bytes(r, 1 + (r() % 12))])
        const del = r() % 6 === 0
        out.push({ key, value: del ? null : bytes(r, r() % 64), seqno: BigInt(r()) * 1000n + BigInt(i), kind: del ? 0 : 1 })
      }
      return out
    },
  },
  {
    name: 'blob_lz4_raw_v1_small_groups', keyType: 'BLOB', codec: 'LZ4_RAW',
    options: "COMPRESSION lz4_raw, PARQUET_VERSION 'V1', ROW_GROUP_SIZE 2048",
    rows: () => {
      // several row groups, compressible values, some tombstones
      const r = rng(7)
      const out = []
      let seq = 5n
      for (let i = 0; i < 6000; i++) {
        const key = Buffer.concat([Buffer.from(`obj/${String(i * 3).padStart(7, '0')}/`), bytes(r, r() % 5)])
        const del = r() % 7 === 0
        out.push({ key, value: del ? null : Buffer.from(`value ${i} `.repeat(1 + (r() % 8))), seqno: seq++, kind: del ? 0 : 1 })
      }
      return out
    },
  },
  {
    // DuckDB's 'lz4' also writes LZ4_RAW (it never writes the Hadoop-framed LZ4 codec)
    name: 'varchar_lz4_v2_plain', keyType: 'VARCHAR', codec: 'LZ4_RAW',
    options: "COMPRESSION lz4, PARQUET_VERSION 'V2', ROW_GROUP_SIZE 4096, DICTIONARY_SIZE_LIMIT 1",
    rows: () => {
      const r = rng(8)
      const out = []
      for (let i = 0; i < 9000; i++) {
        const key = Buffer.from(`lz/${bytes(r, 2 + (r() % 9), 'abcdefghijklmnopqrstuvwxyz').toString('latin1')}`)
        out.push({ key, value: bytes(r, r() % 200, 'ab'), seqno: BigInt(7000000 + i), kind: 1 })
      }
      return out
    },
  },
  {
    name: 'blob_snappy_v1_dict_keys', keyType: 'BLOB', options: "COMPRESSION snappy, PARQUET_VERSION 'V1', ROW_GROUP_SIZE 2048",
    rows: () => {
      // few distinct keys with many versions each: DuckDB dictionary-encodes the key column
      const r = rng(5)
      const out = []
      let seq = 1n
      for (let i = 0; i < 5000; i++) {
        const key = Buffer.from(`hot${r() % 50}`)
        out.push({ key, value: Buffer.from(`v${seq}`), seqno: seq++, kind: 1 })
      }
      return out
    },
  },
]

function sortRows(rows) {
  // Strata order: key ascending (bytewise), seqno descending; drop exact duplicates of (key, seqno).
  rows.sort((a, b) => compareBytes(a.key, b.key) || (a.seqno > b.seqno ? -1 : a.seqno < b.seqno ? 1 : 0))
  return rows.filter((x, i) => i === 0 || !(x.key.equals(rows[i - 1].key) && x.seqno === rows[i - 1].seqno))
}

const rowJson = (r) => JSON.stringify([toHex(r.key), toHex(r.value), String(r.seqno), r.kind])

for (const spec of specs) {
  ck.context = spec.name
  await ck.guard('table', async () => {
    const rows = sortRows(spec.rows())
    const file = path.join(work, `${spec.name}.parquet`)
    await writeWithDuckDB(spec, rows, file)
    // sanity: DuckDB reads back what it wrote, in order
    const back = (await (await con.runAndReadAll(`SELECT lower(hex(key)) AS k, lower(hex(value)) AS v,
        seqno::VARCHAR AS s, kind FROM read_parquet('${file}', file_row_number = true) ORDER BY file_row_number`))
      .getRowObjectsJson()).map((x) => JSON.stringify([x.k, x.v, x.s, Number(x.kind)]))
    ck.eq(back.join('\n') === rows.map(rowJson).join('\n'), true, 'DuckDB reads back its own file in strata order')
    if (spec.codec) {
      const codecs = (await (await con.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`))
        .getRowObjectsJson()).map((x) => x.compression)
      ck.eq(codecs, [spec.codec], 'codec of every column chunk DuckDB wrote')
    }
    if (!writeOnly) checkWithStrata(file, rows)
  })
}
ck.done()

async function writeWithDuckDB(spec, rows, file) {
  await con.run('DROP TABLE IF EXISTS t')
  await con.run(`CREATE TABLE t (key ${spec.keyType}, value BLOB, seqno BIGINT, kind INTEGER)`)
  const keyExpr = (k) => (spec.keyType === 'VARCHAR' ? `'${k.toString('latin1')}'` : `unhex('${toHex(k)}')`)
  for (let i = 0; i < rows.length; i += 500) {
    const vals = rows.slice(i, i + 500).map((r) =>
      `(${keyExpr(r.key)}, ${r.value === null ? 'NULL' : `unhex('${toHex(r.value)}')`}, ${r.seqno}, ${r.kind})`)
    await con.run(`INSERT INTO t VALUES ${vals.join(',')}`)
  }
  await con.run(`COPY (SELECT * FROM t ORDER BY key::BLOB, seqno DESC) TO '${file}' (FORMAT parquet, ${spec.options})`)
}

// Runs sst_check on the file and compares its iteration output, point lookups (newest and at
// older snapshots), bounded ranges and table meta with rows.
function checkWithStrata(file, rows) {
  const versions = new Map() // key hex -> rows of that key, newest first
  for (const r of rows) {
    const k = toHex(r.key)
    if (!versions.has(k)) versions.set(k, [])
    versions.get(k).push(r)
  }
  const keys = [...versions.keys()]
  // [key hex, snapshot (bigint, null = all)] -> expected row or null
  const gets = keys.map((k) => [k, null, versions.get(k)[0]])
  for (const k of keys.filter((x) => versions.get(x).length > 1).slice(0, 300)) {
    const vs = versions.get(k)
    gets.push([k, vs[0].seqno - 1n, vs[1]]) // an older snapshot sees the next version
    if (vs[vs.length - 1].seqno > 0n) gets.push([k, vs[vs.length - 1].seqno - 1n, null]) // before all
  }
  for (const k of ['00', 'ffffffffff', `${keys[0]}00`, `${keys[keys.length - 1]}01`]) {
    if (!versions.has(k)) gets.push([k, null, null])
  }
  const q = (i) => keys[Math.min(keys.length - 1, Math.floor(i))]
  const ranges = [[q(keys.length / 4), q((3 * keys.length) / 4)], [keys[0], q(1)], ['00', 'ff'],
    [q(keys.length / 2), q(keys.length / 2)], [`${q(keys.length / 3)}00`, 'ffffffffffff']]
  const probeFile = `${file}.probes`
  fs.writeFileSync(probeFile, [...gets.map(([k, snap]) => (snap === null ? k : `${k} ${snap}`)),
    ...ranges.map(([lo, hi]) => `range ${lo} ${hi}`)].join('\n') + '\n')
  const res = spawnSync(checkExe, [file, probeFile], { encoding: 'utf8', maxBuffer: 1 << 30 })
  if (!ck.ok(res.status === 0, `sst_check exit ${res.status ?? res.signal}: ${(res.stderr || '').trim()}`)) return
  const out = res.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))

  const iter = out.filter((o) => o.row && o.get === undefined).map((o) => JSON.stringify(o.row))
  ck.eq(iter.length, rows.length, 'strata iterator row count')
  let bad = 0
  rows.forEach((r, i) => {
    if (iter[i] !== rowJson(r) && bad++ < 3) ck.eq(iter[i], rowJson(r), `iterator row ${i}`)
  })
  ck.eq(bad, 0, 'iterator rows differing from what DuckDB was given')
  const rev = out.filter((o) => o.rrow).map((o) => JSON.stringify(o.rrow)).reverse()
  ck.eq(rev.length, rows.length, 'strata backward iteration row count')
  ck.ok(rev.every((x, i) => x === rowJson(rows[i])), 'backward iteration = rows reversed')

  const got = new Map(out.filter((o) => o.get !== undefined).map((o) => [`${o.get} ${o.snap}`, o]))
  const allSnap = String((1n << 56n) - 1n)
  let badGets = 0
  for (const [k, snap, w] of gets) {
    const g = got.get(`${k} ${snap === null ? allSnap : snap}`)
    const want = w ? { found: true, row: JSON.parse(rowJson(w)) } : { found: false }
    const have = g ? (g.found ? { found: true, row: g.row } : { found: false }) : 'missing'
    if (JSON.stringify(have) !== JSON.stringify(want) && badGets++ < 3) ck.eq(have, want, `get ${k} at ${snap ?? 'all'}`)
  }
  ck.eq(badGets, 0, `point lookups (of ${gets.length}) differing from the expected version`)

  const gotRanges = out.filter((o) => o.range)
  ck.eq(gotRanges.length, ranges.length, 'range results')
  ranges.forEach(([lo, hi], i) => {
    const inRange = rows.filter((r) => toHex(r.key) >= lo && toHex(r.key) < hi) // hex order = byte order
    const want = { count: inRange.length, first: inRange.length ? JSON.parse(rowJson(inRange[0])) : null,
      last: inRange.length ? JSON.parse(rowJson(inRange[inRange.length - 1])) : null }
    const g = gotRanges[i] ?? {}
    ck.eq({ count: g.count, first: g.first, last: g.last }, want, `range [${lo}, ${hi})`)
  })

  const meta = out.find((o) => o.meta)?.meta
  if (ck.ok(meta !== undefined, 'sst_check printed table meta')) {
    ck.eq(meta, {
      entries: String(rows.length),
      smallest_key: toHex(rows[0].key),
      largest_key: toHex(rows[rows.length - 1].key),
      min_seqno: String(rows.reduce((a, r) => (r.seqno < a ? r.seqno : a), rows[0].seqno)),
      max_seqno: String(rows.reduce((a, r) => (r.seqno > a ? r.seqno : a), rows[0].seqno)),
    }, 'table meta derived from foreign Parquet metadata')
  }
}
