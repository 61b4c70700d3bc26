// SPDX-License-Identifier: Apache-2.0
// Reads every strata table listed in <dir>/manifest.json with DuckDB and checks: all rows
// (read_parquet), point and range queries (which exercise DuckDB's statistics-based row-group
// pruning), parquet_schema, parquet_file_metadata (created_by), parquet_kv_metadata (strata.*),
// parquet_metadata (codecs, exact key/seqno/kind statistics, null counts, bloom filter present)
// and parquet_bloom_probe (present keys never excluded, absent keys mostly excluded).
//
// DuckDB 1.5.x hashes BLOB probes with non-printable bytes wrongly (duckdb/duckdb#24994), so
// parquet_bloom_probe is only asked about printable keys; read_hyparquet.mjs checks all keys.
//
// usage: node read_duckdb.mjs <dir>
import { DuckDBInstance } from '@duckdb/node-api'
import {
  Checker, columnCodec, expectedStrataMeta, isPrintableKey, loadManifest, rowGroupRanges, toHex,
} from './lib.mjs'

const dir = process.argv[2]
if (!dir) {
  console.error('usage: node read_duckdb.mjs <dir with manifest.json>')
  process.exit(2)
}
const manifest = loadManifest(dir)
const ck = new Checker('duckdb')
const db = await DuckDBInstance.create(':memory:')
const con = await db.connect()

async function all(sql, params) {
  const r = await con.runAndReadAll(sql, params)
  return r.getRowObjectsJson()
}

const lit = (s) => `'${s.replaceAll("'", "''")}'`

for (const t of manifest.tables) {
  ck.context = `${t.name} (${t.file})`
  await ck.guard('table', () => checkTable(t))
}
ck.done()

async function checkTable(t) {
  const f = lit(t.path)
  const rowKey = (r) => JSON.stringify([toHex(r.key), toHex(r.value), String(r.seqno), r.kind])
  const want = t.rows.map(rowKey)

  // ---- rows, in file order ----
  const rows = await all(`SELECT lower(hex(key)) AS k, lower(hex(value)) AS v, seqno::VARCHAR AS s, kind
                          FROM read_parquet(${f}, file_row_number = true) ORDER BY file_row_number`)
  const got = rows.map((r) => JSON.stringify([r.k, r.v, r.s, Number(r.kind)]))
  ck.eq(got.length, want.length, 'row count')
  let bad = 0
  for (let i = 0; i < Math.min(got.length, want.length); i++) {
    if (got[i] !== want[i] && bad++ < 3) ck.eq(got[i], want[i], `row ${i}`)
  }
  ck.eq(bad, 0, 'rows differing from the manifest')

  // ---- point lookups and ranges through DuckDB's planner (statistics / bloom pruning) ----
  const byKey = new Map()
  for (const r of t.rows) {
    const k = toHex(r.key)
    if (!byKey.has(k)) byKey.set(k, [])
    byKey.get(k).push(rowKey(r))
  }
  const keys = [...byKey.keys()]
  const sample = keys.filter((_, i) => i % Math.max(1, Math.floor(keys.length / 40)) === 0)
  if (keys.length) sample.push(keys[keys.length - 1])
  for (const k of [...sample, ...t.absent.slice(0, 40).map(toHex)]) {
    // Equality filters on BLOBs with non-printable bytes hit duckdb/duckdb#24994 (DuckDB then
    // prunes row groups by a wrongly hashed bloom probe, on its own files too): use a range.
    const pred = isPrintableKey(Buffer.from(k, 'hex')) ? `key = unhex('${k}')`
      : `key >= unhex('${k}') AND key <= unhex('${k}')`
    const res = await all(`SELECT lower(hex(key)) AS k, lower(hex(value)) AS v, seqno::VARCHAR AS s, kind
                           FROM read_parquet(${f}) WHERE ${pred} ORDER BY seqno DESC`)
    ck.eq(res.map((r) => JSON.stringify([r.k, r.v, r.s, Number(r.kind)])), byKey.get(k) ?? [],
      `WHERE ${pred.length > 200 ? `${pred.slice(0, 200)}...` : pred}`)
  }
  if (keys.length >= 4) {
    const lo = keys[Math.floor(keys.length / 4)]
    const hi = keys[Math.floor((3 * keys.length) / 4)]
    const res = await all(`SELECT count(*)::VARCHAR AS n FROM read_parquet(${f})
                           WHERE key >= unhex('${lo}') AND key < unhex('${hi}')`)
    const expect = t.rows.filter((r) => toHex(r.key) >= lo && toHex(r.key) < hi).length
    ck.eq(Number(res[0].n), expect, 'range count (hex order = byte order)')
  }

  // ---- schema, file metadata, footer key/value metadata ----
  const schema = await all(`SELECT name, type, repetition_type, converted_type, duckdb_type FROM parquet_schema(${f})`)
  ck.eq(schema.slice(1).map((s) => [s.name, s.type, s.repetition_type, s.converted_type]), [
    ['key', 'BYTE_ARRAY', 'REQUIRED', null], ['value', 'BYTE_ARRAY', 'OPTIONAL', null],
    ['seqno', 'INT64', 'REQUIRED', null], ['kind', 'INT32', 'REQUIRED', null],
  ], 'parquet_schema leaves')
  ck.eq(schema.slice(1).map((s) => s.duckdb_type), ['BLOB', 'BLOB', 'BIGINT', 'INTEGER'], 'DuckDB column types')
  const fm = (await all(`SELECT created_by, num_rows::VARCHAR AS n, num_row_groups::VARCHAR AS g
                         FROM parquet_file_metadata(${f})`))[0]
  ck.ok(/^strata version \S+ \(build strata\)$/.test(fm.created_by ?? ''), `created_by names strata: ${fm.created_by}`)
  ck.eq(Number(fm.n), t.rows.length, 'parquet_file_metadata num_rows')
  const kvRows = await all(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata(${f})`)
  const kv = Object.fromEntries(kvRows.map((r) => [r.k, r.v]))
  for (const [k, v] of Object.entries({ ...expectedStrataMeta(t), ...t.user_meta })) ck.eq(kv[k], v, `kv ${k}`)
  for (const k of ['strata.created_us', 'strata.index_offset', 'strata.index_crc32c']) {
    ck.ok(/^\d+$/.test(kv[k] ?? ''), `kv ${k} is a decimal`)
  }

  // ---- per row group / column metadata ----
  const md = await all(`SELECT row_group_id::INT AS g, row_group_num_rows::VARCHAR AS n, column_id::INT AS c,
                               path_in_schema AS p, compression, encodings, stats_null_count::VARCHAR AS nulls,
                               stats_min_value AS min, stats_max_value AS max,
                               bloom_filter_offset::VARCHAR AS bo, bloom_filter_length::VARCHAR AS bl
                        FROM parquet_metadata(${f}) ORDER BY g, c`)
  const groups = Number(fm.g)
  ck.eq(md.length, groups * 4, 'parquet_metadata has 4 columns per row group')
  ck.ok(groups >= (t.min_row_groups ?? 1) || t.rows.length === 0, `row groups ${groups} >= ${t.min_row_groups ?? 1}`)
  const perGroup = []
  for (let g = 0; g < groups; g++) perGroup.push(Number(md.find((m) => m.g === g)?.n ?? 0))
  const ranges = rowGroupRanges(perGroup)
  // DuckDB renders BLOB statistics as it casts BLOB to VARCHAR; let it render the expected ones.
  const render = async (hex) => (await all(`SELECT unhex('${hex}')::VARCHAR AS s`))[0].s
  for (const m of md) {
    const [start, end] = ranges[m.g]
    const rows = t.rows.slice(start, end)
    const where = `row group ${m.g} ${m.p}`
    ck.eq(m.p, ['key', 'value', 'seqno', 'kind'][m.c], `${where} path`)
    ck.eq(m.compression, columnCodec(t.codec, m.p, m.compression), `${where} compression`)
    if (rows.length === 0) continue
    if (m.c === 0) {
      ck.eq(m.min, await render(toHex(rows[0].key)), `${where} min`)
      ck.eq(m.max, await render(toHex(rows[rows.length - 1].key)), `${where} max`)
      ck.eq(Number(m.nulls), 0, `${where} null count`)
      if (t.bloom_bits_per_key === 0) ck.eq(m.bo, null, `${where} no bloom filter`)
      else ck.ok(m.bo !== null && Number(m.bl) > 0, `${where} bloom filter offset/length present`)
    } else if (m.c === 1) {
      ck.eq(Number(m.nulls), rows.filter((r) => r.value === null).length, `${where} null count`)
    } else {
      const vals = rows.map((r) => (m.c === 2 ? r.seqno : BigInt(r.kind)))
      const mn = vals.reduce((a, b) => (b < a ? b : a))
      const mx = vals.reduce((a, b) => (b > a ? b : a))
      ck.eq([m.min, m.max, Number(m.nulls)], [String(mn), String(mx), 0], `${where} min/max/null count`)
    }
  }

  // ---- bloom probes (printable keys only, see the header) ----
  if (t.bloom_bits_per_key === 0 || groups === 0) return
  const printable = keys.map((k) => Buffer.from(k, 'hex')).filter(isPrintableKey)
  const step = Math.max(1, Math.floor(printable.length / 60))
  for (let i = 0; i < printable.length; i += step) {
    const k = printable[i]
    const res = await all(`SELECT row_group_id::INT AS g, bloom_filter_excludes AS x
                           FROM parquet_bloom_probe(${f}, 'key', ${lit(k.toString('latin1'))}::BLOB)`)
    const g = ranges.findIndex(([s, e]) => t.rows.slice(s, e).some((r) => r.key.equals(k)))
    ck.eq(res.find((r) => r.g === g)?.x, false, `bloom probe '${k.toString('latin1')}' not excluded in its row group ${g}`)
  }
  let probes = 0
  let excluded = 0
  for (const k of t.absent.filter(isPrintableKey)) {
    const res = await all(`SELECT bloom_filter_excludes AS x FROM parquet_bloom_probe(${f}, 'key', ${lit(k.toString('latin1'))}::BLOB)`)
    probes += res.length
    excluded += res.filter((r) => r.x === true).length
  }
  if (probes) ck.ok(excluded >= 0.9 * probes, `DuckDB bloom probes exclude absent keys in most row groups: ${excluded}/${probes}`)
}
