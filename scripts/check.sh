#!/usr/bin/env bash
# Static project checks: exported symbols, module layering, formatting.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/test}
fail=0
for lib in "$build/libstrata.so" "$build/libstrata.a"; do
  [ -f "$lib" ] || { echo "check.sh: $lib not built (build it first, e.g. scripts/test.sh)"; exit 1; }
done
# 1. libstrata exports only strata_* (shared) / strata_ + st_ (static) globals.
bad=$(nm -D --defined-only "$build/libstrata.so" | awk '$2 ~ /[TDBR]/ {print $3}' | grep -v '^strata_' || true)
if [ -n "$bad" ]; then echo "non-strata_ symbols exported from libstrata.so:"; echo "$bad"; fail=1; fi
bad=$(nm -g --defined-only "$build/libstrata.a" 2>/dev/null | awk 'NF==3 {print $3}' | grep -Ev '^(strata_|st_)' || true)
if [ -n "$bad" ]; then echo "globals without strata_/st_ prefix in libstrata.a:"; echo "$bad"; fail=1; fi
# 2. Layering: a module may include only itself and the modules below it.
declare -A allowed=(
  [util]="util" [env]="env util" [iter]="iter util" [memtable]="memtable iter util"
  [wal]="wal env util" [parquet]="parquet env util" [cache]="cache util"
  [sst]="sst parquet cache iter env util" [version]="version sst wal cache iter env util"
  [compaction]="compaction version sst cache iter env util"
  [db]="db compaction version sst cache wal memtable iter env util")
for mod in "${!allowed[@]}"; do
  [ -d "src/$mod" ] || continue
  while IFS= read -r line; do
    inc=$(sed -E 's/.*#include "([a-z_]+)\/.*/\1/' <<<"$line")
    [ "$inc" = "strata" ] && continue
    if ! grep -qw "$inc" <<<"${allowed[$mod]}"; then
      echo "layering violation: $line"; fail=1
    fi
  done < <(grep -HE '^#include "[a-z_]+/' src/"$mod"/*.[ch] 2>/dev/null || true)
done
# 3. clang-format (when available).
if command -v clang-format >/dev/null; then
  unformatted=$(git ls-files '*.c' '*.h' | while read -r f; do
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || echo "$f"; done)
  if [ -n "$unformatted" ]; then echo "not clang-formatted:"; echo "$unformatted"; fail=1; fi
fi
[ $fail -eq 0 ] && echo "checks passed"
exit $fail
