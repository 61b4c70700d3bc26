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
for c in put get del scan load stats flush compact property; do
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
expect_rc 2 "bad --compression" "$S" put --compression lz4 "$D" k v
expect_rc 2 "value given to a plain flag" "$S" put --hex=1 "$D" k v
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
for r in "61:fe" "00ff:01" "7f:7f" "01:00" ":6100" "fe:" "000000:00000001" "ff:ffff" "617f:6180"; do
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
for comp in none snappy zstd; do
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
# a closed pipe is not an error
"$S" --hex scan "$H" | head -n 1 >/dev/null
rcs=("${PIPESTATUS[@]}")
if [ "${rcs[0]}" -eq 0 ]; then ok; else bad "scan | head: exit ${rcs[0]}"; fi

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
