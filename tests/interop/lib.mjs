// SPDX-License-Identifier: Apache-2.0
// Shared helpers of the interop tests: the manifest written by sst_gen, byte helpers, a check
// collector that prints "N passed, M failed", and access to hyparquet's own thrift / bloom /
// xxhash code (imported by file path: hyparquet's package exports only its index).
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const hyparquetSrc = path.join(here, 'node_modules', 'hyparquet', 'src')
export const { deserializeTCompactProtocol } = await import(path.join(hyparquetSrc, 'thrift.js'))
export const { readBloomFilter, sbbfContains } = await import(path.join(hyparquetSrc, 'bloom.js'))
export const { xxhash64 } = await import(path.join(hyparquetSrc, 'xxhash.js'))

// ---- bytes ----------------------------------------------------------------------------------

export function toHex(b) {
  return b == null ? null : Buffer.from(b.buffer ?? b, b.byteOffset ?? 0, b.byteLength ?? b.length).toString('hex')
}

export function fromHex(h) {
  return h == null ? null : Buffer.from(h, 'hex')
}

// Unsigned bytewise order, shorter prefix first (strata's key order).
export function compareBytes(a, b) {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength),
    Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}

// Keys DuckDB 1.5.x can probe correctly with parquet_bloom_probe (duckdb/duckdb#24994 hashes
// BLOB probes with non-printable bytes wrongly) and that need no escaping in a SQL literal.
export function isPrintableKey(b) {
  for (const c of b) if (c < 0x20 || c > 0x7e || c === 0x27 || c === 0x5c) return false
  return b.length > 0
}

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bitwise: an independent check of the
// strata.index_crc32c footer value (the library's own implementation is not used here).
export function crc32c(bytes) {
  let c = 0xffffffff
  for (const b of bytes) {
    c ^= b
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
  }
  return (c ^ 0xffffffff) >>> 0
}
if (crc32c(Buffer.from('123456789')) !== 0xe3069283) throw new Error('crc32c self-test failed')

// ---- manifest -------------------------------------------------------------------------------

// Loads dir/manifest.json (written by sst_gen from its own inputs). Rows become
// { key: Buffer, value: Buffer|null, seqno: bigint, kind: number } in file order.
export function loadManifest(dir) {
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'))
  for (const t of m.tables) {
    t.path = path.join(dir, t.file)
    t.rows = t.rows.map(([k, v, s, kind]) => ({ key: fromHex(k), value: fromHex(v), seqno: BigInt(s), kind }))
    t.absent = (t.absent ?? []).map(fromHex)
    t.user_meta ??= {}
  }
  return m
}

// The strata.* footer metadata a table must carry, computed from the manifest rows alone.
export function expectedStrataMeta(t) {
  const rows = t.rows
  const n = rows.length
  let minSeq = null
  let maxSeq = null
  for (const r of rows) {
    if (minSeq === null || r.seqno < minSeq) minSeq = r.seqno
    if (maxSeq === null || r.seqno > maxSeq) maxSeq = r.seqno
  }
  return {
    'strata.format_version': '1',
    'strata.smallest_key': n ? toHex(rows[0].key) : '',
    'strata.largest_key': n ? toHex(rows[n - 1].key) : '',
    'strata.min_seqno': String(minSeq ?? 0n),
    'strata.max_seqno': String(maxSeq ?? 0n),
    'strata.entries': String(n),
    'strata.tombstones': String(rows.filter((r) => r.kind === 0).length),
  }
}

export const CODEC_NAMES = { none: 'UNCOMPRESSED', snappy: 'SNAPPY', zstd: 'ZSTD', lz4: 'LZ4_RAW' }
// strata stores the seqno and kind columns UNCOMPRESSED whatever the table's codec
// (doc/format_sst.md): general-purpose compression does not shrink bit-packed integers. A key
// chunk is UNCOMPRESSED too when the codec saved less than 1/8 of its row group's first key
// page, so for the key column the chunk's actual codec may be either.
export function columnCodec(codec, column, actual) {
  if (column === 'key' && actual === 'UNCOMPRESSED') return 'UNCOMPRESSED'
  return column === 'key' || column === 'value' ? CODEC_NAMES[codec] : 'UNCOMPRESSED'
}

// ---- checks ---------------------------------------------------------------------------------

export class Checker {
  constructor(name) {
    this.name = name
    this.passed = 0
    this.failed = 0
    this.context = ''
  }

  ok(cond, what) {
    if (cond) {
      this.passed++
      return true
    }
    this.failed++
    if (this.failed <= 60) console.error(`FAIL [${this.context}] ${clip(what, 2000)}`)
    return false
  }

  eq(actual, expected, what) {
    const a = show(actual)
    const e = show(expected)
    return this.ok(a === e, `${what}: got ${clip(a)}, expected ${clip(e)}`)
  }

  // Runs fn; an exception counts as one failure (with its message) instead of aborting.
  async guard(what, fn) {
    try {
      return await fn()
    } catch (err) {
      this.ok(false, `${what}: threw ${err?.stack ?? err}`)
      return undefined
    }
  }

  done() {
    console.log(`${this.name}: ${this.passed} passed, ${this.failed} failed`)
    console.log(`${this.passed} passed, ${this.failed} failed`)
    process.exitCode = this.failed ? 1 : 0
  }
}

function show(v) {
  return JSON.stringify(v, (k, x) => {
    if (typeof x === 'bigint') return `${x}n`
    if (x instanceof Uint8Array) return `0x${toHex(x)}`
    if (x && x.type === 'Buffer' && Array.isArray(x.data)) return `0x${Buffer.from(x.data).toString('hex')}`
    return x
  })
}

function clip(s, max = 300) {
  return s && s.length > max ? `${s.slice(0, max)}...(${s.length} chars)` : s
}

// Rows [start, end) of each row group, from the row groups' num_rows.
export function rowGroupRanges(numRowsList) {
  const out = []
  let start = 0
  for (const n of numRowsList) {
    out.push([start, start + Number(n)])
    start += Number(n)
  }
  return out
}

// Column values of rows as comparable things: Buffers (key/value, null for tombstones) or bigint.
export function columnOf(rows, col) {
  switch (col) {
  case 'key': return rows.map((r) => r.key)
  case 'value': return rows.map((r) => r.value)
  case 'seqno': return rows.map((r) => r.seqno)
  case 'kind': return rows.map((r) => BigInt(r.kind))
  default: throw new Error(`unknown column ${col}`)
  }
}

// Exact min/max/null count of a column slice (null when every value is null).
export function sliceStats(vals) {
  let min = null
  let max = null
  let nulls = 0
  for (const v of vals) {
    if (v === null) {
      nulls++
      continue
    }
    if (min === null || cmpAny(v, min) < 0) min = v
    if (max === null || cmpAny(v, max) > 0) max = v
  }
  return { min, max, nulls }
}

export function cmpAny(a, b) {
  if (typeof a === 'bigint') return a < b ? -1 : a > b ? 1 : 0
  return compareBytes(a, b)
}

// Checks statistics (min, max: bytes or bigint; flags may be undefined) against a data slice:
// exact columns must match exactly; others must bound the data, and match when marked exact.
export function checkBounds(ck, what, stat, vals, exactColumn) {
  const want = sliceStats(vals)
  if (stat.null_count !== undefined) ck.eq(BigInt(stat.null_count), BigInt(want.nulls), `${what} null_count`)
  if (want.min === null) return // all null: nothing to bound
  if (stat.max == null && unboundable(want.max)) {
    // Truncated upper bounds are impossible for a long value starting with 64 x 0xFF; a writer
    // may then omit max (and with it the ColumnIndex): Parquet allows absent statistics.
    if (stat.min != null) checkLower(ck, what, stat, want, exactColumn)
    return
  }
  if (!ck.ok(stat.min != null && stat.max != null, `${what} has min and max`)) return
  checkLower(ck, what, stat, want, exactColumn)
  const max = normalize(stat.max, want.max)
  if (exactColumn || stat.max_exact === true) ck.eq(max, want.max, `${what} max (exact)`)
  else ck.ok(cmpAny(max, want.max) >= 0, `${what} max ${show(max)} >= data max ${show(want.max)}`)
}

// A byte string no truncated upper bound can cover (strata truncates value bounds to 64 bytes).
export function unboundable(max) {
  return max instanceof Uint8Array && max.length > 64 && max.subarray(0, 64).every((b) => b === 0xff)
}

function checkLower(ck, what, stat, want, exactColumn) {
  const min = normalize(stat.min, want.min)
  if (exactColumn || stat.min_exact === true) ck.eq(min, want.min, `${what} min (exact)`)
  else ck.ok(cmpAny(min, want.min) <= 0, `${what} min ${show(min)} <= data min ${show(want.min)}`)
}

function normalize(statValue, like) {
  if (typeof like === 'bigint') return BigInt(statValue)
  return Buffer.from(statValue.buffer, statValue.byteOffset, statValue.byteLength)
}
