// SPDX-License-Identifier: Apache-2.0
// The SQL view of a checkpoint, read by DuckDB, against strata's own scan. Builds databases with
// the strata CLI (binary and printable keys, keys that are prefixes of others, empty and large
// values, overwrites across tables, deletes of keys with older versions below, range deletes
// (kind 2 rows) over flushed and unflushed data and re-puts inside deleted ranges, partial and
// full compactions), checkpoints them, runs DIR/strata.sql statement by statement through
// @duckdb/node-api with DIR as the working directory (the script's table paths are relative,
// as with `cd DIR && duckdb -c ".read strata.sql"`) and checks:
//   - the script is plain SQL statements (no client dot-commands) and equals `strata sql-view DIR`;
//   - `kv` ordered by key, as lower(hex(key)) TAB lower(hex(value)) lines, equals
//     `strata --hex --read-only scan DIR` byte for byte, and that equals the source's scan
//     taken just before the checkpoint;
//   - `kv_versions` has as many rows as DIR's tables hold (strata.tables entries, and DuckDB's
//     own parquet_file_metadata over the *.parquet files in DIR, which are exactly the tables);
//   - writes and compactions of the source after the checkpoint change neither.
// usage: node checkpoint_sql.mjs <path to strata> <work dir (emptied)>
import { DuckDBInstance } from '@duckdb/node-api'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { Checker } from './lib.mjs'

const [strata, work] = process.argv.slice(2)
if (!strata || !work) {
  console.error('usage: node checkpoint_sql.mjs <path to strata> <work dir>')
  process.exit(2)
}
fs.rmSync(work, { recursive: true, force: true })
fs.mkdirSync(work, { recursive: true })
const ck = new Checker('checkpoint_sql')

// Runs the CLI (--hex, --quiet); returns stdout as a string, throws on a non-zero exit.
function cli(args, input) {
  return execFileSync(strata, ['--hex', '--quiet', ...args], {
    input, encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'inherit'],
  })
}

// Deterministic PRNG (mulberry32).
let seed = 0x5eed11
function rnd() {
  seed = (seed + 0x6d2b79f5) >>> 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const int = (n) => Math.floor(rnd() * n)
function bytes(n, printable) {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = printable ? 0x61 + int(26) : int(256)
  return b
}

// A pool of keys: printable, binary (with 0x00 / 0xff), and prefixes of other keys.
function keyPool(n) {
  const keys = new Map()
  while (keys.size < n) {
    let k
    const r = rnd()
    if (r < 0.4) k = bytes(1 + int(12), true)
    else if (r < 0.7) k = bytes(1 + int(20), false)
    else if (r < 0.8) k = Buffer.from([0x00, ...bytes(int(4), false)])
    else if (r < 0.9) k = Buffer.from([0xff, 0xff, ...bytes(int(4), false)])
    else if (keys.size) {
      const all = [...keys.values()]
      const base = all[int(all.length)]
      k = base.length > 1 ? base.subarray(0, 1 + int(base.length - 1)) : Buffer.concat([base, bytes(1, false)])
    } else continue
    keys.set(k.toString('hex'), k)
  }
  return [...keys.values()]
}
function value() {
  const r = rnd()
  if (r < 0.1) return Buffer.alloc(0)
  if (r < 0.15) return bytes(3000 + int(3000), false)
  return bytes(1 + int(60), rnd() < 0.5)
}

const hexLines = (rows) => rows.map(([k, v]) => `${k}\t${v}\n`).join('')

async function duckdbIn(dir) {
  const db = await DuckDBInstance.create(':memory:')
  const con = await db.connect()
  return { con, all: async (sql) => (await con.runAndReadAll(sql)).getRows() }
}

// Checks checkpoint dir against the expected scan text; returns nothing.
async function checkCheckpoint(name, dir, expectScan) {
  ck.context = name
  const script = fs.readFileSync(path.join(dir, 'strata.sql'), 'utf8')
  ck.eq(cli(['--read-only', 'sql-view', dir]), script, 'strata.sql equals strata sql-view DIR')
  const dot = script.split('\n').filter((l) => /^\s*\./.test(l))
  ck.eq(dot, [], 'strata.sql has no client dot-commands')

  const scan = cli(['--read-only', 'scan', dir])
  if (expectScan !== undefined) ck.ok(scan === expectScan, 'scan of DIR equals the source scan before the checkpoint')

  // strata's own list of the checkpoint's tables and their rows
  const tables = cli(['--read-only', 'property', dir, 'strata.tables']).split('\n').filter(Boolean)
  let entries = 0n
  const files = []
  for (const line of tables) {
    files.push(line.split(' ')[0])
    entries += BigInt(/ entries=(\d+) /.exec(line)[1])
  }
  const onDisk = fs.readdirSync(dir).filter((f) => f.endsWith('.parquet')).sort()
  ck.eq(onDisk, [...files].sort(), 'the *.parquet files in DIR are exactly its tables')

  const cwd = process.cwd()
  process.chdir(dir) // the script's table paths are relative to DIR
  try {
    const { con, all } = await duckdbIn(dir)
    const stmts = await con.extractStatements(script)
    ck.ok(stmts.count >= 2, `strata.sql holds the view statements (${stmts.count})`)
    for (let i = 0; i < stmts.count; i++) await (await stmts.prepare(i)).run()

    const kv = await all('SELECT lower(hex(key)), lower(hex(value)) FROM kv ORDER BY key')
    const got = hexLines(kv)
    if (!ck.ok(got === scan, `kv ordered by key equals strata scan DIR byte for byte (${kv.length} rows, scan ${scan.split('\n').length - 1} lines)`)) {
      const a = got.split('\n')
      const b = scan.split('\n')
      const i = a.findIndex((l, j) => l !== b[j])
      console.error(`  first difference at line ${i}: kv ${JSON.stringify(a[i])}, scan ${JSON.stringify(b[i])}`)
    }
    const [[versions]] = await all('SELECT count(*) FROM kv_versions')
    ck.eq(BigInt(versions), entries, 'kv_versions rows = the entries of DIR\'s tables (strata.tables)')
    if (onDisk.length) {
      const list = onDisk.map((f) => `'${f}'`).join(', ')
      const [[rows]] = await all(`SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata([${list}])`)
      ck.eq(BigInt(versions), BigInt(rows), 'kv_versions rows = the rows of the Parquet files (DuckDB metadata)')
    }
    const [[ranges]] = await all('SELECT count(*) FROM kv_versions WHERE kind = 2')
    const [[live]] = await all('SELECT count(*) FROM kv')
    const [[tomb]] = await all('SELECT count(*) FROM kv_versions WHERE kind = 0')
    ck.ok(BigInt(live) <= BigInt(versions) - BigInt(tomb), 'kv has at most the put rows of kv_versions')
    return { kv: got, versions, ranges: BigInt(ranges) }
  } finally {
    process.chdir(cwd)
  }
}

// ---- a database with overwrites, deletes and compactions -----------------------------------
await ck.guard('main', async () => {
  const src = path.join(work, 'src')
  const keys = keyPool(1500)
  const hex = (b) => b.toString('hex')
  const sorted = [...keys].sort(Buffer.compare)
  // a range delete [a, b) over a few neighbouring keys of the pool
  const delRange = () => {
    const i = int(sorted.length - 50)
    cli(['del-range', src, hex(sorted[i]), hex(sorted[i + 1 + int(40)])])
  }
  let compactions = 0
  for (let round = 0; round < 8; round++) {
    ck.context = `build round ${round}`
    const lines = []
    for (let i = 0; i < 1500; i++) lines.push(`${hex(keys[int(keys.length)])}\t${hex(value())}\n`)
    cli(['load', src, '--batch', '500'], lines.join(''))
    // deletes: keys with older versions below (flushed earlier), and absent keys
    const dels = []
    for (let i = 0; i < 12; i++) dels.push(keys[int(keys.length)])
    for (const k of dels) cli(['del', src, hex(k)])
    cli(['del', src, 'abcdef0123456789'])
    // re-put some deleted keys in a later round (delete then put again)
    if (round % 2) cli(['put', src, hex(dels[0]), hex(value())])
    // a range delete over flushed data (every third round: each command is a session whose
    // close flushes, and more tiny tables would make background compaction merge everything)
    if (round % 3 === 1) delRange()
    cli(['flush', src])
    if (round % 3 === 2) {
      const a = hex(keys[int(keys.length)])
      const b = hex(keys[int(keys.length)])
      cli(['compact', src, '--from', a < b ? a : b, '--to', a < b ? b : a])
      compactions++
    }
    if (round === 5) {
      cli(['compact', src])
      compactions++
    }
  }
  // the newest writes stay in the write-ahead log until the checkpoint opens the source
  cli(['load', src], keys.slice(0, 50).map((k) => `${hex(k)}\t${hex(value())}\n`).join(''))
  cli(['del', src, hex(keys[60])])
  ck.context = 'source'
  const tables = cli(['property', src, 'strata.tables']).split('\n').filter(Boolean)
  ck.ok(tables.length >= 2, `the source has several tables (${tables.length}) after ${compactions} compactions`)

  const before = cli(['scan', src])
  const dir = path.join(work, 'ckpt')
  const out = cli(['checkpoint', src, dir])
  ck.ok(/\d/.test(out), `checkpoint prints its sequence number: ${out.trim()}`)
  const first = await checkCheckpoint('checkpoint', dir, before)
  ck.ok(first && first.versions > BigInt(first.kv.split('\n').length - 1),
    'kv_versions holds older versions or tombstones beyond kv (the view resolves them)')

  // the source moves on; the checkpoint does not
  for (let i = 0; i < 40; i++) cli(['del', src, hex(keys[i])])
  cli(['load', src], keys.slice(100, 400).map((k) => `${hex(k)}\t${hex(value())}\n`).join(''))
  cli(['compact', src])
  ck.ok(cli(['scan', src]) !== before, 'the source changed after the checkpoint')
  const again = await checkCheckpoint('checkpoint after source writes', dir, before)
  ck.ok(again && first && again.kv === first.kv && again.versions === first.versions,
    'kv and kv_versions unchanged by later writes to the source')

  // a second checkpoint of the changed source
  const dir2 = path.join(work, 'ckpt2')
  const before2 = cli(['scan', src])
  cli(['checkpoint', src, dir2])
  await checkCheckpoint('second checkpoint', dir2, before2)
})

// ---- range deletes kept in tables: over older data, with a newer put inside ---------------
await ck.guard('range deletes', async () => {
  const src = path.join(work, 'ranges')
  const keys = keyPool(400)
  const sorted = [...keys].sort(Buffer.compare)
  const hex = (b) => b.toString('hex')
  cli(['load', src], keys.map((k) => `${hex(k)}\t${hex(value())}\n`).join(''))
  // one session each, so each lands in its own table (no compaction is due for so few)
  cli(['del-range', src, hex(sorted[50]), hex(sorted[150])])
  cli(['del-range', src, hex(sorted[100]), hex(sorted[300])]) // overlapping
  cli(['put', src, hex(sorted[120]), hex(value())]) // newer than both: visible
  cli(['del-range', src, hex(sorted[0]), hex(sorted[10])]) // stays in the log
  const before = cli(['scan', src])
  ck.context = 'range deletes'
  ck.eq(before.split('\n').length - 1, 400 - 260 + 1, 'the source scan applies the range deletes')
  const dir = path.join(work, 'ranges_ckpt')
  cli(['checkpoint', src, dir])
  const r = await checkCheckpoint('range deletes checkpoint', dir, before)
  ck.ok(r && r.ranges >= 3n, `the checkpoint's tables hold the range tombstones (${r?.ranges} kind 2 rows)`)
  ck.ok(r && r.versions > BigInt(r.kv.split('\n').length - 1), 'kv_versions holds the deleted rows kv hides')
})

// ---- an empty database (every key deleted and compacted away) ------------------------------
await ck.guard('empty', async () => {
  const src = path.join(work, 'empty')
  cli(['put', src, '6b', '76'])
  cli(['del', src, '6b'])
  cli(['compact', src])
  const dir = path.join(work, 'empty_ckpt')
  cli(['checkpoint', src, dir])
  const r = await checkCheckpoint('empty checkpoint', dir, '')
  ck.eq(r?.kv, '', 'kv of an empty checkpoint is empty')
})

ck.done()
