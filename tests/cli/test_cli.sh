#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# test_cli.sh STRATA -- end-to-end tests of the `strata` command-line tool (tools/, doc/cli.md).
# Registered as ctest test `test_cli` from tools/CMakeLists.txt. Every expectation is computed
# independently of the tool (sort/awk over the generated input). Prints "N passed, M failed" and
# exits 1 when anything failed. ST_SEED=<n> replays a run's random data set.
set -u
export LC_ALL=C
S=${1:?usage: test_cli.sh PATH-TO-strata}
BASE=${ST_TEST_TMPDIR:-${TMPDIR:-/tmp}}
mkdir -p "$BASE"
T=$(mktemp -d "$BASE/cli.XXXXXX") || exit 1
WATCHDOG=
cleanup() {
    [ -n "$WATCHDOG" ] && kill "$WATCHDOG" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
SEED=${ST_SEED:-$(date +%s)}
echo "seed: $SEED (replay with ST_SEED=$SEED)"

passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
    failed=$((failed + 1))
    echo "FAILED: $*"
    if [ -s "$T/err" ]; then sed 's/^/  stderr: /' "$T/err" | head -5; fi
}

# run CMD... : stdout -> $T/out, stderr -> $T/err, status -> $RC
run() {
    "$@" >"$T/out" 2>"$T/err"
    RC=$?
}
# expect_rc N DESC CMD...
expect_rc() {
    local want=$1 desc=$2
    shift 2
    run "$@"
    if [ "$RC" -eq "$want" ]; then ok; else bad "$desc: exit $RC, expected $want ($*)"; fi
}
# expect_out TEXT DESC CMD... : exit 0 and stdout == TEXT (plus the final newline)
expect_out() {
    local want=$1 desc=$2
    shift 2
    run "$@"
    printf '%s\n' "$want" >"$T/want"
    if [ "$RC" -eq 0 ] && cmp -s "$T/out" "$T/want"; then
        ok
    else
        bad "$desc: exit $RC, output '$(head -c 200 "$T/out")', expected '$want'"
    fi
}
# expect_file FILE DESC CMD... : exit 0 and stdout == FILE
expect_file() {
    local want=$1 desc=$2
    shift 2
    run "$@"
    if [ "$RC" -eq 0 ] && cmp -s "$T/out" "$want"; then
        ok
    else
        bad "$desc: exit $RC; diff of expected vs output:"
        diff "$want" "$T/out" | head -10
    fi
}
# expect_err_match REGEX DESC : the last run's stderr matches (case-insensitive)
expect_err_match() {
    if grep -qiE "$1" "$T/err"; then ok; else bad "$2: stderr does not match /$1/"; fi
}

# ---- usage and help ------------------------------------------------------------------------
D=$T/db1
expect_rc 2 "no arguments" "$S"
expect_rc 0 "--help" "$S" --help
cp "$T/out" "$T/help.txt"
for c in put get del del-range scan load stats flush compact property check repair sst; do
    if grep -q "^  $c " "$T/help.txt"; then ok; else bad "--help does not list $c"; fi
    expect_rc 0 "$c --help" "$S" "$c" --help
    if grep -q "^usage: strata $c" "$T/out"; then ok; else bad "$c --help shows no usage line"; fi
done
expect_rc 0 "--help after the command's arguments" "$S" scan "$D" --help
expect_rc 0 "help COMMAND" "$S" help load
expect_rc 2 "unknown command" "$S" frobnicate "$D"
expect_err_match "unknown command" "unknown command message"
expect_rc 2 "put missing VALUE" "$S" put "$D" k
expect_err_match "missing arguments" "missing arguments message"
expect_rc 2 "get missing KEY" "$S" get "$D"
expect_rc 2 "too many arguments" "$S" get "$D" a b
expect_rc 2 "unknown flag" "$S" put --bogus "$D" k v
expect_rc 2 "command flag before the command" "$S" --limit 3 scan "$D"
expect_rc 2 "flag without its value" "$S" scan "$D" --limit
expect_rc 2 "bad --limit" "$S" scan "$D" --limit 12x
expect_rc 2 "negative --limit" "$S" scan "$D" --limit=-1
expect_rc 2 "bad --memtable" "$S" --memtable btree put "$D" k v
expect_rc 2 "bad --compression" "$S" put --compression lz5 "$D" k v
expect_rc 2 "bad --bottommost-compression" "$S" put --bottommost-compression gzip "$D" k v
expect_rc 2 "value given to a plain flag" "$S" put --hex=1 "$D" k v
expect_rc 2 "bad --memory-budget" "$S" --memory-budget 12Q put "$D" k v
expect_rc 2 "zero --memory-budget" "$S" --memory-budget 0 put "$D" k v
expect_rc 3 "--memory-budget too small for two memtables" "$S" --memory-budget 100K put "$D" k v
expect_rc 2 "odd hex digits" "$S" --hex put "$D" abc 00
expect_err_match "hex" "odd hex message"
expect_rc 2 "bad hex digit" "$S" put "$D" --hex zz 00
expect_rc 2 "bad hex value" "$S" put "$D" 00 0g --hex
expect_rc 2 "empty key" "$S" put "$D" "" v
expect_rc 2 "empty hex key" "$S" --hex get "$D" ""
expect_rc 2 "unknown escape" "$S" put "$D" 'a\q' v
expect_rc 2 "truncated \\x escape" "$S" put "$D" 'a\x4' v
expect_rc 2 "trailing backslash" "$S" put "$D" k 'v\'
BIGKEY=$(head -c 65537 /dev/zero | tr '\0' a)
expect_rc 2 "oversized key" "$S" put "$D" "$BIGKEY" v
expect_err_match "too long" "oversized key message"
expect_rc 2 "oversized --from key" "$S" scan "$D" --from "$BIGKEY"
if [ ! -e "$D" ]; then ok; else bad "usage errors created the database"; fi
expect_rc 3 "get on a missing database" "$S" get "$T/nodb" k
expect_err_match "not exist|notfound" "missing database message"
if [ ! -e "$T/nodb" ]; then ok; else bad "a read command created the database"; fi

# ---- put / get / del with every flag position --------------------------------------------
expect_rc 0 "put" "$S" put "$D" alpha one
expect_out "one" "get" "$S" get "$D" alpha
expect_out "one" "get --memory-budget 1M (smaller memtables)" "$S" --memory-budget 1M get "$D" alpha
run "$S" --memory-budget 2M stats "$D"
if [ "$RC" -eq 0 ] && grep -q "^memory: budget 2097152 bytes" "$T/out"; then
    ok
else
    bad "stats --memory-budget 2M: exit $RC, no 'memory: budget 2097152 bytes' line"
fi
expect_rc 0 "global flag first" "$S" --hex put "$D" 00ff 01
expect_rc 0 "flag after the command" "$S" put --hex "$D" 00fe 02
expect_rc 0 "flag between arguments" "$S" put "$D" --hex 00fd 03
expect_rc 0 "flag last" "$S" put "$D" 00fc 04 --hex
expect_rc 0 "--flag=value form" "$S" put --memtable=skiplist --sync "$D" beta two
expect_rc 0 "--sync --memtable trie --compression snappy" \
    "$S" --sync put --memtable trie "$D" gamma three --compression snappy
expect_out "01" "get --hex first" "$S" --hex get "$D" 00ff
expect_out "02" "get --hex last" "$S" get "$D" 00fe --hex
expect_out "03" "get --hex middle" "$S" get --hex "$D" 00fd
expect_out "04" "get --hex" "$S" get "$D" --hex 00fc
expect_out "two" "get after --sync put" "$S" get "$D" beta
expect_out "three" "get after trie put" "$S" get --memtable trie "$D" gamma
expect_out "6f6e65" "text key, hex value" "$S" --hex get "$D" 616c706861
expect_rc 0 "overwrite" "$S" put "$D" alpha uno
expect_out "uno" "get after overwrite" "$S" get "$D" alpha
expect_rc 1 "get of a missing key" "$S" get "$D" nosuchkey
if [ ! -s "$T/out" ] && [ -s "$T/err" ]; then ok; else bad "missing key: stdout/stderr"; fi
expect_err_match "not found" "missing key message"
expect_rc 0 "del" "$S" del "$D" alpha
expect_rc 1 "get after del" "$S" get "$D" alpha
expect_rc 0 "del --hex" "$S" del --hex "$D" 00fc
expect_rc 1 "get after del --hex" "$S" --hex get "$D" 00fc
expect_rc 0 "--hex before del" "$S" --hex del "$D" 00fd
expect_rc 1 "get after --hex del" "$S" get "$D" 00fd --hex
expect_rc 0 "--hex after del's arguments" "$S" del "$D" 00fe --hex
expect_rc 1 "get after del ... --hex" "$S" --hex get "$D" 00fe
expect_out "01" "untouched neighbour survives the deletes" "$S" --hex get "$D" 00ff
expect_rc 0 "del of an absent key" "$S" del "$D" never-there
expect_rc 0 "empty value" "$S" put "$D" emptyval ""
expect_out "" "get empty value" "$S" get "$D" emptyval
MAXKEY=$(head -c 65536 /dev/zero | tr '\0' k)
expect_rc 0 "64 KiB key" "$S" put "$D" "$MAXKEY" big
expect_out "big" "get 64 KiB key" "$S" get "$D" "$MAXKEY"
expect_rc 0 "del 64 KiB key" "$S" del "$D" "$MAXKEY"
expect_rc 0 "-- before a key starting with -" "$S" put "$D" -- -dash v
expect_out "v" "get of a key starting with -" "$S" get "$D" -- -dash

# ---- del-range: one range tombstone, in the memtable, then in a table -----------------------
R=$T/rdel
for k in r1 r2 r3 r4 r5; do "$S" put "$R" "$k" "v$k" >/dev/null; done
expect_rc 0 "del-range" "$S" del-range "$R" r2 r4
printf 'r1\tvr1\nr4\tvr4\nr5\tvr5\n' >"$T/rdel_want"
expect_file "$T/rdel_want" "scan after del-range (end exclusive)" "$S" scan "$R"
printf 'r5\tvr5\nr4\tvr4\nr1\tvr1\n' >"$T/rdel_rev"
expect_file "$T/rdel_rev" "reverse scan after del-range" "$S" scan "$R" --reverse
expect_rc 1 "get inside a deleted range" "$S" get "$R" r3
expect_rc 0 "put inside a deleted range" "$S" put "$R" r3 again
expect_out "again" "a later put survives the range delete" "$S" get "$R" r3
expect_rc 0 "flush with a range tombstone" "$S" flush "$R"
expect_rc 1 "get inside the range after the flush" "$S" get "$R" r2
for f in "$R"/*.parquet; do "$S" sst --rows "$f"; done >"$T/out" 2>"$T/err"
if grep -qP '^r2\t\d+\tdel-range\tr4$' "$T/out"; then ok; else bad "sst --rows shows the range tombstone"; fi
expect_rc 0 "check a table with a range tombstone" "$S" check "$R"
expect_rc 0 "del-range --hex" "$S" --hex del-range "$R" 7230 7234
expect_rc 1 "get after del-range --hex" "$S" get "$R" r1
expect_rc 0 "del-range of an empty range of keys" "$S" del-range "$R" x y
expect_rc 3 "del-range with FROM after TO" "$S" del-range "$R" r4 r2
expect_err_match "not before end" "reversed del-range message"
expect_rc 3 "del-range with FROM = TO" "$S" del-range "$R" r4 r4
expect_rc 2 "del-range missing TO" "$S" del-range "$R" r4
expect_rc 0 "compact drops the range tombstone" "$S" compact "$R"
printf 'r4\tvr4\nr5\tvr5\n' >"$T/rdel_final"
expect_file "$T/rdel_final" "scan after compaction" "$S" scan "$R"
run "$S" property "$R" strata.tables
if [ "$RC" -eq 0 ] && [ "$(grep -c . "$T/out")" -eq 1 ] && grep -q " entries=2 " "$T/out"; then
    ok
else
    bad "a full compaction leaves only the 2 live keys: $(cat "$T/out")"
fi

# ---- binary keys: hex round trip and the escaped text form ---------------------------------
expect_rc 0 "binary put" "$S" --hex put "$D" 00ff0000ff ff00ff00
expect_out "ff00ff00" "binary get" "$S" --hex get "$D" 00ff0000ff
expect_out "ff00ff00" "upper-case hex key" "$S" --hex get "$D" 00FF0000FF
ALLHEX=$(awk 'BEGIN { for (i = 0; i < 256; i++) printf "%02x", i }')
# The escaped form of bytes 00..ff, computed here independently of the tool.
ALLESC=$(awk 'BEGIN {
    for (i = 0; i < 256; i++) {
        if (i == 9) printf "\\t"; else if (i == 10) printf "\\n"; else if (i == 92) printf "\\\\";
        else if (i < 32 || i > 126) printf "\\x%02x", i; else printf "%c", i
    } }')
expect_rc 0 "put all 256 byte values" "$S" --hex put "$D" 616c6c "$ALLHEX"
expect_out "$ALLHEX" "hex get of all byte values" "$S" --hex get "$D" 616c6c
expect_out "$ALLESC" "escaped get of all byte values" "$S" get "$D" all
expect_rc 0 "put with escaped arguments" "$S" put "$D" 'esc\tkey\x00' "$ALLESC"
expect_out "$ALLHEX" "escaped argument decodes to the bytes" "$S" --hex get "$D" 657363096b657900
printf 'esc2\\x00\t%s\n' "$ALLESC" >"$T/esc.tsv"
expect_rc 0 "load escaped line" "$S" load "$D" "$T/esc.tsv"
expect_out "$ALLHEX" "loaded escaped value" "$S" --hex get "$D" 6573633200
expect_out "$(printf 'esc2\\x00\t%s' "$ALLESC")" "scan prints the escaped form" \
    "$S" scan "$D" --prefix esc2

# ---- a random binary data set: load (file and stdin), scan, ranges, prefixes, reverse ------
# Keys are 1..6 bytes drawn from {00 01 61 7f fe ff} so that prefixes, 00 and ff collide often.
awk -v seed="$SEED" 'BEGIN {
    srand(seed); split("00 01 61 7f fe ff", b, " ");
    n = 0;
    while (n < 700) {
        len = 1 + int(rand() * 6); k = "";
        for (j = 0; j < len; j++) k = k b[1 + int(rand() * 6)];
        if (k in seen) continue;
        seen[k] = 1; n++;
        vlen = int(rand() * 5); v = "";
        for (j = 0; j < vlen; j++) v = v sprintf("%02x", int(rand() * 256));
        printf "%s\t%s\n", k, v
    } }' >"$T/data.tsv"
sort -t "$(printf '\t')" -k1,1 "$T/data.tsv" >"$T/sorted.tsv"
H=$T/hexdb
expect_rc 0 "load --hex from a file" "$S" --hex load "$H" "$T/data.tsv" --batch 64
if grep -q "^loaded 700 records" "$T/out"; then ok; else bad "load summary: $(cat "$T/out")"; fi
expect_file "$T/sorted.tsv" "scan equals the loaded file" "$S" --hex scan "$H"
H2=$T/hexdb2
run "$S" load --hex "$H2" - --sync <"$T/data.tsv"
if [ "$RC" -eq 0 ]; then ok; else bad "load --hex --sync from stdin: exit $RC"; fi
expect_file "$T/sorted.tsv" "scan equals stdin input" "$S" scan "$H2" --hex
tac "$T/sorted.tsv" >"$T/rsorted.tsv"
expect_file "$T/rsorted.tsv" "reverse scan of everything" "$S" scan --reverse --hex "$H"
head -n 7 "$T/sorted.tsv" >"$T/want.tsv"
expect_file "$T/want.tsv" "scan --limit 7" "$S" --hex scan "$H" --limit 7
head -n 5 "$T/rsorted.tsv" >"$T/want.tsv"
expect_file "$T/want.tsv" "scan --reverse --limit 5" "$S" --hex scan "$H" --limit 5 --reverse
expect_rc 0 "scan --limit 0" "$S" --hex scan "$H" --limit 0
if [ ! -s "$T/out" ]; then ok; else bad "scan --limit 0 printed something"; fi

# range [from, to) filtered by awk string order (hex text order == byte order)
range() { awk -F '\t' -v lo="$1" -v hi="$2" '(lo == "" || ($1 "") >= (lo "")) && (hi == "" || ($1 "") < (hi ""))' \
    "$T/sorted.tsv"; }
for r in "61:fe" "00ff:01" "7f:7f" ":6100" "fe:" "000000:00000001" "ff:ffff" "617f:6180"; do
    lo=${r%%:*} hi=${r#*:}
    args=()
    [ -n "$lo" ] && args+=(--from "$lo")
    [ -n "$hi" ] && args+=(--to "$hi")
    range "$lo" "$hi" >"$T/want.tsv"
    expect_file "$T/want.tsv" "scan range [$lo,$hi)" "$S" --hex scan "$H" "${args[@]}"
    tac "$T/want.tsv" >"$T/rwant.tsv"
    expect_file "$T/rwant.tsv" "reverse scan range [$lo,$hi)" "$S" --hex scan "$H" "${args[@]}" \
        --reverse
    tac "$T/want.tsv" | head -n 3 >"$T/rwant.tsv"
    expect_file "$T/rwant.tsv" "reverse scan range [$lo,$hi) --limit 3" \
        "$S" --hex scan --limit=3 "$H" "${args[@]}" --reverse
done

# prefixes, including ones ending in (or made only of) 0xff
for p in ff ffff ffffff 00ff 00ffff 61ff 7f 00 0000 61 fe01 01ff7f; do
    awk -F '\t' -v p="$p" 'index($1, p) == 1' "$T/sorted.tsv" >"$T/want.tsv"
    expect_file "$T/want.tsv" "scan --prefix $p" "$S" --hex scan "$H" --prefix "$p"
    tac "$T/want.tsv" >"$T/rwant.tsv"
    expect_file "$T/rwant.tsv" "scan --prefix $p --reverse" "$S" --hex scan --reverse --prefix "$p" "$H"
    tac "$T/want.tsv" | head -n 2 >"$T/rwant.tsv"
    expect_file "$T/rwant.tsv" "scan --prefix $p --reverse --limit 2" \
        "$S" scan "$H" --hex --prefix="$p" --reverse --limit 2
done
awk -F '\t' 'index($1, "ff") == 1 && ($1 "") >= "ff01" && ($1 "") < "fffe"' "$T/sorted.tsv" >"$T/want.tsv"
expect_file "$T/want.tsv" "prefix intersected with --from/--to" \
    "$S" --hex scan "$H" --prefix ff --from ff01 --to fffe

# text-mode load and scan agree with the hex view of the same data
awk -F '\t' '
    function esc(h,   i, c, o) { o = "";
        for (i = 1; i <= length(h); i += 2) {
            c = substr(h, i, 2);
            if (c == "09") o = o "\\t"; else if (c == "0a") o = o "\\n"; else if (c == "5c") o = o "\\\\";
            else if (c == "61") o = o "a"; else o = o "\\x" c
        } return o }
    { print esc($1) "\t" esc($2) }' "$T/sorted.tsv" >"$T/sorted_text.tsv"
H3=$T/textdb
run "$S" load "$H3" <"$T/sorted_text.tsv"
if [ "$RC" -eq 0 ]; then ok; else bad "text load from stdin: exit $RC"; fi
expect_file "$T/sorted.tsv" "text load, hex scan" "$S" scan --hex "$H3"
# scan's own text output is accepted back by load
"$S" scan "$H3" >"$T/rescan.tsv"
expect_rc 0 "reload scan output" "$S" load "$T/textdb4" "$T/rescan.tsv"
expect_file "$T/sorted.tsv" "scan | load round trip" "$S" scan --hex "$T/textdb4"

# ---- malformed load input -----------------------------------------------------------------
printf 'a\t1\nno tab here\nb\t2\n\nc\t3\textra\nd\\q\t4\ne\t5' >"$T/badin.tsv"
M=$T/malformed
expect_rc 2 "load with malformed lines" "$S" load "$M" "$T/badin.tsv"
expect_err_match "badin.tsv:2:" "line 2 reported"
expect_err_match "badin.tsv:5:" "line 5 (two TABs) reported"
expect_err_match "badin.tsv:6:" "line 6 (bad escape) reported"
if ! grep -q ':4:' "$T/err"; then ok; else bad "blank line 4 reported as malformed"; fi
printf 'a\t1\nb\t2\ne\t5\n' >"$T/want.tsv"
expect_file "$T/want.tsv" "good lines of a malformed file were loaded" "$S" scan "$M"
M2=$T/strict
expect_rc 2 "load --strict stops" "$S" load --strict "$M2" "$T/badin.tsv"
printf 'a\t1\n' >"$T/want.tsv"
expect_file "$T/want.tsv" "--strict loaded only the lines before the bad one" "$S" scan "$M2"
expect_rc 2 "load --batch 0" "$S" load "$M2" --batch 0 "$T/badin.tsv"
expect_rc 3 "load from a missing file" "$S" load "$M2" "$T/no-such-input"
printf '%s\t1\n' "$BIGKEY" >"$T/bigkey.tsv"
expect_rc 2 "load of an oversized key" "$S" load "$M2" "$T/bigkey.tsv"
expect_err_match "bigkey.tsv:1:.*too long" "oversized key line reported"

# ---- maintenance commands -----------------------------------------------------------------
expect_rc 0 "flush" "$S" flush "$H"
expect_file "$T/sorted.tsv" "scan after flush" "$S" --hex scan "$H"
expect_rc 0 "compact all" "$S" compact "$H"
expect_rc 0 "compact range" "$S" --hex compact "$H" --from 00 --to 7f
expect_file "$T/sorted.tsv" "scan after compaction" "$S" --hex scan "$H"
for comp in none snappy zstd lz4; do
    run "$S" --hex load "$T/comp_$comp" --compression "$comp" <"$T/data.tsv"
    if [ "$RC" -eq 0 ]; then ok; else bad "load --compression $comp: exit $RC"; fi
    expect_rc 0 "flush --compression $comp" "$S" flush --compression="$comp" "$T/comp_$comp"
    expect_file "$T/sorted.tsv" "scan of a $comp table" "$S" --hex scan "$T/comp_$comp"
done
expect_rc 0 "stats" "$S" stats "$H"
if [ -s "$T/out" ]; then ok; else bad "stats printed nothing"; fi
expect_rc 0 "property strata.sequence" "$S" property "$H" strata.sequence
if grep -qE '^[0-9]+$' "$T/out"; then ok; else bad "strata.sequence: '$(cat "$T/out")'"; fi
expect_rc 2 "unknown property" "$S" property "$H" strata.nonsense
expect_err_match "property DB --list. lists the names" "unknown property points at --list"
expect_rc 0 "property --list" "$S" property "$H" --list
awk '{print $1}' "$T/out" >"$T/props.txt"
if [ "$(wc -l <"$T/props.txt")" -ge 5 ] && grep -qx strata.stats "$T/props.txt"; then ok; else
    bad "property --list: '$(head -c 200 "$T/props.txt")'"; fi
while read -r name; do
    expect_rc 0 "listed property $name is accepted" "$S" property "$H" "$name"
done <"$T/props.txt"
expect_rc 2 "property with NAME and --list" "$S" property "$H" strata.stats --list
expect_rc 2 "property without NAME" "$S" property "$H"
expect_rc 2 "stats --json --prometheus" "$S" stats "$H" --json --prometheus
expect_rc 0 "stats --json" "$S" stats --json "$H"
seq_now=$("$S" property "$H" strata.sequence)
if grep -qx "  \"sequence\": $seq_now," "$T/out"; then ok; else bad "stats --json sequence != $seq_now"; fi
expect_rc 0 "stats --prometheus" "$S" stats "$H" --prometheus
if grep -qx "strata_sequence $seq_now" "$T/out"; then ok; else bad "prometheus sequence != $seq_now"; fi
# a closed pipe is not an error
"$S" --hex scan "$H" | head -n 1 >/dev/null
rcs=("${PIPESTATUS[@]}")
if [ "${rcs[0]}" -eq 0 ]; then ok; else bad "scan | head: exit ${rcs[0]}"; fi

# ---- progress: only on a terminal (script(1) gives the tool one), never with --quiet ---------
run "$S" --hex load "$T/prog_plain" "$T/data.tsv"
if [ "$RC" -eq 0 ] && ! grep -q "loading" "$T/err"; then ok; else bad "load without a terminal: progress on stderr"; fi
if command -v script >/dev/null; then
    # tty_run FILE CMD...: run CMD with stdout and stderr on a pseudo-terminal, output to FILE
    tty_run() {
        local out=$1
        shift
        script -qec "$(printf '%q ' "$@")" /dev/null >"$out" 2>&1 </dev/null
    }
    tty_run "$T/tty.txt" "$S" --hex load "$T/prog_tty" "$T/data.tsv"
    if grep -q $'\rloading: [0-9]* entries (.*/s), .*B (.*/s), [0-9.]* s' "$T/tty.txt"; then ok; else
        bad "load on a terminal shows no progress: '$(head -c 200 "$T/tty.txt" | cat -v)'"; fi
    tty_run "$T/tty.txt" "$S" --hex load "$T/prog_quiet" "$T/data.tsv" --quiet
    if grep -q "^loaded" "$T/tty.txt" && ! grep -q "loading" "$T/tty.txt"; then ok; else
        bad "load --quiet on a terminal: '$(head -c 200 "$T/tty.txt" | cat -v)'"; fi
    tty_run "$T/tty.txt" "$S" compact "$T/prog_tty"
    if grep -q $'\rcompacting: [0-9]* compactions done' "$T/tty.txt"; then ok; else
        bad "compact on a terminal: '$(head -c 200 "$T/tty.txt" | cat -v)'"; fi
    tty_run "$T/tty.txt" "$S" check "$T/prog_tty"
    if grep -q $'\rchecking: [0-9.]* s' "$T/tty.txt" && grep -q "parquet: ok" "$T/tty.txt"; then ok; else
        bad "check on a terminal: '$(head -c 200 "$T/tty.txt" | cat -v)'"; fi
    tty_run "$T/tty.txt" "$S" --quiet repair "$T/prog_tty"
    if ! grep -q "repairing" "$T/tty.txt"; then ok; else bad "repair --quiet shows progress"; fi
    expect_file "$T/sorted.tsv" "data intact after the progress runs" "$S" --hex scan "$T/prog_tty"
else
    echo "note: script(1) not found, progress-on-a-terminal tests skipped"
fi
# reversed ranges are usage errors (issue 12 finding 7); a disjoint --prefix/--from is just empty
expect_rc 2 "scan --from z --to a" "$S" scan "$H" --from z --to a
expect_err_match "reversed" "scan --from z --to a: message"
expect_rc 2 "compact --from z --to a" "$S" compact "$H" --from z --to a
expect_err_match "reversed" "compact --from z --to a: message"
expect_rc 0 "scan with --prefix before --from" "$S" scan "$H" --prefix a --from b
if [ ! -s "$T/out" ]; then ok; else bad "scan of a disjoint --prefix/--from printed rows"; fi
# a database under a missing parent directory: an I/O error naming the path, not "not found"
expect_rc 3 "put under a missing parent" "$S" put "$T/no/such/parent/db" k v
expect_err_match "STRATA_IOERR.*no/such/parent/db.*parent" "missing parent: message"

# ---- check, repair and sst ------------------------------------------------------------------
# tables DIR: the table files of a database, one per line
tables() { find "$1" -maxdepth 1 -name '*.parquet' | sort; }
# flip_byte FILE OFFSET: replace the byte at OFFSET by its complement
flip_byte() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $((255 - b)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
C=$T/checkdb
run "$S" --hex load "$C" "$T/data.tsv"
if [ "$RC" -eq 0 ]; then ok; else bad "load for check: exit $RC"; fi
expect_rc 0 "flush for check" "$S" flush "$C"
tables "$C" >"$T/tables.txt"
ntables=$(wc -l <"$T/tables.txt")
if [ "$ntables" -ge 1 ]; then ok; else bad "no table file after load + flush"; fi
expect_rc 0 "check on a healthy database" "$S" check "$C"
while read -r f; do
    if grep -q "$(basename "$f")" "$T/out"; then ok; else bad "check report does not mention $f"; fi
done <"$T/tables.txt"
expect_rc 3 "check on a missing database" "$S" check "$T/nodb"
expect_err_match "not exist" "check on a missing database: message"
expect_rc 3 "repair on a missing database" "$S" repair "$T/nodb"
if [ ! -e "$T/nodb" ]; then ok; else bad "check/repair created the database"; fi
expect_rc 2 "check without DB" "$S" check

# sst: the rows of all tables together are what was loaded, each table in key order
: >"$T/allrows.tsv"
while read -r f; do
    expect_rc 0 "sst --rows $(basename "$f")" "$S" --hex sst "$f" --rows
    cut -f1 "$T/out" >"$T/keys.txt"
    if sort -c "$T/keys.txt" 2>/dev/null; then ok; else bad "sst --rows of $f is not in key order"; fi
    cat "$T/out" >>"$T/allrows.tsv"
done <"$T/tables.txt"
cut -f1,4 "$T/allrows.tsv" | sort >"$T/rows.tsv"
if cmp -s "$T/rows.tsv" "$T/sorted.tsv"; then ok; else bad "sst --rows differ from the loaded data"; fi
if [ "$(cut -f3 "$T/allrows.tsv" | sort -u)" = "put" ]; then ok; else bad "sst --rows: kinds are not all put"; fi
"$S" property "$C" strata.sequence >"$T/seq.txt"
if [ "$(cut -f2 "$T/allrows.tsv" | sort -u | wc -l)" -eq 700 ] &&
    [ "$(cut -f2 "$T/allrows.tsv" | sort -n | tail -n 1)" -le "$(cat "$T/seq.txt")" ]; then
    ok
else
    bad "sst --rows: seqnos not distinct or above strata.sequence $(cat "$T/seq.txt")"
fi
F1=$(head -n 1 "$T/tables.txt")
"$S" --hex sst "$F1" --rows >"$T/f1rows.tsv"
head -n 5 "$T/f1rows.tsv" >"$T/want.tsv"
expect_file "$T/want.tsv" "sst --rows --limit 5" "$S" --hex sst "$F1" --rows --limit 5
expect_rc 2 "sst --limit without --rows" "$S" sst "$F1" --limit 5

# sst metadata of that table, against its own rows
expect_rc 0 "sst metadata" "$S" --hex sst "$F1"
cp "$T/out" "$T/meta.txt"
nrows=$(wc -l <"$T/f1rows.tsv")
first=$(head -n 1 "$T/f1rows.tsv" | cut -f1)
last=$(tail -n 1 "$T/f1rows.tsv" | cut -f1)
nrg=$(grep -c '^  row group [0-9]*:' "$T/meta.txt")
rgrows=$(awk '/^  row group [0-9]+:/ { s += $4 } END { print s + 0 }' "$T/meta.txt")
if grep -q "^row groups: $nrg\$" "$T/meta.txt" && [ "$nrg" -ge 1 ]; then ok; else bad "sst: row group count (want $nrg)"; fi
if [ "$rgrows" -eq "$nrows" ]; then ok; else bad "sst: row groups hold $rgrows rows, the table $nrows"; fi
if grep -q "^rows: $nrows\$" "$T/meta.txt"; then ok; else bad "sst: 'rows: $nrows' missing"; fi
if grep -q "^size: $(stat -c %s "$F1") bytes\$" "$T/meta.txt"; then ok; else bad "sst: wrong file size"; fi
for kv in "strata.entries: $nrows" "strata.tombstones: 0" "strata.format_version: 1" \
    "strata.smallest_key: $first" "strata.largest_key: $last"; do
    if grep -qF "  $kv" "$T/meta.txt"; then ok; else bad "sst: footer pair '$kv' missing"; fi
done
# the key column chunk (column 0) of row group 0: statistics, bloom filter, page index
awk '/^    column 0 key/ { on = 1; next } /^    column / { on = 0 } on' "$T/meta.txt" >"$T/keycol.txt"
if grep -q "^      min: $first\$" "$T/keycol.txt" || [ "$nrg" -gt 1 ]; then ok; else bad "sst: key min is not $first"; fi
if grep -q "^      max: $last\$" "$T/keycol.txt" || [ "$nrg" -gt 1 ]; then ok; else bad "sst: key max is not $last"; fi
for field in "bloom filter: present" "column index: present" "offset index: present" \
    "codec: \(LZ4_RAW\|UNCOMPRESSED\)" "pages: [1-9]"; do
    if grep -q "^      $field" "$T/keycol.txt"; then ok; else bad "sst: key column lacks '$field'"; fi
done
if grep -q "^index checksum: ok" "$T/meta.txt"; then ok; else bad "sst: index checksum not ok"; fi
if grep -q "^created_by: strata" "$T/meta.txt"; then ok; else bad "sst: created_by"; fi
# the codec of each --compression choice: values use it, keys use it or are UNCOMPRESSED (when
# it does not shrink them), seqno and kind are always UNCOMPRESSED (doc/format_sst.md)
# expect_codecs DB CODEC DESC: the first table of DB has value chunks in CODEC
expect_codecs() {
    local f
    f=$(tables "$1" | head -n 1)
    expect_rc 0 "sst of $3" "$S" sst "$f"
    got=$(grep '^      codec:' "$T/out" | head -n 4 | awk '{print $2}' | tr '\n' ' ')
    if [ "$got" = "$2 $2 UNCOMPRESSED UNCOMPRESSED " ] ||
        [ "$got" = "UNCOMPRESSED $2 UNCOMPRESSED UNCOMPRESSED " ]; then
        ok
    else
        bad "sst: $3 codecs (key value seqno kind): $got, expected $2"
    fi
}
for comp in none:UNCOMPRESSED snappy:SNAPPY zstd:ZSTD lz4:LZ4_RAW; do
    expect_codecs "$T/comp_${comp%%:*}" "${comp#*:}" "a flushed ${comp%%:*} table"
done
# a full compaction writes bottommost tables: lz4 by default, else --bottommost-compression
expect_rc 0 "compact the zstd database" "$S" compact "$T/comp_zstd"
expect_codecs "$T/comp_zstd" LZ4_RAW "a fully compacted table"
expect_file "$T/sorted.tsv" "scan after the full lz4 compaction" "$S" --hex scan "$T/comp_zstd"
expect_rc 0 "compact --bottommost-compression zstd" \
    "$S" compact --bottommost-compression zstd "$T/comp_lz4"
expect_codecs "$T/comp_lz4" ZSTD "a table compacted with --bottommost-compression zstd"
expect_file "$T/sorted.tsv" "scan after the full compaction" "$S" --hex scan "$T/comp_lz4"
expect_rc 0 "compact --bottommost-compression snappy" \
    "$S" compact --bottommost-compression snappy "$T/comp_none"
expect_codecs "$T/comp_none" SNAPPY "a table compacted with --bottommost-compression snappy"
# a tombstone: rows of every table together hold put, del, put with rising seqnos
K=$T/killdb
"$S" put "$K" k1 v1 && "$S" del "$K" k1 && "$S" put "$K" k2 v2 && "$S" flush "$K"
tables "$K" | while read -r f; do "$S" sst "$f" --rows; done | sort -t "$(printf '\t')" -k2,2n |
    cut -f1,3,4 >"$T/kill.tsv"
printf 'k1\tput\tv1\nk1\tdel\t\nk2\tput\tv2\n' >"$T/want.tsv"
if cmp -s "$T/kill.tsv" "$T/want.tsv"; then ok; else bad "sst --rows of put/del/put: $(cat "$T/kill.tsv")"; fi
tomb=$(tables "$K" | while read -r f; do "$S" sst "$f"; done |
    awk '/^  strata.tombstones: / { s += $2 } END { print s + 0 }')
if [ "$tomb" -eq 1 ]; then ok; else bad "sst: strata.tombstones sum to $tomb, expected 1"; fi
# text mode: the rows of the text-loaded table print like scan does
expect_rc 0 "flush textdb" "$S" flush "$H3"
"$S" scan "$H3" >"$T/textscan.tsv"
tables "$H3" | while read -r f; do "$S" sst "$f" --rows; done | cut -f1,4 | sort >"$T/textrows.tsv"
sort "$T/textscan.tsv" >"$T/textscan_sorted.tsv"
if cmp -s "$T/textrows.tsv" "$T/textscan_sorted.tsv"; then ok; else bad "sst --rows (escaped) differ from scan"; fi

# sst on files that are not tables
head -c 4096 /dev/urandom >"$T/garbage.parquet"
expect_rc 3 "sst on a garbage file" "$S" sst "$T/garbage.parquet"
expect_err_match "not a Parquet file" "sst on garbage: message"
expect_rc 3 "sst --rows on a garbage file" "$S" sst "$T/garbage.parquet" --rows
{ printf 'PAR1'; head -c 2000 /dev/urandom; printf '\x10\x00\x00\x00PAR1'; } >"$T/fake.parquet"
expect_rc 3 "sst on a file with magic but a garbage footer" "$S" sst "$T/fake.parquet"
expect_rc 3 "sst --rows on a garbage footer" "$S" sst "$T/fake.parquet" --rows
: >"$T/empty.parquet"
expect_rc 3 "sst on an empty file" "$S" sst "$T/empty.parquet"
expect_rc 3 "sst on a missing file" "$S" sst "$T/no-such.parquet"
expect_err_match "no such file" "sst on a missing file: message"
expect_rc 3 "sst on a directory" "$S" sst "$C"
head -c $(($(stat -c %s "$F1") / 2)) "$F1" >"$T/half.parquet"
expect_rc 3 "sst on a truncated table" "$S" sst "$T/half.parquet"
expect_rc 3 "sst --rows on a truncated table" "$S" sst "$T/half.parquet" --rows
# every single-byte corruption of a table: exit 0 or 3 (sampled), never a crash
size=$(stat -c %s "$F1")
crashes=0
for ((off = 0; off < size; off += 1 + size / 150)); do
    cp "$F1" "$T/flip.parquet"
    flip_byte "$T/flip.parquet" "$off"
    for mode in "" --rows; do
        "$S" sst "$T/flip.parquet" $mode >/dev/null 2>&1
        r=$?
        if [ "$r" -ne 0 ] && [ "$r" -ne 3 ]; then
            crashes=$((crashes + 1))
            echo "sst $mode: exit $r after flipping byte $off of $F1"
        fi
    done
done
if [ "$crashes" -eq 0 ]; then ok; else bad "sst crashed on $crashes corrupted files"; fi

# repair: CURRENT and the manifest deleted; the tables are found again
R=$T/repairdb
cp -r "$C" "$R"
rm -f "$R/CURRENT" "$R"/MANIFEST-*
expect_rc 0 "repair without CURRENT and MANIFEST" "$S" repair "$R"
if grep -q "MANIFEST" "$T/out"; then ok; else bad "repair report names no manifest"; fi
while read -r f; do
    if grep -q "$(basename "$f").*kept" "$T/out"; then ok; else bad "repair did not keep $(basename "$f")"; fi
done <"$T/tables.txt"
if [ -e "$R/CURRENT" ]; then ok; else bad "repair wrote no CURRENT"; fi
expect_file "$T/sorted.tsv" "scan after repair" "$S" --hex scan "$R"
expect_rc 0 "check after repair" "$S" check "$R"

# check: a flipped byte in the middle of a table's data pages (bytes 4 .. strata.index_offset)
R2=$T/flipdb
cp -r "$C" "$R2"
FF=$R2/$(basename "$F1")
idxoff=$(sed -n 's/^  strata.index_offset: //p' "$T/meta.txt")
flip_byte "$FF" $(((4 + idxoff) / 2))
expect_rc 3 "check after flipping a byte of a table" "$S" check "$R2"
if grep -q "$(basename "$FF")" "$T/out" "$T/err"; then ok; else bad "check does not name $(basename "$FF")"; fi
expect_err_match "CORRUPT" "check: error code on stderr"
expect_rc 3 "sst --rows on the flipped table" "$S" sst "$FF" --rows
# repair moves an unreadable table (footer cut off) to lost/
R3=$T/lostdb
cp -r "$C" "$R3"
LF=$(tables "$R3" | head -n 1)
head -c 100 "$F1" >"$LF"
expect_rc 4 "repair with a truncated table: data lost, exit 4" "$S" repair "$R3"
if grep -q "$(basename "$LF").*lost" "$T/out"; then ok; else bad "repair report: truncated table not moved"; fi
if grep -q "DATA MAY BE LOST in 1 key range" "$T/out"; then ok; else bad "repair report names no lost range"; fi
expect_err_match "STRATA_DATALOSS" "repair with a truncated table: stderr"
expect_rc 0 "scan after a lossy repair" "$S" --hex scan "$R3"
# repair salvages a table whose footer is cut off by walking its pages: every row is back, but
# nothing says the table ended there, so the range after its last key is reported (exit 4)
R4=$T/walkdb
cp -r "$C" "$R4"
WF=$R4/$(basename "$F1")
head -c $((idxoff + 1)) "$F1" >"$WF"
expect_rc 4 "repair of a table without footer: exit 4" "$S" repair "$R4"
if grep -q "$(basename "$WF"): salvaged $nrows row(s) by walking its pages" "$T/out"; then ok
else bad "repair report: the footerless table's rows were not salvaged"; fi
expect_file "$T/sorted.tsv" "scan after salvaging a table without footer" "$S" --hex scan "$R4"
expect_rc 0 "check after salvaging a table without footer" "$S" check "$R4"

# repair salvages a write-ahead log damaged mid-log (issue 12 finding 1): exit 4, then it opens
W=$T/waldb
for i in $(seq 1 3000); do printf 'wkey%05d\tvalue-%05d-padding-padding\n' "$i" "$i"; done >"$T/wal.tsv"
expect_rc 0 "load for the WAL test" "$S" load "$W" "$T/wal.tsv"
WF=$(find "$W" -maxdepth 1 -name '*.wal' -size +40k | head -n 1)
if [ -n "$WF" ]; then ok; else bad "no write-ahead log of more than 40 KiB"; fi
flip_byte "$WF" 40000
expect_rc 3 "open with a damaged WAL (tolerate-tail)" "$S" get "$W" wkey00001
cp -r "$W" "$T/waldb2"
expect_rc 0 "open with --wal-recovery=skip-corrupt" "$S" --wal-recovery=skip-corrupt get "$T/waldb2" wkey03000
expect_err_match "dropped" "skip-corrupt open reports what it dropped"
expect_rc 2 "--wal-recovery=bogus" "$S" --wal-recovery=bogus get "$W" wkey00001
expect_rc 4 "repair of a damaged WAL: exit 4" "$S" repair "$W"
if grep -q "every key" "$T/out"; then ok; else bad "WAL repair report names no lost range"; fi
expect_rc 0 "open after the WAL repair" "$S" get "$W" wkey00001
expect_out "value-03000-padding-padding" "last record after the damaged block" "$S" get "$W" wkey03000
expect_rc 0 "check after the WAL repair" "$S" check "$W"
if [ -e "$R3/lost/$(basename "$LF")" ] && [ ! -e "$LF" ]; then ok; else bad "truncated table not in lost/"; fi

# ---- two processes: a load holding the database makes a second writer BUSY -----------------
B=$T/busydb
mkfifo "$T/fifo"
"$S" --hex load "$B" "$T/fifo" >"$T/load.out" 2>"$T/load.err" &
LOADER=$!
# Hang guard only: if the loader died before opening the fifo, open it ourselves after a while
# so the `exec` below returns and the checks fail instead of hanging.
(
    sleep 120 &
    nap=$!
    trap 'kill $nap 2>/dev/null; exit 0' TERM
    wait "$nap" && exec 4<"$T/fifo"
) >/dev/null 2>&1 &
WATCHDOG=$!
# Blocks until the loader opens the fifo, which it does only after strata_open succeeded.
exec 3>"$T/fifo"
printf '6b31\t7631\n' >&3
expect_rc 3 "second process put while load holds the DB" "$S" put "$B" other 1
expect_err_match "lock" "BUSY message mentions the lock"
expect_err_match "STRATA_BUSY" "BUSY message names the code"
expect_rc 3 "second process get while load holds the DB" "$S" get "$B" k1
expect_rc 3 "check while load holds the DB" "$S" check "$B"
expect_err_match "STRATA_BUSY" "check: BUSY message"
expect_rc 3 "repair while load holds the DB" "$S" repair "$B"
printf '6b32\t7632\n' >&3
exec 3>&-
wait "$LOADER"
lrc=$?
kill "$WATCHDOG" 2>/dev/null
WATCHDOG=
if [ "$lrc" -eq 0 ]; then ok; else bad "slow load exited $lrc: $(cat "$T/load.err")"; fi
printf '6b31\t7631\n6b32\t7632\n' >"$T/want.tsv"
expect_file "$T/want.tsv" "slow load wrote its input" "$S" --hex scan "$B"
expect_rc 0 "put after the loader finished" "$S" put "$B" other 1

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
