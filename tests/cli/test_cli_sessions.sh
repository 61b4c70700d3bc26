#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# test_cli_sessions.sh STRATA -- many short sessions must not pile up tables.
# Registered as ctest test `test_cli_sessions` from tools/CMakeLists.txt.
#
# 500 separate `strata put DB KEY VALUE` invocations with random keys: each opens the database
# (which writes the previous session's log to a one-row table), writes one key and closes it.
# Key-disjoint one-row tables never overlap, so overlap alone never compacts them; the fragment
# trigger and the cheap compactions run at close (doc/compaction.md section 4) must keep the
# table count at 16 or less, measured when the last command has exited, and every key must
# read back. ST_SEED=<n> replays a run's key set; ST_SESSIONS=<n> changes the count.
set -u
export LC_ALL=C
S=${1:?usage: test_cli_sessions.sh PATH-TO-strata}
N=${ST_SESSIONS:-500}
MAX_TABLES=16
BASE=${ST_TEST_TMPDIR:-${TMPDIR:-/tmp}}
mkdir -p "$BASE"
T=$(mktemp -d "$BASE/cli_sessions.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
SEED=${ST_SEED:-$(date +%s)}
echo "seed: $SEED (replay with ST_SEED=$SEED)"
D=$T/db
failed=0
bad() {
    failed=$((failed + 1))
    echo "FAILED: $*"
}
tables() { find "$D" -maxdepth 1 -name '*.parquet' | wc -l; }

# N distinct keys in random order (the suffix makes them distinct), value v<i>
awk -v seed="$SEED" -v n="$N" 'BEGIN {
    srand(seed)
    for (i = 1; i <= n; i++) printf "k%09d-%04d\tv%d\n", int(rand() * 1e9), i, i
}' >"$T/kv"

max_seen=0
i=0
while IFS=$'\t' read -r k v; do
    i=$((i + 1))
    if ! "$S" put "$D" "$k" "$v" 2>"$T/err"; then
        bad "put #$i ($k) exited $?: $(head -c 300 "$T/err")"
        break
    fi
    c=$(tables)
    [ "$c" -gt "$max_seen" ] && max_seen=$c
done <"$T/kv"

after_puts=$(tables)
echo "after $i puts: $after_puts tables (most after any put: $max_seen)"
[ "$after_puts" -le "$MAX_TABLES" ] || bad "$after_puts tables after $i puts (at most $MAX_TABLES)"
[ "$max_seen" -le "$MAX_TABLES" ] || bad "$max_seen tables after some put (at most $MAX_TABLES)"

# `strata stats` writes the last session's log to a table first; its "tables:" line counts them.
"$S" stats "$D" >"$T/stats" 2>"$T/err" || bad "stats exited $?: $(head -c 300 "$T/err")"
st=$(sed -n 's/^tables: \([0-9]*\),.*/\1/p' "$T/stats")
echo "strata stats: ${st:-?} tables; afterwards $(tables) files"
grep -E '^  L[0-9]' "$T/stats" | sed 's/^/  /'
[ -n "$st" ] && [ "$st" -le "$MAX_TABLES" ] || bad "stats reports '${st:-nothing}' tables"
[ "$(tables)" -le "$MAX_TABLES" ] || bad "$(tables) tables after stats"

# every key reads back: a full scan equals the sorted input, and point reads of a sample agree
sort "$T/kv" >"$T/want"
"$S" scan "$D" >"$T/scan" 2>"$T/err" || bad "scan exited $?: $(head -c 300 "$T/err")"
cmp -s "$T/want" "$T/scan" || {
    bad "scan differs from the $N keys put:"
    diff "$T/want" "$T/scan" | head -10
}
awk 'NR % 25 == 1' "$T/kv" >"$T/sample"
while IFS=$'\t' read -r k v; do
    got=$("$S" get "$D" "$k" 2>"$T/err")
    [ "$got" = "$v" ] || bad "get $k: '$got' ($(head -c 200 "$T/err")), expected '$v'"
done <"$T/sample"
[ "$(tables)" -le "$MAX_TABLES" ] || bad "$(tables) tables after the reads"

if [ "$failed" -ne 0 ]; then
    echo "$failed check(s) failed"
    exit 1
fi
echo "passed"
