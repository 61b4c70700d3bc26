#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench-report.sh -- run the README's strata / LevelDB / RocksDB comparison and publish it.
#
# Builds strata-bench (Release), runs five scenarios with several repetitions (tables show medians),
# writes CSV, markdown and PNG charts to bench-results/, and regenerates the "Results" section of
# doc/bench.md from the measured numbers. Nothing in the report is typed in by hand.
#
#   scripts/bench-report.sh [--num=N] [--repeat=R] [--engines=LIST] [--quick] [--no-doc] [--report-only]
#
#   --num=N        keys of the main data set (default 1000000)
#   --repeat=R     repetitions of every scenario (default 3)
#   --engines=LIST passed to strata-bench (default: every engine built in)
#   --quick        --num=100000 --repeat=1: a check that the pipeline works, not a measurement
#   --no-doc       leave doc/bench.md alone
#   --report-only  skip building and measuring: redo charts and markdown from the CSV/markdown
#                  files already in the output directory
# Environment: BUILD_DIR (default build/release), OUT (default bench-results),
#              STRATA_BENCH (a strata-bench binary to use instead of building one; then
#              write the strata commit it was built from to $OUT/strata-commit.txt),
#              BENCH_DB (where the databases go; default: strata-bench's own temporary dir).
set -euo pipefail
cd "$(dirname "$0")/.."

# Everything runs from this function, so bash has read the whole script before it starts and
# editing the file during a long run cannot derail it.
main() {

num=1000000
repeat=3
engines=""
update_doc=1
measure=1
for a in "$@"; do
  case "$a" in
    --num=*) num=${a#--num=} ;;
    --repeat=*) repeat=${a#--repeat=} ;;
    --engines=*) engines=$a ;;
    --quick) num=100000; repeat=1 ;;
    --no-doc) update_doc=0 ;;
    --report-only) measure=0 ;;
    -h|--help) sed -n '3,21p' "$0"; exit 0 ;;
    *) echo "bench-report.sh: unknown argument $a" >&2; exit 2 ;;
  esac
done

build=${BUILD_DIR:-build/release}
out=${OUT:-bench-results}
mkdir -p "$out"
bench=${STRATA_BENCH:-$build/bench/strata-bench}
if [ "$measure" = 1 ] && [ -z "${STRATA_BENCH:-}" ]; then
  rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  git diff --quiet HEAD -- src include 2>/dev/null || rev="$rev + uncommitted changes"
  echo "$rev" >"$out/strata-commit.txt"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSTRATA_BUILD_BENCH=ON >/dev/null
  cmake --build "$build" -j"$(nproc)" --target strata-bench
fi

common=(--repeat="$repeat" --progress=0)
[ -n "$engines" ] && common+=("$engines")
[ -n "${BENCH_DB:-}" ] && common+=(--db="$BENCH_DB")

# name | description | strata-bench arguments
scenarios=(
  "main|db_bench's workloads, $num keys, each engine's default cache|--num=$num --benchmarks=fillseq,fillrandom,overwrite,readrandom,readmissing,readseq,seekrandom,deleterandom,readwhilewriting,compact"
  "prefix|keys sharing long prefixes (user/%010d/profile/field/%06d); strata uses its trie memtable|--num=$num --benchmarks=prefixfill,prefixread,prefixscan --reads=$((num / 10))"
  "equal|equal memory for every engine: an 8 MiB block cache and 4 MiB memtables|--num=$num --cache_size=8M --write_buffer_size=4M --benchmarks=fillrandom,readrandom,readseq,seekrandom --reads=$((num / 5))"
  "seek100|range scans: every seek reads 100 entries, each engine's defaults|--num=$num --benchmarks=fillrandom,seekrandom --seek_nexts=100 --reads=$((num / 10))"
  "cache|data set many times larger than an equal 4 MiB block cache (the OS page cache still holds the files: this measures block-cache misses, decompression and index work, not disk reads)|--num=$num --cache_size=4M --benchmarks=fillrandom,compact,readrandom,seekrandom --reads=$((num / 5))"
  "sync|durable writes (fillsync): 1 writer, then 4 concurrent writers sharing fsyncs (group commit)|--num=$num --benchmarks=fillsync --sync_num=$((num / 200 > 1000 ? num / 200 : 1000))"
  "sync4|(4 writer threads)|--num=$num --benchmarks=fillsync --threads=4 --sync_num=$((num / 50 > 4000 ? num / 50 : 4000))"
)

for s in "${scenarios[@]}"; do
  [ "$measure" = 1 ] || break
  IFS='|' read -r name desc args <<<"$s"
  echo "== $name: $desc"
  # shellcheck disable=SC2086
  "$bench" $args "${common[@]}" --csv="$out/$name.csv" --markdown="$out/$name.md"
done

# ---- charts: one PNG per scenario and metric, from the median rows of the CSV ----------------
# pivot CSV COLUMN > data file: one row per workload, one column per engine.
pivot() {
  awk -F, -v col="$2" '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
    $1 != "median" || $2 == "machine" || $NF != "ok" { next }
    {
      if (!($3 in seenw)) { seenw[$3] = 1; w[++nw] = $3 }
      if (!($2 in seene)) { seene[$2] = 1; e[++ne] = $2 }
      v[$3, $2] = $c
    }
    END {
      printf "workload"; for (j = 1; j <= ne; j++) printf " %s", e[j]; printf "\n"
      for (i = 1; i <= nw; i++) {
        nz = 0  # leave out workloads where the metric is 0 everywhere (W-amp of reads)
        for (j = 1; j <= ne; j++) if ((w[i], e[j]) in v && v[w[i], e[j]] + 0 != 0) nz = 1
        if (!nz) continue
        printf "%s", w[i]
        for (j = 1; j <= ne; j++) printf " %s", ((w[i], e[j]) in v ? v[w[i], e[j]] : "NaN")
        printf "\n"
      }
    }' "$1"
}

charts=()
if command -v gnuplot >/dev/null; then
  for s in "${scenarios[@]}"; do
    IFS='|' read -r name desc args <<<"$s"
    [ -f "$out/$name.csv" ] || continue
    for m in "ops_per_sec|throughput (ops/s, log scale)|1" "p99_us|p99 latency (µs, log scale)|1" \
             "write_amp|write amplification (disk bytes / user bytes)|0" \
             "disk_bytes|on-disk size (bytes)|0" "peak_rss_kb|peak RSS (KiB)|0" "peak_anon_kb|peak anonymous RSS (KiB)|0"; do
      IFS='|' read -r col label logy <<<"$m"
      pivot "$out/$name.csv" "$col" >"$out/$name-$col.dat"
      [ "$(wc -l <"$out/$name-$col.dat")" -gt 1 ] || continue
      ncols=$(head -1 "$out/$name-$col.dat" | wc -w)
      gnuplot -e "datafile='$out/$name-$col.dat'; outfile='$out/$name-$col.png'; \
                  chart_title='$name: $label'; logy=$logy; ncols=$ncols" scripts/plot-bench.gnuplot
      charts+=("$name-$col.png")
    done
  done
else
  echo "bench-report.sh: gnuplot not found, no charts" >&2
fi

# ---- the markdown report --------------------------------------------------------------------
report="$out/results.md"
{
  echo "<!-- Generated by scripts/bench-report.sh --num=$num --repeat=$repeat; do not edit. -->"
  echo
  echo "strata source: commit $(cat "$out/strata-commit.txt" 2>/dev/null || echo unknown)."
  echo "Every scenario ran the engines one after another on the same machine; the load of"
  echo "anything else running on it at the time is part of the numbers."
  for s in "${scenarios[@]}"; do
    IFS='|' read -r name desc args <<<"$s"
    [ -f "$out/$name.md" ] || continue
    echo
    echo "### $name: $desc"
    echo
    echo "\`strata-bench $args --repeat=$repeat\`"
    echo
    cat "$out/$name.md"
  done
  if [ "${#charts[@]}" -gt 0 ]; then
    echo
    echo "Charts (regenerated by the script in \`$out/\`): ${charts[*]}"
  fi
} >"$report"
echo "wrote $report, $out/*.csv and ${#charts[@]} charts"

if [ "$update_doc" = 1 ]; then
  doc=doc/bench.md
  begin='<!-- results:begin -->'
  end='<!-- results:end -->'
  if grep -q "$begin" "$doc" && grep -q "$end" "$doc"; then
    awk -v b="$begin" -v e="$end" -v r="$report" '
      $0 == b { print; while ((getline line < r) > 0) print line; skip = 1; next }
      $0 == e { skip = 0 }
      !skip { print }' "$doc" >"$doc.tmp"
    mv "$doc.tmp" "$doc"
    echo "updated the Results section of $doc"
  else
    echo "bench-report.sh: $doc has no $begin/$end markers; not updated" >&2
  fi
  # The README's performance section: the main scenario's table and its charts (copied into
  # doc/bench/ so the README can show them), between markers.
  if [ -f "$out/main.md" ] && grep -q "$begin" README.md && grep -q "$end" README.md; then
    mkdir -p doc/bench
    readme_part="$out/readme.md"
    {
      echo "<!-- Generated by scripts/bench-report.sh --num=$num --repeat=$repeat; do not edit. -->"
      echo
      echo "strata source: commit $(cat "$out/strata-commit.txt" 2>/dev/null || echo unknown)."
      echo "Command: \`scripts/bench-report.sh --num=$num --repeat=$repeat\` (all scenarios: doc/bench.md)."
      echo
      cat "$out/main.md"
      for c in main-ops_per_sec main-write_amp main-disk_bytes; do
        if [ -f "$out/$c.png" ]; then
          cp "$out/$c.png" "doc/bench/$c.png"
          echo
          echo "![$c](doc/bench/$c.png)"
        fi
      done
    } >"$readme_part"
    awk -v b="$begin" -v e="$end" -v r="$readme_part" '
      $0 == b { print; while ((getline line < r) > 0) print line; skip = 1; next }
      $0 == e { skip = 0 }
      !skip { print }' README.md >README.md.tmp
    mv README.md.tmp README.md
    echo "updated the Performance section of README.md"
  fi
fi
}

main "$@"; exit $?
