// SPDX-License-Identifier: Apache-2.0
// Reads every strata table listed in <dir>/manifest.json with hyparquet (+ hyparquet-compressors
// for snappy/zstd) and checks rows, footer metadata, schema, row-group and page statistics
// (chunk statistics, ColumnIndex/OffsetIndex and data page headers, page CRCs), the key bloom
// filters (hyparquet's own XXH64 + split-block filter code) and sorting_columns.
//
// usage: node read_hyparquet.mjs <dir>
import fs from 'node:fs'
import zlib from 'node:zlib'
import { parquetMetadata, parquetReadObjects, readColumnIndex, readOffsetIndex } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
import {
  Checker, checkBounds, columnCodec, columnOf, crc32c, deserializeTCompactProtocol, expectedStrataMeta,
  loadManifest, readBloomFilter, rowGroupRanges, sbbfContains, sliceStats, toHex, xxhash64,
} from './lib.mjs'

const COLUMNS = ['key', 'value', 'seqno', 'kind']
const rawParsers = { stringFromBytes: (b) => b } // statistics of BYTE_ARRAY columns as raw bytes

const dir = process.argv[2]
if (!dir) {
  console.error('usage: node read_hyparquet.mjs <dir with manifest.json>')
  process.exit(2)
}
const manifest = loadManifest(dir)
const ck = new Checker('hyparquet')

for (const t of manifest.tables) {
  ck.context = `${t.name} (${t.file})`
  await ck.guard('table', () => checkTable(t))
}
ck.done()

async function checkTable(t) {
  const buf = fs.readFileSync(t.path)
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)
  const md = parquetMetadata(ab, { parsers: rawParsers })

  // ---- file metadata ----
  ck.ok(/^strata version \S+ \(build strata\)$/.test(md.created_by ?? ''),
    `created_by names strata: ${JSON.stringify(md.created_by)}`)
  ck.eq(BigInt(md.num_rows), BigInt(t.rows.length), 'num_rows')
  const schema = md.schema.map((s) => ({ name: s.name, type: s.type, repetition: s.repetition_type,
    converted: s.converted_type, logical: s.logical_type?.type }))
  ck.eq(schema.slice(1), [
    { name: 'key', type: 'BYTE_ARRAY', repetition: 'REQUIRED' },
    { name: 'value', type: 'BYTE_ARRAY', repetition: 'OPTIONAL' },
    { name: 'seqno', type: 'INT64', repetition: 'REQUIRED' },
    { name: 'kind', type: 'INT32', repetition: 'REQUIRED' },
  ], 'schema leaves')
  ck.eq(md.schema[0].num_children, 4, 'root has 4 children')

  const kv = Object.fromEntries((md.key_value_metadata ?? []).map(({ key, value }) => [key, value]))
  for (const [k, v] of Object.entries(expectedStrataMeta(t))) ck.eq(kv[k], v, `footer ${k}`)
  const created = BigInt(kv['strata.created_us'] ?? -1)
  ck.ok(created >= BigInt(manifest.created_us_min) && created <= BigInt(manifest.created_us_max),
    `strata.created_us ${created} within the generator's run [${manifest.created_us_min}, ${manifest.created_us_max}]`)
  for (const [k, v] of Object.entries(t.user_meta)) ck.eq(kv[k], v, `footer user pair ${k}`)
  // strata.index_offset / strata.index_crc32c: start of the bloom filters + page indexes and the
  // CRC-32C of the bytes from there up to the footer.
  const footerStart = ab.byteLength - 8 - new DataView(ab).getUint32(ab.byteLength - 8, true)
  let indexStart = footerStart
  for (const rg of md.row_groups) {
    for (const c of rg.columns) {
      for (const o of [c.meta_data.bloom_filter_offset, c.column_index_offset, c.offset_index_offset]) {
        if (o !== undefined) indexStart = Math.min(indexStart, Number(o))
      }
    }
  }
  if (md.row_groups.length === 0) indexStart = 4
  ck.eq(kv['strata.index_offset'], String(indexStart), 'footer strata.index_offset = first bloom/index byte')
  const idxOff = Number(kv['strata.index_offset'])
  if (idxOff >= 4 && idxOff <= footerStart) {
    ck.eq(kv['strata.index_crc32c'], String(crc32c(new Uint8Array(ab, idxOff, footerStart - idxOff))),
      'footer strata.index_crc32c = CRC-32C of [index_offset, footer)')
  }
  const known = new Set([...Object.keys(expectedStrataMeta(t)), 'strata.created_us', 'strata.index_offset',
    'strata.index_crc32c', ...Object.keys(t.user_meta)])
  ck.eq(Object.keys(kv).filter((k) => !known.has(k)), [], 'no unexpected footer keys')

  // column_orders is not decoded by hyparquet's metadata: read FileMetaData field 7 directly.
  const view = new DataView(ab)
  const footerLen = view.getUint32(ab.byteLength - 8, true)
  const raw = deserializeTCompactProtocol({ view, offset: ab.byteLength - 8 - footerLen })
  ck.eq((raw.field_7 ?? []).map((o) => Object.keys(o)), [['field_1'], ['field_1'], ['field_1'], ['field_1']],
    'column_orders = 4 x TYPE_ORDER')

  // ---- rows ----
  const got = await parquetReadObjects({ file: ab, compressors, utf8: false })
  ck.eq(got.length, t.rows.length, 'row count read')
  let bad = 0
  for (let i = 0; i < Math.min(got.length, t.rows.length); i++) {
    const g = got[i]
    const w = t.rows[i]
    const same = toHex(g.key) === toHex(w.key) && (g.value == null ? null : toHex(g.value)) === toHex(w.value) &&
      BigInt(g.seqno) === w.seqno && Number(g.kind) === w.kind
    if (!same && bad++ < 3) {
      ck.eq({ key: toHex(g.key), value: g.value == null ? null : toHex(g.value), seqno: g.seqno, kind: g.kind },
        { key: toHex(w.key), value: toHex(w.value), seqno: w.seqno, kind: w.kind }, `row ${i}`)
    }
  }
  ck.eq(bad, 0, 'rows differing from the manifest')

  // ---- row groups ----
  const ranges = rowGroupRanges(md.row_groups.map((rg) => rg.num_rows))
  ck.ok(md.row_groups.length >= (t.min_row_groups ?? 1) || t.rows.length === 0,
    `row groups ${md.row_groups.length} >= ${t.min_row_groups ?? 1}`)
  let keyPages = 0
  const absentExcluded = { probes: 0, excluded: 0 }
  for (let g = 0; g < md.row_groups.length; g++) {
    const rg = md.row_groups[g]
    const [start, end] = ranges[g]
    const rows = t.rows.slice(start, end)
    const where = `row group ${g}`
    ck.eq(rg.sorting_columns, [{ column_idx: 0, descending: false, nulls_first: false }], `${where} sorting_columns`)
    if (start > 0 && end > start) {
      ck.ok(toHex(t.rows[start - 1].key) !== toHex(t.rows[start].key),
        `${where} starts at a key boundary (a key's versions never span row groups)`)
    }
    ck.eq(rg.columns.length, 4, `${where} column count`)
    for (let c = 0; c < 4; c++) {
      const col = COLUMNS[c]
      const chunk = rg.columns[c]
      const meta = chunk.meta_data
      const cw = `${where} ${col}`
      ck.eq(meta.path_in_schema, [col], `${cw} path`)
      ck.eq(meta.codec, columnCodec(t.codec, col, meta.codec), `${cw} codec`)
      ck.eq(BigInt(meta.num_values), BigInt(rows.length), `${cw} num_values`)
      const vals = columnOf(rows, col)
      const s = meta.statistics ?? {}
      checkBounds(ck, `${cw} chunk statistics`, {
        min: s.min_value, max: s.max_value, null_count: s.null_count,
        min_exact: s.is_min_value_exact, max_exact: s.is_max_value_exact,
      }, vals, col !== 'value')
      const pages = checkPages(ab, chunk, md.schema[c + 1], vals, cw)
      if (col === 'key') keyPages += pages
    }
    checkBloom(ab, rg.columns[0], rows, t, where, absentExcluded)
  }
  ck.ok(keyPages >= (t.min_pages ?? 1) || t.rows.length === 0, `key pages ${keyPages} >= ${t.min_pages ?? 1}`)
  if (absentExcluded.probes > 0) {
    ck.ok(absentExcluded.excluded >= 0.9 * absentExcluded.probes,
      `bloom filters exclude absent keys in most row groups: ${absentExcluded.excluded}/${absentExcluded.probes}`)
  }
}

// OffsetIndex + ColumnIndex + every data page header of one column chunk; returns the page count.
function checkPages(ab, chunk, element, vals, cw) {
  const view = new DataView(ab)
  if (!ck.ok(chunk.offset_index_offset !== undefined, `${cw} has an OffsetIndex`)) return 0
  const oi = readOffsetIndex({ view, offset: Number(chunk.offset_index_offset) })
  // strata writes a ColumnIndex for the key column only (doc/format_sst.md); one found on
  // another column must still be right
  const hasCI = chunk.column_index_offset !== undefined
  ck.ok(hasCI || element.name !== 'key', `${cw} has a ColumnIndex`)
  const ci = hasCI ? readColumnIndex({ view, offset: Number(chunk.column_index_offset) }, element, rawParsers) : null
  const locs = oi.page_locations
  const n = locs.length
  ck.ok(n >= 1 || vals.length === 0, `${cw} has pages`)
  if (ci) {
    ck.eq([ci.null_pages.length, ci.min_values.length, ci.max_values.length], [n, n, n], `${cw} ColumnIndex sizes`)
    if (ci.null_counts) ck.eq(ci.null_counts.length, n, `${cw} ColumnIndex null_counts size`)
    if (element.name === 'key') ck.eq(ci.boundary_order, 'ASCENDING', `${cw} key boundary_order`)
  }
  ck.eq(BigInt(locs[0]?.first_row_index ?? 0), 0n, `${cw} first page starts at row 0`)
  ck.eq(BigInt(locs[0]?.offset ?? -1), BigInt(chunk.meta_data.dictionary_page_offset ?? chunk.meta_data.data_page_offset),
    `${cw} first page at data_page_offset`)
  let sumSize = 0n
  for (let p = 0; p < n; p++) {
    const pw = `${cw} page ${p}`
    const first = Number(locs[p].first_row_index)
    const last = p + 1 < n ? Number(locs[p + 1].first_row_index) : vals.length
    if (!ck.ok(first < last && last <= vals.length, `${pw} rows [${first}, ${last}) within ${vals.length}`)) continue
    const pv = vals.slice(first, last)
    const allNull = pv.every((v) => v === null)
    if (ci) ck.eq(ci.null_pages[p], allNull, `${pw} ColumnIndex null_pages`)
    if (ci && !allNull) {
      checkBounds(ck, `${pw} ColumnIndex`, {
        min: ci.min_values[p], max: ci.max_values[p], null_count: ci.null_counts?.[p],
      }, pv, element.name !== 'value')
    } else if (ci?.null_counts) {
      ck.eq(BigInt(ci.null_counts[p]), BigInt(pv.length), `${pw} ColumnIndex null_counts`)
    }
    // page header at the location: a v1 data page whose CRC and statistics are right
    const reader = { view, offset: Number(locs[p].offset) }
    const hdr = deserializeTCompactProtocol(reader)
    const hdrLen = reader.offset - Number(locs[p].offset)
    ck.eq(hdr.field_1, 0, `${pw} type DATA_PAGE`)
    ck.eq(hdrLen + hdr.field_3, locs[p].compressed_page_size, `${pw} OffsetIndex size = header + compressed size`)
    sumSize += BigInt(hdrLen + hdr.field_3)
    const body = new Uint8Array(ab, reader.offset, hdr.field_3)
    ck.eq(hdr.field_4 === undefined ? 'absent' : hdr.field_4 >>> 0, zlib.crc32(body) >>> 0, `${pw} CRC-32`)
    const dph = hdr.field_5 ?? {}
    ck.eq(dph.field_1, pv.length, `${pw} num_values`)
    // strata leaves page-header statistics out (the ColumnIndex holds them); if a header has
    // some, they must be right
    const st = dph.field_5
    ck.ok(st !== undefined || ci || element.name !== 'key', `${pw} bounds in the ColumnIndex or the page header`)
    if (st !== undefined) {
      const conv = (b) => (b === undefined ? undefined : element.type === 'BYTE_ARRAY' ? b : decodeInt(b))
      checkBounds(ck, `${pw} header statistics`, {
        min: conv(st.field_6), max: conv(st.field_5), null_count: st.field_3,
        min_exact: st.field_8, max_exact: st.field_7,
      }, pv, element.name !== 'value')
    }
  }
  ck.eq(sumSize, BigInt(chunk.meta_data.total_compressed_size), `${cw} pages add up to total_compressed_size`)
  return n
}

function decodeInt(b) {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
  return b.byteLength === 8 ? v.getBigInt64(0, true) : BigInt(v.getInt32(0, true))
}

function checkBloom(ab, keyChunk, rows, t, where, absentExcluded) {
  const meta = keyChunk.meta_data
  if (t.bloom_bits_per_key === 0) {
    ck.eq(meta.bloom_filter_offset, undefined, `${where} no bloom filter when bloom_bits_per_key = 0`)
    return
  }
  if (rows.length === 0) return
  if (!ck.ok(meta.bloom_filter_offset !== undefined, `${where} key column has a bloom filter`)) return
  const reader = { view: new DataView(ab), offset: Number(meta.bloom_filter_offset) }
  const bloom = readBloomFilter(reader)
  if (!ck.ok(bloom !== undefined, `${where} bloom filter header is BLOCK/XXHASH/UNCOMPRESSED`)) return
  ck.ok(bloom.numBytes >= 32 && (bloom.numBytes & (bloom.numBytes - 1)) === 0,
    `${where} bloom numBytes ${bloom.numBytes} is a power of two >= 32`)
  if (meta.bloom_filter_length !== undefined) {
    ck.eq(reader.offset - Number(meta.bloom_filter_offset), Number(meta.bloom_filter_length), `${where} bloom_filter_length`)
  }
  let missing = 0
  for (const r of rows) if (!sbbfContains(bloom.blocks, xxhash64(r.key))) missing++
  ck.eq(missing, 0, `${where} present keys missing from the bloom filter`)
  for (const k of t.absent) {
    absentExcluded.probes++
    if (!sbbfContains(bloom.blocks, xxhash64(k))) absentExcluded.excluded++
  }
}
